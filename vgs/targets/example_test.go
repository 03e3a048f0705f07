package targets_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/advgs/advgs/vgs/targets"
)

// The paper's GMM: energies, gradients and exact samples.
func ExampleGMM() {
	g, err := targets.NewGMM("grid")
	if err != nil {
		panic(err)
	}
	x := []float32{0.5, 0, 5, -5} // two samples: near the central mean, and at a corner mean
	e, grad := make([]float32, 2), make([]float32, 4)
	g.EnergyGrad(e, grad, x)
	fmt.Printf("E = %.4f %.4f, ∇E(0.5,0) = %.4f %.4f\n", e[0], e[1], grad[0], grad[1])

	ref := make([]float32, 2*1000)
	labels := make([]int, 1000)
	g.SampleModes(ref, labels, rand.New(rand.NewPCG(1, 2)))
	fmt.Printf("K = %d, marginal std %.4f\n", g.K(), g.RefStd()[0])
	// Output:
	// E = 3.2478 2.8311, ∇E(0.5,0) = 1.6667 0.0000
	// K = 9, marginal std 4.1191
}

// Neal's funnel and its reference standard deviations.
func ExampleFunnel() {
	f, _ := targets.NewFunnel(10)
	s := f.RefStd()
	fmt.Printf("analytic: %.4f %.4f\n", s[0], s[1])
	x := f.Exact(5, rand.New(rand.NewPCG(1, 2)))
	e := make([]float32, 5)
	f.Energy(e, x)
	fmt.Println(len(x), len(e))
	// Output:
	// analytic: 3.0000 9.4877
	// 50 5
}

// LJ-13 energy of a configuration, after removing its centre of mass, and its
// interatomic distances.
func ExampleLJ13() {
	lj := targets.NewLJ13()
	n, d := lj.Particles()
	x := make([]float32, n*d)
	for i := 0; i < n; i++ { // particles on a line, 1.12 apart
		x[i*d] = 1.12 * float32(i)
	}
	targets.RemoveMean(x, n, d)
	e := make([]float32, 1)
	lj.Energy(e, x)
	dist := targets.PairDistances(x, n, d)
	fmt.Printf("E = %.3f, %d distances, first %.2f\n", e[0], len(dist), dist[0])
	// Output:
	// E = 95.612, 78 distances, first 1.12
}
