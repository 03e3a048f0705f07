package vgs

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/advgs/advgs/internal/nn"
)

func TestScheduleTable(t *testing.T) {
	// VGS.md A.1.
	cases := []struct {
		kind, method        string
		start, end          float64
		T                   int
		sum, sigma0, a0, aL float64
	}{
		{"quad", "vp", 0.2, 0.1, 20, 2.94582, 1, 1.11803, 1.05409},
		{"quad", "ve", 0.5, 5e-4, 30, 5.24395, 2.49879, 1, 1},
		{"quad", "vp", 0.1, 1e-3, 10, 0.38500, 1, 1.05409, 1.00050},
		{"quad", "ve", 0.1, 1e-4, 30, 1.04879, 1.43136, 1, 1},
		{"exp", "ve", 0.05, 1e-4, 100, 0.82023, 1.34916, 1, 1},
		{"constant", "vp", 1e-3, 0, 10, 0.01, 1, 1.00050, 1.00050},
		{"quad", "vp", 0.1, 0.01, 10, 0.48073, 1, 1.05409, 1.00504},
	}
	for _, c := range cases {
		s2, err := MakeS2(c.kind, c.T, c.start, c.end)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := MakeAlpha(c.method, s2)
		sum := 0.0
		for _, v := range s2 {
			sum += v
		}
		near := func(name string, got, want float64) {
			if math.Abs(got-want) > 6e-6 {
				t.Errorf("%s %g→%g T=%d %s: %s = %.6f, want %.5f", c.kind, c.start, c.end, c.T, c.method, name, got, want)
			}
		}
		near("Σs2", sum, c.sum)
		near("σ0", InitSigma0(c.method, s2), c.sigma0)
		near("α[0]", a[0], c.a0)
		near("α[T-1]", a[c.T-1], c.aL)
	}
	lin, _ := MakeS2("linear", 3, 1, 3)
	sig, _ := MakeS2("sigmoid", 3, 0.1, 1.1)
	if lin[1] != 2 || math.Abs(sig[1]-0.6) > 1e-12 || math.Abs(sig[0]-0.1-1/(1+math.Exp(6))) > 1e-12 {
		t.Errorf("linear %v sigmoid %v", lin, sig)
	}
	if _, err := MakeS2("cosine", 3, 1, 2); err == nil || !strings.Contains(err.Error(), "s2_schedule") {
		t.Errorf("unknown schedule: %v", err)
	}
}

// quadratic is E(x) = ½‖x − c‖²·p, the energy of N(c, I/p) (p = 0 means 1).
type quadratic struct {
	dim  int
	c, p float32
}

func (q quadratic) prec() float32 {
	if q.p == 0 {
		return 1
	}
	return q.p
}

func (q quadratic) Dim() int { return q.dim }
func (q quadratic) Energy(e, x []float32) {
	for r := range e {
		s := float32(0)
		for _, v := range x[r*q.dim : (r+1)*q.dim] {
			s += (v - q.c) * (v - q.c)
		}
		e[r] = s / 2 * q.prec()
	}
}
func (q quadratic) EnergyGrad(e, g, x []float32) {
	q.Energy(e, x)
	for i, v := range x {
		g[i] = (v - q.c) * q.prec()
	}
}

func testConfig(T int) Config {
	ema, ilr := 0.5, 1e-2
	return Config{
		Value: nn.Arch{Kind: nn.FCNetTemb, Hidden: 16, TEmb: 8}, NStep: T, SampleShape: []int{2},
		S2Schedule: "quad", S2Start: 0.2, S2End: 0.1, AlphaMethod: "vp", VLR: 1e-3, EMA: &ema, ILR: &ilr,
	}
}

