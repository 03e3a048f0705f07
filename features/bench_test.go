package features_test

import (
	"image"
	"os"
	"testing"

	"github.com/advgs/advgs/features"
	_ "github.com/advgs/advgs/internal/fastblas" // OpenBLAS under -tags openblas
	"github.com/advgs/advgs/internal/sharedpath"
	"github.com/disintegration/imaging"
	_ "golang.org/x/image/bmp"
)

func benchImages(b *testing.B, n int) []image.Image {
	f, err := os.Open(sharedpath.Require(b, "weights/cat.bmp"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		b.Fatal(err)
	}
	// 224×224 inputs, so that the benchmark measures the network, not the resize.
	r := imaging.Resize(img, 224, 224, imaging.Linear)
	imgs := make([]image.Image, n)
	for i := range imgs {
		imgs[i] = r
	}
	return imgs
}

func benchBackbone(b *testing.B, name string, opt features.Options) {
	if name == "mobilenetv2" {
		opt.Weights = sharedpath.Require(b, "weights/"+features.MobileNetV2File)
	}
	bb, err := features.New(name, opt)
	if err != nil {
		b.Fatal(err)
	}
	imgs := benchImages(b, 8)
	grids, err := bb.Extract(imgs, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if grids, err = bb.Extract(imgs, grids); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N*len(imgs)), "ms/image")
}

// BenchmarkMobileNetV2Features measures mobilenetv2 patch features at 224×224,
// 8 images per call (the default batch). Run with and without -tags openblas:
//
//	go test -run '^$' -bench MobileNetV2Features -benchtime 20x ./features/
//	go test -tags openblas -run '^$' -bench MobileNetV2Features -benchtime 20x ./features/
func BenchmarkMobileNetV2Features(b *testing.B) { benchBackbone(b, "mobilenetv2", features.Options{}) }

// BenchmarkFilterBankFeatures measures the weight-free backbone at 224×224.
func BenchmarkFilterBankFeatures(b *testing.B) { benchBackbone(b, "filterbank", features.Options{}) }
