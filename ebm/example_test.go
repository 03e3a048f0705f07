package ebm_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/advgs/advgs/ebm"
)

// The autoencoder energy on unit vectors: E = s²·Σ(x−r̂)²/τ_E lies in [0, 4·s²/τ_E].
func ExampleAE() {
	rng := rand.New(rand.NewPCG(1, 2))
	m, err := ebm.NewAE(ebm.AEConfig{EncHidden: []int{32}, Latent: 8, DecHidden: []int{32}, Tau: 0.1, OutScale: 1}, 16, rng)
	if err != nil {
		panic(err)
	}
	x := make([]float32, 2*16)
	x[0], x[16+5] = 1, 1 // two unit vectors
	e := make([]float32, 2)
	g := make([]float32, len(x))
	m.EnergyGrad(e, g, x) // energies and ∇ₓE, what VGS samples with
	fmt.Println(len(e), e[0] >= 0 && e[0] <= 40, m.NumParams())
	// Output: 2 true 1625
}
