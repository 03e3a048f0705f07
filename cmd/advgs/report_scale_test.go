package main

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/advgs/advgs/datasets"
	"github.com/advgs/advgs/reports"
)

// TestReportScale builds the detector report of a 1,000-image test set (512×512
// synthetic images, maps made from the masks) and opens it in headless Chromium:
// the page must stay small and load fast, with the gallery loading lazily. It
// takes minutes (most of it synthesising the images), so it runs only with
// ADVGS_LONG=1.
func TestReportScale(t *testing.T) {
	if os.Getenv("ADVGS_LONG") == "" {
		t.Skip("ADVGS_LONG=1 runs the 1,000-image report check")
	}
	dir := t.TempDir()
	data := synthData(t, dir, datasets.SynthConfig{Categories: []string{"stone"}, Size: 512, Train: 1, TestGood: 250, TestPerDefect: 250}, 1, 1)
	ds, err := datasets.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := reports.NewDetectorReport(filepath.Join(dir, "report"), reports.DetectorConfig{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(2, 2))
	var px reports.PixelSet
	t0 := time.Now()
	_, err = datasets.Stream(t.Context(), ds.Categories[0].Test, datasets.LoadOptions{}, func(s datasets.Sample) error {
		// A 14×14 map: 1 on cells the mask touches, plus noise.
		var mk []uint8
		if s.Mask != nil {
			mk = maskPixels(s.Mask, 224)
		}
		m := reports.Map{W: 14, H: 14, V: make([]float32, 196)}
		for i := range m.V {
			m.V[i] = float32(0.3 * rng.Float64())
		}
		for i, v := range mk {
			if v != 0 {
				m.V[(i/224)/16*14+(i%224)/16] += 1
			}
		}
		score := 0.0
		for _, v := range m.V {
			score = max(score, float64(v))
		}
		ti := reports.TestImage{Category: "stone", Defect: s.Defect, Path: s.Path, Defective: s.Anomalous(), Score: score,
			Threshold: 0.9, Scale: reports.ColorScale{Low: 0, High: 1}, MapThreshold: 0.9}
		if err := rep.AddImage(ti, s.Image, m, s.Mask); err != nil {
			return err
		}
		heat := make([]float32, 224*224)
		for i := range heat {
			heat[i] = m.V[(i/224)/16*14+(i%224)/16]
		}
		return px.Add(heat, mk, 224, 224)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.AddPixels("stone", &px); err != nil {
		t.Fatal(err)
	}
	page, err := rep.Write(reports.Summary{Dataset: data, Model: "(maps from the masks)"})
	if err != nil {
		t.Fatal(err)
	}
	var size int64
	filepath.Walk(filepath.Join(dir, "report"), func(_ string, fi os.FileInfo, _ error) error {
		if fi != nil && !fi.IsDir() {
			size += fi.Size()
		}
		return nil
	})
	st, _ := os.Stat(page)
	t.Logf("1,000 images: report written in %s (%.1f ms/image); index.html %d KB, folder %d MB",
		time.Since(t0).Round(time.Second), float64(time.Since(t0).Milliseconds())/1000, st.Size()/1024, size>>20)
	if st.Size() > 1<<20 {
		t.Errorf("index.html is %d bytes for 1,000 images", st.Size())
	}
	br := startBrowser(t, 1280, 1000)
	br.open(page)
	var timing []float64
	br.eval(`JSON.stringify([performance.timing.loadEventEnd - performance.timing.navigationStart,
  Array.from(document.images).filter(i => i.complete && i.naturalWidth > 0).length, document.images.length])`, &timing)
	t.Logf("Chromium: load event after %.0f ms, %.0f of %.0f images loaded by then", timing[0], timing[1], timing[2])
	if timing[0] > 5000 || timing[1] > 100 {
		t.Errorf("page load %.0f ms with %.0f images loaded at once", timing[0], timing[1])
	}
	if p := br.problems(); len(p) > 0 {
		t.Errorf("the page logged problems: %v", p)
	}
}
