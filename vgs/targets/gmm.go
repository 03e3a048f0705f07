package targets

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// GMM is an isotropic Gaussian mixture in 2-D with uniform weights (VGS.md C.1):
//
//	p(x) = (1/K) Σ_k N(x; μ_k, σ²I),   E(x) = −log p(x)
//	∇E(x) = Σ_k r_k(x)·(x − μ_k)/σ²,   r_k(x) = softmax_k(−‖x − μ_k‖²/(2σ²))
//
// It is fully normalised (∫exp(−E) = 1). Means and Std must not be changed while an
// energy is being evaluated.
type GMM struct {
	Means [][2]float64 // μ_k
	Std   float64      // σ, the per-dimension standard deviation of every component
}

// GMMNames lists the mixtures NewGMM knows.
func GMMNames() []string { return []string{"grid", "4gauss", "circle", "heart", "dist"} }

// NewGMM returns a named mixture of VGS.md C.1:
//
//	grid    9 modes on {−5, 0, 5}², σ² = 0.3 (the paper's "GMM" benchmark)
//	4gauss  4 modes on {−2, 2}², σ² = 0.13 (the four-Gaussian demo)
//	circle  8 modes 4(cos θ_k, sin θ_k), θ_k = 2πk/8, k = 1..8, σ² = 0.3
//	heart   8 modes 1.5·{(−.5,−.25),(0,−1),(.5,−.25),(−1,.5),(−.5,1),(0,.5),(.5,1),(1,.5)}, σ = 1/8
//	dist    5 modes (0,0),(2,0),(0,3),(−4,0),(0,−5), σ² = 0.2
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
	case "heart":
		g := &GMM{Std: 1.0 / 8}
		for _, m := range [][2]float64{{-.5, -.25}, {0, -1}, {.5, -.25}, {-1, .5}, {-.5, 1}, {0, .5}, {.5, 1}, {1, .5}} {
			g.Means = append(g.Means, [2]float64{1.5 * m[0], 1.5 * m[1]})
		}
		return g, nil
	case "dist":
		return &GMM{Std: math.Sqrt(0.2), Means: [][2]float64{{0, 0}, {2, 0}, {0, 3}, {-4, 0}, {0, -5}}}, nil
	}
	return nil, fmt.Errorf("energy_model.name: unknown mixture %q (want one of %v)", name, GMMNames())
}

// Dim is 2.
func (g *GMM) Dim() int { return 2 }

// K is the number of modes.
func (g *GMM) K() int { return len(g.Means) }

// energyRow returns E(x) and writes ∇E(x) into grad when it is not nil.
func (g *GMM) energyRow(x0, x1 float64, grad []float32) float64 {
	K := len(g.Means)
	v := g.Std * g.Std
	var buf [16]float64
	l := buf[:0]
	if K > len(buf) {
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
	// log p = LSE_k(−‖x−μ_k‖²/2σ²) − log K − log(2πσ²)
	e := -(m + math.Log(s) - math.Log(float64(K)) - math.Log(2*math.Pi*v))
	if grad != nil {
		g0, g1 := 0.0, 0.0
		for k, mu := range g.Means {
			r := l[k] / s
			g0 += r * (x0 - mu[0])
			g1 += r * (x1 - mu[1])
		}
		grad[0], grad[1] = float32(g0/v), float32(g1/v)
	}
	return e
}

func (g *GMM) rows(e, gr, x []float32, lo, hi int) {
	for i := lo; i < hi; i++ {
		var gi []float32
		if gr != nil {
			gi = gr[2*i : 2*i+2]
		}
		e[i] = float32(g.energyRow(float64(x[2*i]), float64(x[2*i+1]), gi))
	}
}

// Energy writes E(x_i) into e[i].
func (g *GMM) Energy(e, x []float32) {
	checkBuffers("GMM.Energy", 2, e, nil, x, false)
	if !parallelWorth(len(e)) {
		g.rows(e, nil, x, 0, len(e))
		return
	}
	parallelRows(len(e), func(lo, hi int) { g.rows(e, nil, x, lo, hi) })
}

// EnergyGrad writes E(x_i) into e[i] and ∇E(x_i) into row i of gr.
func (g *GMM) EnergyGrad(e, gr, x []float32) {
	checkBuffers("GMM.EnergyGrad", 2, e, gr, x, true)
	if !parallelWorth(len(e)) {
		g.rows(e, gr, x, 0, len(e))
		return
	}
	parallelRows(len(e), func(lo, hi int) { g.rows(e, gr, x, lo, hi) })
}

// Sample fills dst (len(dst)/2 rows) with exact samples: a mode k drawn uniformly,
// then x = μ_k + σ·ξ, ξ ~ N(0, I).
func (g *GMM) Sample(dst []float32, rng *rand.Rand) { g.SampleModes(dst, nil, rng) }

// SampleModes is Sample that also writes each sample's mode (the component it was
// drawn from) into labels when labels is not nil (len(labels) = len(dst)/2).
func (g *GMM) SampleModes(dst []float32, labels []int, rng *rand.Rand) {
	for i := 0; i < len(dst)/2; i++ {
		k := rng.IntN(len(g.Means))
		mu := g.Means[k]
		dst[2*i] = float32(mu[0] + g.Std*rng.NormFloat64())
		dst[2*i+1] = float32(mu[1] + g.Std*rng.NormFloat64())
		if labels != nil {
			labels[i] = k
		}
	}
}

// Exact returns n exact samples (n×2) drawn by Sample.
func (g *GMM) Exact(n int, rng *rand.Rand) []float32 {
	x := make([]float32, 2*n)
	g.Sample(x, rng)
	return x
}

// RefStd is the mixture's analytic marginal std per dimension,
// √(σ² + (1/K)Σ_k (μ_kd − μ̄_d)²): √(0.3 + 50/3) = 4.1191 for grid.
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

// Mode returns the index of the mean nearest to (x0, x1) (ties go to the lower index).
func (g *GMM) Mode(x0, x1 float64) int {
	best, bd := 0, math.Inf(1)
	for k, mu := range g.Means {
		d0, d1 := x0-mu[0], x1-mu[1]
		if d := d0*d0 + d1*d1; d < bd {
			best, bd = k, d
		}
	}
	return best
}

// Modes assigns each sample of x (n×2) to its nearest mean and returns the number of
// modes K and the labels, for metrics.ModeMassError.
func (g *GMM) Modes(x []float32) (int, []int) {
	lab := make([]int, len(x)/2)
	for i := range lab {
		lab[i] = g.Mode(float64(x[2*i]), float64(x[2*i+1]))
	}
	return len(g.Means), lab
}
