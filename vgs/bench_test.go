package vgs

import (
	"fmt"
	"math/rand/v2"
	"testing"

	_ "github.com/advgs/advgs/internal/fastblas" // -tags openblas benchmarks OpenBLAS
	"github.com/advgs/advgs/internal/nn"
)

// BenchmarkIteration times one training iteration (Sample + UpdateTD) of a GMM-sized
// problem: D = 2, T = 20, B = 128, FCNet_temb with hidden = embedding = H.
func BenchmarkIteration(b *testing.B) {
	for _, H := range []int{64, 128, 256} {
		b.Run(fmt.Sprintf("H=%d", H), func(b *testing.B) {
			cfg := testConfig(20)
			cfg.Value = nn.Arch{Kind: nn.FCNetTemb, Hidden: H, TEmb: H}
			rng := rand.New(rand.NewPCG(1, 1))
			s, _ := New(cfg, rng)
			e := quadratic{dim: 2}
			for i := 0; i < b.N; i++ {
				tr, err := s.Sample(128, e, SampleOptions{NoiseScale: 1.2, FinalNoise: true}, rng)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := s.UpdateTD(tr, e, 1, rng); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkInvariantInputGrad times the LJ-13 value network's input gradient through
// the invariant wrapper (13 particles in 3-D, 78 sorted reciprocal distances,
// deeperv3 H = 64) on a batch of 128, as in one sampling step of configs/lj13.yaml.
func BenchmarkInvariantInputGrad(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	net, err := nn.NewNet(nn.Arch{Kind: nn.DeeperV3, In: 78, Hidden: 64, TEmb: 128, TFeat: 64}, rng)
	if err != nil {
		b.Fatal(err)
	}
	w, err := NewInvariant(net, 13, 3, 1, true)
	if err != nil {
		b.Fatal(err)
	}
	const B = 128
	x := make([]float32, B*39)
	for i := range x {
		x[i] = float32(1.3 * rng.NormFloat64())
	}
	t := make([]int, B)
	for i := range t {
		t[i] = 50
	}
	v, gx := make([]float32, B), make([]float32, B*39)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := w.InputGrad(v, gx, x, t); err != nil {
			b.Fatal(err)
		}
	}
}
