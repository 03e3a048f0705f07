// Package targets holds the benchmark energies of the VGS validation suite
// (../shared/spec/VGS.md C): the 9-mode Gaussian mixture, Neal's 10-D funnel, and the
// DW-4 and LJ-13 particle systems, each with its analytic input gradient and, where
// one exists, an exact sampler. All are given as E = −log p and implement vgs.Energy.
// Energies are computed in float64 and written as float32; large batches are split
// across GOMAXPROCS goroutines.
package targets

import (
	"runtime"
	"sync"
)

// parallelRows calls f(lo, hi) on disjoint row ranges covering [0, n), on up to
// GOMAXPROCS goroutines when n is large enough to pay for them.
func parallelRows(n int, f func(lo, hi int)) {
	p := runtime.GOMAXPROCS(0)
	if n < 512 || p == 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + p - 1) / p
	for lo := 0; lo < n; lo += chunk {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			f(lo, hi)
		}(lo, min(lo+chunk, n))
	}
	wg.Wait()
}
