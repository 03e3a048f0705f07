//go:build !(cgo && openblas)

package fastblas

// Name is the BLAS in use: "openblas" or "gonum".
const Name = "gonum"
