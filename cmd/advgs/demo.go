package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/advgs/advgs/datasets"
	"github.com/advgs/advgs/ebm"
	"github.com/advgs/advgs/features"
	"github.com/urfave/cli/v2"
)

func demoCommand() *cli.Command {
	return &cli.Command{
		Name:  "demo",
		Usage: "offline end to end on synthetic data in a temporary folder: fit, eval with an HTML report, a few heat maps",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "dir", Usage: "work in `DIR` and keep it (default: a temporary folder, removed except for the report)"},
			&cli.Uint64Flag{Name: "seed", Usage: "random seed"},
		},
		Action: func(c *cli.Context) error {
			return runDemo(c, c.String("dir"), c.Uint64("seed"))
		},
	}
}

// demoConfig shortens the default recipe (smaller energy, 300 pre-training and 100
// CD steps) so the demo takes about 45 s of CPU on 2 cores.
func demoConfig(seed uint64) (ebm.Config, error) {
	cfg, err := loadEBMConfig("")
	if err != nil {
		return cfg, err
	}
	cfg.Training.Steps = 100
	cfg.Training.PretrainSteps = 300
	cfg.Energy.EncHidden, cfg.Energy.DecHidden, cfg.Energy.Latent = []int{256, 256}, []int{256, 256}, 32
	cfg.Training.CheckpointEvery = 0
	cfg.Training.Seed = seed
	return cfg, nil
}

func runDemo(c *cli.Context, dir string, seed uint64) error {
	start := time.Now()
	keep := dir != ""
	if !keep {
		d, err := os.MkdirTemp("", "advgs-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	data := filepath.Join(dir, "data")
	fmt.Printf("demo: writing synthetic MVTec-layout data to %s\n", data)
	if err := datasets.Synthesize(data, datasets.SynthConfig{Categories: []string{"grain"}, Train: 30, TestGood: 6, TestPerDefect: 4},
		rand.New(rand.NewPCG(seed, 1))); err != nil {
		return err
	}
	backbone := features.DefaultBackbone
	if _, err := features.FindWeights("mobilenet_v2_1.0_224_quant.tflite", features.Options{Offline: true}); err != nil {
		backbone = "filterbank"
		fmt.Printf("demo: MobileNetV2 weights not found offline (%v);\n      using the weight-free filterbank backbone (weaker)\n", err)
	} else {
		fmt.Println("demo: using the mobilenetv2 backbone (weights found)")
	}
	cfg, err := demoConfig(seed)
	if err != nil {
		return err
	}
	model := filepath.Join(dir, "model.advgs")
	if _, err := runFit(c.Context, fitOptions{Data: data, Config: cfg, Backbone: backbone, Out: model,
		Sampler: ebm.SamplerVGS, Offline: true, Log: os.Stderr}); err != nil {
		return err
	}
	// The report outlives a temporary work folder: it is what the demo leaves to look at.
	report := filepath.Join(dir, "report")
	if !keep {
		if report, err = os.MkdirTemp("", "advgs-demo-report-"); err != nil {
			return err
		}
	}
	fmt.Println("demo: evaluating on the synthetic test set")
	res, err := runEvalWith(c.Context, evalOptions{Model: model, Data: data, Offline: true, Out: os.Stdout, Report: report})
	if err != nil {
		return err
	}
	m, err := ebm.Load(model)
	if err != nil {
		return err
	}
	ds, err := datasets.Open(data)
	if err != nil {
		return err
	}
	// One good test image and one of each defect type.
	var items []datasets.Item
	seen := map[string]bool{}
	for _, it := range ds.Categories[0].Test {
		if !seen[it.Defect] {
			seen[it.Defect] = true
			items = append(items, it)
		}
	}
	heat := filepath.Join(dir, "heatmaps")
	fmt.Printf("demo: scoring %d test images, heat maps in %s\n", len(items), heat)
	if _, err := runScore(c.Context, m, items, "", heat, false, true, os.Stdout); err != nil {
		return err
	}
	if !keep {
		fmt.Println("demo: (temporary folder removed; pass --dir DIR to keep the data, model and heat maps)")
	}
	fmt.Printf("demo: done in %.0f s\n", time.Since(start).Seconds())
	fmt.Printf("demo: report: %s\n", res.Report)
	return nil
}
