package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"time"

	"github.com/advgs/advgs/configs"
	"github.com/advgs/advgs/datasets"
	"github.com/advgs/advgs/ebm"
	"github.com/advgs/advgs/features"
	"github.com/advgs/advgs/internal/atomicfile"
	"github.com/advgs/advgs/internal/ckpt"
	"github.com/advgs/advgs/internal/fastblas"
	"github.com/advgs/advgs/internal/progress"
	"github.com/advgs/advgs/vgs"
	"github.com/urfave/cli/v2"
)

func fitCommand() *cli.Command {
	return &cli.Command{
		Name:      "fit",
		Usage:     "train the anomaly detector (an EBM on patch features, CD with VGS negatives) on good images",
		ArgsUsage: " ",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "data", Usage: "dataset `DIR` (MVTec layout, one category, or a folder with good/)", Required: true},
			&cli.StringFlag{Name: "config", Usage: "YAML config `FILE` whose fields override the embedded configs/mvtec.yaml"},
			&cli.StringFlag{Name: "backbone", Value: features.DefaultBackbone, Usage: "feature backbone: mobilenetv2, mobilenetv1 or filterbank"},
			&cli.StringFlag{Name: "weights", Usage: "backbone weights `FILE` (default: looked up, see features.FindWeights)"},
			&cli.StringFlag{Name: "out", Value: "model.advgs", Usage: "model `FILE` (a folder with --per-category)"},
			&cli.StringFlag{Name: "sampler", Value: ebm.SamplerVGS, Usage: "negative sampler: vgs or langevin"},
			&cli.Uint64Flag{Name: "seed", Usage: "random seed (overrides the config's training.seed)"},
			&cli.IntFlag{Name: "steps", Usage: "CD step budget (overrides training.steps; training.max_epochs still caps it)"},
			&cli.BoolFlag{Name: "per-category", Usage: "train one model per category into the --out folder"},
			&cli.BoolFlag{Name: "resume", Usage: "continue from the checkpoint MODEL.ckpt of an interrupted run"},
			&cli.BoolFlag{Name: "quiet", Usage: "no progress output"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return fmt.Errorf("fit: unexpected arguments %v (the data folder goes in --data)", c.Args().Slice())
			}
			cfg, err := loadEBMConfig(c.String("config"))
			if err != nil {
				return err
			}
			if c.IsSet("seed") {
				cfg.Training.Seed = c.Uint64("seed")
			}
			if c.IsSet("steps") {
				cfg.Training.Steps = c.Int("steps")
			}
			ctx, stop := signal.NotifyContext(c.Context, os.Interrupt)
			defer stop()
			var log io.Writer = os.Stderr
			if c.Bool("quiet") {
				log = nil
			}
			opt := fitOptions{Data: c.String("data"), Config: cfg, Backbone: c.String("backbone"), Weights: c.String("weights"),
				Out: c.String("out"), Sampler: c.String("sampler"), PerCategory: c.Bool("per-category"), Resume: c.Bool("resume"), Log: log}
			_, err = runFit(ctx, opt)
			if errors.Is(err, context.Canceled) {
				return fmt.Errorf("interrupted: checkpoint saved; continue with the same command and --resume")
			}
			return err
		},
	}
}

// loadEBMConfig reads a detector config: the embedded configs/mvtec.yaml, with
// the fields of the file at path (when not "") laid over it, so that a file
// holding only `features: {grid: 28}` changes the grid and nothing else. Lists
// and scalars in the file replace the default's; unknown keys are errors.
func loadEBMConfig(path string) (ebm.Config, error) {
	var cfg ebm.Config
	b, err := configs.Get("mvtec")
	if err != nil {
		return cfg, fmt.Errorf("--config: %w", err)
	}
	if err := vgs.DecodeYAMLStrict(b, &cfg, "configs/mvtec.yaml"); err != nil {
		return cfg, fmt.Errorf("--config: %w", err)
	}
	if path == "" {
		return cfg, nil
	}
	if b, err = os.ReadFile(path); err != nil {
		return cfg, fmt.Errorf("--config: %w", err)
	}
	if err := vgs.DecodeYAMLStrict(b, &cfg, path); err != nil && !errors.Is(err, io.EOF) { // io.EOF: nothing but comments
		return cfg, fmt.Errorf("--config: %w", err)
	}
	return cfg, nil
}

