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
			&cli.StringFlag{Name: "report", Usage: "write an HTML report (index.html, plots, overlays) into `DIR`"},
		},
		Action: func(c *cli.Context) error {
			res, err := runEvalWith(c.Context, evalOptions{Model: c.String("model"), Data: c.String("data"),
				Weights: c.String("weights"), Out: os.Stdout, Report: c.String("report")})
			if err != nil {
				return err
			}
			if res.Report != "" {
				fmt.Printf("report: %s\n", res.Report)
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
	// Report is the index.html written with --report.
	Report string `json:"report,omitempty"`
}

type metricSet struct {
	ImageAUROC *float64 `json:"image_auroc"`
	PixelAUROC *float64 `json:"pixel_auroc"`
	AUPRO      *float64 `json:"aupro"`
	F1Max      *float64 `json:"f1_max"`
}

type categoryRes struct {
	Name       string `json:"name"`
	NTest      int    `json:"n_test"`
	NGood      int    `json:"n_good"`
	NDefective int    `json:"n_defective"`
	metricSet
	// Missed counts defective images at or below the stored threshold,
	// FalseAlarms good images above it.
	Missed      int `json:"missed"`
	FalseAlarms int `json:"false_alarms"`
	// Defects: image AUROC of each defect type against the good test images.
	Defects []defectRes `json:"defects,omitempty"`
	// Accuracy of the model's stored threshold on this category's test images.
	ThresholdAccuracy float64 `json:"threshold_accuracy"`
	// F1MaxThreshold is a normalised score threshold at which F1-max is reached
	// with advgs's rule (anomalous when score > threshold): half-way between the
	// lowest score flagged at F1-max and the next lower one. It is an operating
	// point for score --threshold; null without defective test images.
	F1MaxThreshold *float64 `json:"f1_max_threshold"`
}

// defectRes holds the metrics of one defect type against the good test images
// of its category (pixel metrics: that defect's maps pooled with the good ones).
type defectRes struct {
	Defect string `json:"defect"`
	N      int    `json:"n"`
	metricSet
	Missed int `json:"missed"`
}

// below returns a value t with score > t exactly for the scores ≥ thr: the
// midpoint between thr and the largest score below it (thr − 1 if there is none).
func below(scores []float64, thr float64) float64 {
	lo := math.Inf(-1)
	for _, v := range scores {
		if v < thr {
			lo = max(lo, v)
		}
	}
	if math.IsInf(lo, -1) {
		return thr - 1
	}
	return lo + (thr-lo)/2
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
	err = m.CheckBackbone(bb.Info())
	if err != nil {
		// Not the backbone's defaults (a config's features section, or defaults
		// that changed since): rebuild it with the model's own layers, grid, input
		// size and averaging (Info.Smooth 0 means none, which Options spells −1).
		smooth := info.Smooth
		if smooth == 0 {
			smooth = -1
		}
		// Backbones without selectable layers (filterbank) record descriptive
		// names; they are rebuilt from grid and averaging alone.
		for _, layers := range [][]string{info.Layers, nil} {
			own, err2 := features.New(info.Name, features.Options{Weights: w, Offline: offline, Layers: layers, Grid: info.GridW, Input: info.InputW, Smooth: smooth})
			if err2 == nil && m.CheckBackbone(own.Info()) == nil {
				return own, nil
			}
		}
		return nil, fmt.Errorf("refusing to score: %w", err)
	}
	return bb, nil
}

// evalOptions are the inputs of an evaluation.
type evalOptions struct {
	Model, Data, Weights string
	// Offline forbids downloading backbone weights.
	Offline bool
	// Out receives the per-category lines; nil for none.
	Out io.Writer
	// Report, when set, is the folder of the HTML report (reports.DetectorReport).
	Report string
}

func runEval(ctx context.Context, modelPath, data, weights string, offline bool, out io.Writer) (*evalResult, error) {
	return runEvalWith(ctx, evalOptions{Model: modelPath, Data: data, Weights: weights, Offline: offline, Out: out})
}

// mapScale is a model's fixed heat-map colour scale (median training patch
// energy to the raw-score threshold) and the patch energy above which a pixel is
// outlined as predicted defect: the raw-score threshold, so an image is anomalous
// exactly when its map has a patch above it.
func mapScale(m *ebm.Model) (reports.ColorScale, float64) {
	return reports.ColorScale{Low: m.Meta.MapLow, High: m.Meta.MapHigh}, m.Meta.ScoreMean + m.Meta.Threshold*m.Meta.ScoreStd
}

func runEvalWith(ctx context.Context, o evalOptions) (*evalResult, error) {
	ds, err := datasets.Open(o.Data)
	if err != nil {
		return nil, fmt.Errorf("--data: %w", err)
	}
	var rep *reports.DetectorReport
	if o.Report != "" {
		if rep, err = reports.NewDetectorReport(o.Report, reports.DetectorConfig{}); err != nil {
			return nil, fmt.Errorf("--report: %w", err)
		}
	}
	res := &evalResult{Dataset: o.Data, Model: o.Model}
	cache := map[string]*ebm.Model{}
	bbs := map[string]features.Backbone{}
	var notes []string
	var totalImgs int
	var totalTime time.Duration
	sums := map[string][]float64{}
	for _, cat := range ds.Categories {
		if len(cat.Test) == 0 {
			continue
		}
		m, mp, err := modelFor(o.Model, cat.Name, cache)
		if err != nil {
			return nil, fmt.Errorf("--model: %w", err)
		}
		bb := bbs[mp]
		if bb == nil {
			if bb, err = backboneFor(m, o.Weights, o.Offline); err != nil {
				return nil, fmt.Errorf("%s: %w", mp, err)
			}
			bbs[mp] = bb
			notes = append(notes, fmt.Sprintf("%s: backbone %s, %s sampler, %d CD steps; threshold %.3f = %s",
				mp, m.Meta.Backbone.Name, m.Meta.Sampler, m.Meta.Steps, m.Meta.Threshold, m.Meta.ThresholdFrom))
		}
		scale, mapThr := mapScale(m)
		var scores []float64
		var labels []bool
		var defects []string
		// Pixels per defect type ("good" included), pooled afterwards for the
		// category and for each defect type with the good images.
		pxBy := map[string]*reports.PixelSet{}
		var pxOrder []string
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
			if rep != nil {
				t := reports.TestImage{Category: cat.Name, Defect: s.Defect, Path: s.Path, Defective: s.Anomalous(),
					Score: m.Normalize(raw), Threshold: m.Meta.Threshold, Scale: scale, MapThreshold: mapThr}
				mp := reports.Map{W: g.Geom.GridW, H: g.Geom.GridH, V: patch}
				if err := rep.AddImage(t, s.Image, mp, s.Mask); err != nil {
					return err
				}
			}
			geo := g.Geom
			geo.ImageW, geo.ImageH = evalRes, evalRes
			heat, err = geo.Upsample(patch, heat)
			if err != nil {
				return err
			}
			var mask []uint8
			if s.Anomalous() {
				if s.Mask == nil {
					return nil
				}
				mask = maskPixels(s.Mask, evalRes)
			}
			px := pxBy[s.Defect]
			if px == nil {
				px = &reports.PixelSet{}
				pxBy[s.Defect] = px
				pxOrder = append(pxOrder, s.Defect)
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
		f1, thr, ferr := reports.F1Max(scores, labels)
		cr.F1Max = ptr(f1, ferr)
		cr.F1MaxThreshold = ptr(m.Normalize(below(scores, thr)), ferr)
		good := pxBy[datasets.Good]
		if good == nil {
			good = &reports.PixelSet{}
		}
		sets := []*reports.PixelSet{good}
		for _, d := range pxOrder {
			if d != datasets.Good {
				sets = append(sets, pxBy[d])
			}
		}
		if all := reports.MergePixels(sets...); all.Len() > 0 {
			cr.PixelAUROC = ptr(all.AUROC())
			cr.AUPRO = ptr(all.AUPRO(0.3))
			if rep != nil && cr.PixelAUROC != nil {
				if err := rep.AddPixels(cat.Name, all); err != nil {
					return nil, err
				}
			}
		}
		correct := 0
		for i, s := range scores {
			pred := m.Anomalous(s)
			if pred == labels[i] {
				correct++
			}
			switch {
			case labels[i] && !pred:
				cr.Missed++
			case !labels[i] && pred:
				cr.FalseAlarms++
			}
			if labels[i] {
				cr.NDefective++
			} else {
				cr.NGood++
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
			dr := defectRes{Defect: d}
			for i := range scores {
				if defects[i] == d || defects[i] == datasets.Good {
					s = append(s, scores[i])
					l = append(l, labels[i])
					if defects[i] == d {
						dr.N++
						if !m.Anomalous(scores[i]) {
							dr.Missed++
						}
					}
				}
			}
			dr.ImageAUROC = ptr(reports.AUROC(s, l))
			f1, _, ferr := reports.F1Max(s, l)
			dr.F1Max = ptr(f1, ferr)
			if px := pxBy[d]; px != nil {
				both := reports.MergePixels(good, px)
				dr.PixelAUROC = ptr(both.AUROC())
				dr.AUPRO = ptr(both.AUPRO(0.3))
			}
			cr.Defects = append(cr.Defects, dr)
		}
		for k, v := range map[string]*float64{"image": cr.ImageAUROC, "pixel": cr.PixelAUROC, "aupro": cr.AUPRO, "f1": cr.F1Max} {
			if v != nil {
				sums[k] = append(sums[k], *v)
			}
		}
		res.Categories = append(res.Categories, cr)
		if o.Out != nil {
			fmt.Fprintf(o.Out, "%-14s n=%-4d image AUROC %s  pixel AUROC %s  AUPRO %s  F1-max %s (at score %s)  threshold %.3f: acc %.3f, %d missed, %d false alarms  (%.1f ms/image)\n",
				cat.Name, cr.NTest, fmtp(cr.ImageAUROC), fmtp(cr.PixelAUROC), fmtp(cr.AUPRO), fmtp(cr.F1Max), fmtp(cr.F1MaxThreshold),
				m.Meta.Threshold, cr.ThresholdAccuracy, cr.Missed, cr.FalseAlarms, 1000*el.Seconds()/float64(max(1, len(scores))))
			for _, d := range cr.Defects {
				fmt.Fprintf(o.Out, "  %-12s n=%-4d image AUROC %s  pixel AUROC %s  AUPRO %s  F1-max %s\n",
					d.Defect, d.N, fmtp(d.ImageAUROC), fmtp(d.PixelAUROC), fmtp(d.AUPRO), fmtp(d.F1Max))
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
	if o.Out != nil {
		fmt.Fprintf(o.Out, "%-14s        image AUROC %s  pixel AUROC %s  AUPRO %s  F1-max %s  (%.1f ms/image incl. decoding, features, metrics)\n",
			"mean", fmtp(res.Mean.ImageAUROC), fmtp(res.Mean.PixelAUROC), fmtp(res.Mean.AUPRO), fmtp(res.Mean.F1Max), res.ScoreMsImage)
	}
	if rep != nil {
		s := evalSummary(res)
		s.Notes = notes
		p, err := rep.Write(s)
		if err != nil {
			return nil, fmt.Errorf("--report: %w", err)
		}
		res.Report = p
	}
	return res, nil
}

// evalSummary is the report's table: the numbers of the JSON, row for row.
func evalSummary(res *evalResult) reports.Summary {
	s := reports.Summary{Dataset: res.Dataset, Model: res.Model, MsPerImage: res.ScoreMsImage}
	var mean reports.SummaryRow
	mean.Category = "mean"
	for _, c := range res.Categories {
		s.Rows = append(s.Rows, reports.SummaryRow{Category: c.Name, Good: c.NGood, Defective: c.NDefective,
			ImageAUROC: c.ImageAUROC, PixelAUROC: c.PixelAUROC, AUPRO: c.AUPRO, F1Max: c.F1Max,
			Missed: c.Missed, FalseAlarms: c.FalseAlarms})
		for _, d := range c.Defects {
			s.Rows = append(s.Rows, reports.SummaryRow{Category: c.Name, Defect: d.Defect, Good: -1, Defective: d.N,
				ImageAUROC: d.ImageAUROC, PixelAUROC: d.PixelAUROC, AUPRO: d.AUPRO, F1Max: d.F1Max,
				Missed: d.Missed, FalseAlarms: -1})
		}
		mean.Good += c.NGood
		mean.Defective += c.NDefective
		mean.Missed += c.Missed
		mean.FalseAlarms += c.FalseAlarms
	}
	mean.ImageAUROC, mean.PixelAUROC, mean.AUPRO, mean.F1Max = res.Mean.ImageAUROC, res.Mean.PixelAUROC, res.Mean.AUPRO, res.Mean.F1Max
	s.Mean = &mean
	return s
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
