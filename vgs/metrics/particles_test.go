package metrics

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func permutations(n int) [][]int {
	if n == 1 {
		return [][]int{{0}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for pos := 0; pos <= len(p); pos++ {
			q := append(append(append([]int{}, p[:pos]...), n-1), p[pos:]...)
			out = append(out, q)
		}
	}
	return out
}

func TestAssignmentMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for n := 1; n <= 7; n++ {
		for trial := 0; trial < 5; trial++ {
			c := make([]float64, n*n)
			for i := range c {
				c[i] = rng.Float64()
			}
			col := Assignment(c, n)
			got := 0.0
			seen := map[int]bool{}
			for i, j := range col {
				got += c[i*n+j]
				seen[j] = true
			}
			if len(seen) != n {
				t.Fatalf("not a permutation: %v", col)
			}
			best := math.Inf(1)
			for _, p := range permutations(n) {
				s := 0.0
				for i, j := range p {
					s += c[i*n+j]
				}
				best = math.Min(best, s)
			}
			if math.Abs(got-best) > 1e-12 {
				t.Errorf("n=%d: assignment cost %v, optimum %v", n, got, best)
			}
		}
	}
}

func TestW2(t *testing.T) {
	x := []float32{0, 0, 1, 1}
	y := []float32{1, 1, 0, 0} // the same set, permuted
	if w, _ := W2(x, y, 2); w != 0 {
		t.Errorf("W2 of a permuted set = %v", w)
	}
	y = []float32{0, 3, 1, 4} // shifted by 3 in the second coordinate
	if w, _ := W2(x, y, 2); math.Abs(w-3) > 1e-12 {
		t.Errorf("W2 of a shift by 3 = %v", w)
	}
	if _, err := W2(x, y[:2], 2); err == nil {
		t.Error("unequal sizes accepted")
	}
}

func TestW2Speed(t *testing.T) {
	if testing.Short() {
		t.Skip()
	}
	rng := rand.New(rand.NewPCG(2, 2))
	n, d := 2000, 39
	x, y := randn(rng, n*d, 1), randn(rng, n*d, 1)
	start := time.Now()
	if _, err := W2(x, y, d); err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	t.Logf("W2 on 2,000 × 2,000 (d = 39): %v", el)
	if el > 60*time.Second {
		t.Errorf("W2 on 2,000 × 2,000 took %v", el)
	}
}

func TestTVDFixed(t *testing.T) {
	ref := []float64{-20.5, -20.2, -10.5}
	if d := TVDFixed([]float64{-20.7, -10.1}, ref, 2); math.Abs(d-(0.5*(math.Abs(0.5-2.0/3)+math.Abs(0.5-1.0/3)))) > 1e-12 {
		t.Errorf("TVD %v", d)
	}
	// Only 1 of 2 samples in range: below 60%.
	if d := TVDFixed([]float64{-20.7, 500}, ref, 2); d != 1e10 {
		t.Errorf("out-of-range rule gave %v", d)
	}
}
