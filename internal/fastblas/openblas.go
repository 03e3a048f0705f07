//go:build cgo && openblas

package fastblas

// #cgo LDFLAGS: -lopenblas
// void openblas_set_num_threads(int num_threads);
// int openblas_get_num_threads(void);
import "C"

import (
	"os"

	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/netlib/blas/netlib"
	G "gorgonia.org/gorgonia"
)

func init() {
	impl := netlib.Implementation{}
	G.Use(impl)
	blas32.Use(impl)
	blas64.Use(impl)
	// One OpenBLAS thread unless the user says otherwise: the value networks' GEMMs
	// are small (B ≤ 512 rows, ≤ 256 columns), and with two threads OpenBLAS spent
	// most of an LJ-13 iteration spinning in libc next to Go's own goroutines
	// (profile: 23% libc, 5% in OpenBLAS kernels; an LJ-13 iteration took 1.2 s with
	// one thread and 5 s with two while another process ran). Callers with large
	// GEMMs can raise it with SetThreads.
	if os.Getenv("OPENBLAS_NUM_THREADS") == "" && os.Getenv("OMP_NUM_THREADS") == "" {
		C.openblas_set_num_threads(1)
	}
}

// Name is the BLAS in use: "openblas" or "gonum".
const Name = "openblas"

// SetThreads sets the number of OpenBLAS threads (no effect in the pure-Go build).
func SetThreads(n int) { C.openblas_set_num_threads(C.int(n)) }

// Threads returns the number of OpenBLAS threads (1 in the pure-Go build).
func Threads() int { return int(C.openblas_get_num_threads()) }
