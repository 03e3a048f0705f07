package targets_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"github.com/advgs/advgs/internal/nn"
	"github.com/advgs/advgs/vgs"
	"github.com/advgs/advgs/vgs/bench"
	"github.com/advgs/advgs/vgs/metrics"
	"github.com/advgs/advgs/vgs/targets"
)

// diffusedFunnelGrid returns the quadrature behind the diffused funnel q_c, the funnel
// of dimension len(x) convolved with N(0, c·I) (the VE noising chain's marginal with c =
// the variance still to be added): given y_1 the diffused x_i are N(0, e^{y_1} + c), so
//
//	q_c(x) = ∫ N(x_1; y_1, c) N(y_1; 0, D−1) Π_{i≥2} N(x_i; 0, e^{y_1}+c) dy_1,
//
// integrated on a grid ys of spacing dy in y_1, with lw[k] the log of the integrand
// at ys[k] without its constant factors, mx their largest and ss = Σ_{i≥2} x_i².
func diffusedFunnelGrid(x []float32, c float64) (ys, lw []float64, dy, mx, ss float64) {
	v := float64(len(x) - 1)
	for _, xi := range x[1:] {
		ss += float64(xi) * float64(xi)
	}
	x1 := float64(x[0])
	if c < 0.05 { // N(x_1; y_1, c) is narrow: integrate around x_1
		dy = math.Sqrt(c) / 10
		for k := -60; k <= 60; k++ {
			ys = append(ys, x1+dy*float64(k))
		}
	} else {
		dy = 40.0 / 800
		for k := 0; k <= 800; k++ {
			ys = append(ys, -20+dy*float64(k))
		}
	}
	lw = make([]float64, len(ys))
	mx = math.Inf(-1)
	for k, y := range ys {
		s := math.Exp(y) + c
		lw[k] = -(x1-y)*(x1-y)/(2*c) - y*y/(2*v) - 0.5*v*math.Log(s) - 0.5*ss/s
		mx = math.Max(mx, lw[k])
	}
	return ys, lw, dy, mx, ss
}

// diffusedFunnelScore writes ∇log q_c(x) into g (q_c as in diffusedFunnelGrid).
func diffusedFunnelScore(g []float64, x []float32, c float64) {
	ys, lw, _, mx, _ := diffusedFunnelGrid(x, c)
	x1 := float64(x[0])
	z, a1, ai := 0.0, 0.0, 0.0
	for k, y := range ys {
		w := math.Exp(lw[k] - mx)
		z += w
		a1 -= w * (x1 - y) / c
		ai -= w / (math.Exp(y) + c)
	}
	g[0] = a1 / z
	for j := 1; j < len(x); j++ {
		g[j] = ai / z * float64(x[j])
	}
}

// logDiffusedFunnel returns log q_c(x) (q_c as in diffusedFunnelGrid), c > 0: the
// optimal value function of the VE chain is V*_t = −log q_{c_t} at τ = 1 (VGS.md A.3).
func logDiffusedFunnel(x []float32, c float64) float64 {
	_, lw, dy, mx, _ := diffusedFunnelGrid(x, c)
	z := 0.0
	for _, l := range lw {
		z += math.Exp(l - mx)
	}
	v := float64(len(x) - 1)
	return mx + math.Log(z*dy) - 0.5*math.Log(2*math.Pi*c) - 0.5*math.Log(2*math.Pi*v) - 0.5*v*math.Log(2*math.Pi)
}

// With almost no noise the diffused score is the funnel's own score −∇E.
func TestDiffusedFunnelScore(t *testing.T) {
	f, _ := targets.NewFunnel(10)
	rng := rand.New(rand.NewPCG(1, 1))
	x := f.Exact(20, rng)
	e := make([]float32, 20)
	ge := make([]float32, len(x))
	f.EnergyGrad(e, ge, x)
	g := make([]float64, 10)
	for r := 0; r < 20; r++ {
		diffusedFunnelScore(g, x[r*10:(r+1)*10], 1e-8)
		for j := range g {
			want := -float64(ge[r*10+j])
			if math.Abs(g[j]-want) > 1e-3*(1+math.Abs(want)) {
				t.Fatalf("row %d dim %d: diffused score %g, −∇E %g", r, j, g[j], want)
			}
		}
	}
}

// log q_c is the diffused score's potential: its finite differences give the score,
// and with almost no noise it is −E plus the funnel's log-normaliser, the same at every x.
func TestLogDiffusedFunnel(t *testing.T) {
	f, _ := targets.NewFunnel(10)
	x := f.Exact(20, rand.New(rand.NewPCG(2, 2)))
	e := make([]float32, 20)
	f.Energy(e, x)
	g := make([]float64, 10)
	var logZ float64
	for r := 0; r < 20; r++ {
		row := x[r*10 : (r+1)*10]
		if lz := logDiffusedFunnel(row, 1e-8) + float64(e[r]); r == 0 {
			logZ = lz
		} else if math.Abs(lz-logZ) > 1e-3 {
			t.Fatalf("row %d: log q + E = %g, row 0 gives %g", r, lz, logZ)
		}
		for _, c := range []float64{0.01, 1, 5} {
			diffusedFunnelScore(g, row, c)
			for j := range g {
				const h = 1e-3
				p, m := append([]float32(nil), row...), append([]float32(nil), row...)
				p[j] += h
				m[j] -= h
				fd := (logDiffusedFunnel(p, c) - logDiffusedFunnel(m, c)) / float64(p[j]-m[j])
				if math.Abs(fd-g[j]) > 2e-2*(1+math.Abs(g[j])) {
					t.Fatalf("row %d, c %g, dim %d: finite difference of log q %g, score %g", r, c, j, fd, g[j])
				}
			}
		}
	}
}

