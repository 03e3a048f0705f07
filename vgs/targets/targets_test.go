package targets

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/advgs/advgs/vgs"
)

var _ vgs.Energy = (*GMM)(nil)
var _ vgs.Energy = (*Funnel)(nil)

// checkGrad compares EnergyGrad with central differences of Energy at the rows of x.
func checkGrad(t *testing.T, name string, e vgs.Energy, x []float32, tol float64) {
	t.Helper()
	checkGradStep(t, name, e, x, 1e-2, tol)
}

func checkGradStep(t *testing.T, name string, e vgs.Energy, x []float32, h, tol float64) {
	t.Helper()
	D := e.Dim()
	B := len(x) / D
	ev, g := make([]float32, B), make([]float32, len(x))
	e.EnergyGrad(ev, g, x)
	e2 := make([]float32, B)
	e.Energy(e2, x)
	for i := range ev {
		if ev[i] != e2[i] {
			t.Fatalf("%s: Energy and EnergyGrad disagree: %v vs %v", name, e2[i], ev[i])
		}
	}
	for i := range x {
		xp := append([]float32(nil), x...)
		xm := append([]float32(nil), x...)
		xp[i] += float32(h)
		xm[i] -= float32(h)
		ep, em := make([]float32, B), make([]float32, B)
		e.Energy(ep, xp)
		e.Energy(em, xm)
		r := i / D
		fd := (float64(ep[r]) - float64(em[r])) / (2 * h)
		if math.Abs(fd-float64(g[i])) > tol*(1+math.Abs(fd)) {
			t.Errorf("%s: ∂E/∂x[%d] = %g, finite difference %g", name, i, g[i], fd)
		}
	}
}

func TestGMMGradient(t *testing.T) {
	g, _ := NewGMM("grid")
	x := []float32{0.1, 0.2, -4.3, 5.2, 2.5, 2.5, -2.4, 0.3, 7, -6}
	checkGrad(t, "grid", g, x, 2e-3)
}

func TestFunnelGradient(t *testing.T) {
	f, _ := NewFunnel(10)
	rng := rand.New(rand.NewPCG(1, 2))
	x := f.Exact(3, rng)
	checkGrad(t, "funnel", f, x, 5e-3)
}

// TestGMMNormalised integrates exp(−E) over a grid covering the modes.
func TestGMMNormalised(t *testing.T) {
	g, _ := NewGMM("grid")
	const h = 0.05
	var xs []float32
	for a := -10.0; a <= 10; a += h {
		for b := -10.0; b <= 10; b += h {
			xs = append(xs, float32(a), float32(b))
		}
	}
	e := make([]float32, len(xs)/2)
	g.Energy(e, xs)
	s := 0.0
	for _, v := range e {
		s += math.Exp(-float64(v)) * h * h
	}
	if math.Abs(s-1) > 1e-3 {
		t.Errorf("∫p = %v", s)
	}
}

func TestExactMoments(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	g, _ := NewGMM("grid")
	if s := g.RefStd(); math.Abs(s[0]-4.1191) > 1e-4 {
		t.Errorf("GMM ref std %v, want 4.1191", s)
	}
	x := g.Exact(100000, rng)
	if s := sampleStd(x, 2, 0); math.Abs(s-4.1191) > 0.03 {
		t.Errorf("GMM sample std %v", s)
	}
	k, lab := g.Modes(x)
	c := make([]int, k)
	for _, l := range lab {
		c[l]++
	}
	for i, v := range c {
		if math.Abs(float64(v)/1e5-1.0/9) > 0.005 {
			t.Errorf("mode %d holds %d of 1e5", i, v)
		}
	}
	f, _ := NewFunnel(10)
	if s := f.RefStd(); math.Abs(s[0]-3) > 1e-12 || math.Abs(s[1]-9.4877) > 1e-4 {
		t.Errorf("funnel ref std %v", s)
	}
	y := f.Exact(100000, rng)
	if s := sampleStd(y, 10, 0); math.Abs(s-3) > 0.03 {
		t.Errorf("funnel x1 std %v", s)
	}
	// E[x1] = 0 and the funnel's log-density integrates to 1 along x1 (checked
	// through the normalised energy at a point: log p(0) = −½ln(2π·9) − 9·ln(2π)/2).
	e := make([]float32, 1)
	f.Energy(e, make([]float32, 10))
	want := 0.5*math.Log(2*math.Pi*9) + 9*math.Log(2*math.Pi)/2
	if math.Abs(float64(e[0])-want) > 1e-5 {
		t.Errorf("E(0) = %v, want %v", e[0], want)
	}
}

func sampleStd(x []float32, D, k int) float64 {
	n := len(x) / D
	m, v := 0.0, 0.0
	for i := 0; i < n; i++ {
		m += float64(x[i*D+k])
	}
	m /= float64(n)
	for i := 0; i < n; i++ {
		d := float64(x[i*D+k]) - m
		v += d * d
	}
	return math.Sqrt(v / float64(n-1))
}

func TestUnknownNames(t *testing.T) {
	if _, err := NewGMM("spiral"); err == nil {
		t.Error("unknown mixture accepted")
	}
	if _, err := NewFunnel(1); err == nil {
		t.Error("1-D funnel accepted")
	}
}
