package parallel

import (
	"sync/atomic"
	"testing"
)

func TestForCoversEveryRowOnce(t *testing.T) {
	for _, n := range []int{0, 1, 7, 64, 1001} {
		seen := make([]int32, n)
		var calls atomic.Int32
		For(n, 8, func(lo, hi int) {
			calls.Add(1)
			for i := lo; i < hi; i++ {
				atomic.AddInt32(&seen[i], 1)
			}
		})
		for i, s := range seen {
			if s != 1 {
				t.Fatalf("n=%d: row %d visited %d times", n, i, s)
			}
		}
		if n < 8 && calls.Load() != 1 {
			t.Errorf("n=%d below the threshold ran %d pieces", n, calls.Load())
		}
	}
}
