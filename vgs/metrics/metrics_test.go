package metrics

import (
	"math"
	"math/rand/v2"
	"testing"
)

// naiveSinkhorn is the reference algorithm without the log-sum-exp cut, in float64.
func naiveSinkhorn(x, y []float32, d int, eps float64, iters int) float64 {
	n, m := len(x)/d, len(y)/d
	M := make([][]float64, n)
	for i := range M {
		M[i] = make([]float64, m)
		for j := range M[i] {
			s := 0.0
			for k := 0; k < d; k++ {
				t := float64(x[i*d+k] - y[j*d+k])
				s += t * t
			}
			M[i][j] = math.Sqrt(s)
		}
	}
	lse := func(v []float64) float64 {
		mx := math.Inf(-1)
		for _, a := range v {
			mx = math.Max(mx, a)
		}
		s := 0.0
		for _, a := range v {
			s += math.Exp(a - mx)
		}
		return mx + math.Log(s)
	}
	u, v := make([]float64, n), make([]float64, m)
	for j := range v {
		v[j] = eps * math.Log(1/float64(m))
	}
	for it := 0; it < iters; it++ {
		un := make([]float64, n)
		for i := range un {
			a := make([]float64, m)
			for j := range a {
				a[j] = (-M[i][j] + v[j]) / eps
			}
			un[i] = eps * (math.Log(1/float64(n)) - lse(a))
		}
		vn := make([]float64, m)
		for j := range vn {
			a := make([]float64, n)
			for i := range a {
				a[i] = (-M[i][j] + un[i]) / eps
			}
			vn[j] = eps * (math.Log(1/float64(m)) - lse(a))
		}
		du, dv := maxAbsDiff(u, un), maxAbsDiff(v, vn)
		u, v = un, vn
		if du < 1e-5 && dv < 1e-5 {
			break
		}
	}
	t := 0.0
	for i := range M {
		for j := range M[i] {
			t += math.Exp((-M[i][j]+u[i]+v[j])/eps) * M[i][j]
		}
	}
	return t
}

func randn(rng *rand.Rand, n int, s float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(s * rng.NormFloat64())
	}
	return x
}

func TestSinkhornMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, eps := range []float64{1e-3, 0.1} {
		x, y := randn(rng, 2*80, 1), randn(rng, 2*70, 1.5)
		got := Sinkhorn(x, y, 2, SinkhornOptions{Eps: eps, MaxIter: 100, StopThresh: 1e-5})
		want := naiveSinkhorn(x, y, 2, eps, 100)
		if math.Abs(got-want) > 1e-4*(1+want) {
			t.Errorf("eps %g: Sinkhorn %v, naive %v", eps, got, want)
		}
	}
}

func TestSinkhornIdentityAndShift(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	x := randn(rng, 2*200, 1)
	if s := Sinkhorn(x, x, 2, DefaultSinkhorn()); s > 1e-3 {
		t.Errorf("Sinkhorn(x, x) = %v", s)
	}
	y := append([]float32(nil), x...)
	for i := 0; i < len(y); i += 2 {
		y[i] += 3 // a rigid shift of 3: the optimal plan moves every point by 3
	}
	// With the reference's ε = 1e-3 and 100 iterations the potentials are far from
	// converged (the plan's mass is not 1), so the exactness check uses ε = 0.05.
	if s := Sinkhorn(x, y, 2, SinkhornOptions{Eps: 0.05, MaxIter: 1000, StopThresh: 1e-7}); math.Abs(s-3) > 0.05 {
		t.Errorf("shift by 3 costs %v", s)
	}
}

func TestTVDEnergy(t *testing.T) {
	ref := make([]float64, 200)
	for i := range ref {
		ref[i] = float64(i) + 0.5 // one value per bin on [0.5, 199.5]
	}
	if d := TVDEnergy(ref, ref); d != 0 {
		t.Errorf("TVD(ref, ref) = %v", d)
	}
	// Generated values all in the first bin, plus out-of-range values (dropped).
	gen := []float64{0.6, 0.7, -5, 1000}
	// p = 1 in bin 0; q = 1/200 per bin: ½(|1−1/200| + 199/200) = 199/200.
	if d := TVDEnergy(gen, ref); math.Abs(d-0.995) > 1e-12 {
		t.Errorf("TVD = %v, want 0.995", d)
	}
	h, n := Histogram([]float64{0, 1, 2}, 2, 0, 2)
	if n != 3 || h[0] != 1 || h[1] != 2 {
		t.Errorf("last bin must be closed: %v %d", h, n)
	}
}

func TestDeltaStdAndModeMass(t *testing.T) {
	gen := []float32{1, 10, 3, 10} // dim 0 std √2, dim 1 std 0
	if d := DeltaStd(gen, []float64{math.Sqrt2, 1}); math.Abs(d-0.5) > 1e-6 {
		t.Errorf("Δstd = %v", d)
	}
	if e := ModeMassError([]int{0, 0, 0, 1}, 2); math.Abs(e-0.25) > 1e-12 {
		t.Errorf("mode mass error %v", e)
	}
}

