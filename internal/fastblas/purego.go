//go:build !(cgo && openblas)

package fastblas

// Name is the BLAS in use: "openblas" or "gonum".
const Name = "gonum"

// SetThreads sets the number of OpenBLAS threads (no effect in the pure-Go build).
func SetThreads(n int) {}

// Threads returns the number of OpenBLAS threads (1 in the pure-Go build).
func Threads() int { return 1 }
