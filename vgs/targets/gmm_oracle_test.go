package targets_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/advgs/advgs/vgs"
	"github.com/advgs/advgs/vgs/metrics"
	"github.com/advgs/advgs/vgs/targets"
)

// TestGMMOracleVGS runs the VGS chain of the paper's GMM schedule (VP, T = 20, quad
// 0.2 → 0.1) and of others with the exact optimal drift s2_t·α_t²·∇log q̃_{t+1}(α_t x_t) in place of a
// learned value gradient, and logs the benchmark metrics on 10,000 samples: what a
// perfectly learned value function could reach with this schedule. q̃_{t+1}, the
// mixture noised by the VP steps after t, is again a mixture: component means
// scaled by Π√(1−s2_j), variances v ← (1−s2_j)·v + s2_j.
//
// Measured (10,000 samples, σ0 = 1 / 1.28 / 1.5 / 2 / 3 / 4): TVD-E 0.078 / 0.082 /
// 0.081 / 0.076 / 0.076 / 0.074, mode mass error 0.030 / 0.011 / 0.009 / 0.034 /
// 0.066 / 0.081. The exact diffused score is the optimum only in the limit of small
// steps: with s2 0.1–0.2 the learned VGS chain (TVD-E 0.054–0.079, README) does
// better on TVD-E; a likely reason is that a learned value at T−1 can make up for
// the last step, a large step on the true energy, which the exact diffused score
// ignores. Its mode masses (0.023–0.071) are where it falls short of exact values.
//
// The last steps set the width of the modes: a step of variance s2_{T−1} = 0.1, a
// third of a mode's 0.3, is too coarse for a Gaussian step to shape it. With a
// smaller s2_end (σ0 the std of q̃_0, session 16) the exact drift's TVD-E falls
// towards the floor: s2_end 0.1 / 0.05 / 0.02 / 0.01 give 0.083 / 0.059 / 0.051 /
// 0.049 (mode mass 0.010 / 0.012 / 0.025 / 0.037: less total noise leaves q̃_0 further
// from the Gaussian start); quad 0.3 → 0.01 0.058 / 0.013, T = 30 quad 0.2 → 0.01
// 0.056 / 0.014. configs/gmm.yaml uses 0.2 → 0.02 since session 16.
// Session 17, over four noise streams (ADVGS_ORACLE_STREAMS=4): quad
// 0.2 → 0.02 with T = 20 leaves the exact-drift chain at mode mass 0.023–0.032 and Δstd
// 0.12–0.145, at the benchmark's limits (0.03 / 0.15) before any learning error: q̃_0 is
// too far from a Gaussian start. More total noise helps the split: T = 25 0.011–0.018 /
// 0.055–0.082, T = 30 0.007–0.011 / 0.040–0.054, quad 0.3 → 0.02 at T = 20 0.010–0.021 /
// 0.061–0.082; TVD-E stays 0.048–0.062 in all of them.
// Session 18: the limit was the start's width, not the schedule. Those rows start
// from a Gaussian as wide as q̃_0 (σ0 1.75 for the default); a wider one holds the
// split far better with the same schedule: σ0 1.5 / 1.9 / 2.0 / 2.1 / 2.3 give mode
// mass 0.057–0.068 / 0.008–0.015 / 0.004–0.006 / 0.006–0.011 / 0.017–0.024 and Δstd
// 0.28–0.30 / 0.049–0.071 / 0.009–0.025 / 0.021–0.043 / 0.095–0.122 (TVD-E 0.047–0.059
// at σ0 2.0). q̃_0 is a mixture of nine overlapping components, and a Gaussian of its
// own std gives its outer basins too little mass. Schedules: linear and sigmoid
// 0.2 → 0.02 at T = 20 give 0.014–0.022 / 0.075–0.098 at q̃_0's std.
// The σ0 = 1.5 row is checked on every run; the others with ADVGS_LONG=1.
func TestGMMOracleVGS(t *testing.T) {
	g, _ := targets.NewGMM("grid")
	const D, n = 2, 10000
	type row struct {
		start, end float64
		T          int
		sigma0     float64 // 0: the std of q̃_0
		kind       string  // the s2 schedule; "" is quad
	}
	rows := []row{{0.2, 0.1, 20, 1.5, ""}}
	// ADVGS_ORACLE_STREAMS=N repeats every row on the noise streams 1..N.
	streams := uint64(1)
	if v := os.Getenv("ADVGS_ORACLE_STREAMS"); v != "" {
		k, err := strconv.Atoi(v)
		if err != nil || k < 1 {
			t.Fatalf("ADVGS_ORACLE_STREAMS=%q: want a positive whole number", v)
		}
		streams = uint64(k)
	}
	if os.Getenv("ADVGS_LONG") != "" {
		rows = []row{{0.2, 0.1, 20, 1, ""}, {0.2, 0.1, 20, 1.28, ""}, {0.2, 0.1, 20, 1.5, ""}, {0.2, 0.1, 20, 2, ""}, {0.2, 0.1, 20, 3, ""}, {0.2, 0.1, 20, 4, ""},
			{0.2, 0.1, 20, 0, ""}, {0.2, 0.05, 20, 0, ""}, {0.2, 0.02, 20, 0, ""}, {0.2, 0.01, 20, 0, ""}, {0.3, 0.01, 20, 0, ""}, {0.2, 0.01, 30, 0, ""}, {0.1, 0.01, 40, 0, ""},
			{0.3, 0.02, 20, 0, ""}, {0.2, 0.02, 25, 0, ""}, {0.2, 0.02, 30, 0, ""},
			{0.2, 0.02, 20, 0, "linear"}, {0.2, 0.02, 20, 0, "sigmoid"}, {0.25, 0.02, 20, 0, "linear"},
			{0.2, 0.02, 20, 1.5, ""}, {0.2, 0.02, 20, 1.9, ""}, {0.2, 0.02, 20, 2, ""}, {0.2, 0.02, 20, 2.1, ""}, {0.2, 0.02, 20, 2.3, ""}}
	}
	for _, c := range rows {
		if c.kind == "" {
			c.kind = "quad"
		}
		s2, _ := vgs.MakeS2(c.kind, c.T, c.start, c.end)
		alpha, _ := vgs.MakeAlpha("vp", s2)
		diff := diffusedGMM(g, s2)
		if c.sigma0 == 0 { // q̃_0's own per-coordinate std
			c.sigma0 = mixtureStd(diff[0])
		}
		for st := uint64(1); st <= streams; st++ {
			rng := rand.New(rand.NewPCG(st, 2))
			x := make([]float32, n*D)
			for i := range x {
				x[i] = float32(c.sigma0 * rng.NormFloat64())
			}
			exactGMMSteps(x, 0, s2, alpha, diff, rng)
			tvd, mm, ds := gmmMetrics(g, x, rng)
			t.Logf("%s %g→%g T=%d σ0 %.2f, stream %d: tvd_e %.4f mode_mass %.4f delta_std %.4f", c.kind, c.start, c.end, c.T, c.sigma0, st, tvd, mm, ds)
			if st == 1 && c.sigma0 == 1.5 && (mm > 0.02 || ds > 0.05 || tvd > 0.1) {
				t.Errorf("the exact-drift chain from σ0 1.5 should hold every mode: mode mass error %.4f (want ≤ 0.02), Δstd %.4f (≤ 0.05), TVD-E %.4f (≤ 0.1)", mm, ds, tvd)
			}
		}
	}
}

