package vgs

import (
	"fmt"
	"math"

	"github.com/advgs/advgs/internal/nn"
)

// Radial wraps a value network so that V is invariant to rotations and reflections
// of the trailing coordinates of a sample (not in the paper): the network sees the
// first Keep coordinates as they are and the rest only through their norm,
//
//	V(x, t) = net([x_1, …, x_K, ρ], t),   r = ‖(x_{K+1}, …, x_D)‖,
//
// with ρ = r, or with Log ρ = ½·log(r² + ε), so ∂V/∂x_i = ∂net/∂x_i for i ≤ K and
// ∂net/∂ρ · x_i / r (0 at r = 0), or with Log ∂net/∂ρ · x_i / (r² + ε), for i > K.
//
// What it is for: when the target's energy depends on the trailing coordinates only
// through their norm, as Neal's funnel does (E = x₁²/18 + e^{−x₁}·r²/2 + 9x₁/2 in
// 10-D), so does every distribution of the noising chain q̃_t (isotropic Gaussian
// steps keep the symmetry), and therefore so does the optimal value function
// V*_t = −τ·log q̃_t (VGS.md A.3). Restricting the network to invariant functions
// loses nothing the optimum needs and turns a 10-D regression into a 2-D one: the
// same argument as the paper's E(n)-invariant value networks for particle systems
// (VGS.md B.5, Invariant). The drift it gives is radial in the trailing block.
//
// Why Log (an option, not the default): the funnel's width in the trailing block is
// e^{x₁/2}, from 0.05 in its neck to 90 in its mouth, and its energy there,
// e^{2ρ−x₁}/2 with ρ = log r, is a convex function of one linear combination of
// (x₁, ρ), which in r is a sliver near 0 in the neck. Measured on the funnel bench
// (configs/funnel.yaml, seed 0): with ε = 1e-6 training diverged; with ε = 1e-4 and
// drift clipping it matched plain r (TVD-E 0.387 against 0.373), so plain r stays.
type Radial struct {
	Net  *nn.Net
	Keep int // leading coordinates passed through; samples have Dim values
	Dim  int
	Log  bool    // feed ½·log(r² + Eps) instead of r
	Eps  float64 // ε > 0 when Log
}

// NewRadial wraps net, whose input dimension must be keep+1, for samples of dim values.
// With log, the network sees ½·log(r² + eps) in place of r.
func NewRadial(net *nn.Net, keep, dim int, log bool, eps float64) (*Radial, error) {
	if log && !(eps > 0) {
		return nil, fmt.Errorf("sampler.radial.eps: must be > 0 with log, got %g", eps)
	}
	if keep < 0 || keep >= dim-1 {
		return nil, fmt.Errorf("sampler.radial.keep: must be in [0, %d] for samples of dimension %d, got %d", dim-2, dim, keep)
	}
	if net.Arch.In != keep+1 {
		return nil, fmt.Errorf("sampler.value.in_dim: the radial wrapper feeds %d values (keep + the norm), network takes %d", keep+1, net.Arch.In)
	}
	return &Radial{Net: net, Keep: keep, Dim: dim, Log: log, Eps: eps}, nil
}

// Params returns the wrapped network's parameters.
func (w *Radial) Params() []*nn.Param { return w.Net.Params() }

// features writes [x_1..x_K, ρ] of every row of x into f (B × (K+1)) and, when r is
// not nil, the squared norms r².
func (w *Radial) features(f, x []float32, r []float64) {
	K, D := w.Keep, w.Dim
	for i := 0; i < len(x)/D; i++ {
		xr, fr := x[i*D:(i+1)*D], f[i*(K+1):(i+1)*(K+1)]
		copy(fr, xr[:K])
		s := 0.0
		for _, v := range xr[K:] {
			s += float64(v) * float64(v)
		}
		if w.Log {
			fr[K] = float32(0.5 * math.Log(s+w.Eps))
		} else {
			fr[K] = float32(math.Sqrt(s))
		}
		if r != nil {
			r[i] = s
		}
	}
}

func (w *Radial) check(x []float32, t []int) error {
	if len(x) != len(t)*w.Dim {
		return fmt.Errorf("radial: %d values for %d samples of dimension %d", len(x), len(t), w.Dim)
	}
	return nil
}

// Forward writes V(x_i, t_i) into v.
func (w *Radial) Forward(v, x []float32, t []int) error {
	if err := w.check(x, t); err != nil {
		return err
	}
	f := make([]float32, len(t)*(w.Keep+1))
	w.features(f, x, nil)
	return w.Net.Forward(v, f, t)
}

// InputGrad writes V and ∇ₓV, by the chain rule through the norm.
func (w *Radial) InputGrad(v, gx, x []float32, t []int) error {
	if err := w.check(x, t); err != nil {
		return err
	}
	K, D, B := w.Keep, w.Dim, len(t)
	f, r := make([]float32, B*(K+1)), make([]float64, B)
	w.features(f, x, r)
	gf := make([]float32, B*(K+1))
	if err := w.Net.InputGrad(v, gf, f, t); err != nil {
		return err
	}
	for i := 0; i < B; i++ {
		xr, gr, gfr := x[i*D:(i+1)*D], gx[i*D:(i+1)*D], gf[i*(K+1):(i+1)*(K+1)]
		copy(gr, gfr[:K])
		var c float64 // ∂net/∂ρ · ∂ρ/∂x_j / x_j
		switch {
		case w.Log:
			c = float64(gfr[K]) / (r[i] + w.Eps)
		case r[i] > 0:
			c = float64(gfr[K]) / math.Sqrt(r[i])
		}
		for j := K; j < D; j++ {
			gr[j] = float32(c * float64(xr[j]))
		}
	}
	return nil
}

// LossGrad trains the wrapped network on the features of x.
func (w *Radial) LossGrad(x []float32, t []int, y []float32, loss nn.Loss, scale float32) (float64, [][]float32, error) {
	if err := w.check(x, t); err != nil {
		return 0, nil, err
	}
	f := make([]float32, len(t)*(w.Keep+1))
	w.features(f, x, nil)
	return w.Net.LossGrad(f, t, y, loss, scale)
}
