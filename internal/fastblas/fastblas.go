// Package fastblas chooses the BLAS that gorgonia and gonum use.
//
// The default build is pure Go (gonum's own BLAS), so CGO_ENABLED=0 works everywhere.
// Building with -tags openblas (and cgo) links OpenBLAS through gonum's netlib
// bindings and installs it for gorgonia (and, through it, gorgonia's tensor
// package) and for gonum's blas32/blas64, which is 8–17× faster for the dense
// algebra on the 2-core reference machine (see ../shared/spec/GO-STACK.md).
//
// Importing the package is enough: the choice is made in init. Name reports it.
package fastblas