// exactGMMSteps runs the VGS chain's steps from..T−1 on the samples x (rows of 2) in
// place with the exact drift s2_t·α_t²·∇log q̃_{t+1}(α_t x_t), diff = diffusedGMM(g, s2).
func exactGMMSteps(x []float32, from int, s2, alpha []float64, diff []*targets.GMM, rng *rand.Rand) {
	n := len(x) / 2
	ge, ev := make([]float32, len(x)), make([]float32, n)
	for step := from; step < len(s2); step++ {
		for i := range x {
			x[i] *= float32(alpha[step])
		}
		diff[step+1].EnergyGrad(ev, ge, x)
		h := s2[step] * alpha[step] * alpha[step]
		sd := math.Sqrt(s2[step]) * alpha[step]
		for i := range x {
			x[i] = float32(float64(x[i]) - h*float64(ge[i]) + sd*rng.NormFloat64())
		}
	}
}

// gmmMetrics returns the benchmark's TVD-E, mode mass error and Δstd of the samples x
// of the mixture g, against as many exact samples drawn from rng.
func gmmMetrics(g *targets.GMM, x []float32, rng *rand.Rand) (tvd, mm, ds float64) {
	n := len(x) / 2
	ref := make([]float32, len(x))
	g.Sample(ref, rng)
	eg, er := make([]float32, n), make([]float32, n)
	g.Energy(eg, x)
	g.Energy(er, ref)
	f := func(v []float32) []float64 {
		o := make([]float64, len(v))
		for i, e := range v {
			o[i] = float64(e)
		}
		return o
	}
	k, lab := g.Modes(x)
	refStd := mixtureStd(g)
	return metrics.TVDEnergy(f(eg), f(er)), metrics.ModeMassError(lab, k), metrics.DeltaStd(x, []float64{refStd, refStd})
}

