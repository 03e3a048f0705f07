// Package metrics holds the sample-quality metrics of the VGS validation suite,
// computed as the reference code computes them (../shared/spec/VGS.md §D):
//
//   - Sinkhorn: the entropic optimal-transport cost with Euclidean ground cost
//     (ε = 1e-3, 100 log-domain iterations), reported as W²_γ for GMM and funnel;
//   - TVDEnergy: the total-variation distance of energy histograms (200 bins over
//     the reference's range);
//   - DeltaStd: the mean error of the per-dimension standard deviations;
//   - ModeMassError: the largest error of a mixture's per-mode mass;
//   - W2, TVDFixed, TVDFine: the particle-system metrics (exact OT on centred
//     configurations, and TVDs of energies and interatomic distances).
//
// Every metric takes generated samples first and reference samples second.
package metrics

import "math"

// Edges returns the bins+1 edges of torch.histogram's equal-width bins on [lo, hi],
// as torch.linspace computes them in float32: step = (hi − lo)/bins, edge_k =
// lo + k·step in the first half and hi − (bins − k)·step in the second. An empty
// range (lo = hi) is widened to [lo − ½, hi + ½], as torch and numpy do.
func Edges(bins int, lo, hi float64) []float64 {
	if lo == hi {
		lo, hi = lo-0.5, hi+0.5
	}
	s, e := float32(lo), float32(hi)
	step := (e - s) / float32(bins)
	out := make([]float64, bins+1)
	for k := range out {
		if k < (bins+1)/2 {
			out[k] = float64(s + step*float32(k))
		} else {
			out[k] = float64(e - step*float32(bins-k))
		}
	}
	return out
}

// HistogramEdges counts v into the bins of edges with torch.histogram's rule: value
// x is in bin k when edges[k] ≤ x < edges[k+1], the last bin is closed, and values
// outside [edges[0], edges[last]] (and NaN) are dropped. It returns the counts and
// the number of values counted.
func HistogramEdges(v []float64, edges []float64) ([]float64, int) {
	bins := len(edges) - 1
	h := make([]float64, bins)
	lo, hi := edges[0], edges[bins]
	n := 0
	for _, x := range v {
		if !(x >= lo && x <= hi) {
			continue
		}
		// Guess the bin by division, then settle it against the edges.
		k := int((x - lo) / (hi - lo) * float64(bins))
		k = max(0, min(k, bins-1))
		for k > 0 && x < edges[k] {
			k--
		}
		for k < bins-1 && x >= edges[k+1] {
			k++
		}
		h[k]++
		n++
	}
	return h, n
}

// Histogram counts v into bins equal-width bins on [lo, hi] (the edges of Edges,
// torch.histogram's rule, the last bin closed, values outside dropped). It returns
// the counts and the number of values counted.
func Histogram(v []float64, bins int, lo, hi float64) ([]float64, int) {
	return HistogramEdges(v, Edges(bins, lo, hi))
}

// tvd is ½Σ|p_k − q_k| of two count vectors, each normalised by its own total; 1
// when either is empty.
func tvd(p []float64, np int, q []float64, nq int) float64 {
	if np == 0 || nq == 0 {
		return 1
	}
	s := 0.0
	for k := range p {
		s += math.Abs(p[k]/float64(np) - q[k]/float64(nq))
	}
	return s / 2
}

// TVDBins is the number of histogram bins of every TVD here.
const TVDBins = 200

// TVDEnergy is the total-variation distance between the energy histograms of
// generated and reference samples (VGS.md D.3):
//
//	edges: 200 equal-width bins on [min eRef, max eRef] (Edges)
//	p, q:  histograms of eGen and eRef on those edges, generated values outside
//	       dropped, each normalised by its own in-range count
//	TVD = ½Σ_k |p_k − q_k|
//
// Non-finite reference values are left out of the range and the histogram (torch
// would refuse them). It returns 1 when no value of either set is in range.
func TVDEnergy(eGen, eRef []float64) float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range eRef {
		if !math.IsInf(v, 0) && !math.IsNaN(v) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if lo > hi {
		return 1
	}
	edges := Edges(TVDBins, lo, hi)
	p, np := HistogramEdges(eGen, edges)
	q, nq := HistogramEdges(eRef, edges)
	return tvd(p, np, q, nq)
}

// DeltaStd is the mean over all dimensions of |std(gen)_k − refStd_k| with the
// unbiased sample std of the rows of gen (n×len(refStd)) (VGS.md D.4). It returns
// NaN when gen does not hold at least 2 rows of that length.
func DeltaStd(gen []float32, refStd []float64) float64 {
	d := len(refStd)
	if d == 0 || len(gen)%d != 0 || len(gen)/d < 2 {
		return math.NaN()
	}
	n := len(gen) / d
	s := 0.0
	for k := 0; k < d; k++ {
		m := 0.0
		for i := 0; i < n; i++ {
			m += float64(gen[i*d+k])
		}
		m /= float64(n)
		v := 0.0
		for i := 0; i < n; i++ {
			t := float64(gen[i*d+k]) - m
			v += t * t
		}
		s += math.Abs(math.Sqrt(v/float64(n-1)) - refStd[k])
	}
	return s / float64(d)
}

// ModeMassError is max_k |n_k/N − 1/K| for N samples labelled with their mode
// (labels in [0, K); a label outside counts towards no mode, so it lowers the mass
// of all of them). It returns NaN for no labels or K < 1.
func ModeMassError(labels []int, K int) float64 {
	if len(labels) == 0 || K < 1 {
		return math.NaN()
	}
	c := make([]float64, K)
	for _, l := range labels {
		if l >= 0 && l < K {
			c[l]++
		}
	}
	e := 0.0
	for _, v := range c {
		e = math.Max(e, math.Abs(v/float64(len(labels))-1/float64(K)))
	}
	return e
}
