// Package parallel splits loops over rows across goroutines.
package parallel

import (
	"runtime"
	"sync"
)

// For calls f(lo, hi) on disjoint ranges that cover [0, n), on up to
// 4·GOMAXPROCS goroutines (several chunks per processor even out uneven rows). It
// runs f(0, n) on the calling goroutine when n < minParallel or GOMAXPROCS is 1, where
// starting goroutines costs more than it saves.
func For(n, minParallel int, f func(lo, hi int)) {
	p := runtime.GOMAXPROCS(0)
	if n < minParallel || p == 1 || n < 2 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + 4*p - 1) / (4 * p)
	for lo := 0; lo < n; lo += chunk {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			f(lo, hi)
		}(lo, min(lo+chunk, n))
	}
	wg.Wait()
}