// newBackbone builds the named backbone with the recipe's feature choice,
// downloads disabled when offline.
func newBackbone(name, weights string, fc ebm.FeaturesConfig, offline bool) (features.Backbone, error) {
	bb, err := features.New(name, features.Options{Weights: weights, Offline: offline, Layers: fc.Layers, Grid: fc.Grid, Input: fc.Input})
	if err != nil {
		return nil, fmt.Errorf("--backbone %s with config features %+v: %w", name, fc, err)
	}
	return bb, nil
}

// extract decodes items and runs the backbone on batches of 8, calling fn with each
// sample (image and mask) and its grid in order. The grid is reused after fn returns.
func extract(ctx context.Context, bb features.Backbone, items []datasets.Item, fn func(s datasets.Sample, g *features.Grid) error) error {
	const batch = 8
	var pend []datasets.Sample
	var grids []features.Grid
	flush := func() error {
		if len(pend) == 0 {
			return nil
		}
		imgs := make([]image.Image, len(pend))
		for i, s := range pend {
			imgs[i] = s.Image
		}
		var err error
		grids, err = bb.Extract(imgs, grids)
		if err != nil {
			return err
		}
		for i := range pend {
			if err := fn(pend[i], &grids[i]); err != nil {
				return err
			}
		}
		pend = pend[:0]
		return nil
	}
	_, err := datasets.Stream(ctx, items, datasets.LoadOptions{Workers: 2}, func(s datasets.Sample) error {
		pend = append(pend, s)
		if len(pend) == batch {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

type fitOptions struct {
	Data, Backbone, Weights, Out, Sampler string
	Config                                ebm.Config
	PerCategory, Resume, Offline          bool
	Log                                   io.Writer
}

// fitReport is MODEL.fit.json.
type fitReport struct {
	Model         string     `json:"model"`
	Data          string     `json:"data"`
	Categories    []string   `json:"categories"`
	Backbone      string     `json:"backbone"`
	BLAS          string     `json:"blas"`
	Sampler       string     `json:"sampler"`
	TrainImages   int        `json:"train_images"`
	HeldOut       int        `json:"held_out_images"`
	Patches       int        `json:"train_patches"`
	Params        int        `json:"energy_params"`
	Iterations    int        `json:"iterations"`
	Pretrain      int        `json:"pretrain_steps"`
	WallSeconds   float64    `json:"wall_seconds"`
	FeatSeconds   float64    `json:"feature_seconds"`
	TrainSeconds  float64    `json:"train_seconds"`
	FinalLosses   ebm.Stats  `json:"final_losses"`
	PretrainRecon float64    `json:"pretrain_recon_err"`
	Threshold     float64    `json:"threshold"`
	ThresholdFrom string     `json:"threshold_from"`
	Config        ebm.Config `json:"config"`
}

// runFit trains one unified model (or one per category) and writes the model files
// and their .fit.json reports. It returns the model paths.
func runFit(ctx context.Context, o fitOptions) ([]string, error) {
	ds, err := datasets.Open(o.Data)
	if err != nil {
		return nil, fmt.Errorf("--data: %w", err)
	}
	bb, err := newBackbone(o.Backbone, o.Weights, o.Config.Features, o.Offline)
	if err != nil {
		return nil, err
	}
	if !o.PerCategory {
		return []string{o.Out}, fitGroup(ctx, o, bb, ds.Categories, o.Out)
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, fmt.Errorf("--out: %w", err)
	}
	var outs []string
	for _, c := range ds.Categories {
		p := filepath.Join(o.Out, c.Name+".advgs")
		if err := fitGroup(ctx, o, bb, []*datasets.Category{c}, p); err != nil {
			return outs, fmt.Errorf("category %s: %w", c.Name, err)
		}
		outs = append(outs, p)
	}
	return outs, nil
}

func logf(w io.Writer, format string, a ...any) {
	if w != nil {
		fmt.Fprintf(w, format, a...)
	}
}

func fitGroup(ctx context.Context, o fitOptions, bb features.Backbone, cats []*datasets.Category, out string) error {
	start := time.Now()
	cfg := o.Config
	tc := cfg.Training
	rng := rand.New(rand.NewPCG(tc.Seed, 0xda7a))
	train, held, names := splitTrain(cats, tc, rng)
	info := bb.Info()
	logf(o.Log, "fit: %d categories %v, %d training images (+%d held out for the threshold), backbone %s (%dx%dx%d), BLAS %s\n",
		len(cats), names, len(train), len(held), info.Name, info.GridH, info.GridW, info.Channels, fastblas.Name)
	// Features of the training images: all grids kept for calibration, a subsample of
	// patches per image for the training pool.
	D := info.Channels
	var trainGrids [][]float32
	var pool []float32
	bar := progress.New(o.Log, len(train)+len(held), "features")
	err := extract(ctx, bb, train, func(s datasets.Sample, g *features.Grid) error {
		trainGrids = append(trainGrids, slices.Clone(g.Data))
		n := g.H * g.W
		if k := tc.PatchesPerImage; k > 0 && k < n {
			for _, p := range rng.Perm(n)[:k] {
				pool = append(pool, g.Data[p*D:(p+1)*D]...)
			}
		} else {
			pool = append(pool, g.Data...)
		}
		bar.Add(1, "")
		return nil
	})
	if err != nil {
		return err
	}
	var heldGrids [][]float32
	err = extract(ctx, bb, held, func(s datasets.Sample, g *features.Grid) error {
		heldGrids = append(heldGrids, slices.Clone(g.Data))
		bar.Add(1, "")
		return nil
	})
	bar.Finish()
	if err != nil {
		return err
	}
	featSec := time.Since(start).Seconds()
	t, err := ebm.NewTrainer(cfg, pool, D, o.Sampler)
	if err != nil {
		return err
	}
	ckptPath := out + ".ckpt"
	if o.Resume {
		f, err := ckpt.Load(ckptPath)
		if err != nil {
			return fmt.Errorf("--resume: %w", err)
		}
		if err := t.Restore(f, ckptPath); err != nil {
			return fmt.Errorf("--resume: %w", err)
		}
		logf(o.Log, "fit: resumed from %s at step %d\n", ckptPath, t.Step)
	}
	save := func() error {
		f, err := t.Checkpoint()
		if err != nil {
			return err
		}
		return ckpt.Save(ckptPath, f)
	}
	logf(o.Log, "fit: %d training patches of dimension %d; energy %d parameters; sampler %s, %d steps\n",
		t.NumPatches(), D, t.AE.NumParams(), o.Sampler, t.Cfg.Sampler.NStep)
	if n := tc.StepBudget(t.NumPatches()); n < tc.Steps {
		logf(o.Log, "fit: %d CD steps instead of %d: training.max_epochs %g passes over %d patches in batches of %d\n",
			n, tc.Steps, tc.MaxEpochs, t.NumPatches(), tc.Batch)
		tc.Steps = n
	}
	pre := tc.PretrainBudget(t.NumPatches())
	if !t.Pretrained && pre < tc.PretrainSteps {
		logf(o.Log, "fit: %d pre-training steps instead of %d: training.pretrain_max_epochs %g passes over %d patches in batches of %d\n",
			pre, tc.PretrainSteps, tc.PretrainMaxEpochs, t.NumPatches(), tc.Batch)
	}
	trainStart := time.Now()
	var recon float64
	if !t.Pretrained {
		pb := progress.New(o.Log, pre, "pretrain")
		err = t.Pretrain(ctx, func(k int, r float64) {
			recon = r
			pb.Add(1, fmt.Sprintf("recon %.4f", r))
		})
		pb.Finish()
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return err // nothing worth saving yet
			}
			return err
		}
	}
	var last ebm.Stats
	tb := progress.New(o.Log, tc.Steps, "cd")
	tb.Add(t.Step, "")
	for t.Step < tc.Steps {
		if ctx.Err() != nil {
			if err := save(); err != nil {
				return err
			}
			logf(o.Log, "\nfit: interrupted at step %d; checkpoint %s\n", t.Step, ckptPath)
			return ctx.Err()
		}
		st, err := t.TrainStep()
		if err != nil {
			if errors.Is(err, ebm.ErrNonFinite) {
				return fmt.Errorf("%w; the last good checkpoint (if any) is %s: lower training.lr or sampler.v_lr and --resume", err, ckptPath)
			}
			return err
		}
		last = st
		tb.Add(1, fmt.Sprintf("loss %.4f E+ %.4f E- %.4f td %.3g", st.Loss, st.Ep, st.En, st.TDLoss))
		if tc.CheckpointEvery > 0 && t.Step%tc.CheckpointEvery == 0 {
			if err := save(); err != nil {
				return err
			}
		}
	}
	tb.Finish()
	trainSec := time.Since(trainStart).Seconds()
	// Calibration on normal images only.
	model := ebm.NewModel(t, info, names)
	score := func(gs [][]float32) []float64 {
		var s []float64
		for _, d := range gs {
			_, raw, _ := model.ScoreGrid(features.Grid{H: info.GridH, W: info.GridW, C: D, Data: d}, nil)
			s = append(s, raw)
		}
		return s
	}
	trs := score(trainGrids)
	var patchE []float64
	for i := 0; i < len(trainGrids) && i < 50; i++ {
		p, _, _ := model.ScoreGrid(features.Grid{H: info.GridH, W: info.GridW, C: D, Data: trainGrids[i]}, nil)
		for _, v := range p {
			patchE = append(patchE, float64(v))
		}
	}
	if err := model.Calibrate(trs, score(heldGrids), ebm.Quantile(patchE, 0.5)); err != nil {
		return err
	}
	if err := model.Save(out); err != nil {
		return err
	}
	rep := fitReport{Model: out, Data: o.Data, Categories: names, Backbone: info.Name, BLAS: fastblas.Name, Sampler: o.Sampler,
		TrainImages: len(train), HeldOut: len(held), Patches: t.NumPatches(), Params: t.AE.NumParams(),
		Iterations: t.Step, Pretrain: pre, WallSeconds: time.Since(start).Seconds(), FeatSeconds: featSec,
		TrainSeconds: trainSec, FinalLosses: last, PretrainRecon: recon, Threshold: model.Meta.Threshold,
		ThresholdFrom: model.Meta.ThresholdFrom, Config: t.Cfg}
	b, _ := json.MarshalIndent(rep, "", "  ")
	if err := atomicfile.WriteBytes(out+".fit.json", append(b, '\n')); err != nil {
		return err
	}
	os.Remove(ckptPath)
	logf(o.Log, "fit: wrote %s (%d steps, %.0f s; threshold z > %.3f from the %s)\n", out, t.Step, rep.WallSeconds, model.Meta.Threshold, model.Meta.ThresholdFrom)
	return nil
}

// splitTrain shuffles each category's training images with rng, holds out
// training.holdout of them (at least one when a category has 5 or more) for the
// threshold, and caps the rest at training.max_images.
func splitTrain(cats []*datasets.Category, tc ebm.TrainConfig, rng *rand.Rand) (train, held []datasets.Item, names []string) {
	for _, c := range cats {
		names = append(names, c.Name)
		items := slices.Clone(c.Train)
		rng.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
		nh := 0
		if len(items) >= 5 && tc.HoldOut > 0 {
			nh = max(1, int(math.Round(tc.HoldOut*float64(len(items)))))
		}
		held = append(held, items[:nh]...)
		items = items[nh:]
		if tc.MaxImages > 0 && len(items) > tc.MaxImages {
			items = items[:tc.MaxImages]
		}
		train = append(train, items...)
	}
	return train, held, names
}