// TestFunnelOracleVGS runs the VGS chain of configs/funnel.yaml (VE, T = 30, quad
// 0.5 → 5e-4) with the exact optimal drift s2_t·∇log q̃_{t+1} in place of a learned
// value gradient (q̃_{t+1} the funnel diffused by the variance of the steps after t,
// the last step on −∇E clipped at E > 100 as the sampler does) and a fixed σ0, and
// logs the benchmark metrics on 10,000 samples: what a perfectly learned value
// function could reach with this schedule, and with wider ones and starts (the σ0 6 and
// 7 rows are where a learned σ0 goes with quad 2 → 5e-4). ADVGS_LONG=1 (10–25 s a row);
// ADVGS_FUNNEL_CONFIG=FILE runs that config's schedule instead (σ0 its default and 3).
func TestFunnelOracleVGS(t *testing.T) {
	if os.Getenv("ADVGS_LONG") == "" {
		t.Skip("set ADVGS_LONG=1")
	}
	f, _ := targets.NewFunnel(10)
	const D, n = 10, 10000
	type row struct {
		kind       string
		start, end float64
		sigma0     float64 // 0: the ve default √(1+Σs2)
		T          int     // 0: the paper's 30
	}
	rows := []row{
		{"quad", 0.5, 5e-4, 0, 0}, {"quad", 0.5, 5e-4, 3, 0}, {"quad", 2, 5e-4, 0, 0}, {"quad", 2, 5e-4, 6, 0}, {"quad", 2, 5e-4, 7, 0}, {"quad", 4, 5e-4, 0, 0},
		{"exp", 2, 1e-3, 0, 0}, {"exp", 5, 1e-3, 0, 0}, {"exp", 10, 1e-3, 0, 0},
		{"quad", 0.5, 5e-4, 0, 60}, {"quad", 0.5, 5e-4, 0, 100}, {"quad", 0.25, 5e-4, 0, 60}, {"quad", 1, 5e-4, 0, 60},
	}
	if path := os.Getenv("ADVGS_FUNNEL_CONFIG"); path != "" { // that config's schedule only
		cfg, err := bench.LoadConfig("funnel", path)
		if err != nil {
			t.Fatal(err)
		}
		sc := cfg.Sampler
		rows = []row{{sc.S2Schedule, sc.S2Start, sc.S2End, 0, sc.NStep}, {sc.S2Schedule, sc.S2Start, sc.S2End, 3, sc.NStep}}
	}
	for _, c := range rows {
		T := c.T
		if T == 0 {
			T = 30
		}
		s2, _ := vgs.MakeS2(c.kind, T, c.start, c.end)
		s0 := c.sigma0
		if s0 == 0 {
			s0 = vgs.InitSigma0("ve", s2)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		x := make([]float32, n*D)
		for i := range x {
			x[i] = float32(s0 * rng.NormFloat64())
		}
		exactFunnelSteps(f, x, 0, s2, rng)
		tvd, ds, m1, sd1 := funnelMetrics(f, x, rng)
		t.Logf("%s %g→%g T %d, σ0 %.3f: tvd_e %.4f delta_std %.4f, x1 mean %.2f std %.2f", c.kind, c.start, c.end, T, s0,
			tvd, ds, m1, sd1)
	}
}

// TestFunnelValueFit asks whether the default funnel sampler's value network (the
// radial deeperv2 of configs/funnel.yaml) can hold the optimal value function at all:
// it fits the network by plain regression to V*_t/D = −log q̃_t/D (logDiffusedFunnel)
// on 2,048 chains of states, then lets the sampler run its own chain (sampler.Sample,
// clamp and last step included) on that network and logs the benchmark metrics. The
// states come from the exact chain started 1.1·σ0 wide with step noise ×1.1 (the
// benchmark's noise_scale), or with ADVGS_FUNNEL_SAMPLER from that saved sampler's
// own chain. Adam at v_lr, decayed to v_lr/100 over the second half of 3,000 steps of
// 128. ADVGS_LONG=1 (about 40 s).
//
// Measured (session 20): fitted on the exact chain's states, TVD-E 0.236 / 0.230 /
// 0.241 from σ0 2.5 / 2.75 / 3 (the exact drift: 0.244 at 2.5, 0.224 at 3); fitted on
// the states of a trained sampler's chain (v_lr 3e-4, seed 0, TVD-E 0.373), 0.299 /
// 0.291 / 0.297. So this network can hold the exact chain's drift, and even the
// trained chain's states cover enough of the space to learn most of it from; TD
// learning (0.37–0.41) goes elsewhere, and TestFunnelObjective shows why it may: by
// VGS's own objective the exact chain is no better than the trained one.
func TestFunnelValueFit(t *testing.T) {
	if os.Getenv("ADVGS_LONG") == "" {
		t.Skip("set ADVGS_LONG=1")
	}
	cfg, err := bench.LoadConfig("funnel", "")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	s, err := vgs.New(cfg.Sampler, rng)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := targets.NewFunnel(10)
	const nc = 2048
	T := s.Config.NStep
	// V(·, j), j = 1..T−1, is trained on x_j and used at x_{j−1}: take both.
	var xs []float32
	var js []int
	if path := os.Getenv("ADVGS_FUNNEL_SAMPLER"); path != "" {
		ls, _, err := vgs.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := ls.Sample(nc, f, vgs.SampleOptions{FinalNoise: true}, rand.New(rand.NewPCG(5, 5)))
		if err != nil {
			t.Fatal(err)
		}
		for j := 1; j < T; j++ {
			xs, js = appendStates(xs, js, tr.States[j-1], j)
			xs, js = appendStates(xs, js, tr.States[j], j)
		}
		t.Logf("states of %s's chain (σ0 %.3f)", path, ls.InitSigma)
	} else {
		xs, js = exactChainStates(s, nc, rng)
	}
	fitFunnelValue(t, s, xs, js, rng)
	for _, s0 := range []float64{2.5, 2.75, 3} {
		s.InitSigma = s0
		r := rand.New(rand.NewPCG(1, 2))
		tr, err := s.Sample(10000, f, vgs.SampleOptions{FinalNoise: true}, r)
		if err != nil {
			t.Fatal(err)
		}
		tvd, ds, m1, sd1 := funnelMetrics(f, tr.States[T], r)
		t.Logf("fitted V, σ0 %.2f: tvd_e %.4f delta_std %.4f, x1 mean %.2f std %.2f", s0, tvd, ds, m1, sd1)
		if s0 == 3 && tvd > 0.32 {
			t.Errorf("σ0 3: TVD-E %.4f with the fitted value function, want < 0.32 (the exact drift gives 0.224)", tvd)
		}
	}
}

// TestFunnelTDFromOptimum starts TD learning at the optimum: it fits the default
// sampler's value network to V* on the exact chain's states (as TestFunnelValueFit)
// and hands it to the benchmark's own training loop (bench.Train, configs/funnel.yaml)
// after its first iteration, then logs the chain's metrics every 250 iterations on
// 10,000 samples of a separate stream. If TD learning kept a value it was given, the
// metrics would stay near the fitted network's. At the end it logs VGS's objective
// for the trained sampler and the exact chain (TestFunnelObjective). ADVGS_LONG=1
// (about 6 minutes);
// ADVGS_FUNNEL_CONFIG=FILE trains with that config instead of the default.
//
// Measured (session 20): with the default the run diverged at iteration 33 (V*'s
// steep neck throws the wider off-policy samples far out: an Inf energy). With
// sampler.clip_drift 3 added, the fitted chain's TVD-E 0.230 became 0.401 after 250
// iterations (x1 0.37 ± 1.27, as the learned default's), 0.35–0.46 up to iteration
// 1,250, and 0.766 at 1,500 (σ0 ran to 5.1): TD learning does not keep the exact
// chain's value; it moves to the same value it learns from scratch, which is lower by
// VGS's objective on this schedule (TestFunnelObjective). On T 60 with quad 1 → 5e-4,
// σ0 fixed at 4.65 and clip_drift 3 (ADVGS_FUNNEL_CONFIG), the fitted chain's 0.129
// became 0.363 after 250 iterations and 0.30–0.37 to the end, with J 1.369 against
// the exact chain's 3.867.
func TestFunnelTDFromOptimum(t *testing.T) {
	if os.Getenv("ADVGS_LONG") == "" {
		t.Skip("set ADVGS_LONG=1")
	}
	cfg, err := bench.LoadConfig("funnel", os.Getenv("ADVGS_FUNNEL_CONFIG"))
	if err != nil {
		t.Fatal(err)
	}
	fr := rand.New(rand.NewPCG(3, 4))
	fitted, err := vgs.New(cfg.Sampler, fr)
	if err != nil {
		t.Fatal(err)
	}
	xs, js := exactChainStates(fitted, 2048, fr)
	fitFunnelValue(t, fitted, xs, js, fr)
	f, _ := targets.NewFunnel(10)
	T := cfg.Sampler.NStep
	eval := func(s *vgs.Sampler) string {
		r := rand.New(rand.NewPCG(1, 2))
		tr, err := s.Sample(10000, f, vgs.SampleOptions{FinalNoise: true}, r)
		if err != nil {
			return err.Error()
		}
		tvd, ds, m1, sd1 := funnelMetrics(f, tr.States[T], r)
		return fmt.Sprintf("σ0 %.3f: tvd_e %.4f delta_std %.4f, x1 mean %.2f std %.2f", s.InitSigma, tvd, ds, m1, sd1)
	}
	if cfg.Sampler.ILR != nil {
		fitted.InitSigma = 2.75 // where the default's learned σ0 settles
	}
	t.Logf("fitted V: %s", eval(fitted))
	after := func(it int, s *vgs.Sampler, st vgs.TDStats) error {
		if it == 0 {
			nn.CopyParams(s.Online.Params(), fitted.Online.Params())
			nn.CopyParams(s.Target.Params(), fitted.Online.Params())
		}
		if it%250 == 249 {
			t.Logf("iteration %d, TD loss %.4g: %s", it+1, st.Loss, eval(s))
		}
		return nil
	}
	s, _, _, err := bench.Train(cfg, f, cfg.Training.NIter, rand.New(rand.NewPCG(0, 0)), bench.Options{AfterIter: after})
	if err != nil {
		t.Fatal(err)
	}
	logFunnelObjectives(t, s, s.InitSigma)
}

// TestFunnelObjective compares VGS's own training objective for a saved sampler and
// for the exact-drift chain from the same σ0: the KL divergence of the sampler's path
// from the target's, up to the constant log Z (VGS.md A.3, τ = 1, VE),
//
//	J = E[ log N(x_0; 0, σ0² I) + Σ_t ½‖μ_t‖²/s2_t + E(x_T) ],
//
// on 10,000 chains each (E unclamped, the last step's drift as the sampler takes it),
// with its three parts and the chain's TVD-E. If the trained sampler's J is below the
// exact chain's, its training found a better point of its objective than the exact
// drift is, and the objective, not the optimiser, keeps it from the exact chain's
// metrics; if above, the optimiser stopped short. ADVGS_FUNNEL_SAMPLER names the
// sampler (a saved `bench funnel --save`); about a minute.
//
// Measured (session 20), J learned / exact drift at the learned σ0 (TVD-E): the
// default schedule, seed 0 at v_lr 3e-4: 1.287 (0.360) / 3.114 (0.230), and with 3,000
// iterations 1.138 / 3.350: the trained sampler is 1.8–2.2 nats better by its own
// objective than the exact drift, which pays for keeping samples in the neck with
// Gaussian steps (TestFunnelBellmanResidual). T 60 with quad 0.25 → 5e-4, seeds 0 / 1:
// 1.126 / 1.072 and 1.044 / 1.320, equal within the noise, with TVD-E 0.36–0.39 against
// 0.22–0.23. T 60 with quad 1 → 5e-4 and σ0 fixed at 4.65, whose exact chain meets
// the target (TVD-E 0.140, J 3.867): trained with clip_drift 1, J 1.376 (TVD-E
// 0.384); with clip_drift 3 training went wrong, J 105.5 (velocity 104, TVD-E 0.484).
// So wherever training is stable the trained sampler is at least as good as the exact
// chain by the objective VGS minimises: what separates it from the TVD-E limit is not
// the optimiser stopping short but the objective, under which the exact chain pays
// for its Gaussian steps in the neck (TestFunnelBellmanResidual).
func TestFunnelObjective(t *testing.T) {
	s := loadFunnelSampler(t)
	logFunnelObjectives(t, s, s.InitSigma, 3)
}

// loadFunnelSampler loads the sampler named by ADVGS_FUNNEL_SAMPLER (a saved `advgs
// bench funnel --save`), skipping the test when it is not set and failing unless it is
// a 10-D VE chain at τ = 1, as configs/funnel.yaml makes.
func loadFunnelSampler(t *testing.T) *vgs.Sampler {
	t.Helper()
	path := os.Getenv("ADVGS_FUNNEL_SAMPLER")
	if path == "" {
		t.Skip("set ADVGS_FUNNEL_SAMPLER to a sampler saved by advgs bench funnel --save")
	}
	s, _, err := vgs.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg := s.Config; cfg.Dim() != 10 || cfg.AlphaMethod != "ve" || cfg.Tau != 1 {
		t.Fatalf("%s: want a 10-D VE sampler at τ 1 of the funnel, got dim %d, alpha %s, τ %g", path, cfg.Dim(), cfg.AlphaMethod, cfg.Tau)
	}
	return s
}

// logFunnelObjectives logs VGS's objective J (see TestFunnelObjective) of the sampler
// s and of the exact-drift chain of its schedule from each σ0 of exact, on 10,000
// chains each.
func logFunnelObjectives(t *testing.T, s *vgs.Sampler, exact ...float64) {
	f, _ := targets.NewFunnel(10)
	const D, n = 10, 10000
	T := s.Config.NStep
	objective := func(name string, x0, xT []float32, vel []float64, s0 float64) {
		var lq, v, e float64
		ev := make([]float32, n)
		f.Energy(ev, xT)
		for i := 0; i < n; i++ {
			ss := 0.0
			for _, u := range x0[i*D : (i+1)*D] {
				ss += float64(u) * float64(u)
			}
			lq += (-0.5*D*math.Log(2*math.Pi*s0*s0) - 0.5*ss/(s0*s0)) / n
			v += vel[i] / n
			e += float64(ev[i]) / n
		}
		tvd, _, m1, sd1 := funnelMetrics(f, xT, rand.New(rand.NewPCG(8, 8)))
		t.Logf("%s, σ0 %.3f: J %.3f = log q0 %.3f + velocity %.3f + energy %.3f; tvd_e %.4f, x1 %.2f ± %.2f",
			name, s0, lq+v+e, lq, v, e, tvd, m1, sd1)
	}
	tr, err := s.Sample(n, f, vgs.SampleOptions{FinalNoise: true}, rand.New(rand.NewPCG(7, 7)))
	if err != nil {
		t.Fatal(err)
	}
	vel := make([]float64, n)
	for step := 0; step < T; step++ {
		for i := 0; i < n; i++ {
			for _, m := range tr.Mus[step][i*D : (i+1)*D] {
				vel[i] += 0.5 * float64(m) * float64(m) / s.S2[step]
			}
		}
	}
	objective("learned", tr.States[0], tr.States[T], vel, s.InitSigma)
	for _, s0 := range exact {
		rng := rand.New(rand.NewPCG(7, 8))
		x := make([]float32, n*D)
		for i := range x {
			x[i] = float32(s0 * rng.NormFloat64())
		}
		x0 := append([]float32(nil), x...)
		vel := make([]float64, n)
		for step := 0; step < T; step++ {
			exactFunnelStep(f, x, step, s.S2, 1, vel, rng)
		}
		objective("exact drift", x0, x, vel, s0)
	}
}

// exactChainStates runs nc exact-drift chains of s's schedule, started 1.1·σ0 wide
// with step noise ×1.1 (the benchmark's noise_scale), and returns x_0 with time index
// 0 and, for each j = 1..T−1, the states x_{j−1} and x_j with time index j: V(·, j)
// is trained on x_j and its gradient used at x_{j−1}.
func exactChainStates(s *vgs.Sampler, nc int, rng *rand.Rand) (xs []float32, js []int) {
	f, _ := targets.NewFunnel(10)
	x := make([]float32, nc*f.Dim())
	for i := range x {
		x[i] = float32(1.1 * s.InitSigma * rng.NormFloat64())
	}
	xs, js = appendStates(xs, js, x, 0) // V(·, 0) is not a drift but σ0's gradient goes through it
	for j := 1; j < s.Config.NStep; j++ {
		xs, js = appendStates(xs, js, x, j)
		exactFunnelStep(f, x, j-1, s.S2, 1.1, nil, rng)
		xs, js = appendStates(xs, js, x, j)
	}
	return xs, js
}

// appendStates appends the 10-D rows of x to xs, each with the time index j in js.
func appendStates(xs []float32, js []int, x []float32, j int) ([]float32, []int) {
	xs = append(xs, x...)
	for range len(x) / 10 {
		js = append(js, j)
	}
	return xs, js
}

// fitFunnelValue fits s's online network by regression to V*_j/D = −log q̃_j/D at the
// states xs (rows of D values) with time indices js, with Adam at v_lr for 1,500
// steps of 128 and then down linearly to v_lr/100 over 1,500 more (at a fixed rate
// Adam ends on a spike of the loss as often as not), and copies it into the target.
func fitFunnelValue(t *testing.T, s *vgs.Sampler, xs []float32, js []int, rng *rand.Rand) {
	t.Helper()
	const D = 10
	c := remainingVariance(s.S2)
	y := make([]float32, len(js))
	for i, j := range js {
		y[i] = float32(-logDiffusedFunnel(xs[i*D:(i+1)*D], c[j]) / D)
	}
	const B, steps = 128, 3000
	opt := nn.NewAdam(s.Online.Params(), s.Config.VLR)
	bx, by, bt := make([]float32, B*D), make([]float32, B), make([]int, B)
	sum := 0.0
	for it := 1; it <= steps; it++ {
		opt.LR = s.Config.VLR * min(1, 1-0.99*float64(2*it-steps)/float64(steps))
		for b := range B {
			k := rng.IntN(len(js))
			copy(bx[b*D:(b+1)*D], xs[k*D:(k+1)*D])
			by[b], bt[b] = y[k], js[k]
		}
		l, grads, err := s.Online.LossGrad(bx, bt, by, nn.L2, 1)
		if err != nil {
			t.Fatal(err)
		}
		opt.Step(grads)
		if sum += l; it%500 == 0 {
			t.Logf("step %d: regression loss %.5f", it, sum/500)
			sum = 0
		}
	}
	nn.CopyParams(s.Target.Params(), s.Online.Params())
}

// TestFunnelBellmanResidual measures how far the optimal value function V*_t =
// −log q̃_t is from being a fixed point of VGS's TD equation (VGS.md A.4, τ = 1, VE):
//
//	R_t(x) = ½‖μ*‖²/s2_t + E_ε V*_{t+1}(x − μ* + σ_t ε) − V*_t(x),  μ* = −s2_t ∇log q̃_{t+1}(x),
//
// on the exact chain's states of the default schedule (V*_T = −log p, not clamped at
// 100 as the TD target is: the clamp lowers values, and R ≥ 0 holds for the true
// target; the last step's drift is the sampler's, 0 where E > 100), the expectation
// over 32 draws with the linear term of V*_{t+1} as a control variate. R_t ≥ 0 in
// expectation (Donsker–Varadhan: −log E_0 e^{−V*_{t+1}} = V*_t is the least value over
// all step kernels, the Gaussian mean shifts included), and it is 0 only where the
// optimal step kernel is Gaussian with the chain's variance. It logs,
// per step, the mean of R by region of x_1 and the quartiles in the neck (x_1 < −2),
// and fails if a step's mean over all states is clearly negative (a wrong V* or score).
// ADVGS_LONG=1 (about a minute); ADVGS_FUNNEL_CONFIG=FILE takes the schedule from a
// funnel config file instead of the default.
//
// Measured (session 20): in the middle and the mouth R is 0.00–0.05 a step; in the
// neck its median grows from 0.03 at step 0 to 0.07–0.26 at steps 10–25 (where s2_t,
// 0.12 → 0.014, is as wide as the neck's own variance e^{x_1}), 2.9 summed over the
// chain, with a heavy tail at the last steps (means 0.8–8 at steps 26–29; summed means
// 19.6 | 0.8 | 0.3 | 0.2 by region). So V* sits below what VGS's Gaussian steps can
// reach in the neck, and TD, which evaluates the policy it follows, sees the neck as
// dearer than V* does: the same sign as a trained sampler's error there
// (TestFunnelDriftProfile) and why TD started at V* leaves it
// (TestFunnelTDFromOptimum): on this schedule the trained sampler beats the exact
// chain by VGS's objective (TestFunnelObjective). T = 60 with quad 0.25 → 5e-4 (the
// same total variance, oracle TVD-E 0.248) cuts the neck's residual (summed means 1.9 |
// 0.3 | 0.1 | 0.1, median 1.1 instead of 2.9); there the two chains are equal by the
// objective, and the learned one still ends at TVD-E 0.365 / 0.387 / 0.367 on seeds
// 0–2 (default 0.373 / 0.396 / 0.406), its value +0.5–0.7 high in the neck at step 1.
func TestFunnelBellmanResidual(t *testing.T) {
	if os.Getenv("ADVGS_LONG") == "" {
		t.Skip("set ADVGS_LONG=1")
	}
	cfg, err := bench.LoadConfig("funnel", os.Getenv("ADVGS_FUNNEL_CONFIG"))
	if err != nil {
		t.Fatal(err)
	}
	sc := cfg.Sampler
	T := sc.NStep
	s2, err := vgs.MakeS2(sc.S2Schedule, T, sc.S2Start, sc.S2End)
	if err != nil {
		t.Fatal(err)
	}
	c := remainingVariance(s2) // V*_t = −log q_{c[t]}
	f, _ := targets.NewFunnel(10)
	const D, n, m = 10, 300, 32
	// log q_{c→0} + E is the funnel's log-normaliser: V*_T = −log p = E − logNorm.
	e1 := make([]float32, 1)
	ex := f.Exact(1, rand.New(rand.NewPCG(1, 1)))
	f.Energy(e1, ex)
	logNorm := logDiffusedFunnel(ex, 1e-8) + float64(e1[0])
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float32, n*D)
	for i := range x {
		x[i] = float32(2.75 * rng.NormFloat64()) // σ0 of the trained default
	}
	g, gs := make([]float64, D), make([]float64, D)
	y, mx := make([]float32, D), make([]float32, D)
	ev, ge := make([]float32, 1), make([]float32, D)
	var total [4]float64 // Σ_t of each region's mean R
	medians := 0.0       // Σ_t of the neck's median R
	for step := 0; step < T; step++ {
		var sum, cnt [4]float64
		var neck []float64
		for i := 0; i < n; i++ {
			row := x[i*D : (i+1)*D]
			if step == T-1 {
				f.EnergyGrad(ev, ge, row)
			}
			exactFunnelDrift(g, row, step, s2, ev[0], ge) // −μ*
			r := logDiffusedFunnel(row, c[step])          // −V*_t(x)
			for _, u := range g {
				r += 0.5 * u * u / s2[step] // the velocity ½‖μ*‖²/s2
			}
			for j := range mx {
				mx[j] = float32(float64(row[j]) + g[j])
			}
			if step < T-1 {
				diffusedFunnelScore(gs, mx, c[step+1])
			} else {
				f.EnergyGrad(ev, ge, mx)
				for j := range gs {
					gs[j] = -float64(ge[j])
				}
			}
			sd := math.Sqrt(s2[step])
			for range m {
				lin := 0.0
				for j := range y {
					e := rng.NormFloat64()
					y[j] = float32(float64(mx[j]) + sd*e)
					lin += sd * e * gs[j]
				}
				var vn float64
				if step < T-1 {
					vn = -logDiffusedFunnel(y, c[step+1])
				} else {
					f.Energy(ev, y)
					vn = float64(ev[0]) - logNorm
				}
				r += (vn + lin) / m
			}
			a := x1Band(row[0])
			sum[a] += r
			cnt[a]++
			if a == 0 {
				neck = append(neck, r)
			}
		}
		all := (sum[0] + sum[1] + sum[2] + sum[3]) / n
		line := fmt.Sprintf("step %2d s2 %.4f: mean R %+.3f; by x1 < −2 | −2..0 | 0..2 | > 2:", step, s2[step], all)
		for a := range sum {
			line += fmt.Sprintf(" %+.3f (%3.0f)", sum[a]/max(cnt[a], 1), cnt[a])
			total[a] += sum[a] / max(cnt[a], 1)
		}
		if len(neck) > 0 {
			slices.Sort(neck)
			q := func(p float64) float64 { return neck[int(p*float64(len(neck)-1))] }
			line += fmt.Sprintf("; neck quartiles %.3f %.3f %.3f", q(0.25), q(0.5), q(0.75))
			medians += q(0.5)
		}
		t.Log(line)
		if all < -0.02 {
			t.Errorf("step %d: mean Bellman residual of V* %.4f, want ≥ 0", step, all)
		}
		if step < T-1 {
			exactFunnelStep(f, x, step, s2, 1, nil, rng)
		}
	}
	t.Logf("summed over the steps: mean R by region %+.2f | %+.2f | %+.2f | %+.2f; the neck's median %.2f",
		total[0], total[1], total[2], total[3], medians)
}

