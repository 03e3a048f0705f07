package features_test

import (
	"fmt"
	"image"
	"image/color"

	"github.com/advgs/advgs/features"
	"github.com/advgs/advgs/features/knn"
)

// Fit the nearest-neighbour baseline on patch features of good images and score
// a defective one, with the weight-free backbone.
func Example() {
	bb, err := features.New("filterbank", features.Options{})
	if err != nil {
		panic(err)
	}
	surface := func(defect bool) image.Image {
		img := image.NewGray(image.Rect(0, 0, 112, 112))
		for y := 0; y < 112; y++ {
			for x := 0; x < 112; x++ {
				v := uint8(100 + 40*((x/4+y/4)%2))
				if defect && x > 50 && x < 60 && y > 30 && y < 80 {
					v = 250
				}
				img.SetGray(x, y, color.Gray{v})
			}
		}
		return img
	}
	train, err := bb.Extract([]image.Image{surface(false), surface(false)}, nil)
	if err != nil {
		panic(err)
	}
	sc, err := knn.Fit(train)
	if err != nil {
		panic(err)
	}
	test, err := bb.Extract([]image.Image{surface(false), surface(true)}, nil)
	if err != nil {
		panic(err)
	}
	_, good, _ := sc.Score(test[0], nil)
	patch, bad, _ := sc.Score(test[1], nil)
	heat, _ := test[1].Geom.Upsample(patch, nil) // 112×112 heat map
	fmt.Println(bb.Info().GridW, bb.Info().Channels, len(heat), good < 0.01, bad > 0.1)
	// Output: 28 31 12544 true true
}
