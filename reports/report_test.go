package reports

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestHeatIsPerceptuallyOrdered(t *testing.T) {
	prevL := -1.0
	for i, c := range Heat {
		L, _, _ := srgbToOKLab(float64(c.R)/255, float64(c.G)/255, float64(c.B)/255)
		want := 0.16 + 0.80*float64(i)/255
		// 8-bit rounding moves L by at most about 0.004.
		if math.Abs(L-want) > 0.006 {
			t.Errorf("entry %d: OKLab L = %.4f, want %.4f", i, L, want)
		}
		if L <= prevL {
			t.Errorf("entry %d: lightness %.4f not above the previous %.4f", i, L, prevL)
		}
		prevL = L
	}
	if got := Heat.At(math.NaN()); got != Heat[0] {
		t.Errorf("NaN maps to %v", got)
	}
	if Heat.At(2) != Heat[255] || Heat.At(-1) != Heat[0] {
		t.Error("values outside [0, 1] are not clamped")
	}
	s := ColorScale{Low: 2, High: 4}
	if s.Norm(3) != 0.5 || s.Norm(10) != 1 || s.Norm(0) != 0 {
		t.Errorf("ColorScale.Norm: %v %v %v", s.Norm(3), s.Norm(10), s.Norm(0))
	}
}

func TestCurvesByHand(t *testing.T) {
	// Descending: 0.9+, 0.8−, 0.7+, 0.1+ (the F1 test's data).
	scores := []float64{0.9, 0.8, 0.7, 0.1}
	labels := []bool{true, false, true, true}
	roc, err := ROC(scores, labels)
	if err != nil {
		t.Fatal(err)
	}
	wantX := []float64{0, 0, 1, 1, 1}
	wantY := []float64{0, 1.0 / 3, 1.0 / 3, 2.0 / 3, 1}
	for i := range wantX {
		near(t, "ROC x", roc.X[i], wantX[i])
		near(t, "ROC y", roc.Y[i], wantY[i])
	}
	// AP = 1/3·1 + 1/3·(2/3) + 1/3·(3/4).
	ap, _ := AveragePrecision(scores, labels)
	near(t, "AP", ap, (1+2.0/3+0.75)/3)
	pr, _ := PR(scores, labels)
	near(t, "PR first recall", pr.X[0], 0)
	near(t, "PR first precision", pr.Y[0], 1)
	near(t, "PR last precision", pr.Y[pr.Len()-1], 0.75)
	// The trapezoid area under the ROC is AUROC.
	area := 0.0
	for i := 1; i < roc.Len(); i++ {
		area += (roc.X[i] - roc.X[i-1]) * (roc.Y[i] + roc.Y[i-1]) / 2
	}
	auc, _ := AUROC(scores, labels)
	near(t, "ROC area", area, auc)
}

func TestPixelCurvesAndMerge(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const w, h = 20, 10
	var all PixelSet
	parts := make([]*PixelSet, 3)
	for k := range parts {
		parts[k] = &PixelSet{}
		for img := 0; img < 2; img++ {
			sc := make([]float32, w*h)
			mask := make([]uint8, w*h)
			for i := range sc {
				x, y := i%w, i/w
				if k > 0 && x >= 3*k && x < 3*k+4 && y >= 2 && y < 6 {
					mask[i] = 1
				}
				sc[i] = float32(rng.NormFloat64()) + 2*float32(mask[i])
			}
			parts[k].Add(sc, mask, w, h)
			all.Add(sc, mask, w, h)
		}
	}
	m := MergePixels(parts...)
	a1, _ := all.AUROC()
	a2, _ := m.AUROC()
	near(t, "merged AUROC", a2, a1)
	p1, _ := all.AUPRO(0.3)
	p2, _ := m.AUPRO(0.3)
	near(t, "merged AUPRO", p2, p1)
	c, err := m.Curves(50)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "curve AUROC", c.AUROC, a1)
	if c.ROC.Len() != 50 || c.ROC.X[0] != 0 || c.ROC.Y[49] != 1 || c.ROC.X[49] != 1 {
		t.Errorf("thinned ROC: %d points from (%g, %g) to (%g, %g)", c.ROC.Len(), c.ROC.X[0], c.ROC.Y[0], c.ROC.X[49], c.ROC.Y[49])
	}
	if !(c.AP > 0.3 && c.AP <= 1) {
		t.Errorf("pixel AP %v", c.AP)
	}
}

// spotImage is a grey 64×48 image with a bright square defect at x 40..49,
// y 10..19, its mask, and a 16×12 map that is high on the defect's cells.
func spotImage() (*image.NRGBA, *image.Gray, Map) {
	img := image.NewNRGBA(image.Rect(0, 0, 64, 48))
	mask := image.NewGray(img.Rect)
	for y := 0; y < 48; y++ {
		for x := 0; x < 64; x++ {
			v := uint8(100)
			if x >= 40 && x < 50 && y >= 10 && y < 20 {
				v = 220
				mask.SetGray(x, y, color.Gray{Y: 255})
			}
			img.SetNRGBA(x, y, color.NRGBA{R: v, G: v, B: v, A: 255})
		}
	}
	m := Map{W: 16, H: 12, V: make([]float32, 16*12)}
	for i := range m.V {
		cx, cy := i%16, i/16 // cell (cx, cy) covers x 4cx..4cx+3, y 4cy..4cy+3
		if cx >= 10 && cx < 13 && cy >= 2 && cy < 5 {
			m.V[i] = 1
		}
	}
	return img, mask, m
}

