package datasets

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/advgs/advgs/internal/sharedpath"
	"golang.org/x/image/bmp"
)

func TestOpenMVTecMini(t *testing.T) {
	root := sharedpath.Require(t, "data/mvtec-mini")
	d, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	if d.Layout != MVTec || len(d.Categories) != 2 {
		t.Fatalf("layout %v, %d categories", d.Layout, len(d.Categories))
	}
	for _, c := range d.Categories {
		if len(c.Train) != 50 || len(c.Test) != 10 || c.NumDefective() != 8 || len(c.MissingMasks) != 0 {
			t.Errorf("%s: %d train, %d test, %d defective, missing masks %v", c.Name, len(c.Train), len(c.Test), c.NumDefective(), c.MissingMasks)
		}
		for _, it := range c.Test {
			if it.Anomalous() != (it.MaskPath != "") {
				t.Errorf("%s: mask %q", it.Path, it.MaskPath)
			}
		}
	}
	// One category folder as root.
	c, err := Open(filepath.Join(root, "hazelnut"))
	if err != nil || len(c.Categories) != 1 || c.Categories[0].Name != "hazelnut" {
		t.Fatalf("single category: %v %+v", err, c)
	}
	samples, st, err := LoadAll(context.Background(), c.Categories[0].Test, LoadOptions{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if st.Decoded != 10 || st.MasksResized != 0 {
		t.Fatalf("stats %+v", st)
	}
	for i, s := range samples {
		if s.Index != i || s.Image.Bounds().Dx() != 256 {
			t.Fatalf("sample %d: index %d bounds %v", i, s.Index, s.Image.Bounds())
		}
		if s.Anomalous() {
			n := 0
			for _, v := range s.Mask.Pix {
				if v != 0 && v != 255 {
					t.Fatalf("mask value %d", v)
				}
				if v == 255 {
					n++
				}
			}
			if n == 0 {
				t.Errorf("%s: empty mask", s.MaskPath)
			}
		}
	}
}

func TestOpenMagneticTile(t *testing.T) {
	d, err := Open(sharedpath.Require(t, "data/magnetic-tile"))
	if err != nil {
		t.Fatal(err)
	}
	c := d.Categories[0]
	if len(c.Train) != 634 || len(c.Test) != 318+392 || c.NumDefective() != 392 {
		t.Fatalf("%d train, %d test, %d defective", len(c.Train), len(c.Test), c.NumDefective())
	}
	// Grayscale JPEG: replicated to three channels.
	img, err := LoadImage(c.Train[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(img.Pix); i += 4 {
		if img.Pix[i] != img.Pix[i+1] || img.Pix[i] != img.Pix[i+2] {
			t.Fatalf("gray not replicated at %d: %v", i, img.Pix[i:i+4])
		}
	}
}

func encode(t *testing.T, img image.Image, format string) []byte {
	var b bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&b, img)
	case "jpeg":
		err = jpeg.Encode(&b, img, nil)
	case "bmp":
		err = bmp.Encode(&b, img)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDecodeFormats(t *testing.T) {
	r := image.Rect(0, 0, 5, 3)
	g := image.NewGray(r)
	g16 := image.NewGray16(r)
	rgba := image.NewRGBA(r)
	rgba64 := image.NewRGBA64(r)
	pal := image.NewPaletted(r, color.Palette{color.Black, color.RGBA{200, 100, 50, 255}})
	for y := 0; y < 3; y++ {
		for x := 0; x < 5; x++ {
			g.SetGray(x, y, color.Gray{uint8(40 * x)})
			g16.SetGray16(x, y, color.Gray16{uint16(40*x) << 8})
			rgba.Set(x, y, color.RGBA{uint8(40 * x), 10, 20, 255})
			rgba64.Set(x, y, color.RGBA64{uint16(40*x) << 8, 10 << 8, 20 << 8, 0xffff})
			pal.SetColorIndex(x, y, uint8(x%2))
		}
	}
	cases := []struct {
		name   string
		img    image.Image
		format string
		at     [3]uint8 // pixel (2, 1)
	}{
		{"gray png", g, "png", [3]uint8{80, 80, 80}},
		{"gray16 png", g16, "png", [3]uint8{80, 80, 80}},
		{"rgba png", rgba, "png", [3]uint8{80, 10, 20}},
		{"rgba64 png", rgba64, "png", [3]uint8{80, 10, 20}},
		{"paletted png", pal, "png", [3]uint8{0, 0, 0}},
		{"rgb bmp", rgba, "bmp", [3]uint8{80, 10, 20}},
		{"gray bmp", g, "bmp", [3]uint8{80, 80, 80}},
		{"paletted bmp", pal, "bmp", [3]uint8{0, 0, 0}},
		{"gray jpeg", g, "jpeg", [3]uint8{80, 80, 80}},
	}
	for _, c := range cases {
		out, err := DecodeImage(encode(t, c.img, c.format), c.name)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if out.Bounds() != r {
			t.Fatalf("%s: bounds %v", c.name, out.Bounds())
		}
		o := out.PixOffset(2, 1)
		tol := 0
		if c.format == "jpeg" {
			tol = 6
		}
		for k := 0; k < 3; k++ {
			if d := int(out.Pix[o+k]) - int(c.at[k]); d > tol || d < -tol {
				t.Errorf("%s: pixel %v, want %v", c.name, out.Pix[o:o+3], c.at)
				break
			}
		}
	}
}

func TestBadInputs(t *testing.T) {
	dir := t.TempDir()
	cat := filepath.Join(dir, "widget")
	mk := func(p string, b []byte) {
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Missing train/good.
	mk(filepath.Join(cat, "test", "good", "000.png"), encode(t, image.NewGray(image.Rect(0, 0, 8, 8)), "png"))
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "train") {
		t.Fatalf("missing train/good: %v", err)
	}
	// Empty train/good (only non-image files).
	mk(filepath.Join(cat, "train", "good", ".DS_Store"), []byte("x"))
	mk(filepath.Join(cat, "train", "good", "license.txt"), []byte("x"))
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "no PNG") {
		t.Fatalf("empty category: %v", err)
	}
	good := encode(t, image.NewGray(image.Rect(0, 0, 8, 8)), "png")
	mk(filepath.Join(cat, "train", "good", "000.png"), good)
	full := encode(t, image.NewRGBA(image.Rect(0, 0, 16, 16)), "png")
	mk(filepath.Join(cat, "train", "good", "001.png"), full[:len(full)/2]) // truncated
	mk(filepath.Join(cat, "test", "dent", "000.png"), good)
	mk(filepath.Join(cat, "test", "dent", "001.png"), good)
	mk(filepath.Join(cat, "ground_truth", "dent", "000_mask.png"), encode(t, image.NewGray(image.Rect(0, 0, 4, 4)), "png"))
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := d.Categories[0]
	if len(c.Train) != 2 || len(c.MissingMasks) != 1 || !strings.HasSuffix(c.MissingMasks[0], "001.png") {
		t.Fatalf("train %d, missing masks %v", len(c.Train), c.MissingMasks)
	}
	_, _, err = LoadAll(context.Background(), c.Train, LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), "001.png") {
		t.Fatalf("truncated image: %v", err)
	}
	s, st, err := LoadAll(context.Background(), c.Train, LoadOptions{SkipBad: true})
	if err != nil || len(s) != 1 || st.Skipped != 1 || len(st.Warnings) != 1 {
		t.Fatalf("SkipBad: %v %d %+v", err, len(s), st)
	}
	s, st, err = LoadAll(context.Background(), c.Test, LoadOptions{})
	if err != nil || st.MasksResized != 1 || s[0].Mask.Bounds().Dx() != 8 || s[1].Mask != nil {
		t.Fatalf("mask resize: %v %+v", err, st)
	}
	if _, err := Open(filepath.Join(dir, "nope")); err == nil {
		t.Fatal("missing root accepted")
	}
	if _, err := Open(t.TempDir()); err == nil {
		t.Fatal("empty root accepted")
	}
}

func TestFolderLayout(t *testing.T) {
	dir := t.TempDir()
	if err := Synthesize(dir, SynthConfig{Categories: []string{"stone"}, Size: 32, Train: 3, TestGood: 1, TestPerDefect: 1}, rand.New(rand.NewPCG(1, 2))); err != nil {
		t.Fatal(err)
	}
	// Rearrange the synthetic category into the plain layout: good/, test/...
	root := filepath.Join(dir, "stone")
	if err := os.Rename(filepath.Join(root, "train", "good"), filepath.Join(root, "good")); err != nil {
		t.Fatal(err)
	}
	d, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	c := d.Categories[0]
	if d.Layout != Folder || len(c.Train) != 3 || len(c.Test) != 4 || c.NumDefective() != 3 || len(c.MissingMasks) != 0 {
		t.Fatalf("%v: %d train %d test %d defective, missing %v", d.Layout, len(c.Train), len(c.Test), c.NumDefective(), c.MissingMasks)
	}
}

func TestSynthesizeDeterministic(t *testing.T) {
	cfg := SynthConfig{Size: 48, Train: 2, TestGood: 1, TestPerDefect: 2}
	a, b := t.TempDir(), t.TempDir()
	for _, d := range []string{a, b} {
		if err := Synthesize(d, cfg, rand.New(rand.NewPCG(7, 7))); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	filepath.Walk(a, func(p string, info os.FileInfo, err error) error {
		if info.IsDir() {
			return nil
		}
		n++
		rel, _ := filepath.Rel(a, p)
		x, _ := os.ReadFile(p)
		y, err := os.ReadFile(filepath.Join(b, rel))
		if err != nil || !bytes.Equal(x, y) {
			t.Errorf("%s differs between runs with the same seed", rel)
		}
		return nil
	})
	if want := 3 * (2 + 1 + 3*2*2); n != want {
		t.Fatalf("%d files, want %d", n, want)
	}
	d, err := Open(a)
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := LoadAll(context.Background(), d.Categories[0].Test, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Masks are exact: defect pixels changed, others not measurable here, but
	// every defective image has a non-empty mask.
	for _, x := range s {
		if x.Anomalous() {
			n := 0
			for _, v := range x.Mask.Pix {
				n += int(v / 255)
			}
			if n == 0 {
				t.Errorf("%s: empty mask", x.MaskPath)
			}
		}
	}
	if err := Synthesize(a, SynthConfig{Categories: []string{"marble"}}, rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Fatal("unknown texture accepted")
	}
}

func TestStreamCancel(t *testing.T) {
	d, err := Open(sharedpath.Require(t, "data/mvtec-mini"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	_, err = Stream(ctx, d.Categories[0].Train, LoadOptions{Workers: 2, Ahead: 1}, func(s Sample) error {
		n++
		if n == 3 {
			cancel()
		}
		return nil
	})
	if err == nil || n != 3 { // fn cancelled at the third sample: no fourth call
		t.Fatalf("cancel: err %v after %d samples, want an error after 3", err, n)
	}
}

// FuzzDecodeImage feeds random bytes to the image and mask decoders: errors are
// fine, panics are not.
func FuzzDecodeImage(f *testing.F) {
	var b bytes.Buffer
	png.Encode(&b, image.NewGray(image.Rect(0, 0, 4, 4)))
	f.Add(b.Bytes())
	b.Reset()
	jpeg.Encode(&b, image.NewRGBA(image.Rect(0, 0, 4, 4)), nil)
	f.Add(b.Bytes())
	b.Reset()
	bmp.Encode(&b, image.NewPaletted(image.Rect(0, 0, 3, 2), color.Palette{color.White, color.Black}))
	f.Add(b.Bytes())
	f.Add([]byte("BM"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if img, err := DecodeImage(data, "fuzz"); err == nil && img == nil {
			t.Fatal("nil image without error")
		}
		if m, err := DecodeMask(data, "fuzz"); err == nil {
			_ = ResizeMaskNearest(m, 3, 5)
		}
	})
}
