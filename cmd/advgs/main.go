// Command advgs is an industrial visual anomaly detector built on an energy-based
// model trained with the Value Gradient Sampler, and the sampler's validation suite.
//
//	advgs bench gmm|funnel [--config FILE] [--quick] [--seed N] [--json FILE]
//
// See README.md for the detector commands as they arrive.
package main

import (
	"fmt"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/urfave/cli/v2"
)

func main() {
	app := &cli.App{
		Name:  "advgs",
		Usage: "visual anomaly detection with an energy-based model trained by the Value Gradient Sampler",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "cpuprofile", Usage: "write a CPU profile to `FILE` (inspect with go tool pprof)"},
		},
		Before: func(c *cli.Context) error {
			if p := c.String("cpuprofile"); p != "" {
				f, err := os.Create(p)
				if err != nil {
					return fmt.Errorf("--cpuprofile: %w", err)
				}
				return pprof.StartCPUProfile(f)
			}
			return nil
		},
		After: func(c *cli.Context) error {
			pprof.StopCPUProfile()
			return nil
		},
		Commands: []*cli.Command{
			benchCommand(),
			fitCommand(),
			scoreCommand(),
			evalCommand(),
			demoCommand(),
		},
	}
	if err := app.Run(flagsFirst(app, os.Args)); err != nil {
		fmt.Fprintln(os.Stderr, "advgs:", err)
		os.Exit(1)
	}
}

// flagsFirst moves a subcommand's flags before its positional arguments, so that
// `advgs bench gmm --quick` works: urfave/cli v2 stops parsing flags at the first
// positional argument. A flag that is not a bool flag takes the next argument as its
// value unless written as --flag=value.
func flagsFirst(app *cli.App, args []string) []string {
	// Skip the global flags (all take a value) to find the subcommand.
	ci := 1
	for ci < len(args) && strings.HasPrefix(args[ci], "-") {
		if !strings.Contains(args[ci], "=") {
			ci++
		}
		ci++
	}
	if ci >= len(args) {
		return args
	}
	cmd := app.Command(args[ci])
	if cmd == nil {
		return args
	}
	takesValue := map[string]bool{}
	for _, f := range cmd.Flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			takesValue[n] = !isBool
		}
	}
	var flags, pos []string
	rest := args[ci+1:]
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if a == "--" {
			pos = append(pos, rest[i+1:]...)
			break
		}
		if strings.HasPrefix(a, "-") && len(a) > 1 {
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") && takesValue[name] && i+1 < len(rest) {
				flags = append(flags, rest[i+1])
				i++
			}
			continue
		}
		pos = append(pos, a)
	}
	out := append(append([]string{}, args[:ci+1]...), flags...)
	return append(out, pos...)
}