func TestOverlaySitsOnTheDefect(t *testing.T) {
	img, mask, m := spotImage()
	panel, err := DrawOverlay(Overlay{Image: img, Map: m, Mask: mask, Scale: ColorScale{0, 1}, Threshold: 0.5}, OverlayStyle{})
	if err != nil {
		t.Fatal(err)
	}
	if panel.Rect.Dx() != 64 || panel.Rect.Dy() != 48 {
		t.Fatalf("panel %v", panel.Rect)
	}
	// The centre of the defect is painted with the top of the map (pale yellow,
	// blended), far from it with the bottom (dark).
	in, out := panel.NRGBAAt(45, 15), panel.NRGBAAt(10, 35)
	if !(in.R > 200 && in.G > 200) || !(out.R < 100 && out.G < 100) {
		t.Errorf("defect centre %v, background %v", in, out)
	}
	// The ground-truth outline (lime) runs along the mask's border.
	if c := panel.NRGBAAt(40, 15); c != (color.NRGBA{R: 40, G: 255, B: 40, A: 255}) {
		t.Errorf("mask border pixel %v, want the truth colour", c)
	}
	// Scaled up to 256: still the same place.
	big, _ := DrawOverlay(Overlay{Image: img, Map: m, Scale: ColorScale{0, 1}, Threshold: math.NaN()}, OverlayStyle{MinSide: 256})
	if big.Rect.Dx() != 256 || big.Rect.Dy() != 192 {
		t.Fatalf("scaled panel %v", big.Rect)
	}
	if c := big.NRGBAAt(180, 60); !(c.R > 200 && c.G > 200) {
		t.Errorf("scaled defect centre %v", c)
	}
	comp, err := Compose(Overlay{Image: img, Map: m, Mask: mask, Scale: ColorScale{0, 1}, Threshold: 0.5,
		Caption: []string{"a caption long enough to be wrapped onto more than one line of the small composite"}}, OverlayStyle{MinSide: 128})
	if err != nil {
		t.Fatal(err)
	}
	if comp.Rect.Dx() != 2*128+padding || comp.Rect.Dy() < 96+3*lineH {
		t.Errorf("composite %v", comp.Rect)
	}
	if _, err := DrawOverlay(Overlay{Image: img, Map: Map{W: 3, H: 3, V: make([]float32, 8)}}, OverlayStyle{}); err == nil {
		t.Error("a map of the wrong length: no error")
	}
}

func TestMapResampleMatchesGridUpsampling(t *testing.T) {
	// A 2×1 map stretched to 4 pixels: centres at 0.5 and 2.5 (in map pixels 0 and
	// 1), clamped outside: [a, a+(b−a)/4·... ] as features.Geometry.Upsample.
	m := Map{W: 2, H: 1, V: []float32{0, 4}}
	got := m.resample(4, 1)
	want := []float32{0, 1, 3, 4}
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-6 {
			t.Fatalf("resample = %v, want %v", got, want)
		}
	}
}

func TestWrap(t *testing.T) {
	got := wrap("aa bbb cccc ddddddddddd e", 6)
	want := []string{"aa bbb", "cccc", "dddddd", "ddddd", "e"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("wrap = %q, want %q", got, want)
	}
}

func TestDetectorReport(t *testing.T) {
	dir := t.TempDir()
	r, err := NewDetectorReport(dir, DetectorConfig{Title: "test report"})
	if err != nil {
		t.Fatal(err)
	}
	img, mask, m := spotImage()
	flat := Map{W: 1, H: 1, V: []float32{0.1}}
	var px PixelSet
	add := func(defect string, score float64, mp Map, mk *image.Gray) {
		t.Helper()
		ti := TestImage{Category: "cat/a", Defect: defect, Path: "x/" + defect + ".png", Defective: defect != "good",
			Score: score, Threshold: 1, Scale: ColorScale{0, 1}, MapThreshold: 0.5}
		if err := r.AddImage(ti, img, mp, mk); err != nil {
			t.Fatal(err)
		}
		v := mp.resample(64, 48)
		var mpx []uint8
		if mk != nil {
			mpx = mk.Pix
		}
		px.Add(v, mpx, 64, 48)
	}
	add("good", 0.2, flat, nil)
	add("good", 1.5, flat, nil) // false alarm
	add("spot", 3, m, mask)
	add("spot", 0.3, m, mask) // missed, farther from the threshold than the false alarm
	if err := r.AddPixels("cat/a", &px); err != nil {
		t.Fatal(err)
	}
	v := 0.75
	page, err := r.Write(Summary{Dataset: "d", Model: "m", Rows: []SummaryRow{{Category: "cat/a", Good: 2, Defective: 2, ImageAUROC: &v, Missed: 1, FalseAlarms: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	html := string(b)
	for _, s := range []string{"<title>test report</title>", `<td class="image_auroc">0.750</td>`, `<td class="pixel_auroc">–</td>`, "2 wrong verdicts"} {
		if !strings.Contains(html, s) {
			t.Errorf("page lacks %q", s)
		}
	}
	// Misses first, the worst (0.7 below the threshold) before the false alarm
	// (0.5 above), then the right verdicts by score.
	caps := regexp.MustCompile(`score ([0-9.]+) · <span class="v">([^<]*)</span>`).FindAllStringSubmatch(html, -1)
	var order []string
	for _, c := range caps {
		order = append(order, c[1]+" "+c[2])
	}
	want := "0.300 normal (missed defect)|1.500 anomalous (false alarm)|3.000 anomalous (correct)|0.200 normal (correct)"
	if strings.Join(order, "|") != want {
		t.Errorf("gallery order %q, want %q", strings.Join(order, "|"), want)
	}
	for _, m := range regexp.MustCompile(`src="([^"]+)"`).FindAllStringSubmatch(html, -1) {
		if _, err := os.Stat(filepath.Join(dir, m[1])); err != nil {
			t.Errorf("missing %s", m[1])
		}
	}
}
