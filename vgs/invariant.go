package vgs

import (
	"fmt"
	"math"
	"slices"

	"github.com/advgs/advgs/internal/nn"
)

// Invariant wraps a value network so that V is invariant to translations, rotations,
// reflections and permutations of n particles in d dimensions (VGS.md B.5): the
// network sees the n(n−1)/2 pairwise distances d_ij (i < j, row-major upper
// triangle), sorted in descending order, through
//
//	f(d) = √(d² + ε)     or, with Reciprocal,   f(d) = 1/√(d² + ε)
//
// with ε = Eps (1 in the reference). The input gradient follows by the chain rule
// through the sort permutation: ∂f/∂d = d/√(d²+ε) (reciprocal: −d·(d²+ε)^{−3/2}),
// ∂d_ij/∂x_i = (x_i − x_j)/d_ij = −∂d_ij/∂x_j (0 when d_ij = 0). The drift it gives is
// therefore equivariant and has no centre-of-mass component.
type Invariant struct {
	Net        *nn.Net
	N, Dims    int     // particles and spatial dimensions; samples have N·Dims values
	Eps        float64 // ε inside the square root
	Reciprocal bool

	pairs [][2]int
}

// NewInvariant wraps net, whose input dimension must be n(n−1)/2.
func NewInvariant(net *nn.Net, n, dims int, eps float64, reciprocal bool) (*Invariant, error) {
	if n < 2 || dims < 1 {
		return nil, fmt.Errorf("invariant: need ≥ 2 particles in ≥ 1 dimension, got %d in %d", n, dims)
	}
	if net.Arch.In != n*(n-1)/2 {
		return nil, fmt.Errorf("sampler.value.in_dim: the invariant wrapper feeds %d pairwise distances, network takes %d", n*(n-1)/2, net.Arch.In)
	}
	w := &Invariant{Net: net, N: n, Dims: dims, Eps: eps, Reciprocal: reciprocal}
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			w.pairs = append(w.pairs, [2]int{i, j})
		}
	}
	return w, nil
}

// Params returns the wrapped network's parameters.
func (w *Invariant) Params() []*nn.Param { return w.Net.Params() }

// features writes the sorted distance features of every row of x into f
// (B × P, P = number of pairs) and, when order is not nil, the pair index of every
// sorted position and the distances.
func (w *Invariant) features(f []float32, x []float32, order []int, dist []float64) {
	P, nd := len(w.pairs), w.N*w.Dims
	B := len(x) / nd
	// Sorting was a third of an LJ-13 iteration with sort.SliceStable (reflection
	// swapper, closure) and still a quarter with slices.SortFunc on (distance, pair)
	// values, whose float64 cmp.Compare handles NaNs. Distances are ≥ 0, so their
	// IEEE bits order like the values: each key is the distance's bits with the low
	// mantissa bits replaced by the pair index, and a plain uint64 sort orders them
	// (LJ-13: 7 of 52 mantissa bits, so only distances within a relative 2⁻⁴⁵ of each
	// other, equal as float32 features, can change places). Ties keep no particular
	// order: equal distances give equal features, so the value and its gradient do
	// not depend on it.
	bits := uint(1)
	for 1<<bits < P {
		bits++
	}
	mask := uint64(1)<<bits - 1
	keys := make([]uint64, P)
	d := make([]float64, P)
	for r := 0; r < B; r++ {
		xr := x[r*nd : (r+1)*nd]
		for p, ij := range w.pairs {
			s := 0.0
			for k := 0; k < w.Dims; k++ {
				t := float64(xr[ij[0]*w.Dims+k]) - float64(xr[ij[1]*w.Dims+k])
				s += t * t
			}
			d[p] = math.Sqrt(s)
			keys[p] = math.Float64bits(d[p])&^mask | uint64(p)
		}
		slices.Sort(keys)
		for k := range keys {
			p := int(keys[P-1-k] & mask) // descending
			e := d[p]
			v := math.Sqrt(e*e + w.Eps)
			if w.Reciprocal {
				v = 1 / v
			}
			f[r*P+k] = float32(v)
			if order != nil {
				order[r*P+k] = p
				dist[r*P+k] = e
			}
		}
	}
}

func (w *Invariant) check(x []float32, t []int) error {
	if len(x) != len(t)*w.N*w.Dims {
		return fmt.Errorf("invariant: %d values for %d samples of %d particles in %d-D", len(x), len(t), w.N, w.Dims)
	}
	return nil
}

// Forward writes V(x_i, t_i) into v.
func (w *Invariant) Forward(v, x []float32, t []int) error {
	if err := w.check(x, t); err != nil {
		return err
	}
	f := make([]float32, len(t)*len(w.pairs))
	w.features(f, x, nil, nil)
	return w.Net.Forward(v, f, t)
}

// InputGrad writes V and ∇ₓV, by the chain rule through the sorted distance features.
func (w *Invariant) InputGrad(v, gx, x []float32, t []int) error {
	if err := w.check(x, t); err != nil {
		return err
	}
	P, nd, B := len(w.pairs), w.N*w.Dims, len(t)
	f := make([]float32, B*P)
	order := make([]int, B*P)
	dist := make([]float64, B*P)
	w.features(f, x, order, dist)
	gf := make([]float32, B*P)
	if err := w.Net.InputGrad(v, gf, f, t); err != nil {
		return err
	}
	clear(gx[:B*nd])
	for r := 0; r < B; r++ {
		xr, gr := x[r*nd:(r+1)*nd], gx[r*nd:(r+1)*nd]
		for k := 0; k < P; k++ {
			d := dist[r*P+k]
			if d == 0 {
				continue
			}
			q := d*d + w.Eps
			var dfdd float64
			if w.Reciprocal {
				dfdd = -d / (q * math.Sqrt(q))
			} else {
				dfdd = d / math.Sqrt(q)
			}
			c := float64(gf[r*P+k]) * dfdd / d
			ij := w.pairs[order[r*P+k]]
			for m := 0; m < w.Dims; m++ {
				diff := c * (float64(xr[ij[0]*w.Dims+m]) - float64(xr[ij[1]*w.Dims+m]))
				gr[ij[0]*w.Dims+m] += float32(diff)
				gr[ij[1]*w.Dims+m] -= float32(diff)
			}
		}
	}
	return nil
}

// LossGrad trains the wrapped network on the features of x.
func (w *Invariant) LossGrad(x []float32, t []int, y []float32, loss nn.Loss, scale float32) (float64, [][]float32, error) {
	if err := w.check(x, t); err != nil {
		return 0, nil, err
	}
	f := make([]float32, len(t)*len(w.pairs))
	w.features(f, x, nil, nil)
	return w.Net.LossGrad(f, t, y, loss, scale)
}
