package vgs

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/advgs/advgs/internal/nn"
)

// randomOrthogonal returns a random d×d orthogonal matrix (Gram–Schmidt on Gaussian
// columns; a reflection half of the time).
func randomOrthogonal(d int, rng *rand.Rand) [][]float64 {
	q := make([][]float64, d)
	for i := range q {
		q[i] = make([]float64, d)
		for j := range q[i] {
			q[i][j] = rng.NormFloat64()
		}
		for k := 0; k < i; k++ {
			dot := 0.0
			for j := range q[i] {
				dot += q[i][j] * q[k][j]
			}
			for j := range q[i] {
				q[i][j] -= dot * q[k][j]
			}
		}
		n := 0.0
		for _, v := range q[i] {
			n += v * v
		}
		for j := range q[i] {
			q[i][j] /= math.Sqrt(n)
		}
	}
	if rng.IntN(2) == 0 {
		for j := range q[0] {
			q[0][j] = -q[0][j]
		}
	}
	return q
}

func TestInvariantWrapper(t *testing.T) {
	for _, c := range []struct {
		n, d  int
		recip bool
	}{{4, 2, false}, {13, 3, true}} {
		rng := rand.New(rand.NewPCG(uint64(c.n), 1))
		P := c.n * (c.n - 1) / 2
		net, err := nn.NewNet(nn.Arch{Kind: nn.FCNetTemb, In: P, Hidden: 16, TEmb: 8}, rng)
		if err != nil {
			t.Fatal(err)
		}
		w, err := NewInvariant(net, c.n, c.d, 1, c.recip)
		if err != nil {
			t.Fatal(err)
		}
		nd := c.n * c.d
		x := make([]float32, nd)
		for i := range x {
			x[i] = float32(1.5 * rng.NormFloat64())
		}
		ts := []int{3}
		v, g := make([]float32, 1), make([]float32, nd)
		if err := w.InputGrad(v, g, x, ts); err != nil {
			t.Fatal(err)
		}
		// The features are f(d) of the distances in descending order.
		f, order, dist := make([]float32, P), make([]int, P), make([]float64, P)
		w.features(f, x, order, dist)
		seen := make([]bool, P)
		for k := range P {
			ij := w.pairs[order[k]]
			s := 0.0
			for a := range c.d {
				e := float64(x[ij[0]*c.d+a] - x[ij[1]*c.d+a])
				s += e * e
			}
			want := math.Sqrt(s + 1)
			if c.recip {
				want = 1 / want
			}
			if seen[order[k]] || math.Abs(dist[k]-math.Sqrt(s)) > 1e-6 || math.Abs(float64(f[k])-want) > 1e-6 {
				t.Fatalf("n=%d: sorted position %d holds pair %d (seen before: %v), distance %v, feature %v; want distance %v, feature %v", c.n, k, order[k], seen[order[k]], dist[k], f[k], math.Sqrt(s), want)
			}
			seen[order[k]] = true
			if k > 0 && dist[k] > dist[k-1] {
				t.Fatalf("n=%d: distances not in descending order at %d: %v after %v", c.n, k, dist[k], dist[k-1])
			}
		}
		// Rotate/reflect, translate and permute.
		R := randomOrthogonal(c.d, rng)
		shift := make([]float64, c.d)
		for k := range shift {
			shift[k] = 10 * rng.NormFloat64()
		}
		perm := rng.Perm(c.n)
		y := make([]float32, nd)
		for i := 0; i < c.n; i++ {
			for a := 0; a < c.d; a++ {
				s := shift[a]
				for b := 0; b < c.d; b++ {
					s += R[a][b] * float64(x[perm[i]*c.d+b])
				}
				y[i*c.d+a] = float32(s)
			}
		}
		v2, g2 := make([]float32, 1), make([]float32, nd)
		w.InputGrad(v2, g2, y, ts)
		if math.Abs(float64(v[0]-v2[0])) > 1e-4*(1+math.Abs(float64(v[0]))) {
			t.Errorf("n=%d: V changed under rotation/translation/permutation: %v → %v", c.n, v[0], v2[0])
		}
		// ∇V(y)_i = R ∇V(x)_{perm(i)}
		for i := 0; i < c.n; i++ {
			for a := 0; a < c.d; a++ {
				s := 0.0
				for b := 0; b < c.d; b++ {
					s += R[a][b] * float64(g[perm[i]*c.d+b])
				}
				if math.Abs(s-float64(g2[i*c.d+a])) > 1e-4 {
					t.Errorf("n=%d: gradient does not rotate with the input: %v vs %v", c.n, g2[i*c.d+a], s)
				}
			}
		}
		// Finite differences, and no centre-of-mass component.
		com := make([]float64, c.d)
		for i := range x {
			com[i%c.d] += float64(g[i])
			xp := append([]float32(nil), x...)
			xm := append([]float32(nil), x...)
			xp[i] += 1e-2
			xm[i] -= 1e-2
			fp, fm := make([]float32, 1), make([]float32, 1)
			w.Forward(fp, xp, ts)
			w.Forward(fm, xm, ts)
			fd := float64(fp[0]-fm[0]) / 2e-2
			if math.Abs(fd-float64(g[i])) > 3e-3*(1+math.Abs(fd)) {
				t.Errorf("n=%d: ∂V/∂x[%d] = %v, finite difference %v", c.n, i, g[i], fd)
			}
		}
		for _, s := range com {
			if math.Abs(s) > 1e-4 {
				t.Errorf("n=%d: gradient has a centre-of-mass component %v", c.n, com)
			}
		}
	}
}
