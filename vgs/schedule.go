package vgs

import (
	"fmt"
	"math"
)

// linspace returns n evenly spaced values from a to b, both included.
func linspace(a, b float64, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		if n == 1 {
			v[i] = a
			continue
		}
		v[i] = a + (b-a)*float64(i)/float64(n-1)
	}
	return v
}

// MakeS2 returns the per-step variance schedule s2[0..T−1] (VGS.md A.1):
//
//	linear:   linspace(start, end, T)
//	quad:     linspace(√start, √end, T)²
//	sigmoid:  sigmoid(linspace(−6, 6, T))·(end − start) + start
//	constant: start
//	exp:      exp(linspace(ln start, ln end, T))
//
// start is the value at the first step (nearest the noise), end at the last.
func MakeS2(kind string, T int, start, end float64) ([]float64, error) {
	if T < 1 {
		return nil, fmt.Errorf("sampler.n_step: must be ≥ 1, got %d", T)
	}
	if !(start > 0) {
		return nil, fmt.Errorf("sampler.s2_start: a variance must be > 0, got %g", start)
	}
	if kind != "constant" && !(end > 0) {
		return nil, fmt.Errorf("sampler.s2_end: a variance must be > 0, got %g", end)
	}
	var s []float64
	switch kind {
	case "linear":
		s = linspace(start, end, T)
	case "quad":
		s = linspace(math.Sqrt(start), math.Sqrt(end), T)
		for i := range s {
			s[i] *= s[i]
		}
	case "sigmoid":
		s = linspace(-6, 6, T)
		for i := range s {
			s[i] = 1/(1+math.Exp(-s[i]))*(end-start) + start
		}
	case "constant":
		s = make([]float64, T)
		for i := range s {
			s[i] = start
		}
	case "exp":
		s = linspace(math.Log(start), math.Log(end), T)
		for i := range s {
			s[i] = math.Exp(s[i])
		}
	default:
		return nil, fmt.Errorf("sampler.s2_schedule: %q is not one of linear, quad, sigmoid, constant, exp", kind)
	}
	return s, nil
}

// MakeAlpha returns the scale factors: vp α_t = √(1/(1−s2_t)), ve α_t = 1.
func MakeAlpha(method string, s2 []float64) ([]float64, error) {
	a := make([]float64, len(s2))
	for i := range a {
		switch method {
		case "vp":
			if s2[i] >= 1 {
				return nil, fmt.Errorf("sampler.alpha_method: vp needs s2 < 1, got s2[%d] = %g", i, s2[i])
			}
			a[i] = math.Sqrt(1 / (1 - s2[i]))
		case "ve":
			a[i] = 1
		default:
			return nil, fmt.Errorf("sampler.alpha_method: %q is not vp or ve", method)
		}
	}
	return a, nil
}

// InitSigma0 is the initial value of the learnable initial std: 1 for vp, √(1+Σs2)
// for ve.
func InitSigma0(method string, s2 []float64) float64 {
	if method == "ve" {
		s := 1.0
		for _, v := range s2 {
			s += v
		}
		return math.Sqrt(s)
	}
	return 1
}