// TestOneStepByHand recomputes a two-step chain by hand from the same noise.
func TestOneStepByHand(t *testing.T) {
	s, err := New(testConfig(2), rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	x0 := []float32{0.3, -1.2, 2.0, 0.5}
	e := quadratic{dim: 2, c: 1}
	tr, err := s.Sample(2, e, SampleOptions{Initial: x0, NoiseScale: 1.5}, rand.New(rand.NewPCG(9, 9)))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(9, 9))
	a0, a1 := s.Alpha[0], s.Alpha[1]
	y := make([]float32, 4)
	for i := range y {
		y[i] = float32(a0) * x0[i]
	}
	g := make([]float32, 4)
	s.Target.InputGrad(nil, g, y, []int{1, 1})
	h0 := s.S2[0] * a0 * a0
	x1 := make([]float64, 4)
	for i := range x1 {
		x1[i] = float64(y[i]) - h0*float64(g[i]) + 1.5*s.Sigma[0]*rng.NormFloat64()
		if d := math.Abs(x1[i] - float64(tr.States[1][i])); d > 1e-5 {
			t.Errorf("x1[%d] = %v, by hand %v", i, tr.States[1][i], x1[i])
		}
		if d := math.Abs(h0*float64(g[i]) - float64(tr.Mus[0][i])); d > 1e-6 {
			t.Errorf("mu0[%d] = %v, by hand %v", i, tr.Mus[0][i], h0*float64(g[i]))
		}
	}
	// Last step: drift from ∇E(y) = y − 1, no final noise.
	h1 := s.S2[1] * a1 * a1
	for i := range x1 {
		yy := a1 * float64(tr.States[1][i])
		want := yy - h1*(yy-1)
		if d := math.Abs(want - float64(tr.Final()[i])); d > 1e-5 {
			t.Errorf("x2[%d] = %v, by hand %v", i, tr.Final()[i], want)
		}
	}
}

// TestLearnsGaussian trains a short chain towards N(0, ¼·I) (a centred target: with a
// zero-mean initial distribution and few steps VGS is biased for an off-centre one,
// since σ0 is learned but the initial mean is not).
func TestLearnsGaussian(t *testing.T) {
	if testing.Short() {
		t.Skip("training test")
	}
	cfg := testConfig(4)
	cfg.Value.Hidden = 32
	cfg.Value.TEmb = 16
	rng := rand.New(rand.NewPCG(3, 3))
	s, err := New(cfg, rng)
	if err != nil {
		t.Fatal(err)
	}
	e := quadratic{dim: 2, p: 4}
	iters := 300
	if v := os.Getenv("ITERS"); v != "" {
		iters, _ = strconv.Atoi(v)
	}
	var first, last TDStats
	for it := 0; it < iters; it++ {
		tr, err := s.Sample(64, e, SampleOptions{NoiseScale: 1.2, FinalNoise: true}, rng)
		if err != nil {
			t.Fatal(err)
		}
		st, err := s.UpdateTD(tr, e, 1, rng)
		if err != nil {
			t.Fatal(err)
		}
		if it == 0 {
			first = st
		}
		last = st
	}
	tr, _ := s.Sample(4000, e, SampleOptions{FinalNoise: true}, rng)
	m, v := moments(tr.Final(), 2)
	t.Logf("loss %.4g → %.4g, σ0 %.3f, mean %.3f var %.3f", first.Loss, last.Loss, last.InitSigma, m, v)
	// The untrained chain leaves the variance near 1. VGS's first-order drift with a
	// step of s2·α²·p ≈ 0.44 on this stiff target over-contracts (the exact Gaussian
	// kernel would shrink by 1/(1+0.44), VGS by 1−0.44), so a small downward bias is
	// expected.
	if math.Abs(m) > 0.05 || v < 0.17 || v > 0.3 {
		t.Errorf("samples have mean %.3f, variance %.3f; target N(0, 0.25)", m, v)
	}
	if last.Loss > first.Loss {
		t.Errorf("TD loss grew: %g → %g", first.Loss, last.Loss)
	}
}

