package main

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/advgs/advgs/datasets"
	"github.com/advgs/advgs/ebm"
	"github.com/advgs/advgs/features"
	"github.com/advgs/advgs/internal/atomicfile"
	"github.com/advgs/advgs/reports"
	"github.com/urfave/cli/v2"
)

func evalCommand() *cli.Command {
	return &cli.Command{
		Name:      "eval",
		Usage:     "evaluate a model on a test set: image AUROC, pixel AUROC, AUPRO, F1-max per category and defect type",
		ArgsUsage: " ",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "model", Usage: "model `FILE`, or a folder of per-category models (CATEGORY.advgs)", Required: true},
			&cli.StringFlag{Name: "data", Usage: "dataset `DIR` (MVTec layout)", Required: true},
			&cli.StringFlag{Name: "json", Usage: "write the results as JSON to `FILE`"},
			&cli.StringFlag{Name: "weights", Usage: "backbone weights `FILE` (default: looked up)"},
		},
		Action: func(c *cli.Context) error {
			res, err := runEval(c.Context, c.String("model"), c.String("data"), c.String("weights"), false, os.Stdout)
			if err != nil {
				return err
			}
			if p := c.String("json"); p != "" {
				b, _ := json.MarshalIndent(res, "", "  ")
				if err := atomicfile.WriteBytes(p, append(b, '\n')); err != nil {
					return fmt.Errorf("--json: %w", err)
				}
			}
			return nil
		},
	}
}

// evalResult is the JSON contract of DESIGN.md (plus per-defect rows).
type evalResult struct {
	Dataset      string        `json:"dataset"`
	Model        string        `json:"model"`
	Categories   []categoryRes `json:"categories"`
	Mean         metricSet     `json:"mean"`
	ScoreMsImage float64       `json:"score_ms_per_image"`
}

type metricSet struct {
	ImageAUROC *float64 `json:"image_auroc"`
	PixelAUROC *float64 `json:"pixel_auroc"`
	AUPRO      *float64 `json:"aupro"`
	F1Max      *float64 `json:"f1_max"`
}

type categoryRes struct {
	Name  string `json:"name"`
	NTest int    `json:"n_test"`
	metricSet
	// Defects: image AUROC of each defect type against the good test images.
	Defects []defectRes `json:"defects,omitempty"`
	// Accuracy of the model's stored threshold on this category's test images.
	ThresholdAccuracy float64 `json:"threshold_accuracy"`
}

type defectRes struct {
	Defect     string   `json:"defect"`
	N          int      `json:"n"`
	ImageAUROC *float64 `json:"image_auroc"`
}

func ptr(v float64, err error) *float64 {
	if err != nil || math.IsNaN(v) {
		return nil
	}
	return &v
}

// evalRes is the pixel resolution of the pixel metrics: maps and masks are compared
// at 224×224, as the paper (VGS.md E.6).
const evalRes = 224

// modelFor returns the model for a category: the file itself, or
// DIR/<category>.advgs for a folder of per-category models.
func modelFor(path, category string, cache map[string]*ebm.Model) (*ebm.Model, string, error) {
	p := path
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		p = filepath.Join(path, category+".advgs")
	}
	if m := cache[p]; m != nil {
		return m, p, nil
	}
	m, err := ebm.Load(p)
	if err != nil {
		return nil, p, err
	}
	cache[p] = m
	return m, p, nil
}

// backboneFor builds the backbone a model was trained with and checks it.
func backboneFor(m *ebm.Model, weights string, offline bool) (features.Backbone, error) {
	info := m.Meta.Backbone
	w := weights
	if w == "" && info.WeightsFile != "" {
		if _, err := os.Stat(info.WeightsFile); err == nil {
			w = info.WeightsFile
		}
	}
	bb, err := features.New(info.Name, features.Options{Weights: w, Offline: offline})
	if err != nil {
		return nil, fmt.Errorf("backbone %s of the model: %w", info.Name, err)
	}
	if err := m.CheckBackbone(bb.Info()); err != nil {
		return nil, fmt.Errorf("refusing to score: %w", err)
	}
	return bb, nil
}

