package features

import (
	"image"
	"image/color"
	"math"
	"os"
	"slices"
	"testing"

	"github.com/advgs/advgs/internal/sharedpath"
	_ "golang.org/x/image/bmp"
)

func loadImage(tb testing.TB, path string) image.Image {
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		tb.Fatal(err)
	}
	return img
}

func checkGrid(t *testing.T, g Grid, info Info) {
	t.Helper()
	if g.H != info.GridH || g.W != info.GridW || g.C != info.Channels || len(g.Data) != g.H*g.W*g.C {
		t.Fatalf("grid %d×%d×%d (%d values), info says %d×%d×%d", g.H, g.W, g.C, len(g.Data), info.GridH, info.GridW, info.Channels)
	}
	for i := 0; i < g.H; i++ {
		for j := 0; j < g.W; j++ {
			var s float64
			for _, v := range g.Patch(i, j) {
				if math.IsNaN(float64(v)) {
					t.Fatalf("NaN at %d,%d", i, j)
				}
				s += float64(v) * float64(v)
			}
			if math.Abs(s-1) > 1e-4 {
				t.Fatalf("patch %d,%d has squared norm %v", i, j, s)
			}
		}
	}
}

// TestMobileNetV1Extract runs the mobilenetv1 backbone: 512 + 1,024 channels on a
// 14×14 grid, unit patches, and two different pictures give different patches.
func TestMobileNetV1Extract(t *testing.T) {
	w := sharedpath.Require(t, "weights/"+MobileNetV1File)
	b, err := New("mobilenetv1", Options{Weights: w})
	if err != nil {
		t.Fatal(err)
	}
	info := b.Info()
	if info.Name != "mobilenetv1" || info.Channels != 1536 || info.GridW != 14 || info.GridH != 14 ||
		info.WeightsSHA256 != KnownWeights[MobileNetV1File] {
		t.Fatalf("info %+v", info)
	}
	cat := loadImage(t, sharedpath.Require(t, "weights/cat.bmp"))
	hop := loadImage(t, sharedpath.Require(t, "weights/grace_hopper.bmp"))
	grids, err := b.Extract([]image.Image{cat, hop}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range grids {
		checkGrid(t, g, info)
	}
	// Mean cosine between the two pictures' patches at the same cell.
	var cos float64
	for i := 0; i < 14; i++ {
		for j := 0; j < 14; j++ {
			a, c := grids[0].Patch(i, j), grids[1].Patch(i, j)
			for k := range a {
				cos += float64(a[k]) * float64(c[k])
			}
		}
	}
	cos /= 196
	t.Logf("mean patch cosine, cat vs Grace Hopper: %.3f", cos)
	if cos > 0.9 {
		t.Errorf("cat and Grace Hopper: mean patch cosine %.3f, the features do not tell them apart", cos)
	}
	if _, err := New("mobilenetv1", Options{Weights: w, Layers: []string{"block5"}}); err == nil {
		t.Error("a mobilenetv2 layer name was accepted by mobilenetv1")
	}
}

func TestMobileNetV2Extract(t *testing.T) {
	w := sharedpath.Require(t, "weights/"+MobileNetV2File)
	b, err := New("mobilenetv2", Options{Weights: w, Batch: 2})
	if err != nil {
		t.Fatal(err)
	}
	info := b.Info()
	if info.Channels != 288 || info.GridW != 14 || info.WeightsSHA256 != KnownWeights[MobileNetV2File] {
		t.Fatalf("info %+v", info)
	}
	cat := loadImage(t, sharedpath.Require(t, "weights/cat.bmp"))
	hop := loadImage(t, sharedpath.Require(t, "weights/grace_hopper.bmp"))
	grids, err := b.Extract([]image.Image{cat, hop, cat}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range grids {
		checkGrid(t, g, info)
	}
	// Batching (2 + 1) must not change the result.
	for k, v := range grids[0].Data {
		if d := v - grids[2].Data[k]; d > 1e-5 || d < -1e-5 {
			t.Fatalf("same image in two batches differs at %d: %v vs %v", k, v, grids[2].Data[k])
		}
	}
	if g := grids[0].Geom; g.ImageW != 512 || g.ImageH != 341 || g.GridW != 14 || g.ReceptiveField < 100 {
		t.Fatalf("geometry %+v", g)
	}
	// One worker (one interpreter) gives the grids the concurrent workers give.
	one, err := New("mobilenetv2", Options{Weights: w, Batch: 2, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	seq, err := one.Extract([]image.Image{cat, hop, cat}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range seq {
		for k, v := range seq[i].Data {
			if d := v - grids[i].Data[k]; d > 1e-5 || d < -1e-5 {
				t.Fatalf("image %d: one worker and %d workers differ at %d: %v vs %v", i, len(b.(*mobileNet).its), k, v, grids[i].Data[k])
			}
		}
	}
}

// TestMobileNetV2Input runs the network at another input size: the grid keeps
// its side, the record says the new input, and an impossible size is refused.
func TestMobileNetV2Input(t *testing.T) {
	w := sharedpath.Require(t, "weights/"+MobileNetV2File)
	b, err := New("mobilenetv2", Options{Weights: w, Input: 320})
	if err != nil {
		t.Fatal(err)
	}
	info := b.Info()
	if info.InputW != 320 || info.InputH != 320 || info.GridW != 14 || info.Channels != 288 {
		t.Fatalf("info %+v", info)
	}
	cat := loadImage(t, sharedpath.Require(t, "weights/cat.bmp"))
	grids, err := b.Extract([]image.Image{cat}, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkGrid(t, grids[0], info)
	if g := grids[0].Geom; g.InputW != 320 || g.InputH != 320 {
		t.Fatalf("geometry %+v", g)
	}
	// The features change with the input size (the patches see less of the image).
	d224, err := New("mobilenetv2", Options{Weights: w})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := d224.Extract([]image.Image{cat}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var diff float64
	for k, v := range ref[0].Data {
		diff += math.Abs(float64(v - grids[0].Data[k]))
	}
	if diff < 1 {
		t.Fatalf("320-px and 224-px features differ by only %v in total", diff)
	}
	if _, err := New("mobilenetv2", Options{Weights: w, Input: 8}); err == nil {
		t.Fatal("an 8-px input was accepted")
	}
	if _, err := New("filterbank", Options{Input: 320}); err == nil {
		t.Fatal("filterbank accepted input 320")
	}
}

func TestFilterBankExtract(t *testing.T) {
	b, err := New("filterbank", Options{})
	if err != nil {
		t.Fatal(err)
	}
	img := image.NewGray16(image.Rect(0, 0, 300, 200))
	for y := 0; y < 200; y++ {
		for x := 0; x < 300; x++ {
			img.SetGray16(x, y, color.Gray16{Y: uint16((x*x + y*7) * 37)})
		}
	}
	grids, err := b.Extract([]image.Image{img, image.NewUniform(color.White)}, nil)
	if err == nil {
		t.Fatalf("infinite image accepted")
	}
	_ = grids
	grids, err = b.Extract([]image.Image{img}, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkGrid(t, grids[0], b.Info())
}

func TestRegistry(t *testing.T) {
	if _, err := New("nope", Options{}); err == nil {
		t.Fatal("unknown backbone accepted")
	}
	names := Names()
	if !slices.Equal(names, []string{"filterbank", "mobilenetv1", "mobilenetv2"}) {
		t.Fatalf("names %v", names)
	}
}

func TestGeometryUpsample(t *testing.T) {
	g := Geometry{ImageW: 8, ImageH: 4, InputW: 8, InputH: 4, GridW: 2, GridH: 1}
	out, err := g.Upsample([]float32{0, 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Cell centres at x = 2 and 6: values 0 left of 2, 1 right of 6, linear between.
	want := []float32{0, 0, 0.125, 0.375, 0.625, 0.875, 1, 1}
	for x, v := range want {
		if math.Abs(float64(out[x]-v)) > 1e-6 || out[3*8+x] != out[x] {
			t.Fatalf("row %v, want %v", out[:8], want)
		}
	}
	if i, j := g.CellAt(5, 3); i != 0 || j != 1 {
		t.Fatalf("CellAt(5,3) = %d,%d", i, j)
	}
}