// TestInitSigmaConfig checks that init_sigma sets σ0, that the first samples are drawn
// with it, and that σ0 stays there without i_lr and moves from it with i_lr.
func TestInitSigmaConfig(t *testing.T) {
	e := quadratic{dim: 2, p: 4}
	for _, learn := range []bool{false, true} {
		cfg := testConfig(3)
		cfg.InitSigma = ptr(2.5)
		if !learn {
			cfg.ILR = nil
		}
		rng := rand.New(rand.NewPCG(5, 5))
		s, err := New(cfg, rng)
		if err != nil {
			t.Fatal(err)
		}
		if s.InitSigma != 2.5 {
			t.Fatalf("σ0 %g, want init_sigma 2.5", s.InitSigma)
		}
		tr, err := s.Sample(4000, e, SampleOptions{}, rng)
		if err != nil {
			t.Fatal(err)
		}
		if _, v := moments(tr.States[0], 2); math.Abs(v-6.25) > 0.4 {
			t.Errorf("x_0 variance %.3f, want σ0² = 6.25", v)
		}
		for it := 0; it < 5; it++ {
			tr, _ := s.Sample(32, e, SampleOptions{FinalNoise: true}, rng)
			if _, err := s.UpdateTD(tr, e, 1, rng); err != nil {
				t.Fatal(err)
			}
		}
		if moved := s.InitSigma != 2.5; moved != learn {
			t.Errorf("i_lr set %v: σ0 %g after 5 updates", learn, s.InitSigma)
		}
	}
}

func moments(x []float32, D int) (mean, variance float64) {
	for _, v := range x {
		mean += float64(v)
	}
	mean /= float64(len(x))
	for _, v := range x {
		variance += (float64(v) - mean) * (float64(v) - mean)
	}
	return mean, variance / float64(len(x)-1)
}

func TestSaveLoadSameSamples(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	s, _ := New(testConfig(3), rng)
	e := quadratic{dim: 2, c: 0}
	for it := 0; it < 3; it++ {
		tr, _ := s.Sample(16, e, SampleOptions{NoiseScale: 1.2, FinalNoise: true}, rng)
		if _, err := s.UpdateTD(tr, e, 1, rng); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(t.TempDir(), "s.safetensors")
	if err := s.Save(p, nil); err != nil {
		t.Fatal(err)
	}
	l, _, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if l.InitSigma != float64(float32(s.InitSigma)) {
		t.Errorf("σ0 %v → %v", s.InitSigma, l.InitSigma)
	}
	a, _ := s.Sample(32, e, SampleOptions{}, rand.New(rand.NewPCG(5, 5)))
	b, _ := l.Sample(32, e, SampleOptions{}, rand.New(rand.NewPCG(5, 5)))
	for i := range a.Final() {
		if math.Abs(float64(a.Final()[i]-b.Final()[i])) > 1e-6 {
			t.Fatalf("loaded sampler draws %v, saved one %v", b.Final()[i], a.Final()[i])
		}
	}
}

func TestSphereStaysNearSphere(t *testing.T) {
	ema := 0.0
	cfg := Config{Value: nn.Arch{Kind: nn.DeeperV3, Hidden: 8, TEmb: 8, TFeat: 8}, NStep: 10, SampleShape: []int{5},
		S2Schedule: "constant", S2Start: 1e-3, AlphaMethod: "vp", VLR: 1e-4, EMA: &ema, Normalize: true,
		DEffective: ptr(4)}
	s, err := New(cfg, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := s.Sample(8, quadratic{dim: 5}, SampleOptions{FinalNoise: true}, rand.New(rand.NewPCG(2, 2)))
	if err != nil {
		t.Fatal(err)
	}
	for r := 0; r < 8; r++ {
		n := 0.0
		for _, v := range tr.Final()[r*5 : (r+1)*5] {
			n += float64(v) * float64(v)
		}
		// No renormalisation: ‖x‖ grows by α = 1.0005 per step (VGS.md A.8).
		if math.Abs(math.Sqrt(n)-math.Pow(s.Alpha[0], 10)) > 2e-3 {
			t.Errorf("row %d has norm %v", r, math.Sqrt(n))
		}
	}
	if _, err := s.UpdateTD(tr, quadratic{dim: 5}, 2, rand.New(rand.NewPCG(3, 3))); err != nil {
		t.Fatal(err)
	}
	data := []float32{1, 0, 0, 0, 0}
	InitialSamples(data, 5, s.S2, rand.New(rand.NewPCG(1, 1)))
	n := 0.0
	for _, v := range data {
		n += float64(v) * float64(v)
	}
	if math.Abs(n-1) > 1e-5 || data[0] == 1 {
		t.Errorf("initial sample %v (‖x‖² = %v)", data, n)
	}
}

func ptr[T any](v T) *T { return &v }

func TestConfigRejected(t *testing.T) {
	bad := map[string]func(*Config){
		"n_step":       func(c *Config) { c.NStep = 0 },
		"s2_schedule":  func(c *Config) { c.S2Schedule = "cosine" },
		"s2_start":     func(c *Config) { c.S2Start = -0.1 },
		"alpha_method": func(c *Config) { c.AlphaMethod = "sub-vp" },
		"TD_loss":      func(c *Config) { c.TDLoss = "huber" },
		"ema":          func(c *Config) { c.EMA = ptr(1.5) },
		"init_sigma":   func(c *Config) { c.InitSigma = ptr(0.0) },
		"D_effective":  func(c *Config) { c.DEffective = ptr(0) },
		"value.arch":   func(c *Config) { c.Value.Kind = "resnet" },
	}
	for field, f := range bad {
		c := testConfig(3)
		f(&c)
		_, err := New(c, rand.New(rand.NewPCG(1, 1)))
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: error %v does not name the field", field, err)
		}
	}
	var c Config
	err := DecodeYAMLStrict([]byte("n_step: 3\nbogus: 1\n"), &c, "x.yaml")
	if err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("unknown key: %v", err)
	}
	err = DecodeYAMLStrict([]byte("n_step: many\n"), &c, "x.yaml")
	if err == nil || !strings.Contains(err.Error(), "x.yaml") {
		t.Errorf("wrong type: %v", err)
	}
}

