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
		g := make([]float64, D)
		ge := make([]float32, n*D)
		ev := make([]float32, n)
		T := len(s2)
		for step := 0; step < T; step++ {
			rest := 0.0
			for k := step + 1; k < T; k++ {
				rest += s2[k]
			}
			if step == T-1 {
				f.EnergyGrad(ev, ge, x)
			}
			for i := 0; i < n; i++ {
				row := x[i*D : (i+1)*D]
				if step < T-1 {
					diffusedFunnelScore(g, row, rest)
				} else {
					for j := range g {
						g[j] = -float64(ge[i*D+j])
						if ev[i] > 100 {
							g[j] = 0
						}
					}
				}
				for j := range row {
					row[j] = float32(float64(row[j]) + s2[step]*g[j] + math.Sqrt(s2[step])*rng.NormFloat64())
				}
			}
		}
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
		var m1, v1 float64
		for i := 0; i < n; i++ {
			m1 += float64(x[i*D]) / n
		}
		for i := 0; i < n; i++ {
			v1 += (float64(x[i*D]) - m1) * (float64(x[i*D]) - m1) / (n - 1)
		}
		t.Logf("%s %g→%g, σ0 %.3f: tvd_e %.4f delta_std %.4f, x1 mean %.2f std %.2f", c.kind, c.start, c.end, s0,
			metrics.TVDEnergy(eg, er), metrics.DeltaStd(x, f.RefStd()), m1, math.Sqrt(v1))
	}
}
