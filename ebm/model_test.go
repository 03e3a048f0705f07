package ebm

import (
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/advgs/advgs/features"
	"github.com/advgs/advgs/internal/ckpt"
	"github.com/advgs/advgs/internal/nn"
	"github.com/advgs/advgs/vgs"
)

// tinyConfig is a small recipe for tests.
func tinyConfig() Config {
	ema := 0.0
	return Config{
		Energy: AEConfig{EncHidden: []int{16}, Latent: 4, DecHidden: []int{16}, Tau: 0.1, OutScale: 1},
		Sampler: vgs.Config{Value: nn.Arch{Kind: nn.DeeperV3, Hidden: 16, TEmb: 8, TFeat: 16}, NStep: 3,
			S2Schedule: "constant", S2Start: 1e-3, S2End: 1e-3, AlphaMethod: "vp", EMA: &ema, VLR: 1e-3},
		Training: TrainConfig{Steps: 3, Batch: 32, LR: 1e-3, Gamma: 1, NUpdate: 1, NoiseScale: 1, FinalNoise: true,
			PretrainSteps: 5, PretrainLR: 1e-3},
	}
}

// clustered returns n unit vectors near two directions.
func clustered(n, D int, rng *rand.Rand) []float32 {
	x := make([]float32, n*D)
	for r := 0; r < n; r++ {
		x[r*D+r%2] = 1
		for j := 0; j < D; j++ {
			x[r*D+j] += float32(0.1 * rng.NormFloat64())
		}
	}
	vgs.NormalizeRows(x, D)
	return x
}

func trainTiny(t *testing.T, kind string) *Trainer {
	t.Helper()
	D := 8
	tr, err := NewTrainer(tinyConfig(), clustered(200, D, rand.New(rand.NewPCG(1, 1))), D, kind)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Pretrain(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	for tr.Step < tr.Cfg.Training.Steps {
		if _, err := tr.TrainStep(); err != nil {
			t.Fatal(err)
		}
	}
	return tr
}

var testInfo = features.Info{Name: "filterbank", InputW: 32, InputH: 32, GridW: 2, GridH: 2, Channels: 8, Layers: []string{"a"}, Preprocess: "p"}

func TestModelRoundTripScores(t *testing.T) {
	for _, kind := range []string{SamplerVGS, SamplerLangevin} {
		tr := trainTiny(t, kind)
		m := NewModel(tr, testInfo, []string{"cat"})
		grid := features.Grid{H: 2, W: 2, C: 8, Data: clustered(4, 8, rand.New(rand.NewPCG(3, 3)))}
		p1, s1, err := m.ScoreGrid(grid, nil)
		if err != nil {
			t.Fatal(err)
		}
		p1 = append([]float32(nil), p1...)
		if err := m.Calibrate([]float64{1, 2, 3}, []float64{2.5}, 0.5); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "m.advgs")
		if err := m.Save(path); err != nil {
			t.Fatal(err)
		}
		l, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		p2, s2, _ := l.ScoreGrid(grid, nil)
		if s1 != s2 {
			t.Fatalf("%s: image score %v after loading, %v before", kind, s2, s1)
		}
		for i := range p1 {
			if p1[i] != p2[i] {
				t.Fatalf("%s: patch %d: %v after loading, %v before", kind, i, p2[i], p1[i])
			}
		}
		if l.Meta.Threshold != m.Meta.Threshold || l.Normalize(3) != m.Normalize(3) {
			t.Fatalf("calibration not restored")
		}
	}
}

func TestLoadRefusesMismatches(t *testing.T) {
	tr := trainTiny(t, SamplerLangevin)
	m := NewModel(tr, testInfo, nil)
	m.Calibrate([]float64{1, 2}, nil, 0)
	dir := t.TempDir()
	path := filepath.Join(dir, "m.advgs")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	l, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	other := testInfo
	other.Name = "mobilenetv2"
	if err := l.CheckBackbone(other); err == nil || !strings.Contains(err.Error(), "filterbank") {
		t.Errorf("other backbone: %v", err)
	}
	other = testInfo
	other.WeightsSHA256 = "abcdef0123456789"
	if err := l.CheckBackbone(other); err == nil || !strings.Contains(err.Error(), "SHA-256") {
		t.Errorf("other weights: %v", err)
	}
	other = testInfo
	other.Channels = 16
	if err := l.CheckBackbone(other); err == nil {
		t.Errorf("other layout accepted")
	}
	if err := l.CheckBackbone(testInfo); err != nil {
		t.Errorf("same backbone refused: %v", err)
	}
	// A newer format version is refused.
	m.Meta.FormatVersion = FormatVersion + 1
	newer := filepath.Join(dir, "newer.advgs")
	m.Save(newer)
	if _, err := Load(newer); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("newer format: %v", err)
	}
	// A sampler checkpoint is not a model.
	f := ckpt.File{Tensors: map[string]ckpt.Tensor{"x": {Shape: []int{1}, Data: []float32{1}}}, Metadata: map[string]string{"format": "advgs-vgs/1"}}
	other2 := filepath.Join(dir, "s.safetensors")
	ckpt.Save(other2, f)
	if _, err := Load(other2); err == nil || !strings.Contains(err.Error(), "not an advgs model") {
		t.Errorf("foreign file: %v", err)
	}
}

