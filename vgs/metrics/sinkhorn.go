package metrics

import (
	"fmt"
	par "github.com/advgs/advgs/internal/parallel"
	"math"
)

// SinkhornOptions are the settings of Sinkhorn. The reference's are ε = 1e-3, at
// most 100 iterations, and a stop when both potentials move less than 1e-5
// (DefaultSinkhorn).
type SinkhornOptions struct {
	Eps        float64 // entropic regularisation ε, in cost units (> 0)
	MaxIter    int     // most u/v iterations (≥ 1)
	StopThresh float64 // stop once max|Δu| and max|Δv| are both below this
}

// DefaultSinkhorn returns the reference settings (VGS.md D.2).
func DefaultSinkhorn() SinkhornOptions {
	return SinkhornOptions{Eps: 1e-3, MaxIter: 100, StopThresh: 1e-5}
}

// lseCut is where a log-sum-exp stops adding terms: a term more than lseCut·ε below
// its row's maximum weighs less than e^{−40} ≈ 4e-18 of it, below float64's relative
// precision even summed over 10⁴ such terms. With ε = 1e-3 almost every term of
// every row is that far below (the exponent (a_j − max)/ε is in the hundreds or
// thousands), so each pass is a comparison per entry and a handful of
// exponentials per row.
const lseCut = 40

// candWidth is the width, in units of ε, of the candidate lists: a full pass over a
// row records the columns whose term lies within candWidth·ε of the row maximum.
// Later passes visit only those columns, as long as the potential they add has moved
// by at most δ ≤ (candWidth − lseCut)·ε/2 in every entry since the full pass: then
// every other term is still more than lseCut·ε below the (new) maximum, because it
// rose by at most δ while the maximum fell by at most δ. So the sparse passes give
// the same sums as full ones, not an approximation of them. On 10,000 GMM samples
// at ε = 1e-3 the potentials move by about 1.6ε per iteration, rows hold about 60
// candidates, and a full pass is needed about every 50 iterations.
const candWidth = 200

// denseRow is the fraction of a row above which its candidates are not listed and
// the row is always scanned in full (large ε, or heavily duplicated points).
const denseRow = 0.25

// Sinkhorn returns the entropic optimal-transport cost between the uniform empirical
// measures of x (n×d) and y (m×d), with ground cost M_ij = ‖x_i − y_j‖₂ (Euclidean,
// not squared), computed in the log domain exactly as the reference (VGS.md D.2):
//
//	u = 0, v = ε·log b                     (a_i = 1/n, b_j = 1/m)
//	repeat ≤ MaxIter times:
//	    u ← ε(log a − LSE_j((−M_ij + v_j)/ε))
//	    v ← ε(log b − LSE_i((−M_ij + u_i)/ε))
//	    stop when max|Δu| < StopThresh and max|Δv| < StopThresh
//	P_ij = exp((−M_ij + u_i + v_j)/ε),   result = Σ_ij P_ij·M_ij
//
// Each log-sum-exp first finds its row maximum and exponentiates only the terms
// within lseCut·ε of it (the others underflow relative to it); candidate lists keep
// later iterations from rescanning whole rows (see candWidth). M is held in float32
// twice (row- and column-major, 8·n·m bytes: 800 MB for 10,000 × 10,000), and the
// passes run on GOMAXPROCS goroutines. On 2 cores 10,000 × 10,000 takes a few
// seconds in 2-D and in 10-D.
//
// Sinkhorn returns NaN when the input is malformed (see SinkhornErr for the reason)
// or holds NaN.
func Sinkhorn(x, y []float32, d int, opt SinkhornOptions) float64 {
	s, err := SinkhornErr(x, y, d, opt)
	if err != nil {
		return math.NaN()
	}
	return s
}

