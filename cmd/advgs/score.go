package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/advgs/advgs/datasets"
	"github.com/advgs/advgs/ebm"
	"github.com/advgs/advgs/features"
	"github.com/advgs/advgs/reports"
	"github.com/urfave/cli/v2"
)

func scoreCommand() *cli.Command {
	return &cli.Command{
		Name:      "score",
		Usage:     "score images with a model: one line per image (path, score, anomalous yes/no)",
		ArgsUsage: "IMAGE|DIR...",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "model", Usage: "model `FILE`", Required: true},
			&cli.StringFlag{Name: "heatmaps", Usage: "write heat-map PNGs into `DIR` (the image beside it with the anomaly map blended over it, as in eval --report)"},
			&cli.BoolFlag{Name: "json", Usage: "print one JSON object per image instead of text"},
			&cli.StringFlag{Name: "weights", Usage: "backbone weights `FILE` (default: looked up)"},
			&cli.Float64Flag{Name: "threshold", Usage: "anomalous when the normalised score is above `Z` (default: the model's stored threshold; eval prints the F1-max one)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return fmt.Errorf("score: no images given (usage: advgs score --model MODEL IMAGE|DIR...)")
			}
			m, err := ebm.Load(c.String("model"))
			if err != nil {
				return fmt.Errorf("--model: %w", err)
			}
			if c.IsSet("threshold") {
				z := c.Float64("threshold")
				if math.IsNaN(z) || math.IsInf(z, 0) {
					return fmt.Errorf("--threshold: %v is not a finite number", z)
				}
				m.Meta.Threshold = z
			}
			items, err := listImages(c.Args().Slice())
			if err != nil {
				return err
			}
			_, err = runScore(c.Context, m, items, c.String("weights"), c.String("heatmaps"), c.Bool("json"), false, os.Stdout)
			return err
		},
	}
}

// listImages expands files and folders (recursively) into image items.
func listImages(args []string) ([]datasets.Item, error) {
	var items []datasets.Item
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, fmt.Errorf("score: %w", err)
		}
		if !st.IsDir() {
			items = append(items, datasets.Item{Path: a, Defect: datasets.Good})
			continue
		}
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && datasets.IsImageFile(p) && !strings.HasSuffix(strings.TrimSuffix(p, filepath.Ext(p)), "_mask") {
				items = append(items, datasets.Item{Path: p, Defect: datasets.Good})
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("score: %w", err)
		}
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("score: no PNG, JPEG or BMP images in %v", args)
	}
	return items, nil
}

// scoreLine is one image's result (--json).
type scoreLine struct {
	Path      string  `json:"path"`
	Score     float64 `json:"score"`     // normalised: (raw − mean)/std of training scores
	Raw       float64 `json:"raw_score"` // largest patch energy
	Anomalous bool    `json:"anomalous"` // score > threshold
	Threshold float64 `json:"threshold"`
	Heatmap   string  `json:"heatmap,omitempty"`
}

func runScore(ctx context.Context, m *ebm.Model, items []datasets.Item, weights, heatDir string, asJSON, offline bool, out io.Writer) ([]scoreLine, error) {
	bb, err := backboneFor(m, weights, offline)
	if err != nil {
		return nil, err
	}
	if heatDir != "" {
		if err := os.MkdirAll(heatDir, 0o755); err != nil {
			return nil, fmt.Errorf("--heatmaps: %w", err)
		}
	}
	var lines []scoreLine
	var patch []float32
	scale, mapThr := mapScale(m)
	enc := json.NewEncoder(out)
	err = extract(ctx, bb, items, func(s datasets.Sample, g *features.Grid) error {
		var raw float64
		var err error
		patch, raw, err = m.ScoreGrid(*g, patch)
		if err != nil {
			return err
		}
		l := scoreLine{Path: s.Path, Score: m.Normalize(raw), Raw: raw, Anomalous: m.Anomalous(raw), Threshold: m.Meta.Threshold}
		if heatDir != "" {
			// NNNN_<folder>_<name>.png: the folder tells test/crack/000.png from test/good/000.png.
			name := fmt.Sprintf("%04d_%s_%s.png", s.Index, filepath.Base(filepath.Dir(s.Path)),
				strings.TrimSuffix(filepath.Base(s.Path), filepath.Ext(s.Path)))
			l.Heatmap = filepath.Join(heatDir, name)
			verdict := "normal"
			if l.Anomalous {
				verdict = "anomalous"
			}
			o := reports.Overlay{Image: s.Image, Map: reports.Map{W: g.Geom.GridW, H: g.Geom.GridH, V: patch},
				Scale: scale, Threshold: mapThr, Caption: []string{s.Path,
					fmt.Sprintf("score %.3f, threshold %.3f: %s", l.Score, l.Threshold, verdict)}}
			img, err := reports.Compose(o, heatmapStyle)
			if err != nil {
				return err
			}
			if err := reports.WriteImage(l.Heatmap, img, 0); err != nil {
				return err
			}
		}
		lines = append(lines, l)
		if out != nil {
			if asJSON {
				return enc.Encode(l)
			}
			yn := "no"
			if l.Anomalous {
				yn = "yes"
			}
			fmt.Fprintf(out, "%s\t%.3f\t%s\n", l.Path, l.Score, yn)
		}
		return nil
	})
	return lines, err
}

// heatmapStyle draws the --heatmaps overlays: at the image's size, up to 1024
// pixels a side, small images scaled up to 256.
var heatmapStyle = reports.OverlayStyle{MaxSide: 1024, MinSide: 256}
