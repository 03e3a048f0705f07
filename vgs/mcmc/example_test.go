package mcmc_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/advgs/advgs/vgs/mcmc"
	"github.com/advgs/advgs/vgs/targets"
)

// Tune MALA's step size on the GMM and run 20 steps from N(0, I).
func ExampleRun() {
	g, _ := targets.NewGMM("grid")
	rng := rand.New(rand.NewPCG(1, 2))
	init := func(r *rand.Rand) []float32 {
		x := make([]float32, 2*500)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		return x
	}
	h, err := mcmc.TuneStep(g, init, 20, mcmc.DefaultGrid(), rng)
	if err != nil {
		panic(err)
	}
	x := init(rng)
	acc, err := mcmc.Run(g, x, mcmc.Config{Step: h, Steps: 20}, rng)
	fmt.Println(err == nil, acc > 0.3 && acc < 0.9)
	// Output: true true
}