// remainingVariance returns c with c[j] = Σ_{k ≥ j} s2_k (c[T] = 0): the noise still
// to come before step j, so that the optimal value is V*_j = −log q_{c[j]}.
func remainingVariance(s2 []float64) []float64 {
	c := make([]float64, len(s2)+1)
	for j := len(s2) - 1; j >= 0; j-- {
		c[j] = c[j+1] + s2[j]
	}
	return c
}

// x1Band returns 0 for the neck (x_1 < −2), 1 for −2..0, 2 for 0..2 and 3 for the
// mouth (x_1 > 2).
func x1Band(x1 float32) int {
	b := 0
	for _, edge := range []float32{-2, 0, 2} {
		if x1 > edge {
			b++
		}
	}
	return b
}

// exactFunnelSteps moves the rows of x (VE chain, τ = 1) through steps from..T−1 of
// the schedule s2 with the exact optimal drift: s2_t times the score of the funnel
// diffused by the variance of the steps after t, and at the last step −∇E, zero where
// E > 100 (the sampler's clamp at clip_energy 100).
func exactFunnelSteps(f *targets.Funnel, x []float32, from int, s2 []float64, rng *rand.Rand) {
	for step := from; step < len(s2); step++ {
		exactFunnelStep(f, x, step, s2, 1, nil, rng)
	}
}

