package vgs

import (
	"math"
	"math/rand/v2"
)

// Tangent projects v onto the tangent space at x in place: v ← v − (v·x)·x, row-wise.
// Like the reference it assumes ‖x‖ = 1 and does not renormalise x (VGS.md A.8).
func Tangent(v, x []float32) {
	d := 0.0
	for j := range v {
		d += float64(v[j]) * float64(x[j])
	}
	for j := range v {
		v[j] -= float32(d) * x[j]
	}
}

// ExpMap writes the sphere exponential map Exp_x(v) = cos(n)·x + sin(n)·v/n,
// n = max(‖v‖, 1e-8), into dst.
func ExpMap(dst, x, v []float32) {
	n := 0.0
	for _, a := range v {
		n += float64(a) * float64(a)
	}
	n = math.Max(math.Sqrt(n), 1e-8)
	c, s := float32(math.Cos(n)), float32(math.Sin(n)/n)
	for j := range dst {
		dst[j] = c*x[j] + s*v[j]
	}
}

// NormalizeRows scales every row of x (rows of length D) to unit L2 norm.
func NormalizeRows(x []float32, D int) {
	for r := 0; r < len(x)/D; r++ {
		row := x[r*D : (r+1)*D]
		n := 0.0
		for _, v := range row {
			n += float64(v) * float64(v)
		}
		if n > 0 {
			inv := float32(1 / math.Sqrt(n))
			for j := range row {
				row[j] *= inv
			}
		}
	}
}

// InitialSamples diffuses unit vectors on the sphere backwards in time, as the
// reference's get_initial_samples (VGS.md A.8): for i = T−1 … 0,
// x ← Exp_x(P_x(√s2_i·ε)). data (n×D) is updated in place. It makes the start points
// of EBM negative chains from training data.
func InitialSamples(data []float32, D int, s2 []float64, rng *rand.Rand) {
	v := make([]float32, D)
	out := make([]float32, D)
	for r := 0; r < len(data)/D; r++ {
		x := data[r*D : (r+1)*D]
		for i := len(s2) - 1; i >= 0; i-- {
			sd := math.Sqrt(s2[i])
			for j := range v {
				v[j] = float32(sd * rng.NormFloat64())
			}
			Tangent(v, x)
			ExpMap(out, x, v)
			copy(x, out)
		}
	}
}
