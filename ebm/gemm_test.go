package ebm

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// TestGemmSplit: gemm's row blocks (taken with -tags openblas on two or more
// processors) give the product of one Sgemm call up to float32 rounding (OpenBLAS
// picks its small-matrix kernels by size, so the blocks may sum in another order)
// and the same bits on every call, for every transposition the autoencoder uses
// and with beta 0 and 1.
func TestGemmSplit(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	fill := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return x
	}
	for _, c := range []struct {
		tA, tB  bool
		m, n, k int
	}{
		{false, false, 256, 512, 288}, // forward: x·W
		{false, true, 256, 288, 512},  // backward: dY·Wᵀ
		{true, false, 288, 512, 256},  // weight gradient: xᵀ·dY
		{false, false, 257, 16, 512},  // odd rows, narrow output
	} {
		a, b := fill(c.m*c.k), fill(c.k*c.n)
		c0 := fill(c.m * c.n)
		for _, beta := range []float32{0, 1} {
			want := append([]float32(nil), c0...)
			got := append([]float32(nil), c0...)
			ta, tb, lda, ldb := blas.NoTrans, blas.NoTrans, c.k, c.n
			if c.tA {
				ta, lda = blas.Trans, c.m
			}
			if c.tB {
				tb, ldb = blas.Trans, c.k
			}
			blas32.Implementation().Sgemm(ta, tb, c.m, c.n, c.k, 1, a, lda, b, ldb, beta, want, c.n)
			again := append([]float32(nil), c0...)
			gemm(c.tA, c.tB, c.m, c.n, c.k, a, b, beta, got)
			gemm(c.tA, c.tB, c.m, c.n, c.k, a, b, beta, again)
			for i := range want {
				// Entries are sums of k products of unit normals: |C| ~ √k.
				if d := math.Abs(float64(got[i] - want[i])); d > 1e-5*math.Sqrt(float64(c.k))*(1+math.Abs(float64(want[i]))) {
					t.Fatalf("%+v beta %v: element %d is %v, one Sgemm gives %v", c, beta, i, got[i], want[i])
				}
				if got[i] != again[i] {
					t.Fatalf("%+v beta %v: element %d is %v, then %v", c, beta, i, got[i], again[i])
				}
			}
		}
	}
}