func TestCheckpointRestore(t *testing.T) {
	tr := trainTiny(t, SamplerVGS)
	f, err := tr.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "c.ckpt")
	if err := ckpt.Save(path, f); err != nil {
		t.Fatal(err)
	}
	g, _ := ckpt.Load(path)
	D := 8
	tr2, _ := NewTrainer(tinyConfig(), clustered(200, D, rand.New(rand.NewPCG(1, 1))), D, SamplerVGS)
	if err := tr2.Restore(g, path); err != nil {
		t.Fatal(err)
	}
	if tr2.Step != tr.Step || !tr2.Pretrained {
		t.Fatalf("step %d pretrained %v after restore, want %d true", tr2.Step, tr2.Pretrained, tr.Step)
	}
	for i, p := range tr.AE.Params() {
		q := tr2.AE.Params()[i]
		for j := range p.Data {
			if p.Data[j] != q.Data[j] {
				t.Fatalf("%s differs after restore", p.Name)
			}
		}
	}
	a, b := tr.Sampler.OptimizerTensors(), tr2.Sampler.OptimizerTensors()
	for name, tn := range a {
		if !slices.Equal(tn.Data, b[name].Data) {
			t.Fatalf("sampler optimiser state %s differs after restore", name)
		}
	}
	if a["vopt.state"].Data[0] == 0 {
		t.Fatal("the value network's Adam took no steps in the tiny run: the check above saw nothing")
	}
	if _, err := tr2.TrainStep(); err != nil {
		t.Fatal(err)
	}
	tr3, _ := NewTrainer(tinyConfig(), clustered(200, D, rand.New(rand.NewPCG(1, 1))), D, SamplerLangevin)
	if err := tr3.Restore(g, path); err == nil {
		t.Error("restoring a vgs checkpoint into a langevin run: no error")
	}
}

func TestQuantile(t *testing.T) {
	if q := Quantile([]float64{4, 1, 3, 2}, 0.5); q != 2.5 {
		t.Errorf("median %v, want 2.5", q)
	}
	if q := Quantile([]float64{4, 1, 3, 2}, 1); q != 4 {
		t.Errorf("max %v", q)
	}
}

func TestStepBudget(t *testing.T) {
	tc := TrainConfig{Steps: 800, Batch: 256, MaxEpochs: 10}
	for _, c := range []struct{ patches, want int }{
		{8820, 345},   // ⌈10·8820/256⌉: a 45-image category
		{111916, 800}, // magnetic tile: the cap is 4,372 steps, above the budget
		{256, 10},     // one batch of patches: ten steps
		{0, 0},        // no patches
	} {
		if got := tc.StepBudget(c.patches); got != c.want {
			t.Errorf("StepBudget(%d) = %d, want %d", c.patches, got, c.want)
		}
	}
	tc.MaxEpochs = 0
	if got := tc.StepBudget(10); got != 800 {
		t.Errorf("no cap: %d", got)
	}
	tc.PretrainSteps, tc.PretrainMaxEpochs = 15000, 35
	for _, c := range []struct{ patches, want int }{
		{8820, 1206},    // ⌈35·8820/256⌉
		{111916, 15000}, // magnetic tile: 34.3 epochs, under the cap
	} {
		if got := tc.PretrainBudget(c.patches); got != c.want {
			t.Errorf("PretrainBudget(%d) = %d, want %d", c.patches, got, c.want)
		}
	}
	cfg := tinyConfig()
	cfg.Complete(8)
	if err := cfg.Validate(); err != nil {
		t.Fatalf("tiny config: %v", err)
	}
	cfg.Training.MaxEpochs = -1
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "training.max_epochs") {
		t.Errorf("negative max_epochs: %v", err)
	}
	cfg.Training.MaxEpochs, cfg.Training.PretrainMaxEpochs = 0, -1
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "training.pretrain_max_epochs") {
		t.Errorf("negative pretrain_max_epochs: %v", err)
	}
}
