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

// gauss2 is a correlated 2-D Gaussian N(μ, Σ) with precision P = Σ⁻¹:
// E(x) = ½(x − μ)ᵀP(x − μ).
type gauss2 struct{ mu, P [2][2]float64 }

func newGauss2() gauss2 {
	// Σ = [[2, 0.8], [0.8, 1]]; P = Σ⁻¹ = [[1, −0.8], [−0.8, 2]]/1.36.
	return gauss2{mu: [2][2]float64{{1, -2}}, P: [2][2]float64{{1 / 1.36, -0.8 / 1.36}, {-0.8 / 1.36, 2 / 1.36}}}
}
func (g gauss2) Dim() int { return 2 }
func (g gauss2) Energy(e, x []float32) {
	gr := make([]float32, len(x))
	g.EnergyGrad(e, gr, x)
}
func (g gauss2) EnergyGrad(e, gr, x []float32) {
	for i := range e {
		d0, d1 := float64(x[2*i])-g.mu[0][0], float64(x[2*i+1])-g.mu[0][1]
		p0 := g.P[0][0]*d0 + g.P[0][1]*d1
		p1 := g.P[1][0]*d0 + g.P[1][1]*d1
		e[i] = float32(0.5 * (d0*p0 + d1*p1))
		gr[2*i], gr[2*i+1] = float32(p0), float32(p1)
	}
}

func TestMALA2DGaussian(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	const B = 20000
	x := make([]float32, 2*B)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	acc, err := Run(newGauss2(), x, Config{Step: 0.5, Steps: 300}, rng)
	if err != nil {
		t.Fatal(err)
	}
	var m [2]float64
	for i := 0; i < B; i++ {
		m[0] += float64(x[2*i]) / B
		m[1] += float64(x[2*i+1]) / B
	}
	var c [2][2]float64
	for i := 0; i < B; i++ {
		d := [2]float64{float64(x[2*i]) - m[0], float64(x[2*i+1]) - m[1]}
		for a := 0; a < 2; a++ {
			for b := 0; b < 2; b++ {
				c[a][b] += d[a] * d[b] / (B - 1)
			}
		}
	}
	want := [2][2]float64{{2, 0.8}, {0.8, 1}}
	if math.Abs(m[0]-1) > 0.04 || math.Abs(m[1]+2) > 0.03 {
		t.Errorf("mean %v, want (1, −2)", m)
	}
	for a := 0; a < 2; a++ {
		for b := 0; b < 2; b++ {
			if math.Abs(c[a][b]-want[a][b]) > 0.06 {
				t.Errorf("covariance %v, want %v", c, want)
			}
		}
	}
	if acc < 0.5 || acc > 0.99 {
		t.Errorf("acceptance %v", acc)
	}
}

// TestAcceptanceFalls: the acceptance rate tends to 1 for tiny steps and falls as
// the step grows.
func TestAcceptanceFalls(t *testing.T) {
	prev := 1.01
	for _, h := range []float64{1e-6, 1e-2, 1, 4, 16} {
		x := make([]float32, 4000)
		rng := rand.New(rand.NewPCG(5, 5))
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		a, err := Run(newGauss2(), x, Config{Step: h, Steps: 20}, rng)
		if err != nil {
			t.Fatal(err)
		}
		if h == 1e-6 && a < 0.999 {
			t.Errorf("h = %g: acceptance %v, want ≈ 1", h, a)
		}
		if a > prev+0.01 {
			t.Errorf("h = %g: acceptance %v rose from %v", h, a, prev)
		}
		prev = a
	}
	if prev > 0.3 {
		t.Errorf("acceptance at h = 16 is %v", prev)
	}
}

func TestMALADeterministic(t *testing.T) {
	run := func() []float32 {
		rng := rand.New(rand.NewPCG(6, 6))
		x := make([]float32, 200)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		if _, err := Run(newGauss2(), x, Config{Step: 0.3, Steps: 50}, rng); err != nil {
			t.Fatal(err)
		}
		return x
	}
	a, b := run(), run()
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed, different chains at %d: %v vs %v", i, a[i], b[i])
		}
	}
}

// vmf is E(x) = −κ·x_0 on the unit sphere in 3-D (a von Mises–Fisher density),
// whose mean of x_0 is coth κ − 1/κ.
type vmf struct{ kappa float64 }

func (v vmf) Dim() int { return 3 }
func (v vmf) Energy(e, x []float32) {
	for i := range e {
		e[i] = float32(-v.kappa * float64(x[3*i]))
	}
}
func (v vmf) EnergyGrad(e, g, x []float32) {
	v.Energy(e, x)
	for i := range e {
		g[3*i], g[3*i+1], g[3*i+2] = float32(-v.kappa), 0, 0
	}
}

