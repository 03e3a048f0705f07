package metrics

import (
	"fmt"
	"math"
)

// Assignment solves the linear assignment problem for a square n×n cost matrix
// (row-major): it returns col[i], the column assigned to row i, minimising Σ_i
// cost[i][col[i]]. It is the shortest-augmenting-path (Hungarian) method with
// potentials, O(n³) in the worst case; a 2,000 × 2,000 dense problem takes a few
// seconds.
func Assignment(cost []float64, n int) []int {
	const inf = math.MaxFloat64
	u := make([]float64, n+1)
	v := make([]float64, n+1)
	p := make([]int, n+1) // p[j]: row (1-based) matched to column j; p[0] is the row being added
	way := make([]int, n+1)
	minv := make([]float64, n+1)
	used := make([]bool, n+1)
	for i := 1; i <= n; i++ {
		p[0] = i
		j0 := 0
		for j := range minv {
			minv[j] = inf
			used[j] = false
		}
		for {
			used[j0] = true
			i0 := p[j0]
			delta, j1 := inf, 0
			row := cost[(i0-1)*n:]
			ui0 := u[i0]
			for j := 1; j <= n; j++ {
				if used[j] {
					continue
				}
				if cur := row[j-1] - ui0 - v[j]; cur < minv[j] {
					minv[j] = cur
					way[j] = j0
				}
				if minv[j] < delta {
					delta, j1 = minv[j], j
				}
			}
			for j := 0; j <= n; j++ {
				if used[j] {
					u[p[j]] += delta
					v[j] -= delta
				} else {
					minv[j] -= delta
				}
			}
			j0 = j1
			if p[j0] == 0 {
				break
			}
		}
		for j0 != 0 {
			j1 := way[j0]
			p[j0] = p[j1]
			j0 = j1
		}
	}
	col := make([]int, n)
	for j := 1; j <= n; j++ {
		col[p[j]-1] = j - 1
	}
	return col
}

// W2 is the exact 2-Wasserstein distance between two equal-size uniform sets of
// flattened configurations x and y (n×d each, already centred): √(min over
// permutations of the mean squared Euclidean distance) (VGS.md D.5; POT's emd2 on
// uniform weights reduces to an assignment).
func W2(x, y []float32, d int) (float64, error) {
	n := len(x) / d
	if len(y) != len(x) || n*d != len(x) || n == 0 {
		return 0, fmt.Errorf("metrics: W2 needs two sets of the same size, got %d and %d values of dimension %d", len(x), len(y), d)
	}
	cost := make([]float64, n*n)
	parallel(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			xi := x[i*d : (i+1)*d]
			for j := 0; j < n; j++ {
				s := 0.0
				for k, a := range xi {
					t := float64(a) - float64(y[j*d+k])
					s += t * t
				}
				cost[i*n+j] = s
			}
		}
	})
	col := Assignment(cost, n)
	s := 0.0
	for i, j := range col {
		s += cost[i*n+j]
	}
	return math.Sqrt(s / float64(n)), nil
}

// TVDFixed is the reference's particle TVD (VGS.md D.5): 200 bins on [−100, 100] for
// both sets, each normalised by its in-range count. It returns 1e10 when fewer than
// 60% of nSamples generated samples fall in range, with the reference's quirk that
// the count of in-range generated values (distances, for TVD-D) is divided by the
// number of samples.
func TVDFixed(gen, ref []float64, nSamples int) float64 {
	p, np := Histogram(gen, 200, -100, 100)
	if float64(np)/float64(nSamples) < 0.6 {
		return 1e10
	}
	q, nq := Histogram(ref, 200, -100, 100)
	return tvd(p, np, q, nq)
}

// TVDFine is the TVD of histograms with 200 bins over the observed range of ref
// (a finer binning than the reference's for distances, which fall into 5–7 of its
// bins); out-of-range generated values are dropped.
func TVDFine(gen, ref []float64) float64 { return TVDEnergy(gen, ref) }
