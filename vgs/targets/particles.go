package targets

import (
	"fmt"
	"math"
)

// DW4 is the double-well system of 4 particles in 2-D (VGS.md C.3), dimension 8,
// particle-major [x1,y1,x2,y2,…]:
//
//	E(x) = Σ_{i<j} a·(d_ij − c0)⁴ + b·(d_ij − c0)²,   a = 0.9, b = −4, c0 = 4
//	∂E/∂x_i = Σ_{j≠i} (4a(d_ij − c0)³ + 2b(d_ij − c0))·(x_i − x_j)/d_ij
//
// with d_ij = ‖x_i − x_j‖ the exact Euclidean distance (a pair at distance 0
// contributes no gradient). There is no temperature (τ = 1).
type DW4 struct{}

// DW-4 constants (VGS.md C.3).
const (
	dw4A  = 0.9
	dw4B  = -4.0
	dw4C0 = 4.0
)

// NewDW4 returns the DW-4 energy.
func NewDW4() *DW4 { return &DW4{} }

// Dim is 8.
func (DW4) Dim() int { return 8 }

// Particles is (4, 2): 4 particles in 2-D.
func (DW4) Particles() (n, d int) { return 4, 2 }

func (DW4) row(x []float32, g []float32) float64 {
	var p [8]float64
	for k := range p {
		p[k] = float64(x[k])
	}
	var gr [8]float64
	e := 0.0
	for i := 0; i < 4; i++ {
		for j := i + 1; j < 4; j++ {
			dx := p[2*i] - p[2*j]
			dy := p[2*i+1] - p[2*j+1]
			d := math.Sqrt(dx*dx + dy*dy)
			u := d - dw4C0
			e += dw4A*u*u*u*u + dw4B*u*u
			if g != nil && d > 0 {
				c := (4*dw4A*u*u*u + 2*dw4B*u) / d
				gr[2*i] += c * dx
				gr[2*i+1] += c * dy
				gr[2*j] -= c * dx
				gr[2*j+1] -= c * dy
			}
		}
	}
	if g != nil {
		for k := range gr {
			g[k] = float32(gr[k])
		}
	}
	return e
}

func (w DW4) rows(e, g, x []float32, lo, hi int) {
	for i := lo; i < hi; i++ {
		var gi []float32
		if g != nil {
			gi = g[8*i : 8*i+8]
		}
		e[i] = float32(w.row(x[8*i:8*i+8], gi))
	}
}

// Energy writes E(x_i) into e[i].
func (w DW4) Energy(e, x []float32) {
	checkBuffers("DW4.Energy", 8, e, nil, x, false)
	if !parallelWorth(len(e)) {
		w.rows(e, nil, x, 0, len(e))
		return
	}
	parallelRows(len(e), func(lo, hi int) { w.rows(e, nil, x, lo, hi) })
}

// EnergyGrad writes E(x_i) into e[i] and ∇E(x_i) into row i of g.
func (w DW4) EnergyGrad(e, g, x []float32) {
	checkBuffers("DW4.EnergyGrad", 8, e, g, x, true)
	if !parallelWorth(len(e)) {
		w.rows(e, g, x, 0, len(e))
		return
	}
	parallelRows(len(e), func(lo, hi int) { w.rows(e, g, x, lo, hi) })
}

// LJ13 is the Lennard-Jones cluster of 13 particles in 3-D with a harmonic trap
// (VGS.md C.4), dimension 39, particle-major. As in the reference code every pair
// is counted twice (ordered pairs i ≠ j), and distances are softened:
//
//	r_ij = √(‖x_i − x_j‖² + 1e-6)
//	E = Σ_{i≠j} [(1/r_ij)¹² − 2(1/r_ij)⁶] + ½Σ_i ‖x_i − x̄‖²      (ε = r_m = 1)
//	∂E/∂x_i = Σ_{j≠i} 2(−12 r_ij^{−13} + 12 r_ij^{−7})·(x_i − x_j)/r_ij + (x_i − x̄)
//
// (the oscillator's x̄ terms cancel in its gradient because Σ_m (x_m − x̄) = 0).
type LJ13 struct{}

// NewLJ13 returns the LJ-13 energy.
func NewLJ13() *LJ13 { return &LJ13{} }

// Dim is 39.
func (LJ13) Dim() int { return 39 }

// Particles is (13, 3).
func (LJ13) Particles() (n, d int) { return 13, 3 }

