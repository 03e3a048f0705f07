package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"testing"

	"github.com/advgs/advgs/features"
	"github.com/advgs/advgs/features/knn"
	"github.com/advgs/advgs/reports"
)

// TestPixelBreakdown says where a pooled pixel AUROC is lost: it scores the
// cached test features of TestEBMExperiment with a knn patch scorer (a random
// 20,000-patch bank of the training pool) and prints the pixel AUROC of all
// defect pixels against the normal pixels of the good images only, against the
// normal pixels of the defective images only, and, per defect type, of each
// type's defect pixels against the normal pixels of the same images (with the
// positives' count: the pooled number weighs types by their defect area).
// The README's magnetic-tile breakdown comes from it:
//
//	ADVGS_LONG=1 ADVGS_EXP_DATA=../shared/data/magnetic-tile [ADVGS_EXP_CONFIG=FILE] \
//	  go test -tags openblas -run TestPixelBreakdown -v -timeout 30m ./cmd/advgs/
func TestPixelBreakdown(t *testing.T) {
	data := os.Getenv("ADVGS_EXP_DATA")
	if os.Getenv("ADVGS_LONG") == "" || data == "" {
		t.Skip("set ADVGS_LONG=1 and ADVGS_EXP_DATA=DIR")
	}
	cfg, err := loadEBMConfig(os.Getenv("ADVGS_EXP_CONFIG"))
	if err != nil {
		t.Fatal(err)
	}
	c, cat := loadExpCache(t, data, cfg)
	C := c.Info.Channels
	s := knn.New(C)
	if err := s.Add(features.Grid{H: len(c.Pool) / C, W: 1, C: C, Data: c.Pool}); err != nil {
		t.Fatal(err)
	}
	s.Subsample(20000, rand.New(rand.NewPCG(5, 5)))
	const R = evalRes
	var all, vsGood, vsDefective reports.PixelSet
	within := map[string]*reports.PixelSet{}
	positives := map[string]int{}
	var heat []float32
	for i, g := range c.Test {
		patch, _, err := s.Score(features.Grid{H: c.Info.GridH, W: c.Info.GridW, C: C, Data: g}, nil)
		if err != nil {
			t.Fatal(err)
		}
		geo := c.Geom[i]
		geo.ImageW, geo.ImageH = R, R
		heat, _ = geo.Upsample(patch, heat)
		m := c.Mask[i]
		all.Add(heat, m, R, R)
		if !c.Label[i] {
			vsGood.Add(heat, m, R, R)
			continue
		}
		if m == nil {
			continue
		}
		// vsGood takes only this image's defect pixels, vsDefective all of it.
		var pos []float32
		for p, v := range m {
			if v != 0 {
				pos = append(pos, heat[p])
			}
		}
		if len(pos) == 0 {
			continue
		}
		ones := make([]uint8, len(pos))
		for k := range ones {
			ones[k] = 1
		}
		vsGood.Add(pos, ones, len(pos), 1)
		vsDefective.Add(heat, m, R, R)
		d := cat.Test[i].Defect
		if within[d] == nil {
			within[d] = new(reports.PixelSet)
		}
		within[d].Add(heat, m, R, R)
		positives[d] += len(pos)
	}
	pr := func(name string, set *reports.PixelSet) {
		a, err := set.AUROC()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("%-48s %.3f\n", name, a)
	}
	pr("pooled pixel AUROC", &all)
	pr("defect pixels vs good images' pixels", &vsGood)
	pr("defect pixels vs defective images' normal pixels", &vsDefective)
	var types []string
	for d := range within {
		types = append(types, d)
	}
	sort.Strings(types)
	for _, d := range types {
		pr(fmt.Sprintf("%s (%d defect pixels), within its images", d, positives[d]), within[d])
	}
}
