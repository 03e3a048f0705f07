package vgs

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/advgs/advgs/internal/nn"
)

func TestRadialWrapper(t *testing.T) {
	for _, log := range []bool{false, true} {
		testRadialWrapper(t, log)
	}
}

func testRadialWrapper(t *testing.T, log bool) {
	const keep, dim, eps = 1, 10, 1e-3
	rng := rand.New(rand.NewPCG(7, 1))
	net, err := nn.NewNet(nn.Arch{Kind: nn.DeeperV2, In: keep + 1, Hidden: 16, TEmb: 8}, rng)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewRadial(net, keep, dim, log, eps)
	if err != nil {
		t.Fatal(err)
	}
	const B = 3
	x := make([]float32, B*dim)
	for i := range x {
		x[i] = float32(2 * rng.NormFloat64())
	}
	ts := []int{0, 4, 9}
	v, g := make([]float32, B), make([]float32, B*dim)
	if err := w.InputGrad(v, g, x, ts); err != nil {
		t.Fatal(err)
	}
	// The network sees [x_1, ‖x_2..x_10‖] or [x_1, ½·log(‖x_2..x_10‖² + ε)].
	f := make([]float32, B*(keep+1))
	for i := 0; i < B; i++ {
		f[i*2] = x[i*dim]
		s := 0.0
		for _, u := range x[i*dim+1 : (i+1)*dim] {
			s += float64(u) * float64(u)
		}
		f[i*2+1] = float32(math.Sqrt(s))
		if log {
			f[i*2+1] = float32(0.5 * math.Log(s+eps))
		}
	}
	want := make([]float32, B)
	if err := net.Forward(want, f, ts); err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if v[i] != want[i] {
			t.Errorf("log %v, row %d: V = %v, the network on [x1, ρ] gives %v", log, i, v[i], want[i])
		}
	}
	// Rotating/reflecting the trailing block leaves V alone and rotates the gradient.
	R := randomOrthogonal(dim-keep, rng)
	y := append([]float32(nil), x...)
	for i := 0; i < B; i++ {
		for a := 0; a < dim-keep; a++ {
			s := 0.0
			for b := 0; b < dim-keep; b++ {
				s += R[a][b] * float64(x[i*dim+keep+b])
			}
			y[i*dim+keep+a] = float32(s)
		}
	}
	v2, g2 := make([]float32, B), make([]float32, B*dim)
	if err := w.InputGrad(v2, g2, y, ts); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < B; i++ {
		if math.Abs(float64(v[i]-v2[i])) > 1e-4*(1+math.Abs(float64(v[i]))) {
			t.Errorf("row %d: V changed under a rotation of x_2..x_10: %v → %v", i, v[i], v2[i])
		}
		if g[i*dim] != g2[i*dim] {
			t.Errorf("row %d: ∂V/∂x1 changed under a rotation of x_2..x_10: %v → %v", i, g[i*dim], g2[i*dim])
		}
		for a := 0; a < dim-keep; a++ {
			s := 0.0
			for b := 0; b < dim-keep; b++ {
				s += R[a][b] * float64(g[i*dim+keep+b])
			}
			if math.Abs(s-float64(g2[i*dim+keep+a])) > 1e-4 {
				t.Errorf("row %d: the gradient does not rotate with the input: %v vs %v", i, g2[i*dim+keep+a], s)
			}
		}
	}
	// Finite differences.
	for i := range x {
		xp := append([]float32(nil), x...)
		xm := append([]float32(nil), x...)
		xp[i] += 1e-2
		xm[i] -= 1e-2
		fp, fm := make([]float32, B), make([]float32, B)
		w.Forward(fp, xp, ts)
		w.Forward(fm, xm, ts)
		r := i / dim
		fd := float64(fp[r]-fm[r]) / 2e-2
		if math.Abs(fd-float64(g[i])) > 3e-3*(1+math.Abs(fd)) {
			t.Errorf("log %v: ∂V/∂x[%d] = %v, finite difference %v", log, i, g[i], fd)
		}
	}
	// At r = 0 the trailing gradient is 0, not NaN.
	z := make([]float32, dim)
	z[0] = 1
	gz := make([]float32, dim)
	if err := w.InputGrad(nil, gz, z, []int{2}); err != nil {
		t.Fatal(err)
	}
	for j, u := range gz[keep:] {
		if u != 0 {
			t.Errorf("at r = 0, ∂V/∂x[%d] = %v, want 0", keep+j, u)
		}
	}
}

func TestRadialConfig(t *testing.T) {
	cfg := Config{Value: nn.Arch{Kind: nn.DeeperV2, Hidden: 8, TEmb: 8}, NStep: 3, SampleShape: []int{10},
		S2Schedule: "constant", S2Start: 0.1, AlphaMethod: "ve", VLR: 1e-3, Radial: &RadialConfig{Keep: 1}}
	s, err := New(cfg, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if w, ok := s.Online.(*Radial); !ok || w.Net.Arch.In != 2 {
		t.Fatalf("online network is %T, want a *Radial over a 2-input network", s.Online)
	}
	// A saved radial sampler loads wrapped again and gives the same values.
	p := filepath.Join(t.TempDir(), "r.safetensors")
	if err := s.Save(p, nil); err != nil {
		t.Fatal(err)
	}
	l, _, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := l.Target.(*Radial); !ok {
		t.Fatalf("loaded target network is %T, want *Radial", l.Target)
	}
	x := make([]float32, 2*10)
	for i := range x {
		x[i] = float32(i%7) - 3
	}
	va, vb := make([]float32, 2), make([]float32, 2)
	s.Target.Forward(va, x, []int{0, 2})
	l.Target.Forward(vb, x, []int{0, 2})
	if va[0] != vb[0] || va[1] != vb[1] {
		t.Errorf("loaded radial sampler gives V %v, saved one %v", vb, va)
	}
	for _, c := range []struct {
		keep int
		inv  bool
		want string
		log  bool
	}{{-1, false, "sampler.radial.keep", false}, {9, false, "sampler.radial.keep", false}, {1, true, "sampler.radial", false},
		{1, false, "sampler.radial.eps", true}} {
		bad := cfg
		bad.Radial = &RadialConfig{Keep: c.keep, Log: c.log}
		if c.inv {
			bad.Invariant = &InvariantConfig{NParticles: 5, NDims: 2}
		}
		bad.Defaults()
		if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("keep %d, invariant %v: error %v, want one naming %s", c.keep, c.inv, err, c.want)
		}
	}
}