func (LJ13) row(x []float32, g []float32) float64 {
	const n = 13
	var p, gr [39]float64
	var c [3]float64
	for k := range p {
		p[k] = float64(x[k])
		c[k%3] += p[k]
	}
	for k := range c {
		c[k] /= n
	}
	e := 0.0
	for k := range p {
		d := p[k] - c[k%3]
		e += 0.5 * d * d
		gr[k] = d
	}
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			dx := p[3*i] - p[3*j]
			dy := p[3*i+1] - p[3*j+1]
			dz := p[3*i+2] - p[3*j+2]
			r2 := dx*dx + dy*dy + dz*dz + 1e-6
			ir2 := 1 / r2
			ir6 := ir2 * ir2 * ir2
			e += 2 * (ir6*ir6 - 2*ir6)
			// (1/r)·d/dr [r^−12 − 2r^−6] = −12r^−14 + 12r^−8, times 2 for the
			// double count; times (x_i − x_j) gives the gradient on x_i.
			f := 2 * (-12*ir6*ir6 + 12*ir6) * ir2
			gr[3*i] += f * dx
			gr[3*i+1] += f * dy
			gr[3*i+2] += f * dz
			gr[3*j] -= f * dx
			gr[3*j+1] -= f * dy
			gr[3*j+2] -= f * dz
		}
	}
	if g != nil {
		for k := range gr {
			g[k] = float32(gr[k])
		}
	}
	return e
}

func (l LJ13) rows(e, g, x []float32, lo, hi int) {
	for i := lo; i < hi; i++ {
		var gi []float32
		if g != nil {
			gi = g[39*i : 39*i+39]
		}
		e[i] = float32(l.row(x[39*i:39*i+39], gi))
	}
}

// Energy writes E(x_i) into e[i].
func (l LJ13) Energy(e, x []float32) {
	checkBuffers("LJ13.Energy", 39, e, nil, x, false)
	if !parallelWorth(len(e)) {
		l.rows(e, nil, x, 0, len(e))
		return
	}
	parallelRows(len(e), func(lo, hi int) { l.rows(e, nil, x, lo, hi) })
}

// EnergyGrad writes E(x_i) into e[i] and ∇E(x_i) into row i of g.
func (l LJ13) EnergyGrad(e, g, x []float32) {
	checkBuffers("LJ13.EnergyGrad", 39, e, g, x, true)
	if !parallelWorth(len(e)) {
		l.rows(e, g, x, 0, len(e))
		return
	}
	parallelRows(len(e), func(lo, hi int) { l.rows(e, g, x, lo, hi) })
}

// RemoveMean subtracts every sample's particle centroid in place: each row of x
// holds n particles in d dimensions (particle-major), and x_i ← x_i − (1/n)Σ_m x_m.
// It panics if len(x) is not a multiple of n·d.
func RemoveMean(x []float32, n, d int) {
	if n <= 0 || d <= 0 || len(x)%(n*d) != 0 {
		panic(fmt.Sprintf("targets: RemoveMean: %d values are not rows of %d particles in %d-D", len(x), n, d))
	}
	for r := 0; r < len(x)/(n*d); r++ {
		row := x[r*n*d : (r+1)*n*d]
		for k := 0; k < d; k++ {
			s := 0.0
			for i := 0; i < n; i++ {
				s += float64(row[i*d+k])
			}
			m := s / float64(n)
			for i := 0; i < n; i++ {
				row[i*d+k] = float32(float64(row[i*d+k]) - m)
			}
		}
	}
}

// NumPairs is n(n−1)/2, the number of interatomic distances of n particles.
func NumPairs(n int) int { return n * (n - 1) / 2 }

// PairDistances returns the n(n−1)/2 interatomic distances ‖x_i − x_j‖ (i < j, in
// row-major upper-triangle order: (0,1), (0,2), …, (1,2), …) of every sample of x,
// flattened sample after sample. It panics if len(x) is not a multiple of n·d.
func PairDistances(x []float32, n, d int) []float64 {
	if n <= 0 || d <= 0 || len(x)%(n*d) != 0 {
		panic(fmt.Sprintf("targets: PairDistances: %d values are not rows of %d particles in %d-D", len(x), n, d))
	}
	out := make([]float64, len(x)/(n*d)*NumPairs(n))
	PairDistancesInto(out, x, n, d)
	return out
}

// PairDistancesInto is PairDistances writing into dst, which must hold
// len(x)/(n·d)·n(n−1)/2 values.
func PairDistancesInto(dst []float64, x []float32, n, d int) {
	B := len(x) / (n * d)
	if len(dst) != B*NumPairs(n) {
		panic(fmt.Sprintf("targets: PairDistancesInto: len(dst) = %d, want %d", len(dst), B*NumPairs(n)))
	}
	o := 0
	for r := 0; r < B; r++ {
		row := x[r*n*d : (r+1)*n*d]
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				s := 0.0
				for k := 0; k < d; k++ {
					t := float64(row[i*d+k]) - float64(row[j*d+k])
					s += t * t
				}
				dst[o] = math.Sqrt(s)
				o++
			}
		}
	}
}