// nanEnergy returns NaN energies, to check that divergence is reported.
type nanEnergy struct{ quadratic }

func (n nanEnergy) EnergyGrad(e, g, x []float32) {
	for i := range g {
		g[i] = float32(math.NaN())
	}
}

// hugeEnergy has a finite but enormous gradient: samples blow up to ~1e30 without
// becoming Inf in float32.
type hugeEnergy struct{ quadratic }

func (h hugeEnergy) EnergyGrad(e, g, x []float32) {
	for i := range g {
		g[i] = -1e30
	}
}

// infEnergy has finite gradients but an energy that overflows in the first `rows`
// chains: in most of them as the funnel's does once x₁ has run off to −1e7, in one as
// an LJ-13 chain's with a collapsed pair.
type infEnergy struct {
	quadratic
	rows int
}

func (h infEnergy) EnergyGrad(e, g, x []float32) {
	h.quadratic.EnergyGrad(e, g, x)
	for i := 0; i < h.rows; i++ {
		e[i] = float32(math.Inf(1))
	}
}

// nanRowEnergy has finite gradients but a NaN energy in its first chain.
type nanRowEnergy struct{ quadratic }

func (h nanRowEnergy) EnergyGrad(e, g, x []float32) {
	h.quadratic.EnergyGrad(e, g, x)
	e[0] = float32(math.NaN())
}

