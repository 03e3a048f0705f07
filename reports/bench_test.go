package reports

import (
	"image"
	"math/rand/v2"
	"testing"
)

// BenchmarkAddImage512 is the report's cost per 512×512 test image: both overlays
// drawn, JPEG-encoded and written (go test -bench AddImage ./reports/).
func BenchmarkAddImage512(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	img := image.NewNRGBA(image.Rect(0, 0, 512, 512))
	for i := range img.Pix {
		img.Pix[i] = uint8(100 + rng.IntN(40))
	}
	mask := image.NewGray(img.Rect)
	for y := 200; y < 260; y++ {
		for x := 100; x < 180; x++ {
			mask.Pix[y*512+x] = 255
		}
	}
	m := Map{W: 14, H: 14, V: make([]float32, 196)}
	for i := range m.V {
		m.V[i] = rng.Float32()
	}
	r, err := NewDetectorReport(b.TempDir(), DetectorConfig{})
	if err != nil {
		b.Fatal(err)
	}
	t := TestImage{Category: "c", Defect: "d", Path: "x.png", Defective: true, Score: 1, Threshold: 0.5,
		Scale: ColorScale{Low: 0, High: 1}, MapThreshold: 0.8}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := r.AddImage(t, img, m, mask); err != nil {
			b.Fatal(err)
		}
	}
	if err := r.flush(); err != nil {
		b.Fatal(err)
	}
}