// exactFunnelStep moves the rows of x through step `step` of the schedule s2 with the
// exact optimal drift (exactFunnelDrift) and the step's noise scaled by ns, and, when
// vel is not nil, adds each row's velocity ½‖μ*‖²/s2_t to vel.
func exactFunnelStep(f *targets.Funnel, x []float32, step int, s2 []float64, ns float64, vel []float64, rng *rand.Rand) {
	D := f.Dim()
	n := len(x) / D
	g := make([]float64, D)
	var ev, ge []float32
	if step == len(s2)-1 {
		ev, ge = make([]float32, n), make([]float32, len(x))
		f.EnergyGrad(ev, ge, x)
	}
	for i := 0; i < n; i++ {
		row := x[i*D : (i+1)*D]
		if ev != nil {
			exactFunnelDrift(g, row, step, s2, ev[i], ge[i*D:(i+1)*D])
		} else {
			exactFunnelDrift(g, row, step, s2, 0, nil)
		}
		for j := range row {
			if vel != nil {
				vel[i] += 0.5 * g[j] * g[j] / s2[step]
			}
			row[j] = float32(float64(row[j]) + g[j] + ns*math.Sqrt(s2[step])*rng.NormFloat64())
		}
	}
}

// exactFunnelDrift writes the exact optimal drift −μ*_t at x into g: s2_t·∇log q̃_{t+1}(x)
// before the last step, and at the last step (where e and ge are E(x) and ∇E(x))
// −s2_t·∇E, zero where E > 100.
func exactFunnelDrift(g []float64, x []float32, step int, s2 []float64, e float32, ge []float32) {
	if step < len(s2)-1 {
		diffusedFunnelScore(g, x, remainingVariance(s2)[step+1])
	} else {
		for j := range g {
			g[j] = -float64(ge[j])
			if e > 100 {
				g[j] = 0
			}
		}
	}
	for j := range g {
		g[j] *= s2[step]
	}
}

