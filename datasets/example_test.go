package datasets_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"

	"github.com/advgs/advgs/datasets"
)

// Write a small synthetic dataset, list it, and stream its test images.
func Example() {
	dir, err := os.MkdirTemp("", "advgs-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	cfg := datasets.SynthConfig{Categories: []string{"weave"}, Size: 64, Train: 5, TestGood: 2, TestPerDefect: 1}
	if err := datasets.Synthesize(dir, cfg, rand.New(rand.NewPCG(1, 2))); err != nil {
		panic(err)
	}
	d, err := datasets.Open(dir)
	if err != nil {
		panic(err)
	}
	c := d.Categories[0]
	fmt.Println(c.Name, len(c.Train), "train,", len(c.Test), "test,", c.NumDefective(), "defective")
	st, err := datasets.Stream(context.Background(), c.Test, datasets.LoadOptions{}, func(s datasets.Sample) error {
		fmt.Println(s.Defect, s.Image.Bounds().Dx(), s.Mask != nil)
		return nil
	})
	fmt.Println(st.Decoded, err)
	// Output:
	// weave 5 train, 5 test, 3 defective
	// crack 64 true
	// good 64 false
	// good 64 false
	// scratch 64 true
	// spot 64 true
	// 5 <nil>
}

// Read a particle sample set.
func ExampleReadNPY() {
	data, rows, cols, err := datasets.ReadNPY("../../shared/data/particles/val_DW4_2000.npy")
	if err != nil {
		fmt.Println("not available")
		return
	}
	fmt.Println(rows, cols, len(data) == rows*cols)
}
