package vgs_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/advgs/advgs/internal/nn"
	"github.com/advgs/advgs/vgs"
	"github.com/advgs/advgs/vgs/targets"
)

// Train a small sampler on the 4-mode mixture and draw samples from it.
func Example() {
	target, _ := targets.NewGMM("4gauss")
	ema, ilr := 0.9, 1e-3
	cfg := vgs.Config{
		Value:       nn.Arch{Kind: nn.FCNetTemb, Hidden: 32, TEmb: 16},
		NStep:       10,
		SampleShape: []int{2},
		S2Schedule:  "quad", S2Start: 0.1, S2End: 0.01,
		AlphaMethod: "vp",
		EMA:         &ema, VLR: 1e-3, ILR: &ilr,
	}
	rng := rand.New(rand.NewPCG(1, 2)) // every draw comes from here
	s, err := vgs.New(cfg, rng)
	if err != nil {
		panic(err)
	}
	for it := 0; it < 20; it++ {
		tr, _ := s.Sample(64, target, vgs.SampleOptions{NoiseScale: 1.2, FinalNoise: true}, rng)
		if _, err := s.UpdateTD(tr, target, 1, rng); err != nil {
			panic(err)
		}
	}
	tr, _ := s.Sample(1000, target, vgs.SampleOptions{FinalNoise: true}, rng)
	fmt.Println(len(tr.Final())/s.Dim(), "samples of dimension", s.Dim())
	// Output: 1000 samples of dimension 2
}
