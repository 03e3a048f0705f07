package main

import (
	"reflect"
	"testing"

	"github.com/urfave/cli/v2"
)

func TestFlagsFirst(t *testing.T) {
	app := &cli.App{Flags: []cli.Flag{&cli.StringFlag{Name: "cpuprofile"}}, Commands: []*cli.Command{benchCommand()}}
	cases := [][2][]string{
		{{"advgs", "bench", "gmm", "--quick", "--seed", "3"}, {"advgs", "bench", "--quick", "--seed", "3", "gmm"}},
		{{"advgs", "--cpuprofile", "p", "bench", "gmm", "--json=x"}, {"advgs", "--cpuprofile", "p", "bench", "--json=x", "gmm"}},
		{{"advgs", "bench", "--config", "c.yaml", "funnel"}, {"advgs", "bench", "--config", "c.yaml", "funnel"}},
		{{"advgs"}, {"advgs"}},
	}
	for _, c := range cases {
		if got := flagsFirst(app, c[0]); !reflect.DeepEqual(got, c[1]) {
			t.Errorf("flagsFirst(%q) = %q, want %q", c[0], got, c[1])
		}
	}
}
