package targets_test

import (
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/advgs/advgs/vgs"
	"github.com/advgs/advgs/vgs/bench"
	"github.com/advgs/advgs/vgs/targets"
)

// TestGMMTrainingHistory trains the GMM benchmark with bench.Train on the stream
// `advgs bench gmm` uses (same seed, so the same model) and every 100 iterations draws
// 4,000 samples from a separate stream to log: the learned drift's RMS error over the
// exact diffused-score drift's RMS at steps 0–3 (what splits the mass between the
// modes), the mode mass error when the chain's states after six learned steps are
// finished with the exact drift, and the final mode mass error and Δstd. It tells
// when in training a seed's split goes wrong. Run with
//
//	ADVGS_GMM_HISTORY=default|CONFIG [ADVGS_GMM_SEED=N] go test -run GMMTrainingHistory -v -timeout 30m ./vgs/targets/
//
// Measured (session 18, configs/gmm.yaml, seed 6: 0.159 mode mass at the end): the
// split was good at iterations 1,300–1,600 (0.021–0.027, step-0 drift error 0.55 of
// the exact drift's RMS); from 1,500 the step-0 error grew to 1.2 and then 2.0–2.3
// while the steps 1–3 stayed at 0.7–1.1, σ0 rose from 1.69 to 2.05 (1.92 at the
// end), and the mode mass error followed (0.047 at 2,000, 0.10 at 2,200, 0.17 at
// 2,700). With σ0 fixed at 1.9 and 4,000 iterations (init_sigma 1.9 without i_lr),
// seed 8: the same growth from 0.65 at 3,000 to 2.19 at 4,000 (split 0.029 → 0.081),
// so it is the first step's value V(·, 1) that turns unstable, not σ0.
func TestGMMTrainingHistory(t *testing.T) {
	cf := os.Getenv("ADVGS_GMM_HISTORY")
	if cf == "" {
		t.Skip("set ADVGS_GMM_HISTORY to default or a GMM config file")
	}
	if cf == "default" {
		cf = ""
	}
	seed := 0
	if v := os.Getenv("ADVGS_GMM_SEED"); v != "" {
		var err error
		if seed, err = strconv.Atoi(v); err != nil {
			t.Fatalf("ADVGS_GMM_SEED=%q: want a whole number", v)
		}
	}
	cfg, err := bench.LoadConfig("gmm", cf)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.EnergyModel.Name != "grid" || cfg.Sampler.NStep < 7 {
		t.Fatalf("want the grid mixture with at least 7 steps, got %s with %d", cfg.EnergyModel.Name, cfg.Sampler.NStep)
	}
	target, err := bench.NewTarget(cfg.EnergyModel.Name, cfg.Sampler.Dim())
	if err != nil {
		t.Fatal(err)
	}
	s2, err := vgs.MakeS2(cfg.Sampler.S2Schedule, cfg.Sampler.NStep, cfg.Sampler.S2Start, cfg.Sampler.S2End)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := targets.NewGMM("grid")
	diff := diffusedGMM(g, s2)
	after := func(it int, s *vgs.Sampler, st vgs.TDStats) error {
		if (it+1)%100 != 0 {
			return nil
		}
		const n = 4000
		erng := rand.New(rand.NewPCG(5, 5))
		ev, err := s.Sample(n, target, vgs.SampleOptions{FinalNoise: true}, erng)
		if err != nil {
			return err
		}
		ge, e1, y := make([]float32, 2*n), make([]float32, n), make([]float32, 2*n)
		var rel [4]float64
		for k := range rel {
			for i, v := range ev.States[k] {
				y[i] = float32(s.Alpha[k]) * v
			}
			diff[k+1].EnergyGrad(e1, ge, y)
			h := s.S2[k] * s.Alpha[k] * s.Alpha[k]
			var se, sx float64
			for i := range y {
				d := float64(ev.Mus[k][i]) - h*float64(ge[i])
				se += d * d
				sx += h * float64(ge[i]) * h * float64(ge[i])
			}
			rel[k] = math.Sqrt(se / sx)
		}
		x := append([]float32(nil), ev.States[6]...)
		exactGMMSteps(x, 6, s.S2, s.Alpha, diff, erng)
		_, mm6, _ := gmmMetrics(g, x, erng)
		_, mm, ds := gmmMetrics(g, ev.Final(), erng)
		t.Logf("it %d loss %.4f σ0 %.3f, drift error / exact at steps 0-3: %.2f %.2f %.2f %.2f; mode mass after 6 learned steps %.3f, at the end %.3f, Δstd %.3f",
			it+1, st.Loss, s.InitSigma, rel[0], rel[1], rel[2], rel[3], mm6, mm, ds)
		return nil
	}
	// The stream bench.Run trains with, so the same model as `advgs bench gmm --seed N`.
	rng := rand.New(rand.NewPCG(uint64(seed), 0x76677321))
	if _, _, _, err := bench.Train(cfg, target, cfg.Training.NIter, rng, bench.Options{AfterIter: after}); err != nil {
		t.Fatal(err)
	}
}
