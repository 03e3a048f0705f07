package ebm

import (
	"github.com/advgs/advgs/vgs"
	"math"
	"math/rand/v2"
	"testing"
)

func testAE(t *testing.T, D int) (*AE, []float32, *rand.Rand) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 8))
	m, err := NewAE(AEConfig{EncHidden: []int{16, 12}, Latent: 6, DecHidden: []int{12, 16}, Tau: 0.1, OutScale: 1.3}, D, rng)
	if err != nil {
		t.Fatal(err)
	}
	x := unitRows(5, D, rng)
	return m, x, rng
}

func unitRows(n, D int, rng *rand.Rand) []float32 {
	x := make([]float32, n*D)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	vgs.NormalizeRows(x, D)
	return x
}

// relErr is ‖a−b‖/max(‖a‖,‖b‖).
func relErr(a, b []float64) float64 {
	var d, na, nb float64
	for i := range a {
		d += (a[i] - b[i]) * (a[i] - b[i])
		na += a[i] * a[i]
		nb += b[i] * b[i]
	}
	return math.Sqrt(d) / math.Max(math.Sqrt(na), math.Sqrt(nb))
}

func TestAEInputGradFD(t *testing.T) {
	D := 9
	m, x, _ := testAE(t, D)
	B := len(x) / D
	e := make([]float32, B)
	g := make([]float32, len(x))
	m.EnergyGrad(e, g, x)
	e2 := make([]float32, B)
	m.Energy(e2, x)
	for i := range e {
		if e[i] != e2[i] {
			t.Fatalf("EnergyGrad and Energy disagree at %d: %g vs %g", i, e[i], e2[i])
		}
	}
	var an, fd []float64
	h := float32(1e-3)
	for i := range x {
		old := x[i]
		x[i] = old + h
		m.Energy(e2, x)
		p := e2[i/D]
		x[i] = old - h
		m.Energy(e2, x)
		q := e2[i/D]
		x[i] = old
		fd = append(fd, float64(p-q)/float64(2*h))
		an = append(an, float64(g[i]))
	}
	if r := relErr(an, fd); r > 1e-2 {
		t.Fatalf("input gradient: relative error %g vs finite differences", r)
	}
}

func TestAEParamGradFD(t *testing.T) {
	D := 9
	m, x, rng := testAE(t, D)
	xn := unitRows(4, D, rng)
	gamma, Dn := float32(1), float32(D)
	loss := func() float64 {
		l, _, _ := cdLoss(m, x, xn, gamma, Dn, nil)
		return l
	}
	grads := m.NewGrads()
	cdLoss(m, x, xn, gamma, Dn, grads)
	h := float32(3e-3)
	for pi, p := range m.Params() {
		var an, fd []float64
		for j := range p.Data {
			old := p.Data[j]
			p.Data[j] = old + h
			a := loss()
			p.Data[j] = old - h
			b := loss()
			p.Data[j] = old
			fd = append(fd, (a-b)/float64(2*h))
			an = append(an, float64(grads[pi][j]))
		}
		if r := relErr(an, fd); r > 5e-2 { // float32 energies: FD noise is ~1e-3 absolute
			t.Errorf("%s: relative error %g vs finite differences", p.Name, r)
		}
	}
}
