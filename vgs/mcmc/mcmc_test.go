package mcmc

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// gauss is E(x) = ½x²/σ², the energy of N(0, σ²) in 1-D.
type gauss struct{ s2 float64 }

func (g gauss) Dim() int { return 1 }
func (g gauss) Energy(e, x []float32) {
	for i, v := range x {
		e[i] = float32(0.5 * float64(v) * float64(v) / g.s2)
	}
}
func (g gauss) EnergyGrad(e, gr, x []float32) {
	g.Energy(e, x)
	for i, v := range x {
		gr[i] = float32(float64(v) / g.s2)
	}
}

func TestMALAReachesGaussian(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, 20000)
	for i := range x {
		x[i] = float32(5 + rng.NormFloat64()) // start far away
	}
	acc, err := MALA(gauss{4}, x, Config{Step: 1, Steps: 200}, rng)
	if err != nil {
		t.Fatal(err)
	}
	m, v := 0.0, 0.0
	for _, a := range x {
		m += float64(a)
	}
	m /= float64(len(x))
	for _, a := range x {
		v += (float64(a) - m) * (float64(a) - m)
	}
	v /= float64(len(x) - 1)
	if math.Abs(m) > 0.06 || math.Abs(v-4) > 0.15 || acc < 0.5 {
		t.Errorf("mean %v var %v accept %v; want N(0, 4)", m, v, acc)
	}
	tiny, _ := MALA(gauss{4}, x, Config{Step: 1e-5, Steps: 5}, rng)
	if tiny < 0.99 {
		t.Errorf("tiny steps accepted at rate %v", tiny)
	}
}

func TestTuneStepAndDeterminism(t *testing.T) {
	init := func(r *rand.Rand) []float32 {
		x := make([]float32, 2000)
		for i := range x {
			x[i] = float32(2 * r.NormFloat64())
		}
		return x
	}
	h1, err := TuneStep(gauss{4}, init, 20, DefaultGrid(), rand.New(rand.NewPCG(2, 2)))
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := TuneStep(gauss{4}, init, 20, DefaultGrid(), rand.New(rand.NewPCG(2, 2)))
	if h1 != h2 {
		t.Errorf("same seed, steps %v and %v", h1, h2)
	}
	// For N(0, σ²) the optimal MALA step is of the order of σ² (here 4).
	if h1 < 0.5 || h1 > 10 {
		t.Errorf("tuned step %v", h1)
	}
	x := init(rand.New(rand.NewPCG(3, 3)))
	n, _, err := RunFor(gauss{4}, x, Config{Step: h1}, 20*time.Millisecond, rand.New(rand.NewPCG(3, 3)))
	if err != nil || n < 1 {
		t.Errorf("RunFor did %d steps, err %v", n, err)
	}
	if _, err := MALA(gauss{4}, x, Config{Step: 0, Steps: 1}, rand.New(rand.NewPCG(3, 3))); err == nil {
		t.Error("zero step accepted")
	}
}
