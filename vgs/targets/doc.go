// Package targets holds the benchmark energies of the VGS validation suite
// (../shared/spec/VGS.md §C): Gaussian mixtures (the 9-mode "grid" of the paper),
// Neal's 10-D funnel, and the DW-4 and LJ-13 particle systems. Each is given as
// E = −log p (normalised where the normalising constant is known), with its
// analytic input gradient ∇E, and implements vgs.Energy:
//
//	Dim() int
//	Energy(e, x []float32)         e[i] = E(x_i), x row-major B×D
//	EnergyGrad(e, g, x []float32)  also g_i = ∇E(x_i)
//
// The mixtures and the funnel also have exact samplers, the analytic marginal
// standard deviations that the Δstd metric compares with, and (mixtures) the
// nearest-mean mode assignment used by the mode-mass metric.
//
// Energies are computed in float64 and written as float32. Batches of at least
// parallelMin rows are split across runtime.GOMAXPROCS(0) goroutines; smaller
// batches run on the calling goroutine without allocating. Buffer lengths that do
// not match (len(e) ≠ B, len(g) ≠ len(x), len(x) not a multiple of D) are programmer
// errors and panic.
package targets

import (
	"fmt"
	par "github.com/advgs/advgs/internal/parallel"
	"runtime"
)

// parallelMin is the batch size from which energies are split across goroutines.
// The cheapest energy here (the 9-mode mixture) costs about 0.2 µs a row, so 256
// rows amortise the goroutine start-up (about 1 µs) many times over.
const parallelMin = 256

// parallelWorth reports whether a batch of n rows is split across goroutines.
func parallelWorth(n int) bool { return n >= parallelMin && runtime.GOMAXPROCS(0) > 1 }

// parallelRows calls f(lo, hi) on disjoint row ranges covering [0, n) on
// GOMAXPROCS goroutines (callers check parallelWorth first).
func parallelRows(n int, f func(lo, hi int)) { par.For(n, 0, f) }

// checkBuffers panics unless x holds len(e) rows of dimension D and g (when not nil)
// has the length of x.
func checkBuffers(name string, D int, e, g, x []float32, withGrad bool) {
	if len(x) != len(e)*D {
		panic(fmt.Sprintf("targets: %s: len(x) = %d, want len(e)·D = %d·%d", name, len(x), len(e), D))
	}
	if withGrad && len(g) != len(x) {
		panic(fmt.Sprintf("targets: %s: len(g) = %d, want len(x) = %d", name, len(g), len(x)))
	}
}