func TestDivergenceReported(t *testing.T) {
	s, _ := New(testConfig(2), rand.New(rand.NewPCG(1, 1)))
	_, err := s.Sample(4, nanEnergy{quadratic{dim: 2}}, SampleOptions{}, rand.New(rand.NewPCG(1, 1)))
	if !errors.Is(err, ErrDiverged) {
		t.Errorf("NaN samples gave %v", err)
	}
	tr, err := s.Sample(4, hugeEnergy{quadratic{dim: 2}}, SampleOptions{}, rand.New(rand.NewPCG(1, 1)))
	if !errors.Is(err, ErrDiverged) {
		t.Errorf("samples of magnitude %g gave %v", tr.Final()[0], err)
	}
	if _, err := s.Sample(4, infEnergy{quadratic{dim: 2}, 1}, SampleOptions{}, rand.New(rand.NewPCG(1, 1))); !errors.Is(err, ErrDiverged) {
		t.Errorf("an infinite energy without clip_energy gave %v", err)
	}
	// With clip_energy a chain whose energy overflows is clamped like any energy above
	// it (its last drift is zero), unless most of the batch does.
	clip := 100.0
	s.Config.ClipEnergy = &clip
	if _, err := s.Sample(4, infEnergy{quadratic{dim: 2}, 3}, SampleOptions{}, rand.New(rand.NewPCG(1, 1))); !errors.Is(err, ErrDiverged) {
		t.Errorf("infinite energies in 3 of 4 chains with clip_energy gave %v", err)
	}
	tr, err = s.Sample(4, infEnergy{quadratic{dim: 2}, 1}, SampleOptions{}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Errorf("an infinite energy in 1 of 4 chains with clip_energy: %v", err)
	} else if mu := tr.Mus[len(tr.Mus)-1]; mu[0] != 0 || mu[1] != 0 || mu[2] == 0 {
		t.Errorf("last drifts %v: want the overflowing chain's zero and the others' not", mu[:4])
	}
	// KeepOverflow (measuring a checkpoint) keeps the overflowing chains in place
	// however many there are, with or without clip_energy; NaN is still divergence.
	for _, c := range []*float64{&clip, nil} {
		s.Config.ClipEnergy = c
		tr, err = s.Sample(4, infEnergy{quadratic{dim: 2}, 3}, SampleOptions{KeepOverflow: true}, rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Errorf("clip_energy %v, KeepOverflow, 3 of 4 chains infinite: %v", c != nil, err)
		} else if mu := tr.Mus[len(tr.Mus)-1]; tr.Overflowed != 3 || mu[4] != 0 || mu[5] != 0 || mu[6] == 0 {
			t.Errorf("clip_energy %v, KeepOverflow: %d overflowed, last drifts %v: want 3, the third chain's zero and the fourth's not", c != nil, tr.Overflowed, mu)
		}
	}
	if _, err := s.Sample(4, nanEnergy{quadratic{dim: 2}}, SampleOptions{KeepOverflow: true}, rand.New(rand.NewPCG(1, 1))); !errors.Is(err, ErrDiverged) {
		t.Errorf("NaN samples with KeepOverflow gave %v", err)
	}
	if _, err := s.Sample(4, nanRowEnergy{quadratic{dim: 2}}, SampleOptions{KeepOverflow: true}, rand.New(rand.NewPCG(1, 1))); !errors.Is(err, ErrDiverged) {
		t.Errorf("a NaN energy before the last step with KeepOverflow gave %v", err)
	}
	if _, err := s.Sample(4, quadratic{dim: 2}, SampleOptions{}, rand.New(rand.NewPCG(1, 1))); err != nil {
		t.Errorf("a healthy run: %v", err)
	}
}

func TestClampEnergy(t *testing.T) {
	c := 100.0
	for _, log := range []bool{false, true} {
		e := []float32{50, 100, 200, float32(math.Inf(1))}
		clampEnergy(e, &c, log)
		want := []float32{50, 100, 100, 100}
		if log {
			want = []float32{50, 100, 100 + float32(math.Log(101)), 100 + float32(math.Log1p(math.MaxFloat32-100))}
		}
		for i := range e {
			if math.Abs(float64(e[i]-want[i])) > 1e-4 {
				t.Errorf("log %v: clamp(%d) = %v, want %v", log, i, e[i], want[i])
			}
		}
	}
	e := []float32{1e9}
	clampEnergy(e, nil, true)
	if e[0] != 1e9 {
		t.Errorf("no clip_energy changed %v", e[0])
	}
	bad := testConfig(3)
	bad.Tau, bad.ClipEnergy, bad.ClipEnergyLog = 1, nil, true
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "clip_energy") {
		t.Errorf("clip_energy_log without clip_energy: %v", err)
	}
}

