package tflite

import (
	"runtime"
	"sync"
)

// parallelFor splits [0, n) into contiguous chunks and runs fn on each chunk in
// its own goroutine, using at most threads goroutines (GOMAXPROCS when ≤ 0).
// Chunks smaller than minChunk items are not split further.
func parallelFor(n, threads, minChunk int, fn func(lo, hi int)) {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	if minChunk < 1 {
		minChunk = 1
	}
	if max := (n + minChunk - 1) / minChunk; threads > max {
		threads = max
	}
	if threads <= 1 {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	var wg sync.WaitGroup
	chunk := (n + threads - 1) / threads
	for lo := 0; lo < n; lo += chunk {
		hi := lo + chunk
		if hi > n {
			hi = n
		}
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			fn(lo, hi)
		}(lo, hi)
	}
	wg.Wait()
}
