package features_test

import (
	"context"
	"fmt"
	"image"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/advgs/advgs/datasets"
	"github.com/advgs/advgs/features"
	"github.com/advgs/advgs/features/knn"
	"github.com/advgs/advgs/internal/sharedpath"
)

// TestLayerChoice measures image AUROC of the nearest-neighbour scorer for
// several feature choices on the shared data; it produces the table in doc.go.
// It takes several minutes, so it runs only with ADVGS_LONG=1:
//
//	ADVGS_LONG=1 go test -tags openblas -run TestLayerChoice -v -timeout 60m ./features/
func TestLayerChoice(t *testing.T) {
	if os.Getenv("ADVGS_LONG") != "1" {
		t.Skip("set ADVGS_LONG=1 to run the layer-choice measurement")
	}
	weights := sharedpath.Require(t, "weights/"+features.MobileNetV2File)
	mvtec := sharedpath.Require(t, "data/mvtec-mini")
	tile := sharedpath.Require(t, "data/magnetic-tile")
	type cfg struct {
		name, backbone string
		opt            features.Options
	}
	cfgs := []cfg{
		{"v2 block5+block12 (28×28)", "mobilenetv2", features.Options{Layers: []string{"block5", "block12"}, Grid: 28}},
		{"v2 block2+block5+block12 (28×28)", "mobilenetv2", features.Options{Layers: []string{"block2", "block5", "block12"}, Grid: 28}},
		{"v2 block5+block12 (14×14)", "mobilenetv2", features.Options{Layers: []string{"block5", "block12"}, Grid: 14}},
		{"v2 block5+block12+block15 (14×14)", "mobilenetv2", features.Options{Layers: []string{"block5", "block12", "block15"}, Grid: 14}},
		{"v2 block5+block9+block12 (14×14)", "mobilenetv2", features.Options{Layers: []string{"block5", "block9", "block12"}, Grid: 14}},
		{"v2 expand6+expand13 (14×14)", "mobilenetv2", features.Options{Layers: []string{"expand6", "expand13"}, Grid: 14}},
		{"v2 block5+block12 (28×28), no 3×3 averaging", "mobilenetv2", features.Options{Layers: []string{"block5", "block12"}, Grid: 28, Smooth: -1}},
		{"filterbank (28×28)", "filterbank", features.Options{}},
	}
	if only := os.Getenv("ADVGS_LAYERS"); only != "" {
		var keep []cfg
		for _, c := range cfgs {
			if strings.Contains(c.name, only) {
				keep = append(keep, c)
			}
		}
		cfgs = keep
	}
	type set struct {
		name    string
		train   []datasets.Item
		test    []datasets.Item
		bankMax int
	}
	var sets []set
	d, err := datasets.Open(mvtec)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range d.Categories {
		sets = append(sets, set{c.Name, c.Train, c.Test, 0})
	}
	d, err = datasets.Open(tile)
	if err != nil {
		t.Fatal(err)
	}
	// Magnetic tile: 200 of the 634 training images (a seeded random choice) and a
	// bank of at most 40,000 random patches, all 710 test images.
	rng := rand.New(rand.NewPCG(3, 3))
	tr := d.Categories[0].Train
	perm := rng.Perm(len(tr))[:200]
	var sub []datasets.Item
	for _, i := range perm {
		sub = append(sub, tr[i])
	}
	sets = append(sets, set{"magnetic-tile", sub, d.Categories[0].Test, 40000})

	// Decode every image once.
	decoded := map[string]image.Image{}
	for _, s := range sets {
		for _, items := range [][]datasets.Item{s.train, s.test} {
			if _, err := datasets.Stream(context.Background(), items, datasets.LoadOptions{}, func(x datasets.Sample) error {
				decoded[x.Path] = x.Image
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	extract := func(b features.Backbone, items []datasets.Item) []features.Grid {
		var out []features.Grid
		for lo := 0; lo < len(items); lo += 16 {
			var imgs []image.Image
			for _, it := range items[lo:min(lo+16, len(items))] {
				imgs = append(imgs, decoded[it.Path])
			}
			g, err := b.Extract(imgs, nil)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, g...)
		}
		return out
	}
	var table strings.Builder
	fmt.Fprintf(&table, "| features (grid) | dims |")
	for _, s := range sets {
		fmt.Fprintf(&table, " %s |", s.name)
	}
	fmt.Fprintf(&table, "\n|---|---|%s\n", strings.Repeat("---|", len(sets)))
	for _, c := range cfgs {
		c.opt.Weights = weights
		b, err := features.New(c.backbone, c.opt)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&table, "| %s | %d |", c.name, b.Info().Channels)
		for _, s := range sets {
			start := time.Now()
			sc, err := knn.Fit(extract(b, s.train))
			if err != nil {
				t.Fatal(err)
			}
			if s.bankMax > 0 {
				sc.Subsample(s.bankMax, rand.New(rand.NewPCG(5, 5)))
			}
			grids := extract(b, s.test)
			var scores []float64
			var labels []bool
			var buf []float32
			for i, g := range grids {
				var img float32
				buf, img, err = sc.Score(g, buf)
				if err != nil {
					t.Fatal(err)
				}
				scores = append(scores, float64(img))
				labels = append(labels, s.test[i].Anomalous())
			}
			auc, err := knn.AUROC(scores, labels)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s on %s: image AUROC %.3f (%s)", c.name, s.name, auc, time.Since(start).Round(time.Second))
			fmt.Fprintf(&table, " %.3f |", auc)
		}
		fmt.Fprintln(&table)
	}
	t.Log("\n" + table.String())
}
