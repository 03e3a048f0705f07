package targets_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/advgs/advgs/vgs"
	"github.com/advgs/advgs/vgs/metrics"
	"github.com/advgs/advgs/vgs/targets"
)

// diffusedFunnelScore writes ∇log q_c(x) into g, where q_c is the funnel of dimension
// len(x) convolved with N(0, c·I) (the VE noising chain's marginal with c = the
// variance still to be added). Given y_1 the diffused x_i are N(0, e^{y_1} + c), so
// q_c(x) = ∫ N(x_1; y_1, c) N(y_1; 0, D−1) Π_i N(x_i; 0, e^{y_1}+c) dy_1, integrated
// on a grid in y_1.
func diffusedFunnelScore(g []float64, x []float32, c float64) {
	D := len(x)
	v := float64(D - 1)
	ss := 0.0
	for _, xi := range x[1:] {
		ss += float64(xi) * float64(xi)
	}
	x1 := float64(x[0])
	var ys []float64
	if c < 0.05 { // N(x_1; y_1, c) is narrow: integrate around x_1
		for k := -60; k <= 60; k++ {
			ys = append(ys, x1+math.Sqrt(c)*float64(k)/10)
		}
	} else {
		for k := 0; k <= 800; k++ {
			ys = append(ys, -20+40*float64(k)/800)
		}
	}
	lw := make([]float64, len(ys))
	mx := math.Inf(-1)
	for k, y := range ys {
		s := math.Exp(y) + c
		lw[k] = -(x1-y)*(x1-y)/(2*c) - y*y/(2*v) - 0.5*v*math.Log(s) - 0.5*ss/s
		mx = math.Max(mx, lw[k])
	}
	z, a1, ai := 0.0, 0.0, 0.0
	for k, y := range ys {
		w := math.Exp(lw[k] - mx)
		z += w
		a1 -= w * (x1 - y) / c
		ai -= w / (math.Exp(y) + c)
	}
	g[0] = a1 / z
	for j := 1; j < D; j++ {
		g[j] = ai / z * float64(x[j])
	}
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

// TestFunnelOracleVGS runs the VGS chain of configs/funnel.yaml (VE, T = 30, quad
// 0.5 → 5e-4) with the exact optimal drift s2_t·∇log q̃_{t+1} in place of a learned
// value gradient (q̃_{t+1} the funnel diffused by the variance of the steps after t,
// the last step on −∇E clipped at E > 100 as the sampler does) and a fixed σ0, and
// logs the benchmark metrics on 10,000 samples: what a perfectly learned value
// function could reach with this schedule, and with wider ones and starts (the σ0 6 and
// 7 rows are where a learned σ0 goes with quad 2 → 5e-4). ADVGS_LONG=1 (10–25 s a row).
func TestFunnelOracleVGS(t *testing.T) {
	if os.Getenv("ADVGS_LONG") == "" {
		t.Skip("set ADVGS_LONG=1")
	}
	f, _ := targets.NewFunnel(10)
	const D, n = 10, 10000
	for _, c := range []struct {
		kind       string
		start, end float64
		sigma0     float64 // 0: the ve default √(1+Σs2)
	}{
		{"quad", 0.5, 5e-4, 0}, {"quad", 0.5, 5e-4, 3}, {"quad", 2, 5e-4, 0}, {"quad", 2, 5e-4, 6}, {"quad", 2, 5e-4, 7}, {"quad", 4, 5e-4, 0},
		{"exp", 2, 1e-3, 0}, {"exp", 5, 1e-3, 0}, {"exp", 10, 1e-3, 0},
	} {
		s2, _ := vgs.MakeS2(c.kind, 30, c.start, c.end)
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
		t.Logf("%s %g→%g, σ0 %.3f: tvd_e %.4f delta_std %.4f, x1 mean %.2f std %.2f", c.kind, c.start, c.end, s0,
			tvd, ds, m1, sd1)
	}
}

// exactFunnelSteps moves the rows of x (VE chain, τ = 1) through steps from..T−1 of
// the schedule s2 with the exact optimal drift: s2_t times the score of the funnel
// diffused by the variance of the steps after t, and at the last step −∇E, zero where
// E > 100 (the sampler's clamp at clip_energy 100).
func exactFunnelSteps(f *targets.Funnel, x []float32, from int, s2 []float64, rng *rand.Rand) {
	D := f.Dim()
	n := len(x) / D
	g := make([]float64, D)
	ge := make([]float32, len(x))
	ev := make([]float32, n)
	T := len(s2)
	for step := from; step < T; step++ {
		if step == T-1 {
			f.EnergyGrad(ev, ge, x)
		}
		for i := 0; i < n; i++ {
			row := x[i*D : (i+1)*D]
			exactFunnelDrift(g, row, step, s2, ev[i], ge[i*D:(i+1)*D])
			for j := range row {
				row[j] = float32(float64(row[j]) + g[j] + math.Sqrt(s2[step])*rng.NormFloat64())
			}
		}
	}
}

// exactFunnelDrift writes the exact optimal drift −μ*_t at x into g: s2_t·∇log q̃_{t+1}(x)
// before the last step, and at the last step (where e and ge are E(x) and ∇E(x))
// −s2_t·∇E, zero where E > 100.
func exactFunnelDrift(g []float64, x []float32, step int, s2 []float64, e float32, ge []float32) {
	T := len(s2)
	if step < T-1 {
		rest := 0.0
		for k := step + 1; k < T; k++ {
			rest += s2[k]
		}
		diffusedFunnelScore(g, x, rest)
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
// the RMS of the learned drift, of the exact one and of their difference. It then
// continues the learned chain's states after k steps with the exact drift to the end
// (k = 0: the learned σ0 with exact drifts; k = T: the learned chain), to show which
// steps cost the most. ADVGS_FUNNEL_SAMPLER names a sampler saved by
// `advgs bench funnel --save` (a VE chain at τ = 1, as configs/funnel.yaml); a few minutes.
func TestFunnelDriftProfile(t *testing.T) {
	path := os.Getenv("ADVGS_FUNNEL_SAMPLER")
	if path == "" {
		t.Skip("set ADVGS_FUNNEL_SAMPLER to a sampler saved by advgs bench funnel --save")
	}
	s, _, err := vgs.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.Config
	if cfg.Dim() != 10 || cfg.AlphaMethod != "ve" || cfg.Tau != 1 {
		t.Fatalf("%s: want a 10-D VE sampler at τ 1 of the funnel, got dim %d, alpha %s, τ %g", path, cfg.Dim(), cfg.AlphaMethod, cfg.Tau)
	}
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
