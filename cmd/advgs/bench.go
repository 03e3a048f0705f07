package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/advgs/advgs/internal/atomicfile"
	"github.com/advgs/advgs/reports"
	"github.com/advgs/advgs/vgs/bench"
	"github.com/urfave/cli/v2"
)

func benchCommand() *cli.Command {
	return &cli.Command{
		Name:      "bench",
		Usage:     "train VGS on a benchmark target, evaluate it against exact samples and an MCMC baseline",
		ArgsUsage: strings.Join(bench.Targets(), "|") + "|all",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "config", Usage: "YAML config `FILE`, a whole config that replaces the embedded configs/TARGET.yaml (start from a copy of it)"},
			&cli.BoolFlag{Name: "quick", Usage: "a short run (the config's quick section) that still shows learning"},
			&cli.Uint64Flag{Name: "seed", Usage: "random seed (overrides the config's)"},
			&cli.StringFlag{Name: "json", Usage: "write the result as JSON to `FILE`"},
			&cli.StringFlag{Name: "save", Usage: "save the trained sampler (safetensors) to `FILE`"},
			&cli.BoolFlag{Name: "no-mala", Usage: "skip the MALA baselines"},
			&cli.StringFlag{Name: "report", Usage: "write an HTML report (metric table, sample plots, training curves) into `DIR`"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return fmt.Errorf("bench: give one target, one of %s or all", strings.Join(bench.Targets(), ", "))
			}
			target := c.Args().First()
			names := []string{target}
			if target == "all" {
				if c.IsSet("config") || c.IsSet("save") {
					return fmt.Errorf("bench all: --config and --save apply to one target; run the targets one by one")
				}
				names = bench.Targets()
			} else if !contains(bench.Targets(), target) {
				return fmt.Errorf("bench: unknown target %q, want one of %s or all", target, strings.Join(bench.Targets(), ", "))
			}
			var results []*bench.Result
			for _, name := range names {
				cfg, err := bench.LoadConfig(name, c.String("config"))
				if err != nil {
					return err
				}
				opt := bench.Options{Name: name, Quick: c.Bool("quick"), Log: os.Stderr, Progress: true, SaveTo: c.String("save"),
					NoMALA: c.Bool("no-mala"), KeepSamples: c.String("report") != ""}
				if c.IsSet("seed") {
					s := c.Uint64("seed")
					opt.Seed = &s
				}
				res, err := bench.RunAny(cfg, opt)
				if err != nil {
					return fmt.Errorf("bench %s: %w", name, err)
				}
				printTable(os.Stdout, res)
				results = append(results, res)
			}
			if p := c.String("json"); p != "" {
				var v any = results[0]
				if target == "all" {
					v = map[string]any{"results": results}
				}
				b, err := json.MarshalIndent(v, "", "  ")
				if err != nil {
					return err
				}
				if err := atomicfile.WriteBytes(p, append(b, '\n')); err != nil {
					return err
				}
			}
			if dir := c.String("report"); dir != "" {
				page, err := reports.WriteSamplerReport(dir, results, reports.SamplerConfig{})
				if err != nil {
					return fmt.Errorf("--report: %w", err)
				}
				fmt.Printf("report: %s\n", page)
			}
			return nil
		},
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// printTable writes the metrics of VGS, the baselines and the floor side by side.
func printTable(w io.Writer, r *bench.Result) {
	keys := make([]string, 0, len(r.Metrics))
	for k := range r.Metrics {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintf(w, "\n%s (n_eval %d, %s BLAS): VGS T=%d trained %.1fs, sampled %.2fs, %d energy evaluations\n",
		r.Target, r.NEval, r.BLAS, r.Steps, r.TrainSeconds, r.SampleSeconds, r.EnergyEvalsTrain)
	fmt.Fprintf(w, "%-22s", "sampler (steps)")
	for _, k := range keys {
		fmt.Fprintf(w, " %16s", k)
	}
	fmt.Fprintln(w)
	row := func(name string, m map[string]float64) {
		fmt.Fprintf(w, "%-22s", name)
		for _, k := range keys {
			fmt.Fprintf(w, " %16.4f", m[k])
		}
		fmt.Fprintln(w)
	}
	row(fmt.Sprintf("vgs (%d)", r.Steps), r.Metrics)
	for _, b := range r.Baselines {
		row(fmt.Sprintf("%s (%d)", b.Sampler, b.Steps), b.Metrics)
	}
	row("floor (exact vs exact)", r.Floor)
}
