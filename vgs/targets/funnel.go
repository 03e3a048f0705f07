package targets

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Funnel is Neal's funnel in D dimensions (VGS.md C.2): x_1 ~ N(0, D−1) and
// x_i | x_1 ~ N(0, e^{x_1}) for i ≥ 2, normalised:
//
//	log p(x) = −x_1²/(2(D−1)) − ½ln(2π(D−1)) + Σ_{i≥2} [−(x_1 + ln 2π)/2 − ½x_i² e^{−x_1}]
//	∂_1 E = x_1/(D−1) + (D−1)/2 − ½e^{−x_1}Σ_{i≥2} x_i²,   ∂_i E = x_i e^{−x_1}
type Funnel struct{ D int }

// NewFunnel makes a funnel of dimension d ≥ 2 (the benchmark uses 10).
func NewFunnel(d int) (*Funnel, error) {
	if d < 2 {
		return nil, fmt.Errorf("funnel: dimension must be ≥ 2, got %d", d)
	}
	return &Funnel{D: d}, nil
}

// Dim is D.
func (f *Funnel) Dim() int { return f.D }

func (f *Funnel) energyRow(x []float32, g []float32) float64 {
	v := float64(f.D - 1)
	x1 := float64(x[0])
	ex := math.Exp(-x1)
	ss := 0.0
	for _, xi := range x[1:] {
		ss += float64(xi) * float64(xi)
	}
	lp := -x1*x1/(2*v) - 0.5*math.Log(2*math.Pi*v) + v*(-(x1+math.Log(2*math.Pi))/2) - 0.5*ss*ex
	if g != nil {
		g[0] = float32(x1/v + v/2 - 0.5*ex*ss)
		for i := 1; i < f.D; i++ {
			g[i] = float32(float64(x[i]) * ex)
		}
	}
	return -lp
}

// Energy writes E(x_i) into e.
func (f *Funnel) Energy(e, x []float32) {
	D := f.D
	parallelRows(len(e), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			e[i] = float32(f.energyRow(x[i*D:(i+1)*D], nil))
		}
	})
}

// EnergyGrad writes E(x_i) into e and ∇E(x_i) into g.
func (f *Funnel) EnergyGrad(e, g, x []float32) {
	D := f.D
	parallelRows(len(e), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			e[i] = float32(f.energyRow(x[i*D:(i+1)*D], g[i*D:(i+1)*D]))
		}
	})
}

// Exact draws n exact samples: x_1 = √(D−1)·n_0, x_i = e^{x_1/2}·n_i.
func (f *Funnel) Exact(n int, rng *rand.Rand) []float32 {
	D := f.D
	x := make([]float32, n*D)
	s := math.Sqrt(float64(D - 1))
	for i := 0; i < n; i++ {
		x1 := s * rng.NormFloat64()
		x[i*D] = float32(x1)
		sd := math.Exp(x1 / 2)
		for j := 1; j < D; j++ {
			x[i*D+j] = float32(sd * rng.NormFloat64())
		}
	}
	return x
}

// RefStd is the analytic marginal std: √(D−1) for x_1 and
// √E[e^{x_1}] = e^{(D−1)/4} for the others (3 and 9.4877 for D = 10).
func (f *Funnel) RefStd() []float64 {
	out := make([]float64, f.D)
	out[0] = math.Sqrt(float64(f.D - 1))
	for i := 1; i < f.D; i++ {
		out[i] = math.Exp(float64(f.D-1) / 4)
	}
	return out
}
