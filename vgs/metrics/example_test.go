package metrics_test

import (
	"fmt"

	"github.com/advgs/advgs/vgs/metrics"
)

// The Sinkhorn distance between two point sets, one a shifted copy of the other.
func ExampleSinkhorn() {
	x := []float32{0, 0, 1, 0, 0, 1, 1, 1} // four points in 2-D
	y := make([]float32, len(x))
	for i := range x {
		y[i] = x[i]
		if i%2 == 0 {
			y[i] += 3 // shift by 3 along the first axis
		}
	}
	opt := metrics.DefaultSinkhorn()
	opt.Eps, opt.MaxIter = 0.01, 1000 // a larger ε than the reference: converges in few iterations
	fmt.Printf("%.2f\n", metrics.Sinkhorn(x, y, 2, opt))
	// Output: 3.00
}

// Energy-histogram TVD, Δstd and the mode mass error.
func ExampleTVDEnergy() {
	ref := []float64{0, 1, 2, 3}
	gen := []float64{0, 0.5, 3, 10} // 10 is outside the reference's range: dropped
	fmt.Printf("TVD-E %.3f\n", metrics.TVDEnergy(gen, ref))
	fmt.Printf("Δstd %.3f\n", metrics.DeltaStd([]float32{0, 0, 2, 2}, []float64{1, 1}))
	fmt.Printf("mode mass error %.3f\n", metrics.ModeMassError([]int{0, 0, 0, 1}, 2))
	// Output:
	// TVD-E 0.500
	// Δstd 0.414
	// mode mass error 0.250
}

// W2 between two sets of two configurations.
func ExampleW2() {
	x := []float32{0, 0, 1, 1}
	y := []float32{1, 2, 0, 0} // the same two points, one moved by 1
	w, err := metrics.W2(x, y, 2)
	fmt.Printf("%.4f %v\n", w, err)
	// Output: 0.7071 <nil>
}