// funnelMetrics returns the benchmark's TVD-E and Δstd of the samples x against as
// many exact samples drawn from rng, and the mean and std of x_1.
func funnelMetrics(f *targets.Funnel, x []float32, rng *rand.Rand) (tvd, ds, m1, sd1 float64) {
	D := f.Dim()
	n := len(x) / D
	ref := f.Exact(n, rng)
	eg, er := make([]float64, n), make([]float64, n)
	e32 := make([]float32, n)
	f.Energy(e32, x)
	for i, v := range e32 {
		eg[i] = float64(v)
	}
	f.Energy(e32, ref)
	for i, v := range e32 {
		er[i] = float64(v)
	}
	var v1 float64
	for i := 0; i < n; i++ {
		m1 += float64(x[i*D]) / float64(n)
	}
	for i := 0; i < n; i++ {
		v1 += (float64(x[i*D]) - m1) * (float64(x[i*D]) - m1) / float64(n-1)
	}
	return metrics.TVDEnergy(eg, er), metrics.DeltaStd(x, f.RefStd()), m1, math.Sqrt(v1)
}

// TestFunnelDriftProfile compares a trained funnel sampler's drifts with the exact
// optimal ones along its own chain (10,000 samples), step by step, for x_1 and for the
// block x_2..x_10 separately and by where x_1 is (neck x_1 < −2, middle, mouth x_1 > 2):
// the RMS of the learned drift, of the exact one and of their difference. It compares
// the learned value function with the optimal one, V*_j = −log q̃_j, by region (session
// 20, seed 0 of the default with v_lr 3e-4, TVD-E 0.373: from step 1 to 15 the learned
// V is 0.8–1.3 too high in the neck, x_1 < −2, and 0.2–0.3 too low for x_1 > 0, against
// its mean; the slope pushes x_1 up; by step 25 the error is within ±0.2). It then
// continues the learned chain's states after k steps with the exact drift to the end
// (k = 0: the learned σ0 with exact drifts; k = T: the learned chain), to show which
// steps cost the most. ADVGS_FUNNEL_SAMPLER names a sampler saved by
// `advgs bench funnel --save` (a VE chain at τ = 1, as configs/funnel.yaml); a few minutes.
func TestFunnelDriftProfile(t *testing.T) {
	s := loadFunnelSampler(t)
	cfg := s.Config
	f, _ := targets.NewFunnel(10)
	const D, n = 10, 10000
	T := cfg.NStep
	tr, err := s.Sample(n, f, vgs.SampleOptions{FinalNoise: true}, rand.New(rand.NewPCG(7, 7)))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("σ0 %.3f", s.InitSigma)
	ev, ge := make([]float32, n), make([]float32, n*D)
	g := make([]float64, D)
	for step := 0; step < T; step++ {
		x := tr.States[step]
		if step == T-1 {
			f.EnergyGrad(ev, ge, x)
		}
		// [region][0: x1, 1: x2..x10] sums of squares of learned, exact, difference
		var learned, exact, miss [3][2]float64
		var cnt, lm, em [3]float64 // count, mean learned and exact x1 drift
		for i := 0; i < n; i++ {
			row := x[i*D : (i+1)*D]
			exactFunnelDrift(g, row, step, s.S2, ev[i], ge[i*D:(i+1)*D])
			r := 1
			if row[0] < -2 {
				r = 0
			} else if row[0] > 2 {
				r = 2
			}
			cnt[r]++
			lm[r] -= float64(tr.Mus[step][i*D])
			em[r] += g[0]
			for j := range g {
				k := min(j, 1)
				l := -float64(tr.Mus[step][i*D+j])
				learned[r][k] += l * l
				exact[r][k] += g[j] * g[j]
				miss[r][k] += (l - g[j]) * (l - g[j])
			}
		}
		line := fmt.Sprintf("step %2d s2 %.4f, mean learned/exact x1 drift; RMS learned/exact/difference, x1 | x2..x10:", step, s.S2[step])
		for r, name := range []string{"neck", "middle", "mouth"} {
			if cnt[r] == 0 {
				continue
			}
			c := cnt[r]
			line += fmt.Sprintf("  %s (%.0f) %+.3f/%+.3f; %.3f/%.3f/%.3f | %.3f/%.3f/%.3f", name, c, lm[r]/c, em[r]/c,
				math.Sqrt(learned[r][0]/c), math.Sqrt(exact[r][0]/c), math.Sqrt(miss[r][0]/c),
				math.Sqrt(learned[r][1]/(9*c)), math.Sqrt(exact[r][1]/(9*c)), math.Sqrt(miss[r][1]/(9*c)))
		}
		t.Log(line)
	}
	// The learned value against the optimal one, V(·, j)·D − V*_j on the chain's x_j,
	// less its mean over the chain (values are defined up to a constant per step),
	// by region of x_1 and band of r = ‖x_2..x_10‖.
	c := remainingVariance(s.S2) // V*_j = −log q_{c[j]}
	v, ts := make([]float32, n), make([]int, n)
	scale := 1.0
	if cfg.ScaleWithD {
		scale = D
	}
	for _, j := range []int{1, 3, 6, 10, 15, 20, 25, T - 1} {
		x := tr.States[j]
		for i := range ts {
			ts[i] = j
		}
		if err := s.Target.Forward(v, x, ts); err != nil {
			t.Fatal(err)
		}
		d := make([]float64, n)
		mean := 0.0
		for i := range d {
			d[i] = float64(v[i])*scale + logDiffusedFunnel(x[i*D:(i+1)*D], c[j])
			mean += d[i] / n
		}
		var sum, cnt [4][3]float64 // x_1 < −2, −2..0, 0..2, > 2 × r < 3, 3..6, > 6
		for i := range d {
			row := x[i*D : (i+1)*D]
			a := x1Band(row[0])
			ss := 0.0
			for _, u := range row[1:] {
				ss += float64(u) * float64(u)
			}
			b := 0
			if r := math.Sqrt(ss); r > 6 {
				b = 2
			} else if r > 3 {
				b = 1
			}
			sum[a][b] += d[i] - mean
			cnt[a][b]++
		}
		line := fmt.Sprintf("step %2d: V·D − V* less its mean (count), x1 < −2 | −2..0 | 0..2 | > 2, each r < 3, 3..6, > 6:", j)
		for a := range sum {
			line += " |"
			for b := range sum[a] {
				if cnt[a][b] < 20 {
					line += "  .         "
				} else {
					line += fmt.Sprintf(" %+.2f (%4.0f)", sum[a][b]/cnt[a][b], cnt[a][b])
				}
			}
		}
		t.Log(line)
	}
	for _, k := range []int{0, 1, 2, 3, 5, 8, 12, 16, 20, 24, 27, 29, T} {
		if k > T {
			continue
		}
		x := append([]float32(nil), tr.States[k]...)
		rng := rand.New(rand.NewPCG(9, uint64(k)))
		exactFunnelSteps(f, x, k, s.S2, rng)
		tvd, ds, m1, sd1 := funnelMetrics(f, x, rng)
		t.Logf("learned steps 0..%d, then exact: tvd_e %.4f delta_std %.4f x1 mean %.2f std %.2f", k-1, tvd, ds, m1, sd1)
	}
}
