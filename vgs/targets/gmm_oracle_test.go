package targets_test

import (
	"math"
	"math/rand/v2"
	"os"
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
// The σ0 = 1.5 row is checked on every run; the others with ADVGS_LONG=1.
func TestGMMOracleVGS(t *testing.T) {
	g, _ := targets.NewGMM("grid")
	const D, n = 2, 10000
	refStd := math.Sqrt(g.Std*g.Std + 50.0/3) // the mixture's per-coordinate std: means on {−5, 0, 5}
	type row struct {
		start, end float64
		T          int
		sigma0     float64 // 0: the std of q̃_0
	}
	rows := []row{{0.2, 0.1, 20, 1.5}}
	if os.Getenv("ADVGS_LONG") != "" {
		rows = []row{{0.2, 0.1, 20, 1}, {0.2, 0.1, 20, 1.28}, {0.2, 0.1, 20, 1.5}, {0.2, 0.1, 20, 2}, {0.2, 0.1, 20, 3}, {0.2, 0.1, 20, 4},
			{0.2, 0.1, 20, 0}, {0.2, 0.05, 20, 0}, {0.2, 0.02, 20, 0}, {0.2, 0.01, 20, 0}, {0.3, 0.01, 20, 0}, {0.2, 0.01, 30, 0}, {0.1, 0.01, 40, 0}}
	}
	for _, c := range rows {
		s2, _ := vgs.MakeS2("quad", c.T, c.start, c.end)
		alpha, _ := vgs.MakeAlpha("vp", s2)
		// diff[t] is q̃_t, t = 0..T (diff[T] = p).
		diff := make([]*targets.GMM, c.T+1)
		diff[c.T] = g
		v := g.Std * g.Std
		scale := 1.0
		for k := c.T - 1; k >= 0; k-- {
			scale *= math.Sqrt(1 - s2[k])
			v = (1-s2[k])*v + s2[k]
			q := &targets.GMM{Std: math.Sqrt(v)}
			for _, m := range g.Means {
				q.Means = append(q.Means, [2]float64{m[0] * scale, m[1] * scale})
			}
			diff[k] = q
		}
		if c.sigma0 == 0 { // q̃_0's own per-coordinate std
			c.sigma0 = math.Sqrt(v + scale*scale*50.0/3)
		}
		if c.sigma0 == 0 {
			c.sigma0 = math.Sqrt(v + scale*scale*50.0/3) // q̃_0's per-coordinate std
		}
		rng := rand.New(rand.NewPCG(1, 2))
		x := make([]float32, n*D)
		for i := range x {
			x[i] = float32(c.sigma0 * rng.NormFloat64())
		}
		ge := make([]float32, n*D)
		ev := make([]float32, n)
		for step := 0; step < c.T; step++ {
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
		ref := make([]float32, n*D)
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
		tvd, mm, ds := metrics.TVDEnergy(f(eg), f(er)), metrics.ModeMassError(lab, k), metrics.DeltaStd(x, []float64{refStd, refStd})
		t.Logf("quad %g→%g T=%d σ0 %.2f: tvd_e %.4f mode_mass %.4f delta_std %.4f", c.start, c.end, c.T, c.sigma0, tvd, mm, ds)
		if c.sigma0 == 1.5 && (mm > 0.02 || ds > 0.05 || tvd > 0.1) {
			t.Errorf("the exact-drift chain from σ0 1.5 should hold every mode: mode mass error %.4f (want ≤ 0.02), Δstd %.4f (≤ 0.05), TVD-E %.4f (≤ 0.1)", mm, ds, tvd)
		}
	}
}
