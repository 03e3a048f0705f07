package features

import (
	"fmt"
	"image"
	"runtime"
	"sync"

	"github.com/disintegration/imaging"
)

// growGrids returns dst extended to n grids, keeping existing buffers.
func growGrids(dst []Grid, n int) []Grid {
	if cap(dst) < n {
		d := make([]Grid, n)
		copy(d, dst)
		dst = d
	}
	return dst[:n]
}

// parallelImages runs fn(k) for k in [0, n) on up to threads goroutines
// (GOMAXPROCS when ≤ 0).
func parallelImages(n, threads int, fn func(k int)) {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	threads = min(threads, n)
	if threads <= 1 {
		for k := 0; k < n; k++ {
			fn(k)
		}
		return
	}
	var wg sync.WaitGroup
	next := make(chan int, n)
	for k := 0; k < n; k++ {
		next <- k
	}
	close(next)
	for t := 0; t < threads; t++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range next {
				fn(k)
			}
		}()
	}
	wg.Wait()
}

// toNRGBA stretches img to w×h (bilinear, antialiased when shrinking; aspect
// ratio not kept) as 8-bit non-premultiplied RGBA. Grayscale, paletted and 16-bit
// images are converted; gray becomes R = G = B.
func toNRGBA(img image.Image, w, h int) *image.NRGBA {
	if n, ok := img.(*image.NRGBA); ok && n.Rect.Dx() == w && n.Rect.Dy() == h && n.Rect.Min == (image.Point{}) {
		return n
	}
	return imaging.Resize(img, w, h, imaging.Linear)
}

// toInput stretches img to the w×h network input and writes it channels-last as
// real values x = (p − zero)·scale for p ∈ [0, 255].
func toInput(img image.Image, w, h int, scale, zero float32, dst []float32) {
	r := toNRGBA(img, w, h)
	var lut [256]float32
	for p := range lut {
		lut[p] = (float32(p) - zero) * scale
	}
	i := 0
	for y := 0; y < h; y++ {
		row := r.Pix[y*r.Stride : y*r.Stride+4*w]
		for x := 0; x < w; x++ {
			dst[i] = lut[row[4*x]]
			dst[i+1] = lut[row[4*x+1]]
			dst[i+2] = lut[row[4*x+2]]
			i += 3
		}
	}
}

// MaxImageSide is the largest image width or height Extract accepts.
const MaxImageSide = 1 << 15

// checkImages rejects nil, empty and oversized (e.g. unbounded image.Uniform)
// images before any work is done.
func checkImages(imgs []image.Image) error {
	for k, img := range imgs {
		if img == nil {
			return fmt.Errorf("features: image %d is nil", k)
		}
		b := img.Bounds()
		if b.Dx() <= 0 || b.Dy() <= 0 || b.Dx() > MaxImageSide || b.Dy() > MaxImageSide {
			return fmt.Errorf("features: image %d has bounds %v; want 1 to %d pixels per side", k, b, MaxImageSide)
		}
	}
	return nil
}
