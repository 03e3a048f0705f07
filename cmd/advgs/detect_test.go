package main

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/advgs/advgs/datasets"
	"github.com/advgs/advgs/ebm"
	"github.com/advgs/advgs/features"
	"github.com/advgs/advgs/internal/sharedpath"
)

// TestFitEvalScoreSynthetic runs fit → eval → score on a small synthetic dataset with
// the weight-free filterbank backbone and a shortened recipe.
func TestFitEvalScoreSynthetic(t *testing.T) {
	dir := t.TempDir()
	data := synthData(t, dir, datasets.SynthConfig{Categories: []string{"grain"}, Size: 96, Train: 12, TestGood: 3, TestPerDefect: 2}, 1, 2)
	cfg := tinyEBMConfig(t)
	cfg.Training.Steps, cfg.Training.PretrainSteps, cfg.Training.CheckpointEvery = 4, 20, 2
	model := filepath.Join(dir, "m.advgs")
	outs, err := runFit(t.Context(), fitOptions{Data: data, Config: cfg, Backbone: "filterbank", Out: model, Sampler: ebm.SamplerVGS, Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 1 || outs[0] != model {
		t.Fatalf("outputs %v", outs)
	}
	var rep fitReport
	b, err := os.ReadFile(model + ".fit.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil || rep.Iterations != 4 || rep.HeldOut < 1 {
		t.Fatalf("fit.json: %v %+v", err, rep)
	}
	if _, err := os.Stat(model + ".ckpt"); !os.IsNotExist(err) {
		t.Errorf("checkpoint left behind after a finished fit")
	}
	res, err := runEval(t.Context(), model, data, "", true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Categories) != 1 || res.Categories[0].NTest != 9 || res.Categories[0].ImageAUROC == nil ||
		res.Categories[0].PixelAUROC == nil || res.Categories[0].AUPRO == nil || len(res.Categories[0].Defects) != 3 {
		t.Fatalf("eval result %+v", res)
	}
	m, err := ebm.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	// eval's F1-max operating point, used as score's threshold, gives the F1-max.
	cr := res.Categories[0]
	if cr.F1MaxThreshold == nil || cr.F1Max == nil {
		t.Fatalf("no F1-max operating point: %+v", cr)
	}
	all, err := listImages([]string{filepath.Join(data, "grain", "test")})
	if err != nil {
		t.Fatal(err)
	}
	m.Meta.Threshold = *cr.F1MaxThreshold
	scored, err := runScore(t.Context(), m, all, "", "", false, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	var tp, fp, fn float64
	for _, l := range scored {
		bad := filepath.Base(filepath.Dir(l.Path)) != datasets.Good
		switch {
		case l.Anomalous && bad:
			tp++
		case l.Anomalous:
			fp++
		case bad:
			fn++
		}
	}
	if f1 := 2 * tp / (2*tp + fp + fn); math.Abs(f1-*cr.F1Max) > 1e-12 {
		t.Errorf("F1 at f1_max_threshold %.3f is %.4f, eval's F1-max %.4f", *cr.F1MaxThreshold, f1, *cr.F1Max)
	}
	if m, err = ebm.Load(model); err != nil {
		t.Fatal(err)
	}
	items, err := listImages([]string{filepath.Join(data, "grain", "test", "good")})
	if err != nil {
		t.Fatal(err)
	}
	heat := filepath.Join(dir, "heat")
	var sb strings.Builder
	lines, err := runScore(t.Context(), m, items, "", heat, false, true, &sb)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 3 || strings.Count(sb.String(), "\n") != 3 {
		t.Fatalf("score output %q", sb.String())
	}
	if _, err := os.Stat(lines[0].Heatmap); err != nil {
		t.Errorf("heat map: %v", err)
	}
	// A model refuses another backbone: rewrite its backbone name.
	m.Meta.Backbone.Name = "mobilenetv2"
	bad := filepath.Join(dir, "bad.advgs")
	m.Save(bad)
	mb, _ := ebm.Load(bad)
	if _, err := runScore(t.Context(), mb, items, "/nonexistent.tflite", "", false, true, nil); err == nil {
		t.Error("scoring with a backbone the model was not trained on: no error")
	}
	// Per-category into a folder, with the Langevin sampler.
	outs, err = runFit(t.Context(), fitOptions{Data: data, Config: cfg, Backbone: "filterbank", Out: filepath.Join(dir, "per"), Sampler: ebm.SamplerLangevin, PerCategory: true, Offline: true})
	if err != nil || len(outs) != 1 || filepath.Base(outs[0]) != "grain.advgs" {
		t.Fatalf("per-category fit: %v %v", outs, err)
	}
	if _, err := runEval(t.Context(), filepath.Join(dir, "per"), data, "", true, nil); err != nil {
		t.Fatal(err)
	}
}

func TestFitRejectsBadInput(t *testing.T) {
	cfg, _ := loadEBMConfig("")
	if _, err := runFit(t.Context(), fitOptions{Data: "/nonexistent", Config: cfg, Backbone: "filterbank", Sampler: "vgs"}); err == nil || !strings.Contains(err.Error(), "--data") {
		t.Errorf("missing data: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(bad, []byte("training:\n  stepz: 3\n"), 0o644)
	if _, err := loadEBMConfig(bad); err == nil || !strings.Contains(err.Error(), "stepz") {
		t.Errorf("unknown key: %v", err)
	}
}

// TestLoadEBMConfigOverlay: a config file changes only the fields it names.
func TestLoadEBMConfigOverlay(t *testing.T) {
	def, err := loadEBMConfig("")
	if err != nil {
		t.Fatal(err)
	}
	part := filepath.Join(t.TempDir(), "p.yaml")
	os.WriteFile(part, []byte("# only the grid and the encoder\nfeatures:\n  grid: 28\nenergy:\n  enc_hidden: [64]\n"), 0o644)
	cfg, err := loadEBMConfig(part)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Features.Grid != 28 || len(cfg.Energy.EncHidden) != 1 || cfg.Energy.EncHidden[0] != 64 {
		t.Errorf("overrides not applied: features %+v, enc_hidden %v", cfg.Features, cfg.Energy.EncHidden)
	}
	if cfg.Training != def.Training || cfg.Energy.Latent != def.Energy.Latent || cfg.Sampler.S2Start != def.Sampler.S2Start {
		t.Errorf("fields the file does not name changed: training %+v (default %+v)", cfg.Training, def.Training)
	}
	if def.Training.HoldOut != 0.1 {
		t.Errorf("default holdout %v, configs/mvtec.yaml says 0.1", def.Training.HoldOut)
	}
	// The paper's recipe names every field it means, caps included.
	paper, err := loadEBMConfig(filepath.Join("..", "..", "configs", "mvtec-paper.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if tc := paper.Training; tc.Steps != 90700 || tc.MaxEpochs != 0 || tc.PretrainMaxEpochs != 0 || paper.Energy.Latent != 128 {
		t.Errorf("configs/mvtec-paper.yaml over the defaults: training %+v, latent %d", tc, paper.Energy.Latent)
	}
	paper.Complete(272)
	if err := paper.Validate(); err != nil {
		t.Errorf("configs/mvtec-paper.yaml: %v", err)
	}
	os.WriteFile(part, []byte("# nothing\n"), 0o644)
	if cfg, err = loadEBMConfig(part); err != nil || cfg.Training != def.Training {
		t.Errorf("a file of comments only: %v", err)
	}
}

// synthData writes a synthetic dataset (datasets.Synthesize, seeded by seed1,
// seed2) into dir/data and returns that folder.
func synthData(t *testing.T, dir string, sc datasets.SynthConfig, seed1, seed2 uint64) string {
	t.Helper()
	data := filepath.Join(dir, "data")
	if err := datasets.Synthesize(data, sc, rand.New(rand.NewPCG(seed1, seed2))); err != nil {
		t.Fatal(err)
	}
	return data
}

// tinyEBMConfig is the default recipe shrunk for tests: tiny energy and value
// networks, batches of 64. Callers set the step counts.
func tinyEBMConfig(t *testing.T) ebm.Config {
	t.Helper()
	cfg, err := loadEBMConfig("")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Energy.EncHidden, cfg.Energy.DecHidden, cfg.Energy.Latent = []int{32}, []int{32}, 8
	cfg.Sampler.Value.Hidden, cfg.Sampler.Value.TFeat = 16, 16
	cfg.Training.Batch = 64
	return cfg
}

func TestBelow(t *testing.T) {
	s := []float64{3, 1, 2, 2, 5}
	for _, c := range []struct{ thr, want float64 }{{2, 1.5}, {3, 2.5}, {5, 4}, {1, 0}} {
		if got := below(s, c.thr); got != c.want {
			t.Errorf("below(%v) = %v, want %v", c.thr, got, c.want)
		}
	}
}

// TestFitFeaturesConfig fits with a non-default feature grid from the config's
// features section; eval (and score, through the same backboneFor) must rebuild
// that backbone from the model.
func TestFitFeaturesConfig(t *testing.T) {
	dir := t.TempDir()
	data := synthData(t, dir, datasets.SynthConfig{Categories: []string{"grain"}, Size: 64, Train: 6, TestGood: 2, TestPerDefect: 1}, 3, 4)
	cfg := tinyEBMConfig(t)
	cfg.Training.Steps, cfg.Training.PretrainSteps = 2, 10
	cfg.Features.Grid = 14
	model := filepath.Join(dir, "m.advgs")
	if _, err := runFit(t.Context(), fitOptions{Data: data, Config: cfg, Backbone: "filterbank", Out: model, Sampler: ebm.SamplerVGS, Offline: true}); err != nil {
		t.Fatal(err)
	}
	m, err := ebm.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	if g := m.Meta.Backbone.GridW; g != 14 {
		t.Fatalf("model grid %d, config asked for 14", g)
	}
	if _, err := runEval(t.Context(), model, data, "", true, nil); err != nil {
		t.Fatalf("eval of a model with a non-default grid: %v", err)
	}
	cfg.Features.Layers = []string{"block5"}
	_, err = runFit(t.Context(), fitOptions{Data: data, Config: cfg, Backbone: "filterbank", Out: model, Sampler: ebm.SamplerVGS, Offline: true})
	if err == nil || !strings.Contains(err.Error(), "config features") {
		t.Errorf("layers the backbone does not have: %v", err)
	}
	cfg.Features.Layers, cfg.Features.Input = nil, 320
	_, err = runFit(t.Context(), fitOptions{Data: data, Config: cfg, Backbone: "filterbank", Out: model, Sampler: ebm.SamplerVGS, Offline: true})
	if err == nil || !strings.Contains(err.Error(), "config features") || !strings.Contains(err.Error(), "input") {
		t.Errorf("an input size the filter bank cannot run: %v", err)
	}
	cfg.Features.Input, cfg.Features.Grid = 0, -1
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "features.grid") {
		t.Errorf("negative grid: %v", err)
	}
	cfg.Features.Input, cfg.Features.Grid = -5, 0
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "features.input") {
		t.Errorf("negative input: %v", err)
	}
	// mobilenetv2 at a 256-px input: the model records it and eval rebuilds it.
	w := sharedpath.Require(t, "weights/"+features.MobileNetV2File)
	cfg.Features.Input, cfg.Features.Grid = 256, 7
	if _, err := runFit(t.Context(), fitOptions{Data: data, Config: cfg, Backbone: "mobilenetv2", Weights: w, Out: model, Sampler: ebm.SamplerVGS, Offline: true}); err != nil {
		t.Fatal(err)
	}
	if m, err = ebm.Load(model); err != nil {
		t.Fatal(err)
	}
	if b := m.Meta.Backbone; b.InputW != 256 || b.GridW != 7 {
		t.Fatalf("model backbone %+v, config asked for input 256 and grid 7", b)
	}
	if _, err := runEval(t.Context(), model, data, w, true, nil); err != nil {
		t.Fatalf("eval of a model with a 256-px input: %v", err)
	}
}
