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
// flattened configurations x and y (n rows of d values each) with squared
// Euclidean cost (VGS.md D.5):
//
//	W2 = √( min_π (1/n) Σ_i ‖x_i − y_π(i)‖² )   over permutations π
//
// which is what POT's emd2 returns for uniform weights and equal sizes (an optimal
// plan of the transport LP is a permutation matrix, by Birkhoff). The reference
// centres both sets first (targets.RemoveMean) and does no rotation or permutation
// alignment; W2 itself does not centre. It errors on sets of different sizes, an
// empty set, d < 1 or non-finite values. 2,000 × 2,000 (LJ-13, d = 39) takes about
// a second on 2 cores.
func W2(x, y []float32, d int) (float64, error) {
	if d < 1 || len(x) == 0 || len(y) != len(x) || len(x)%d != 0 {
		return 0, fmt.Errorf("metrics: W2 needs two non-empty sets of the same size of %d-value rows, got %d and %d values", d, len(x), len(y))
	}
	for _, s := range [][]float32{x, y} {
		for i, v := range s {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return 0, fmt.Errorf("metrics: W2: row %d holds %v", i/d, v)
			}
		}
	}
	n := len(x) / d
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

// Reference binning of the particle TVDs (VGS.md D.5): 200 bins of width 1 on
// [−100, 100], and the share of in-range values below which the TVD is 1e10.
const (
	ParticleLo, ParticleHi = -100.0, 100.0
	ParticleMinInRange     = 0.6
)

// TVDFixed is the reference's particle TVD (VGS.md D.5), used for TVD-E (energies)
// and TVD-D (all interatomic distances of all samples, flattened):
//
//	p, q: histograms of gen and ref on 200 bins of [−100, 100], each normalised by its
//	      own in-range count (values outside dropped)
//	TVD = ½Σ_k |p_k − q_k|, or 1e10 when (in-range count of gen)/nSamples < 0.6
//
// nSamples is the number of generated *samples*, as in the reference, whose check
// divides by the length of the unflattened array: for energies it equals len(gen);
// for distances the in-range count is up to n(n−1)/2 per sample, so the check
// practically never fires there. It returns 1e10 for nSamples < 1.
func TVDFixed(gen, ref []float64, nSamples int) float64 {
	edges := Edges(TVDBins, ParticleLo, ParticleHi)
	p, np := HistogramEdges(gen, edges)
	if nSamples < 1 || float64(np)/float64(nSamples) < ParticleMinInRange {
		return 1e10
	}
	q, nq := HistogramEdges(ref, edges)
	return tvd(p, np, q, nq)
}

// TVDFine is TVD-D fine (not in the reference): the TVD of histograms with 200
// bins over the observed range [min ref, max ref] (TVDEnergy's binning), because the
// reference's unit-width bins put all distances (DW-4: 1.8–6.2, LJ-13: 0.8–5.4)
// into 5–7 bins. Generated values outside the range are dropped.
func TVDFine(gen, ref []float64) float64 { return TVDEnergy(gen, ref) }
