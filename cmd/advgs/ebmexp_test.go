package main

import (
	"encoding/gob"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/advgs/advgs/datasets"
	"github.com/advgs/advgs/ebm"
	"github.com/advgs/advgs/features"
	"github.com/advgs/advgs/internal/atomicfile"
	"github.com/advgs/advgs/reports"
)

// expCache is the cached feature set of one category: the training pool (the
// images fit trains on, hold-out excluded) and the test grids with their geometry,
// labels and evaluation masks.
type expCache struct {
	Info  features.Info
	Pool  []float32
	Test  [][]float32
	Geom  []features.Geometry
	Label []bool
	Mask  [][]uint8
}

// loadExpCache extracts (once) and caches in the temporary folder the features an
// experiment needs, keyed by data folder, category, seed, layers, grid and input
// size (the config's features section; delete the file after changing anything
// else about the backbone). It also returns the category ($ADVGS_EXP_CAT, else
// the first), whose Test items are in the cache's order.
func loadExpCache(t *testing.T, data string, cfg ebm.Config) (*expCache, *datasets.Category) {
	ds, err := datasets.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	cat := ds.Categories[0]
	for _, c := range ds.Categories {
		if c.Name == os.Getenv("ADVGS_EXP_CAT") {
			cat = c
		}
	}
	bb, err := features.New(os.Getenv("ADVGS_EXP_BACKBONE"), features.Options{Weights: os.Getenv("ADVGS_WEIGHTS_FILE"),
		Layers: cfg.Features.Layers, Grid: cfg.Features.Grid, Input: cfg.Features.Input})
	if err != nil {
		t.Fatal(err)
	}
	info := bb.Info()
	in := ""
	if info.InputW != 224 {
		in = fmt.Sprintf("-in%d", info.InputW)
	}
	name := filepath.Join(os.TempDir(), fmt.Sprintf("advgs-exp-%s-%s-%d-%s-%d%s.gob", filepath.Base(data), cat.Name, cfg.Training.Seed,
		strings.ReplaceAll(strings.Join(info.Layers, "+"), "/", "_"), info.GridW, in))
	if f, err := os.Open(name); err == nil {
		defer f.Close()
		var c expCache
		if err := gob.NewDecoder(f).Decode(&c); err == nil {
			return &c, cat
		}
	}
	c := &expCache{Info: info}
	train, _, _ := splitTrain([]*datasets.Category{cat}, cfg.Training, rand.New(rand.NewPCG(cfg.Training.Seed, 0xda7a)))
	if err := extract(t.Context(), bb, train, func(_ datasets.Sample, g *features.Grid) error {
		c.Pool = append(c.Pool, g.Data...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := extract(t.Context(), bb, cat.Test, func(s datasets.Sample, g *features.Grid) error {
		c.Test = append(c.Test, append([]float32(nil), g.Data...))
		c.Geom = append(c.Geom, g.Geom)
		c.Label = append(c.Label, s.Anomalous())
		var m []uint8
		if s.Mask != nil {
			m = maskPixels(s.Mask, evalRes)
		}
		c.Mask = append(c.Mask, m)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.Write(name, func(w io.Writer) error { return gob.NewEncoder(w).Encode(c) }); err != nil {
		t.Fatal(err)
	}
	return c, cat
}

// expEval scores the cached test set with the energy: image and pixel AUROC (and
// prints the pixel AUROC of σ = 4 px blurred maps, the measurement behind advgs
// offering no blur).
func expEval(c *expCache, ae *ebm.AE) (img, px float64) {
	var scores []float64
	var set, setb reports.PixelSet
	patch := make([]float32, c.Info.GridH*c.Info.GridW)
	var heat []float32
	for i, g := range c.Test {
		ae.Energy(patch, g)
		s := float64(patch[0])
		for _, v := range patch {
			s = max(s, float64(v))
		}
		scores = append(scores, s)
		geo := c.Geom[i]
		geo.ImageW, geo.ImageH = evalRes, evalRes
		heat, _ = geo.Upsample(patch, heat)
		set.Add(heat, c.Mask[i], evalRes, evalRes)
		setb.Add(blur(heat, evalRes, evalRes, 4), c.Mask[i], evalRes, evalRes)
	}
	img, _ = reports.AUROC(scores, c.Label)
	px, _ = set.AUROC()
	pb, _ := setb.AUROC()
	fmt.Printf("pixel AUROC with σ=4 blur: %.3f\n", pb)
	return img, px
}

// TestEBMExperiment trains the detector's energy on cached features and reports
// test AUROCs along the way: the loop used to choose configs/mvtec.yaml.
//
//	ADVGS_LONG=1 ADVGS_EXP_DATA=../shared/data/magnetic-tile [ADVGS_EXP_CONFIG=FILE]
//	  [ADVGS_EXP_BACKBONE=NAME] [ADVGS_EXP_CAT=NAME] [ADVGS_EXP_STEPS=N] [ADVGS_EXP_SAMPLER=vgs|langevin] [ADVGS_EXP_EVERY=N] \
//	  go test -tags openblas -run TestEBMExperiment -v -timeout 60m ./cmd/advgs/
func TestEBMExperiment(t *testing.T) {
	data := os.Getenv("ADVGS_EXP_DATA")
	if os.Getenv("ADVGS_LONG") == "" || data == "" {
		t.Skip("set ADVGS_LONG=1 and ADVGS_EXP_DATA=DIR")
	}
	cfg, err := loadEBMConfig(os.Getenv("ADVGS_EXP_CONFIG"))
	if err != nil {
		t.Fatal(err)
	}
	if s := os.Getenv("ADVGS_EXP_STEPS"); s != "" {
		cfg.Training.Steps, _ = strconv.Atoi(s)
	}
	every := cfg.Training.Steps
	if s := os.Getenv("ADVGS_EXP_EVERY"); s != "" {
		every, _ = strconv.Atoi(s)
	}
	kind := ebm.SamplerVGS
	if s := os.Getenv("ADVGS_EXP_SAMPLER"); s != "" {
		kind = s
	}
	c, _ := loadExpCache(t, data, cfg)
	tr, err := ebm.NewTrainer(cfg, c.Pool, c.Info.Channels, kind)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var recon float64
	if err := tr.Pretrain(t.Context(), func(_ int, r float64) { recon = r }); err != nil {
		t.Fatal(err)
	}
	img, px := expEval(c, tr.AE)
	fmt.Printf("pretrain %d: recon %.4f  image %.3f pixel %.3f  (%.0f s)\n", cfg.Training.PretrainSteps, recon, img, px, time.Since(start).Seconds())
	for tr.Step < cfg.Training.Steps {
		st, err := tr.TrainStep()
		if err != nil {
			t.Fatal(err)
		}
		if tr.Step%every == 0 || tr.Step == cfg.Training.Steps {
			img, px := expEval(c, tr.AE)
			fmt.Printf("cd %d: loss %.4f E+ %.4f E- %.4f recon %.4f td %.3g vel %.3g scale %.3f  image %.3f pixel %.3f  (%.0f s)\n",
				tr.Step, st.Loss, st.Ep, st.En, st.Recon, st.TDLoss, st.Velocity, tr.AE.Scale.Data[0], img, px, time.Since(start).Seconds())
		}
	}
}

// blur is a separable Gaussian blur (σ in pixels, truncated at 3σ, edges clamped).
func blur(m []float32, w, h int, sigma float64) []float32 {
	r := int(math.Ceil(3 * sigma))
	k := make([]float32, 2*r+1)
	var s float32
	for i := range k {
		d := float64(i - r)
		k[i] = float32(math.Exp(-d * d / (2 * sigma * sigma)))
		s += k[i]
	}
	for i := range k {
		k[i] /= s
	}
	tmp := make([]float32, len(m))
	out := make([]float32, len(m))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var v float32
			for i, kv := range k {
				xx := min(max(x+i-r, 0), w-1)
				v += kv * m[y*w+xx]
			}
			tmp[y*w+x] = v
		}
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var v float32
			for i, kv := range k {
				yy := min(max(y+i-r, 0), h-1)
				v += kv * tmp[yy*w+x]
			}
			out[y*w+x] = v
		}
	}
	return out
}
