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
