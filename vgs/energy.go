package vgs

// Energy is an unnormalised target density p(x) ∝ exp(−E(x)/τ) over R^D, evaluated in
// batches. x is row-major B×D float32 (B = len(x)/Dim()).
//
// Analytic benchmark targets (package vgs/targets) implement it directly; the image
// EBM (package ebm) implements it with a neural network. Implementations must not keep
// the slices they are given.
type Energy interface {
	// Dim is D, the length of one sample.
	Dim() int
	// Energy writes E(x_i) into e[i] for every row i of x; len(e) = B.
	Energy(e, x []float32)
	// EnergyGrad writes E(x_i) into e[i] and ∇E(x_i) into row i of g; len(g) = len(x).
	EnergyGrad(e, g, x []float32)
}