func runEval(ctx context.Context, modelPath, data, weights string, offline bool, out io.Writer) (*evalResult, error) {
	ds, err := datasets.Open(data)
	if err != nil {
		return nil, fmt.Errorf("--data: %w", err)
	}
	res := &evalResult{Dataset: data, Model: modelPath}
	cache := map[string]*ebm.Model{}
	bbs := map[string]features.Backbone{}
	var totalImgs int
	var totalTime time.Duration
	sums := map[string][]float64{}
	for _, cat := range ds.Categories {
		if len(cat.Test) == 0 {
			continue
		}
		m, mp, err := modelFor(modelPath, cat.Name, cache)
		if err != nil {
			return nil, fmt.Errorf("--model: %w", err)
		}
		bb := bbs[mp]
		if bb == nil {
			if bb, err = backboneFor(m, weights, offline); err != nil {
				return nil, fmt.Errorf("%s: %w", mp, err)
			}
			bbs[mp] = bb
		}
		var scores []float64
		var labels []bool
		var defects []string
		var px reports.PixelSet
		haveMasks := true
		var patch, heat []float32
		t0 := time.Now()
		err = extract(ctx, bb, cat.Test, func(s datasets.Sample, g *features.Grid) error {
			var raw float64
			patch, raw, err = m.ScoreGrid(*g, patch)
			if err != nil {
				return err
			}
			scores = append(scores, raw)
			labels = append(labels, s.Anomalous())
			defects = append(defects, s.Defect)
			geo := g.Geom
			geo.ImageW, geo.ImageH = evalRes, evalRes
			heat, err = geo.Upsample(patch, heat)
			if err != nil {
				return err
			}
			var mask []uint8
			if s.Anomalous() {
				if s.Mask == nil {
					haveMasks = false
					return nil
				}
				mask = maskPixels(s.Mask, evalRes)
			}
			return px.Add(heat, mask, evalRes, evalRes)
		})
		if err != nil {
			return nil, fmt.Errorf("category %s: %w", cat.Name, err)
		}
		el := time.Since(t0)
		totalTime += el
		totalImgs += len(scores)
		cr := categoryRes{Name: cat.Name, NTest: len(scores)}
		cr.ImageAUROC = ptr(reports.AUROC(scores, labels))
		f1, _, ferr := reports.F1Max(scores, labels)
		cr.F1Max = ptr(f1, ferr)
		if haveMasks || px.Len() > 0 {
			cr.PixelAUROC = ptr(px.AUROC())
			cr.AUPRO = ptr(px.AUPRO(0.3))
		}
		correct := 0
		for i, s := range scores {
			if m.Anomalous(s) == labels[i] {
				correct++
			}
		}
		cr.ThresholdAccuracy = float64(correct) / float64(len(scores))
		seen := map[string]bool{}
		for _, d := range defects {
			if d == datasets.Good || seen[d] {
				continue
			}
			seen[d] = true
			var s []float64
			var l []bool
			n := 0
			for i := range scores {
				if defects[i] == d || defects[i] == datasets.Good {
					s = append(s, scores[i])
					l = append(l, labels[i])
					if defects[i] == d {
						n++
					}
				}
			}
			cr.Defects = append(cr.Defects, defectRes{Defect: d, N: n, ImageAUROC: ptr(reports.AUROC(s, l))})
		}
		for k, v := range map[string]*float64{"image": cr.ImageAUROC, "pixel": cr.PixelAUROC, "aupro": cr.AUPRO, "f1": cr.F1Max} {
			if v != nil {
				sums[k] = append(sums[k], *v)
			}
		}
		res.Categories = append(res.Categories, cr)
		if out != nil {
			fmt.Fprintf(out, "%-14s n=%-4d image AUROC %s  pixel AUROC %s  AUPRO %s  F1-max %s  threshold acc %.3f  (%.1f ms/image)\n",
				cat.Name, cr.NTest, fmtp(cr.ImageAUROC), fmtp(cr.PixelAUROC), fmtp(cr.AUPRO), fmtp(cr.F1Max), cr.ThresholdAccuracy,
				1000*el.Seconds()/float64(max(1, len(scores))))
			for _, d := range cr.Defects {
				fmt.Fprintf(out, "  %-12s n=%-4d image AUROC %s\n", d.Defect, d.N, fmtp(d.ImageAUROC))
			}
		}
	}
	mean := func(k string) *float64 {
		v := sums[k]
		if len(v) == 0 {
			return nil
		}
		s := 0.0
		for _, x := range v {
			s += x
		}
		s /= float64(len(v))
		return &s
	}
	res.Mean = metricSet{ImageAUROC: mean("image"), PixelAUROC: mean("pixel"), AUPRO: mean("aupro"), F1Max: mean("f1")}
	if totalImgs > 0 {
		res.ScoreMsImage = 1000 * totalTime.Seconds() / float64(totalImgs)
	}
	if out != nil {
		fmt.Fprintf(out, "%-14s        image AUROC %s  pixel AUROC %s  AUPRO %s  F1-max %s  (%.1f ms/image incl. decoding, features, metrics)\n",
			"mean", fmtp(res.Mean.ImageAUROC), fmtp(res.Mean.PixelAUROC), fmtp(res.Mean.AUPRO), fmtp(res.Mean.F1Max), res.ScoreMsImage)
	}
	return res, nil
}

func fmtp(v *float64) string {
	if v == nil {
		return "  -  "
	}
	return fmt.Sprintf("%.3f", *v)
}

// maskPixels resizes a mask (nearest neighbour) to res×res and returns its pixels
// row by row, the layout the pixel metrics take.
func maskPixels(m *image.Gray, res int) []uint8 {
	mk := datasets.ResizeMaskNearest(m, res, res)
	out := make([]uint8, res*res)
	for y := 0; y < res; y++ {
		copy(out[y*res:(y+1)*res], mk.Pix[y*mk.Stride:y*mk.Stride+res])
	}
	return out
}