func TestULASphere(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	const B = 4000
	x := make([]float32, 3*B)
	for r := 0; r < B; r++ {
		s := 0.0
		for k := 0; k < 3; k++ {
			v := rng.NormFloat64()
			x[3*r+k] = float32(v)
			s += v * v
		}
		for k := 0; k < 3; k++ {
			x[3*r+k] /= float32(math.Sqrt(s))
		}
	}
	const kappa = 2.0
	if err := ULA(vmf{kappa}, x, Config{Step: 2e-3, Steps: 1500, Sphere: true}, rng); err != nil {
		t.Fatal(err)
	}
	m := 0.0
	for r := 0; r < B; r++ {
		if n := norm(x[3*r : 3*r+3]); math.Abs(n-1) > 1e-5 {
			t.Fatalf("row %d left the sphere: norm %v", r, n)
		}
		m += float64(x[3*r]) / B
	}
	want := 1/math.Tanh(kappa) - 1/kappa
	if math.Abs(m-want) > 0.03 {
		t.Errorf("mean x0 = %v, von Mises–Fisher %v", m, want)
	}
	if err := ULA(vmf{kappa}, []float32{1, 1, 0}, Config{Step: 1e-3, Steps: 1, Sphere: true}, rng); err == nil {
		t.Error("a row off the sphere was accepted")
	}
}

// nanEnergy is NaN for x > 1.
type nanEnergy struct{}

func (nanEnergy) Dim() int { return 1 }
func (nanEnergy) Energy(e, x []float32) {
	for i, v := range x {
		e[i] = 0.5 * v * v
		if v > 1 {
			e[i] = float32(math.NaN())
		}
	}
}
func (n nanEnergy) EnergyGrad(e, g, x []float32) {
	n.Energy(e, x)
	for i, v := range x {
		g[i] = v
		if v > 1 {
			g[i] = float32(math.NaN())
		}
	}
}

func TestNaNAndBadConfig(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	if _, err := Run(nanEnergy{}, []float32{2}, Config{Step: 0.1, Steps: 1}, rng); err == nil {
		t.Error("NaN initial energy accepted")
	}
	if _, err := Run(nanEnergy{}, []float32{float32(math.NaN())}, Config{Step: 0.1, Steps: 1}, rng); err == nil {
		t.Error("NaN initial state accepted")
	}
	// From 0 with big steps, proposals beyond 1 have NaN energy: they are rejected
	// and the chains stay finite.
	x := make([]float32, 1000)
	if _, err := Run(nanEnergy{}, x, Config{Step: 2, Steps: 20}, rng); err != nil {
		t.Fatal(err)
	}
	for _, v := range x {
		if math.IsNaN(float64(v)) || v > 1 {
			t.Fatalf("chain reached %v", v)
		}
	}
	// ULA has no rejection: it stops with an error once a state is NaN.
	y := make([]float32, 100)
	for i := range y {
		y[i] = 0.9
	}
	if err := ULA(growing{}, y, Config{Step: 1, Steps: 2000}, rng); err == nil {
		t.Error("diverging ULA returned no error")
	}
	for _, c := range []Config{{Step: 0, Steps: 1}, {Step: -1, Steps: 1}, {Step: math.NaN(), Steps: 1}, {Step: 0.1, Steps: -1}, {Step: 0.1, Steps: 1, Sphere: true}} {
		if _, err := Run(gauss{1}, []float32{0}, c, rng); err == nil {
			t.Errorf("config %+v accepted", c)
		}
	}
	if _, err := TuneStep(gauss{1}, func(*rand.Rand) []float32 { return []float32{0} }, 5, nil, rng); err == nil {
		t.Error("empty grid accepted")
	}
	if _, err := Run(newGauss2(), []float32{0, 0, 0}, Config{Step: 0.1, Steps: 1}, rng); err == nil {
		t.Error("ragged rows accepted")
	}
}

// growing is E(x) = −x⁴: ULA from |x| near 1 with step 1 explodes.
type growing struct{}

func (growing) Dim() int { return 1 }
func (growing) Energy(e, x []float32) {
	for i, v := range x {
		e[i] = -v * v * v * v
	}
}
func (g growing) EnergyGrad(e, gr, x []float32) {
	g.Energy(e, x)
	for i, v := range x {
		gr[i] = -4 * v * v * v
	}
}
