package reports_test

import (
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"

	"github.com/advgs/advgs/reports"
)

// Image-level ROC and precision-recall points, and the areas under them.
func ExampleROC() {
	scores := []float64{0.9, 0.8, 0.7, 0.1}
	labels := []bool{true, false, true, true} // true = anomalous
	roc, _ := reports.ROC(scores, labels)
	for i := 0; i < roc.Len(); i++ {
		x, y := roc.XY(i)
		fmt.Printf("(%.2f, %.2f)\n", x, y)
	}
	auc, _ := reports.AUROC(scores, labels)
	ap, _ := reports.AveragePrecision(scores, labels)
	fmt.Printf("AUROC %.3f  AP %.3f\n", auc, ap)
	// Output:
	// (0.00, 0.00)
	// (0.00, 0.33)
	// (1.00, 0.33)
	// (1.00, 0.67)
	// (1.00, 1.00)
	// AUROC 0.333  AP 0.806
}

// An overlay of a 4×4 anomaly map on an image: the map is stretched over the
// image, coloured with the Heat colormap on a fixed scale, and the region above
// the threshold is outlined.
func ExampleCompose() {
	img := image.NewNRGBA(image.Rect(0, 0, 120, 80))
	for i := range img.Pix {
		img.Pix[i] = 128
	}
	m := reports.Map{W: 4, H: 4, V: []float32{
		0, 0, 0, 0,
		0, 0, 3, 0,
		0, 0, 0, 0,
		0, 0, 0, 0,
	}}
	out, err := reports.Compose(reports.Overlay{Image: img, Map: m, Scale: reports.ColorScale{Low: 0, High: 3},
		Threshold: 1.5, Caption: []string{"part 17: score 4.2, anomalous"}}, reports.OverlayStyle{MinSide: 256})
	if err != nil {
		panic(err)
	}
	fmt.Println(out.Bounds().Dx(), "×", out.Bounds().Dy())
	// Output: 518 × 215
}

// A detector report: one AddImage per test image (overlays are written at once),
// AddPixels per category for the pixel-level curves, then Write.
func ExampleNewDetectorReport() {
	dir, _ := os.MkdirTemp("", "report")
	defer os.RemoveAll(dir)
	r, err := reports.NewDetectorReport(dir, reports.DetectorConfig{Title: "parts"})
	if err != nil {
		panic(err)
	}
	img := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	for i := range img.Pix {
		img.Pix[i] = 200
	}
	for k, score := range []float64{0.5, 3.1} {
		t := reports.TestImage{Category: "bracket", Defect: []string{"good", "dent"}[k], Path: fmt.Sprintf("%d.png", k),
			Defective: k == 1, Score: score, Threshold: 2, Scale: reports.ColorScale{Low: 0, High: 1}, MapThreshold: math.NaN()}
		m := reports.Map{W: 2, H: 2, V: []float32{0, 0, 0, float32(k)}}
		if err := r.AddImage(t, img, m, nil); err != nil {
			panic(err)
		}
	}
	auroc := 1.0
	page, err := r.Write(reports.Summary{Dataset: "parts/", Model: "model.advgs",
		Rows: []reports.SummaryRow{{Category: "bracket", Good: 1, Defective: 1, ImageAUROC: &auroc}}})
	if err != nil {
		panic(err)
	}
	fmt.Println(filepath.Base(page))
	// Output: index.html
}