// TestSinkhornCandidatesExact checks that the candidate lists (sparse passes) give
// the same result as full passes on every iteration, and that they are used.
func TestSinkhornCandidatesExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	mk := func(n int) []float32 {
		x := make([]float32, 2*n)
		for i := 0; i < n; i++ {
			x[2*i] = float32(5*float64(rng.IntN(3)-1) + 0.55*rng.NormFloat64())
			x[2*i+1] = float32(5*float64(rng.IntN(3)-1) + 0.55*rng.NormFloat64())
		}
		return x
	}
	x, y := mk(1000), mk(900)
	fulls := 0
	sinkhornTrace = func(pu, pv *lsePass) { fulls = pu.fulls + pv.fulls }
	defer func() { sinkhornTrace = nil }()
	sparse := Sinkhorn(x, y, 2, DefaultSinkhorn())
	if fulls >= 100 {
		t.Errorf("%d full passes in 100 iterations: candidate lists unused", fulls)
	}
	t.Logf("Sinkhorn %v with %d full passes of 200", sparse, fulls)
	sinkhornAlwaysFull = true
	full := Sinkhorn(x, y, 2, DefaultSinkhorn())
	sinkhornAlwaysFull = false
	if math.Abs(sparse-full) > 1e-9*full {
		t.Errorf("sparse passes %v, full passes %v", sparse, full)
	}
}

func TestSinkhornBadInput(t *testing.T) {
	x := []float32{0, 0, 1, 1}
	for _, c := range []struct {
		x, y []float32
		d    int
		opt  SinkhornOptions
	}{
		{x, x[:3], 2, DefaultSinkhorn()},
		{x, nil, 2, DefaultSinkhorn()},
		{x, x, 0, DefaultSinkhorn()},
		{x, x, 2, SinkhornOptions{Eps: 0, MaxIter: 10}},
		{x, x, 2, SinkhornOptions{Eps: 1e-3, MaxIter: 0}},
	} {
		if _, err := SinkhornErr(c.x, c.y, c.d, c.opt); err == nil {
			t.Errorf("accepted %d and %d values, d = %d, %+v", len(c.x), len(c.y), c.d, c.opt)
		}
		if s := Sinkhorn(c.x, c.y, c.d, c.opt); !math.IsNaN(s) {
			t.Errorf("Sinkhorn of bad input = %v, want NaN", s)
		}
	}
}

// TestHistogramTorchEdges: the edges are float32 linspace values, and a value equal
// to an edge goes to the bin on its right (except the last edge).
func TestHistogramTorchEdges(t *testing.T) {
	e := Edges(200, -100, 100)
	if len(e) != 201 || e[0] != -100 || e[100] != 0 || e[200] != 100 || e[57] != -43 {
		t.Fatalf("edges %v … %v", e[:3], e[198:])
	}
	h, n := HistogramEdges([]float64{-100, -99, -98.5, 0, 99.999, 100, 100.001, math.NaN()}, e)
	if n != 6 || h[0] != 1 || h[1] != 2 || h[100] != 1 || h[199] != 2 {
		t.Errorf("counts n=%d h[0]=%v h[1]=%v h[100]=%v h[199]=%v", n, h[0], h[1], h[100], h[199])
	}
	// Edges of an awkward range are float32 and increasing; every value of the
	// range lands in [edge_k, edge_k+1).
	lo, hi := float64(float32(-3.7123)), float64(float32(11.0931))
	e = Edges(200, lo, hi)
	for k := 1; k < len(e); k++ {
		if !(e[k] > e[k-1]) || float64(float32(e[k])) != e[k] {
			t.Fatalf("edge %d: %v after %v", k, e[k], e[k-1])
		}
	}
	rng := rand.New(rand.NewPCG(8, 8))
	v := make([]float64, 1000)
	for i := range v {
		v[i] = float64(float32(lo + (hi-lo)*rng.Float64()))
	}
	v = append(v, e[17], e[150]) // exactly on edges
	h, n = HistogramEdges(v, e)
	if n != len(v) {
		t.Fatalf("counted %d of %d", n, len(v))
	}
	for k := range h {
		c := 0
		for _, x := range v {
			if x >= e[k] && (x < e[k+1] || k == len(h)-1 && x == e[k+1]) {
				c++
			}
		}
		if float64(c) != h[k] {
			t.Errorf("bin %d: %v, by the edge rule %d", k, h[k], c)
		}
	}
	// An empty range is widened by ½ on each side, as torch does.
	if d := TVDEnergy([]float64{3, 3.2}, []float64{3, 3}); math.Abs(d-0.5) > 1e-12 {
		t.Errorf("TVD on a constant reference = %v, want 0.5", d)
	}
	if d := TVDEnergy([]float64{1}, []float64{math.NaN(), math.Inf(1)}); d != 1 {
		t.Errorf("TVD with no finite reference = %v, want 1", d)
	}
}

func TestStatsBadInput(t *testing.T) {
	if d := DeltaStd([]float32{1, 2, 3}, []float64{1, 1}); !math.IsNaN(d) {
		t.Errorf("Δstd of ragged rows = %v", d)
	}
	if d := DeltaStd([]float32{1, 2}, []float64{1, 1}); !math.IsNaN(d) {
		t.Errorf("Δstd of one row = %v", d)
	}
	if e := ModeMassError(nil, 9); !math.IsNaN(e) {
		t.Errorf("mode mass error of no samples = %v", e)
	}
	// Labels outside [0, K) count towards no mode: shares 1/4, 1/4 of K = 2.
	if e := ModeMassError([]int{0, 1, -1, 7}, 2); math.Abs(e-0.25) > 1e-12 {
		t.Errorf("mode mass error %v", e)
	}
}
