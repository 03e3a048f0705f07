package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/advgs/advgs/datasets"
	"github.com/advgs/advgs/ebm"
	"github.com/advgs/advgs/features"
	"github.com/advgs/advgs/internal/atomicfile"
	"github.com/urfave/cli/v2"
)

func scoreCommand() *cli.Command {
	return &cli.Command{
		Name:      "score",
		Usage:     "score images with a model: one line per image (path, score, anomalous yes/no)",
		ArgsUsage: "IMAGE|DIR...",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "model", Usage: "model `FILE`", Required: true},
			&cli.StringFlag{Name: "heatmaps", Usage: "write heat-map PNGs (image blended with the anomaly map) into `DIR`"},
			&cli.BoolFlag{Name: "json", Usage: "print one JSON object per image instead of text"},
			&cli.StringFlag{Name: "weights", Usage: "backbone weights `FILE` (default: looked up)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return fmt.Errorf("score: no images given (usage: advgs score --model MODEL IMAGE|DIR...)")
			}
			m, err := ebm.Load(c.String("model"))
			if err != nil {
				return fmt.Errorf("--model: %w", err)
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
	var patch, heat []float32
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
			heat, err = g.Geom.Upsample(patch, heat)
			if err != nil {
				return err
			}
			name := fmt.Sprintf("%04d_%s.png", s.Index, strings.TrimSuffix(filepath.Base(s.Path), filepath.Ext(s.Path)))
			l.Heatmap = filepath.Join(heatDir, name)
			if err := writeHeatmap(l.Heatmap, s.Image, heat, m.Meta.MapLow, m.Meta.MapHigh); err != nil {
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

// writeHeatmap blends the image with a blue→red colour map of heat (patch
// energies, lo → blue, hi and above → red) and writes a PNG atomically.
func writeHeatmap(path string, img *image.NRGBA, heat []float32, lo, hi float64) error {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := (float64(heat[y*w+x]) - lo) / (hi - lo)
			v = min(max(v, 0), 1)
			cr, cg, cb := jet(v)
			p := img.NRGBAAt(b.Min.X+x, b.Min.Y+y)
			dst.SetNRGBA(x, y, color.NRGBA{R: blend(p.R, cr), G: blend(p.G, cg), B: blend(p.B, cb), A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, dst); err != nil {
		return err
	}
	return atomicfile.WriteBytes(path, buf.Bytes())
}

func blend(a uint8, b float64) uint8 { return uint8(0.5*float64(a) + 0.5*255*b) }

// jet maps v ∈ [0, 1] to a blue–cyan–yellow–red colour.
func jet(v float64) (r, g, b float64) {
	c := func(x float64) float64 { return min(max(x, 0), 1) }
	return c(1.5 - abs(4*v-3)), c(1.5 - abs(4*v-2)), c(1.5 - abs(4*v-1))
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
