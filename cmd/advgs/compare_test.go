package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/advgs/advgs/datasets"
	"github.com/advgs/advgs/features"
	"github.com/advgs/advgs/features/knn"
	"github.com/advgs/advgs/reports"
)

// TestCompareKNN is the nearest-neighbour row of the comparison table in
// README ("Detect anomalies"): the knn patch scorer fitted on exactly the training images fit
// uses (same split, seed and hold-out), scored with the same metrics as eval.
// ADVGS_COMPARE_BACKBONE=mobilenetv1 picks another backbone (with its weights
// in ADVGS_WEIGHTS_FILE), ADVGS_COMPARE_LAYERS=block5,block12 other layers and
// ADVGS_COMPARE_BANK=N keeps a random N-patch bank (the layer comparison of
// features/doc.go uses 40000); ADVGS_COMPARE_CONFIG=FILE takes the features
// section (and the split's seed and hold-out) from a config file.
//
//	ADVGS_LONG=1 ADVGS_COMPARE_DATA=$PWD/../shared/data/magnetic-tile \
//	  go test -tags openblas -run TestCompareKNN -v -timeout 30m ./cmd/advgs/
func TestCompareKNN(t *testing.T) {
	data := os.Getenv("ADVGS_COMPARE_DATA")
	if os.Getenv("ADVGS_LONG") == "" || data == "" {
		t.Skip("set ADVGS_LONG=1 and ADVGS_COMPARE_DATA=DIR")
	}
	cfg, err := loadEBMConfig(os.Getenv("ADVGS_COMPARE_CONFIG"))
	if err != nil {
		t.Fatal(err)
	}
	ds, err := datasets.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	opt := features.Options{Weights: os.Getenv("ADVGS_WEIGHTS_FILE"), Layers: cfg.Features.Layers, Grid: cfg.Features.Grid, Input: cfg.Features.Input}
	if l := os.Getenv("ADVGS_COMPARE_LAYERS"); l != "" {
		opt.Layers = strings.Split(l, ",")
	}
	bank, _ := strconv.Atoi(os.Getenv("ADVGS_COMPARE_BANK"))
	bb, err := features.New(os.Getenv("ADVGS_COMPARE_BACKBONE"), opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, cat := range ds.Categories {
		start := time.Now()
		train, _, _ := splitTrain([]*datasets.Category{cat}, cfg.Training, rand.New(rand.NewPCG(cfg.Training.Seed, 0xda7a)))
		s := knn.New(bb.Info().Channels)
		err := extract(t.Context(), bb, train, func(_ datasets.Sample, g *features.Grid) error { return s.Add(*g) })
		if err != nil {
			t.Fatal(err)
		}
		if bank > 0 {
			s.Subsample(bank, rand.New(rand.NewPCG(5, 5)))
		}
		fit := time.Since(start)
		var scores []float64
		var labels []bool
		var px reports.PixelSet
		var heat []float32
		t0 := time.Now()
		err = extract(t.Context(), bb, cat.Test, func(smp datasets.Sample, g *features.Grid) error {
			patch, img, err := s.Score(*g, nil)
			if err != nil {
				return err
			}
			scores = append(scores, float64(img))
			labels = append(labels, smp.Anomalous())
			geo := g.Geom
			geo.ImageW, geo.ImageH = evalRes, evalRes
			heat, _ = geo.Upsample(patch, heat)
			var mask []uint8
			if smp.Mask != nil {
				mask = maskPixels(smp.Mask, evalRes)
			}
			return px.Add(heat, mask, evalRes, evalRes)
		})
		if err != nil {
			t.Fatal(err)
		}
		ms := 1000 * time.Since(t0).Seconds() / float64(len(scores))
		ia, _ := reports.AUROC(scores, labels)
		pa, _ := px.AUROC()
		ap, _ := px.AUPRO(0.3)
		fmt.Printf("knn %s %v: train %d images, bank %d patches (%.1f MB); image AUROC %.3f pixel AUROC %.3f AUPRO %.3f; fit %.1f s; %.1f ms/image\n",
			cat.Name, bb.Info().Layers, len(train), s.Len(), float64(s.Len()*s.C*4)/1e6, ia, pa, ap, fit.Seconds(), ms)
	}
}