// SinkhornErr is Sinkhorn with an error for malformed input: d < 1, a set whose
// length is not a positive multiple of d, ε ≤ 0 or MaxIter < 1.
func SinkhornErr(x, y []float32, d int, opt SinkhornOptions) (float64, error) {
	if d < 1 || len(x) == 0 || len(y) == 0 || len(x)%d != 0 || len(y)%d != 0 {
		return 0, fmt.Errorf("metrics: Sinkhorn needs two non-empty sets of %d-D points, got %d and %d values", d, len(x), len(y))
	}
	if !(opt.Eps > 0) || opt.MaxIter < 1 {
		return 0, fmt.Errorf("metrics: Sinkhorn needs ε > 0 and MaxIter ≥ 1, got ε = %g, MaxIter = %d", opt.Eps, opt.MaxIter)
	}
	n, m := len(x)/d, len(y)/d
	M := make([]float32, n*m)
	parallel(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			xi := x[i*d : (i+1)*d]
			row := M[i*m : (i+1)*m]
			for j := range row {
				yj := y[j*d : (j+1)*d]
				s := float32(0)
				for k, a := range xi {
					t := a - yj[k]
					s += t * t
				}
				row[j] = float32(math.Sqrt(float64(s)))
			}
		}
	})
	// Column-major copy for the v pass, in 64×64 tiles (a plain column walk misses
	// the cache on every read and took 9 s of 12 at 10,000 × 10,000).
	MT := make([]float32, n*m)
	const tile = 64
	parallel((m+tile-1)/tile, func(lo, hi int) {
		for jb := lo * tile; jb < min(hi*tile, m); jb += tile {
			je := min(jb+tile, m)
			for ib := 0; ib < n; ib += tile {
				ie := min(ib+tile, n)
				for i := ib; i < ie; i++ {
					src := M[i*m+jb : i*m+je]
					for dj, c := range src {
						MT[(jb+dj)*n+i] = c
					}
				}
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
	pu, pv := newLSEPass(M, n, m), newLSEPass(MT, m, n)
	for it := 0; it < opt.MaxIter; it++ {
		pu.run(v, un, eps, la)
		pv.run(un, vn, eps, lb)
		du, dv := maxAbsDiff(u, un), maxAbsDiff(v, vn)
		copy(u, un)
		copy(v, vn)
		if du < opt.StopThresh && dv < opt.StopThresh {
			break
		}
	}
	if sinkhornTrace != nil {
		sinkhornTrace(pu, pv)
	}
	v32 := make([]float32, m)
	for j, a := range v {
		v32[j] = float32(a)
	}
	sums := make([]float64, n)
	parallel(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row := M[i*m : (i+1)*m]
			v32 := v32[:len(row)]
			// P_ij < e^{−700} when v_j − M_ij < −u_i − 700ε: skip those, with a
			// float32 comparison first (with a margin for its rounding).
			lim := -u[i] - 700*eps
			lim32 := float32(lim - 1e-4*(1+math.Abs(lim)))
			s := 0.0
			for j, c := range row {
				if v32[j]-c <= lim32 {
					continue
				}
				if a := (-float64(c) + u[i] + v[j]) / eps; a > -700 {
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
	return t, nil
}

// Test hooks: sinkhornTrace, when set, is called with the two passes at the end;
// sinkhornAlwaysFull disables the candidate lists.
var (
	sinkhornTrace      func(pu, pv *lsePass)
	sinkhornAlwaysFull bool
)

// lsePass computes out_i = ε(logw − LSE_j((pot_j − C_ij)/ε)) for the rows of C
// (rows×cols, row-major), keeping per-row candidate lists between calls.
type lsePass struct {
	C          []float32
	rows, cols int
	ref        []float64 // the potential at the last full pass (nil before it)
	cand       [][]int32 // per row: the columns within candWidth·ε of its maximum
	dense      []bool    // rows always scanned in full
	fulls      int       // full passes so far
	nDense     int       // dense rows after the last full pass
}

func newLSEPass(C []float32, rows, cols int) *lsePass {
	return &lsePass{C: C, rows: rows, cols: cols, cand: make([][]int32, rows), dense: make([]bool, rows)}
}

func (p *lsePass) run(pot, out []float64, eps, logw float64) {
	full := sinkhornAlwaysFull || p.ref == nil || 2*maxAbsDiff(pot, p.ref) > (candWidth-lseCut)*eps
	pot32 := make([]float32, len(pot))
	for j, v := range pot {
		pot32[j] = float32(v)
	}
	cutw, candw := lseCut*eps, candWidth*eps
	parallel(p.rows, func(lo, hi int) {
		var buf []int32
		if full {
			buf = make([]int32, 0, p.cols)
		}
		for i := lo; i < hi; i++ {
			row := p.C[i*p.cols : (i+1)*p.cols]
			if !full && !p.dense[i] {
				out[i] = eps * (logw - sparseLSE(row, pot, p.cand[i], eps, cutw))
				continue
			}
			// One streaming pass: a running maximum of a_j = pot_j − C_ij, the sum of
			// exp((a_j − max)/ε) over the terms within lseCut·ε of it (rescaled when
			// the maximum grows), and a float32 filter that rejects terms below the
			// candidate width without a conversion to float64.
			pot32 := pot32[:len(row)]
			mx := math.Inf(-1)
			filt := float32(math.Inf(-1))
			s := 0.0
			buf = buf[:0]
			for j, c := range row {
				if pot32[j]-c <= filt {
					continue
				}
				a := pot[j] - float64(c)
				if a > mx {
					s *= math.Exp((mx - a) / eps)
					mx = a
					filt = float32(mx - candw - 1e-4*(1+math.Abs(mx))) // margin for float32 rounding
				}
				if a > mx-cutw {
					s += math.Exp((a - mx) / eps)
				}
				if full {
					buf = append(buf, int32(j))
				}
			}
			out[i] = eps * (logw - (mx/eps + math.Log(s)))
			if !full {
				continue
			}
			// Keep the columns within candWidth·ε of the final maximum (any such
			// column passed the filter, which only rose towards it).
			k := 0
			for _, j := range buf {
				if pot[j]-float64(row[j]) > mx-candw {
					buf[k] = j
					k++
				}
			}
			if float64(k) > denseRow*float64(p.cols) {
				p.dense[i], p.cand[i] = true, nil
			} else {
				p.dense[i] = false
				p.cand[i] = append(p.cand[i][:0], buf[:k]...)
			}
		}
	})
	if full {
		p.ref = append(p.ref[:0], pot...)
		p.fulls++
		p.nDense = 0
		for _, d := range p.dense {
			if d {
				p.nDense++
			}
		}
	}
}

// sparseLSE returns LSE_j((pot_j − row_j)/ε) over the listed columns.
func sparseLSE(row []float32, pot []float64, cand []int32, eps, cutw float64) float64 {
	mx := math.Inf(-1)
	for _, j := range cand {
		mx = math.Max(mx, pot[j]-float64(row[j]))
	}
	s := 0.0
	for _, j := range cand {
		if a := pot[j] - float64(row[j]); a > mx-cutw {
			s += math.Exp((a - mx) / eps)
		}
	}
	return mx/eps + math.Log(s)
}

func maxAbsDiff(a, b []float64) float64 {
	m := 0.0
	for i := range a {
		m = math.Max(m, math.Abs(a[i]-b[i]))
	}
	return m
}

// parallel calls f on disjoint ranges covering [0, n) on GOMAXPROCS goroutines.
func parallel(n int, f func(lo, hi int)) { par.For(n, 64, f) }
