// Package metrics holds the sample-quality metrics of the VGS validation suite, as
// the reference code computes them (../shared/spec/VGS.md D): the entropic OT
// "Sinkhorn" distance with Euclidean cost, the total-variation distance of energy
// histograms, the error of the marginal standard deviations, the per-mode mass error
// of a mixture, and the particle-system metrics.
package metrics

import (
	"math"
	"runtime"
	"sync"
)

// SinkhornOptions are the reference's settings: ε = 1e-3, at most 100 iterations,
// stop when both potentials move less than 1e-5.
type SinkhornOptions struct {
	Eps        float64
	MaxIter    int
	StopThresh float64
}

// DefaultSinkhorn returns the reference settings.
func DefaultSinkhorn() SinkhornOptions {
	return SinkhornOptions{Eps: 1e-3, MaxIter: 100, StopThresh: 1e-5}
}

// lseCut is where a log-sum-exp stops adding terms: exp(−lseCut) is below float64's
// relative precision, so skipping terms further than lseCut below the row maximum
// changes nothing. With ε = 1e-3 almost every term is that far below, which makes the
// Sinkhorn passes comparisons rather than exponentials.
const lseCut = 40

// Sinkhorn returns the entropic optimal-transport cost between the uniform empirical
// measures of x (n×d) and y (m×d) with ground cost M_ij = ‖x_i − y_j‖₂ (not squared),
// in the log domain (VGS.md D.2):
//
//	u = 0, v = ε·log b
//	u ← ε(log a − LSE_j((−M_ij + v_j)/ε)),  v ← ε(log b − LSE_i((−M_ij + u_i)/ε))
//	P_ij = exp((−M_ij + u_i + v_j)/ε),   result = Σ_ij P_ij M_ij
//
// The cost matrix is held in float32 (n·m·4 bytes) and the passes run on GOMAXPROCS
// goroutines.
func Sinkhorn(x, y []float32, d int, opt SinkhornOptions) float64 {
	n, m := len(x)/d, len(y)/d
	M := make([]float32, n*m)
	parallel(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			xi := x[i*d : (i+1)*d]
			row := M[i*m : (i+1)*m]
			for j := 0; j < m; j++ {
				yj := y[j*d : (j+1)*d]
				s := float32(0)
				for k := range xi {
					t := xi[k] - yj[k]
					s += t * t
				}
				row[j] = float32(math.Sqrt(float64(s)))
			}
		}
	})
	// Column-major copy for the v pass.
	MT := make([]float32, n*m)
	parallel(m, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			for i := 0; i < n; i++ {
				MT[j*n+i] = M[i*m+j]
			}
		}
	})
	eps := opt.Eps
	la, lb := math.Log(1/float64(n)), math.Log(1/float64(m))
	u := make([]float64, n)
	v := make([]float64, m)
	for j := range v {
		v[j] = eps * lb
	}
	un := make([]float64, n)
	vn := make([]float64, m)
	for it := 0; it < opt.MaxIter; it++ {
		lsePass(M, v, un, n, m, eps, la)
		lsePass(MT, un, vn, m, n, eps, lb)
		du, dv := maxAbsDiff(u, un), maxAbsDiff(v, vn)
		copy(u, un)
		copy(v, vn)
		if du < opt.StopThresh && dv < opt.StopThresh {
			break
		}
	}
	sums := make([]float64, n)
	parallel(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row := M[i*m : (i+1)*m]
			s := 0.0
			for j, c := range row {
				a := (-float64(c) + u[i] + v[j]) / eps
				if a > -700 {
					s += math.Exp(a) * float64(c)
				}
			}
			sums[i] = s
		}
	})
	t := 0.0
	for _, s := range sums {
		t += s
	}
	return t
}

// lsePass sets out_i = ε(logw − LSE_j((−C_ij + pot_j)/ε)) for the rows of C (rows×cols).
//
// One streaming pass per row: a running maximum of a_j = pot_j − C_ij, a sum of
// exp((a_j − max)/ε) over the terms within lseCut·ε of it (rescaled when the maximum
// grows), and a float32 filter that rejects the far terms without a conversion. The
// first version scanned each row twice in float64; this one halves the memory traffic
// of the 10,000 × 10,000 evaluation, which is bound by it.
func lsePass(C []float32, pot, out []float64, rows, cols int, eps, logw float64) {
	pot32 := make([]float32, len(pot))
	for j, p := range pot {
		pot32[j] = float32(p)
	}
	cutw := lseCut * eps
	parallel(rows, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row := C[i*cols : (i+1)*cols]
			mx := math.Inf(-1)
			cut32 := float32(math.Inf(-1))
			s := 0.0
			for j, c := range row {
				if pot32[j]-c <= cut32 {
					continue
				}
				a := pot[j] - float64(c)
				if a > mx {
					s *= math.Exp((mx - a) / eps)
					mx = a
					cut32 = float32(mx - cutw - 1e-4*(1+math.Abs(mx))) // margin for float32 rounding
				}
				if a > mx-cutw {
					s += math.Exp((a - mx) / eps)
				}
			}
			out[i] = eps * (logw - (mx/eps + math.Log(s)))
		}
	})
}

func maxAbsDiff(a, b []float64) float64 {
	m := 0.0
	for i := range a {
		m = math.Max(m, math.Abs(a[i]-b[i]))
	}
	return m
}

// parallel calls f on disjoint ranges covering [0, n) on GOMAXPROCS goroutines.
func parallel(n int, f func(lo, hi int)) {
	p := runtime.GOMAXPROCS(0)
	if n < 64 || p == 1 {
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

// Histogram counts v into bins equal-width bins on [lo, hi] with torch.histogram's
// convention (the last bin is closed); values outside are dropped. It returns the
// counts and the number of values counted.
func Histogram(v []float64, bins int, lo, hi float64) ([]float64, int) {
	h := make([]float64, bins)
	n := 0
	w := (hi - lo) / float64(bins)
	for _, x := range v {
		if !(x >= lo && x <= hi) {
			continue
		}
		k := int((x - lo) / w)
		if k >= bins {
			k = bins - 1
		}
		h[k]++
		n++
	}
	return h, n
}

// tvd is ½Σ|p_k − q_k| of two count vectors, each normalised by its own total.
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

// TVDEnergy is the total-variation distance between the energy histograms of
// generated and reference samples (VGS.md D.3): 200 bins on [min eRef, max eRef],
// generated energies outside dropped, each histogram normalised by its in-range count.
func TVDEnergy(eGen, eRef []float64) float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range eRef {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	p, np := Histogram(eGen, 200, lo, hi)
	q, nq := Histogram(eRef, 200, lo, hi)
	return tvd(p, np, q, nq)
}

// DeltaStd is the mean over all dimensions of |std(gen)_d − refStd_d|, with the
// unbiased sample std (VGS.md D.4).
func DeltaStd(gen []float32, refStd []float64) float64 {
	d := len(refStd)
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

// ModeMassError is max_k |share_k − 1/K| for samples labelled with their mode.
func ModeMassError(labels []int, K int) float64 {
	c := make([]float64, K)
	for _, l := range labels {
		c[l]++
	}
	e := 0.0
	for _, v := range c {
		e = math.Max(e, math.Abs(v/float64(len(labels))-1/float64(K)))
	}
	return e
}
