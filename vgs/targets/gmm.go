package targets

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// GMM is an isotropic Gaussian mixture in 2-D with uniform weights (VGS.md C.1):
//
//	E(x) = −log Σ_k (1/K)·N(x; μ_k, σ²I),   ∇E(x) = Σ_k r_k(x)·(x − μ_k)/σ²
//
// with r_k the softmax responsibilities. It is fully normalised.
type GMM struct {
	Means [][2]float64
	Std   float64
}

// NewGMM returns a named mixture: "grid" (the paper's GMM: 9 modes on {−5,0,5}²,
// variance 0.3), "4gauss" (4 modes on {−2,2}², variance 0.13) or "circle" (8 modes on
// a circle of radius 4, variance 0.3).
func NewGMM(name string) (*GMM, error) {
	switch name {
	case "grid":
		g := &GMM{Std: math.Sqrt(0.3)}
		for _, a := range []float64{-5, 0, 5} {
			for _, b := range []float64{-5, 0, 5} {
				g.Means = append(g.Means, [2]float64{a, b})
			}
		}
		return g, nil
	case "4gauss":
		return &GMM{Std: math.Sqrt(0.13), Means: [][2]float64{{-2, -2}, {-2, 2}, {2, -2}, {2, 2}}}, nil
	case "circle":
		g := &GMM{Std: math.Sqrt(0.3)}
		for k := 1; k <= 8; k++ {
			th := 2 * math.Pi * float64(k) / 8
			g.Means = append(g.Means, [2]float64{4 * math.Cos(th), 4 * math.Sin(th)})
		}
		return g, nil
	}
	return nil, fmt.Errorf("energy_model.name: unknown mixture %q (want grid, 4gauss or circle)", name)
}

// Dim is 2.
func (g *GMM) Dim() int { return 2 }

// energyRow returns E(x) and writes ∇E(x) into grad when it is not nil.
func (g *GMM) energyRow(x0, x1 float64, grad []float32) float64 {
	K := len(g.Means)
	v := g.Std * g.Std
	var lp [16]float64
	l := lp[:0]
	if K > len(lp) {
		l = make([]float64, 0, K)
	}
	m := math.Inf(-1)
	for _, mu := range g.Means {
		d0, d1 := x0-mu[0], x1-mu[1]
		a := -(d0*d0 + d1*d1) / (2 * v)
		l = append(l, a)
		m = math.Max(m, a)
	}
	s := 0.0
	for k := range l {
		l[k] = math.Exp(l[k] - m)
		s += l[k]
	}
	lse := m + math.Log(s)
	// log p = lse − log K − log(2π v)
	e := -(lse - math.Log(float64(K)) - math.Log(2*math.Pi*v))
	if grad != nil {
		g0, g1 := 0.0, 0.0
		for k, mu := range g.Means {
			r := l[k] / s
			g0 += r * (x0 - mu[0]) / v
			g1 += r * (x1 - mu[1]) / v
		}
		grad[0], grad[1] = float32(g0), float32(g1)
	}
	return e
}

// Energy writes E(x_i) into e.
func (g *GMM) Energy(e, x []float32) {
	parallelRows(len(e), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			e[i] = float32(g.energyRow(float64(x[2*i]), float64(x[2*i+1]), nil))
		}
	})
}

// EnergyGrad writes E(x_i) into e and ∇E(x_i) into g.
func (g *GMM) EnergyGrad(e, gr, x []float32) {
	parallelRows(len(e), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			e[i] = float32(g.energyRow(float64(x[2*i]), float64(x[2*i+1]), gr[2*i:2*i+2]))
		}
	})
}

// Exact draws n exact samples.
func (g *GMM) Exact(n int, rng *rand.Rand) []float32 {
	x := make([]float32, 2*n)
	for i := 0; i < n; i++ {
		mu := g.Means[rng.IntN(len(g.Means))]
		x[2*i] = float32(mu[0] + g.Std*rng.NormFloat64())
		x[2*i+1] = float32(mu[1] + g.Std*rng.NormFloat64())
	}
	return x
}

// RefStd is the mixture's analytic marginal std per dimension,
// √(σ² + Var_k μ_k) (4.1191 for grid).
func (g *GMM) RefStd() []float64 {
	out := make([]float64, 2)
	K := float64(len(g.Means))
	for d := 0; d < 2; d++ {
		m, s := 0.0, 0.0
		for _, mu := range g.Means {
			m += mu[d] / K
		}
		for _, mu := range g.Means {
			s += (mu[d] - m) * (mu[d] - m) / K
		}
		out[d] = math.Sqrt(g.Std*g.Std + s)
	}
	return out
}

// Modes assigns each sample of x to its nearest mean.
func (g *GMM) Modes(x []float32) (int, []int) {
	lab := make([]int, len(x)/2)
	for i := range lab {
		best, bd := 0, math.Inf(1)
		for k, mu := range g.Means {
			d0, d1 := float64(x[2*i])-mu[0], float64(x[2*i+1])-mu[1]
			if d := d0*d0 + d1*d1; d < bd {
				best, bd = k, d
			}
		}
		lab[i] = best
	}
	return len(g.Means), lab
}
