// Package knn is the nearest-neighbour patch scorer: the PatchCore-style
// baseline that advgs's energy-based model is compared with.
//
// Fitting stores the patch vectors of defect-free training images in a memory
// bank B. A test patch x scores
//
//	s(x) = min_{b ∈ B} ‖x − b‖₂,   with ‖x − b‖² = ‖x‖² + ‖b‖² − 2·x·b,
//
// computed for all patches of a grid at once as one SGEMM per bank chunk
// (gonum blas32, OpenBLAS under -tags openblas with internal/fastblas imported).
// The image score is the largest patch score, max_x s(x). The cost of scoring
// grows with the bank: O(patches · |B| · C) per image.
package knn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sort"
	"sync"

	"github.com/advgs/advgs/features"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// chunk is the number of bank rows multiplied at once (bounds scratch memory to
// patches × chunk floats).
const chunk = 4096

// Scorer is a memory bank of training patch vectors of dimension C.
// Score may be called from several goroutines once fitting is done.
type Scorer struct {
	C     int
	bank  []float32 // N×C
	norms []float32 // ‖b‖² per bank row
	pool  sync.Pool
}

// New returns an empty scorer for c-dimensional patches.
func New(c int) *Scorer { return &Scorer{C: c} }

// Fit returns a scorer whose bank holds every patch of grids.
func Fit(grids []features.Grid) (*Scorer, error) {
	if len(grids) == 0 {
		return nil, fmt.Errorf("knn: no training grids")
	}
	s := New(grids[0].C)
	for i := range grids {
		if err := s.Add(grids[i]); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Add appends all patches of g to the bank.
func (s *Scorer) Add(g features.Grid) error {
	if g.C != s.C || len(g.Data) != g.H*g.W*g.C {
		return fmt.Errorf("knn: grid %d×%d×%d (%d values) does not match bank dimension %d", g.H, g.W, g.C, len(g.Data), s.C)
	}
	s.bank = append(s.bank, g.Data...)
	for p := 0; p < g.H*g.W; p++ {
		s.norms = append(s.norms, dot(g.Data[p*s.C:(p+1)*s.C], g.Data[p*s.C:(p+1)*s.C]))
	}
	return nil
}

// Len is the number of patches in the bank.
func (s *Scorer) Len() int { return len(s.norms) }

// Subsample keeps n bank patches chosen uniformly at random without replacement
// (all when n ≥ Len). It trades accuracy for scoring speed.
func (s *Scorer) Subsample(n int, rng *rand.Rand) {
	if n >= s.Len() || n < 0 {
		return
	}
	idx := rng.Perm(s.Len())[:n]
	sort.Ints(idx)
	bank := make([]float32, 0, n*s.C)
	norms := make([]float32, 0, n)
	for _, i := range idx {
		bank = append(bank, s.bank[i*s.C:(i+1)*s.C]...)
		norms = append(norms, s.norms[i])
	}
	s.bank, s.norms = bank, norms
}

// Score returns the distance of every patch of g to its nearest bank patch
// (row-major H×W, written into dst when large enough) and the image score, the
// largest of them.
func (s *Scorer) Score(g features.Grid, dst []float32) ([]float32, float32, error) {
	if s.Len() == 0 {
		return nil, 0, fmt.Errorf("knn: empty bank")
	}
	if g.C != s.C || len(g.Data) != g.H*g.W*g.C {
		return nil, 0, fmt.Errorf("knn: grid %d×%d×%d does not match bank dimension %d", g.H, g.W, g.C, s.C)
	}
	P := g.H * g.W
	if cap(dst) < P {
		dst = make([]float32, P)
	}
	dst = dst[:P]
	for i := range dst {
		dst[i] = float32(math.Inf(1))
	}
	buf, _ := s.pool.Get().(*[]float32)
	if buf == nil || cap(*buf) < P*chunk {
		b := make([]float32, P*chunk)
		buf = &b
	}
	defer s.pool.Put(buf)
	prod := (*buf)[:P*chunk]
	impl := blas32.Implementation()
	N := s.Len()
	for lo := 0; lo < N; lo += chunk {
		k := min(chunk, N-lo)
		// prod (P×k) = X · B[lo:lo+k]ᵀ
		impl.Sgemm(blas.NoTrans, blas.Trans, P, k, s.C, 1, g.Data, s.C, s.bank[lo*s.C:], s.C, 0, prod, k)
		nb := s.norms[lo : lo+k]
		parallel(P, func(a, b int) {
			for p := a; p < b; p++ {
				row := prod[p*k : p*k+k]
				best := dst[p]
				for j, v := range row {
					// ‖b‖² − 2x·b; ‖x‖² is added at the end.
					best = min(best, nb[j]-2*v)
				}
				dst[p] = best
			}
		})
	}
	var img float32
	for p := range dst {
		x := g.Data[p*s.C : (p+1)*s.C]
		d := float32(math.Sqrt(math.Max(0, float64(dst[p]+dot(x, x)))))
		dst[p] = d
		img = max(img, d)
	}
	return dst, img, nil
}

func dot(a, b []float32) float32 {
	var s float32
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

func parallel(n int, fn func(lo, hi int)) {
	t := min(runtime.GOMAXPROCS(0), max(n/64, 1))
	if t <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	c := (n + t - 1) / t
	for lo := 0; lo < n; lo += c {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			fn(lo, hi)
		}(lo, min(lo+c, n))
	}
	wg.Wait()
}

// AUROC is the area under the ROC curve of scores against labels (true =
// anomalous, expected to score higher): the Mann–Whitney probability
// P(s⁺ > s⁻) + ½·P(s⁺ = s⁻) over all positive/negative pairs. It is an error
// when either class is empty or the lengths differ.
func AUROC(scores []float64, labels []bool) (float64, error) {
	if len(scores) != len(labels) {
		return 0, fmt.Errorf("knn: %d scores for %d labels", len(scores), len(labels))
	}
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	// Sum of the (tie-averaged) ranks of the positives.
	var rankSum float64
	pos := 0
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			j++
		}
		r := float64(i+j+1) / 2 // mean of ranks i+1 … j
		for k := i; k < j; k++ {
			if labels[idx[k]] {
				rankSum += r
				pos++
			}
		}
		i = j
	}
	neg := len(scores) - pos
	if pos == 0 || neg == 0 {
		return 0, fmt.Errorf("knn: AUROC needs both classes (%d anomalous, %d good)", pos, neg)
	}
	return (rankSum - float64(pos)*float64(pos+1)/2) / (float64(pos) * float64(neg)), nil
}