// diffusedGMM returns q̃_t for t = 0..T (q̃_T = g): the mixture g noised by the VP
// steps s2[t..T−1], again a mixture, its means scaled by Π√(1−s2_j) and its variance
// following v ← (1−s2_j)·v + s2_j.
func diffusedGMM(g *targets.GMM, s2 []float64) []*targets.GMM {
	T := len(s2)
	diff := make([]*targets.GMM, T+1)
	diff[T] = g
	v := g.Std * g.Std
	scale := 1.0
	for k := T - 1; k >= 0; k-- {
		scale *= math.Sqrt(1 - s2[k])
		v = (1-s2[k])*v + s2[k]
		q := &targets.GMM{Std: math.Sqrt(v)}
		for _, m := range g.Means {
			q.Means = append(q.Means, [2]float64{m[0] * scale, m[1] * scale})
		}
		diff[k] = q
	}
	return diff
}

// mixtureStd is the first coordinate's std of an equal-weight mixture whose means
// average to zero: √(Std² + mean of μ_k,1²).
func mixtureStd(q *targets.GMM) float64 {
	var m2 float64
	for _, m := range q.Means {
		m2 += m[0] * m[0]
	}
	return math.Sqrt(q.Std*q.Std + m2/float64(len(q.Means)))
}

// TestGMMDriftProfile compares a trained GMM sampler's drifts with the exact
// diffused-score drift h_t·∇(−log q̃_{t+1})(α_t x_t) along the sampler's own chains
// (10,000 samples): per step, the samples binned by their distance to the nearest mode
// of q̃_{t+1} in units of its std, and per bin the mean projection μ·μ*/|μ*|² of the
// learned drift μ on the exact one μ* and the mean miss |μ − μ*| in units of the step's
// noise std σ_t (which stays meaningful where μ* is short and the ratio scatters).
// Then, for k = 0..T, the chain's states x_k continued to the end with the exact drift:
// the metrics after k learned steps tell at which steps the learned chain picks up
// its error. It needs a sampler saved by `advgs bench gmm --save FILE` and runs with
// ADVGS_GMM_SAMPLER=FILE.
//
// Measured (session 17, five models of configs/gmm.yaml variants; the runs are in its
// header): from step 8 on the projection is 0.72–1.17 within 2 stds, 0.82–0.89 at 2–3
// and 0.60–0.80 at 3–4. For one Gaussian component any quadratic value gives a drift
// along y − m, so the ratio would not change with the distance: the learned values are
// too flat away from the modes, and 618–732 of 10,000 samples end with energy above 6
// against 397 exact. Wider training states (noise_scale 1.5) cut that to 492–614
// without lowering TVD-E's mean excess over its floor, so the tails are not all of it.
func TestGMMDriftProfile(t *testing.T) {
	path := os.Getenv("ADVGS_GMM_SAMPLER")
	if path == "" {
		t.Skip("set ADVGS_GMM_SAMPLER to a sampler saved by advgs bench gmm --save")
	}
	s, _, err := vgs.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.Config
	if cfg.Dim() != 2 || cfg.AlphaMethod != "vp" {
		t.Fatalf("%s: want a 2-D VP sampler of the grid mixture, got dim %d, alpha %s", path, cfg.Dim(), cfg.AlphaMethod)
	}
	T := cfg.NStep
	s2, _ := vgs.MakeS2(cfg.S2Schedule, T, cfg.S2Start, cfg.S2End)
	alpha, _ := vgs.MakeAlpha(cfg.AlphaMethod, s2)
	g, _ := targets.NewGMM("grid")
	diff := diffusedGMM(g, s2)
	const n, bins = 10000, 5
	tr, err := s.Sample(n, g, vgs.SampleOptions{FinalNoise: true}, rand.New(rand.NewPCG(7, 7)))
	if err != nil {
		t.Fatal(err)
	}
	y, ge, ev := make([]float32, 2*n), make([]float32, 2*n), make([]float32, n)
	// How many samples end far from the modes (energy above 6, about the exact 95 %
	// quantile), against exact samples.
	high := func(x []float32) (k int) {
		g.Energy(ev, x)
		for _, e := range ev {
			if e > 6 {
				k++
			}
		}
		return k
	}
	g.Sample(y, rand.New(rand.NewPCG(8, 8)))
	t.Logf("samples with energy above 6: %d of %d (exact: %d)", high(tr.Final()), n, high(y))
	for step := 0; step < T; step++ {
		for i, xi := range tr.States[step] {
			y[i] = float32(alpha[step]) * xi
		}
		q := diff[step+1]
		q.EnergyGrad(ev, ge, y)
		h := s2[step] * alpha[step] * alpha[step]
		var cnt, proj, miss [bins]float64
		sd := math.Sqrt(s2[step]) * alpha[step]
		for i := 0; i < n; i++ {
			near := math.Inf(1)
			for _, m := range q.Means {
				near = math.Min(near, math.Hypot(float64(y[2*i])-m[0], float64(y[2*i+1])-m[1]))
			}
			b := min(int(near/q.Std), bins-1)
			mx, my := float64(tr.Mus[step][2*i]), float64(tr.Mus[step][2*i+1])
			ex, ey := h*float64(ge[2*i]), h*float64(ge[2*i+1])
			p := (mx*ex + my*ey) / (ex*ex + ey*ey + 1e-12)
			cnt[b]++
			proj[b] += p
			miss[b] += math.Hypot(mx-ex, my-ey) / sd
			// The last step follows the energy itself, as the exact drift does, unless
			// clip_drift shortened it.
			capped := cfg.ClipDrift != nil && math.Hypot(ex, ey) > 0.999**cfg.ClipDrift*math.Sqrt(s2[step])*alpha[step]*math.Sqrt(float64(cfg.D()))
			if step == T-1 && !capped && math.Abs(p-1) > 1e-3 {
				t.Fatalf("last step, sample %d: the drift projects %.4f on the energy's own drift, want 1", i, p)
			}
		}
		line := fmt.Sprintf("step %2d s2 %.3f, samples:projection:|μ−μ*|/σ_t by distance 0-1, 1-2, 2-3, 3-4, 4+ stds:", step, s2[step])
		for b := range cnt {
			if cnt[b] > 0 {
				line += fmt.Sprintf(" %.0f:%.2f:%.2f", cnt[b], proj[b]/cnt[b], miss[b]/cnt[b])
			}
		}
		t.Log(line)
	}
	// Where the learned chain picks up its error: its states at step k continued with
	// the exact drift to the end (k = 0: the learned σ0 with exact drifts; k = T: the
	// learned chain itself).
	for k := 0; k <= T; k++ {
		x := append([]float32(nil), tr.States[k]...)
		rng := rand.New(rand.NewPCG(9, uint64(k)))
		exactGMMSteps(x, k, s2, alpha, diff, rng)
		tvd, mm, ds := gmmMetrics(g, x, rng)
		t.Logf("learned steps 0..%d, then exact: tvd_e %.4f mode_mass %.4f delta_std %.4f", k-1, tvd, mm, ds)
	}
}