// With clip_grad set the reference does not clamp the last step's energy (VGS.md
// A.2); clip_last_step clamps it: a sample above clip_energy takes no drift there.
func TestClipLastStep(t *testing.T) {
	clip, cg := 10.0, 1.0
	x0 := []float32{0.5, 0.5, 9, 9} // E = 0.25 and 81
	for _, c := range []struct {
		grad, last bool
		moved      [2]bool // whether each row drifts in the last step
	}{
		{false, false, [2]bool{true, false}}, // the clamp applies without clip_grad
		{true, false, [2]bool{true, true}},   // the reference skips it with clip_grad
		{true, true, [2]bool{true, false}},
	} {
		cfg := testConfig(1)
		cfg.Tau, cfg.ClipEnergy, cfg.ClipLastStep = 1, &clip, c.last
		if c.grad {
			cfg.ClipGrad = &cg
		}
		s, err := New(cfg, rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Fatal(err)
		}
		tr, err := s.Sample(2, quadratic{dim: 2}, SampleOptions{Initial: x0}, rand.New(rand.NewPCG(2, 2)))
		if err != nil {
			t.Fatal(err)
		}
		for r := 0; r < 2; r++ {
			if moved := tr.Mus[0][2*r] != 0; moved != c.moved[r] {
				t.Errorf("clip_grad %v, clip_last_step %v: row %d (E = %v) drift %v", c.grad, c.last, r, 0.5*(x0[2*r]*x0[2*r]+x0[2*r+1]*x0[2*r+1]), tr.Mus[0][2*r:2*r+2])
			}
		}
	}
	bad := testConfig(1)
	bad.Tau, bad.ClipLastStep = 1, true
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "clip_last_step") {
		t.Errorf("clip_last_step without clip_energy: %v", err)
	}
}

// TestClipDrift checks that clip_drift caps a long drift at k·σ_t·√D along its own
// direction and leaves a short one alone, and that a non-positive cap is refused.
func TestClipDrift(t *testing.T) {
	x0 := []float32{0.1, -0.2, 30, 40} // drifts h·α·x: the second row's is long
	k := 0.5
	var sigma0 float64 // σ_0 of the schedule
	draw := func(cap *float64) []float32 {
		cfg := testConfig(1)
		cfg.ClipDrift = cap
		s, err := New(cfg, rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Fatal(err)
		}
		tr, err := s.Sample(2, quadratic{dim: 2}, SampleOptions{Initial: x0}, rand.New(rand.NewPCG(2, 2)))
		if err != nil {
			t.Fatal(err)
		}
		sigma0 = s.Sigma[0]
		return tr.Mus[0]
	}
	free, capped := draw(nil), draw(&k)
	limit := k * sigma0 * math.Sqrt(2)
	if capped[0] != free[0] || capped[1] != free[1] {
		t.Errorf("short drift changed: %v, uncapped %v", capped[:2], free[:2])
	}
	if n := math.Hypot(float64(free[2]), float64(free[3])); n <= limit {
		t.Fatalf("test setup: the long drift %g is within the cap %g", n, limit)
	}
	if n := math.Hypot(float64(capped[2]), float64(capped[3])); math.Abs(n-limit) > 1e-5*limit {
		t.Errorf("capped drift norm %g, want %g", n, limit)
	}
	if r, rf := capped[2]/capped[3], free[2]/free[3]; math.Abs(float64(r-rf)) > 1e-6 {
		t.Errorf("capped drift turned: ratio %g, uncapped %g", r, rf)
	}
	bad := testConfig(1)
	zero := 0.0
	bad.Tau, bad.ClipDrift = 1, &zero
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "clip_drift") {
		t.Errorf("clip_drift 0: %v", err)
	}
}
