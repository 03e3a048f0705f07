package main

import (
	"encoding/json"
	"fmt"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/advgs/advgs/datasets"
	"github.com/advgs/advgs/ebm"
	"github.com/advgs/advgs/reports"
	"github.com/advgs/advgs/vgs/bench"
)

// fitTiny writes a small synthetic dataset (two categories, every defect type) and
// fits a tiny filterbank model on it in about a second.
func fitTiny(t *testing.T, dir string) (data, model string) {
	t.Helper()
	data = synthData(t, dir, datasets.SynthConfig{Categories: []string{"grain", "stone"}, Size: 96, Train: 10, TestGood: 3, TestPerDefect: 2}, 3, 4)
	cfg := tinyEBMConfig(t)
	cfg.Training.Steps, cfg.Training.PretrainSteps, cfg.Training.CheckpointEvery = 2, 60, 0
	model = filepath.Join(dir, "m.advgs")
	if _, err := runFit(t.Context(), fitOptions{Data: data, Config: cfg, Backbone: "filterbank", Out: model, Sampler: ebm.SamplerVGS, Offline: true}); err != nil {
		t.Fatal(err)
	}
	return data, model
}

var (
	srcAttr  = regexp.MustCompile(`\b(?:src|href)="([^"]*)"`)
	rowRe    = regexp.MustCompile(`(?s)<tr class="[^"]*" data-category="([^"]*)" data-defect="([^"]*)">(.*?)</tr>`)
	cellRe   = regexp.MustCompile(`<td class="([a-z0-9_]+)">([^<]*)</td>`)
	tableRe  = regexp.MustCompile(`(?s)<table class="summary">.*?</table>`)
	metricKs = []string{"image_auroc", "pixel_auroc", "aupro", "f1_max"}
)

// checkStaticPage checks a report page without a browser: no scripts and no
// network references, and every referenced file exists and decodes as an image
// (links to anchors aside).
func checkStaticPage(t *testing.T, page string) string {
	t.Helper()
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	html := string(b)
	if strings.Contains(html, "<script") {
		t.Errorf("%s has a script", page)
	}
	refs := srcAttr.FindAllStringSubmatch(html, -1)
	if len(refs) == 0 {
		t.Fatalf("%s references no files", page)
	}
	for _, m := range refs {
		ref := m[1]
		if strings.HasPrefix(ref, "#") {
			continue
		}
		if strings.Contains(ref, "://") || strings.HasPrefix(ref, "//") || filepath.IsAbs(ref) {
			t.Errorf("%s: %q is not a relative path", page, ref)
			continue
		}
		f, err := os.Open(filepath.Join(filepath.Dir(page), filepath.FromSlash(ref)))
		if err != nil {
			t.Errorf("%s references %s: %v", page, ref, err)
			continue
		}
		if _, _, err := image.Decode(f); err != nil {
			t.Errorf("%s references %s, which does not decode: %v", page, ref, err)
		}
		f.Close()
	}
	return html
}

// fmtJSON formats a JSON number (or null) as the report's table does.
func fmtJSON(v any) string {
	if f, ok := v.(float64); ok {
		return fmt.Sprintf("%.3f", f)
	}
	return "–"
}

// expectedTable builds, from the eval JSON, the cells the summary table must show:
// row key "category/defect" ("" for the category row) → cell class → text.
func expectedTable(t *testing.T, jsonPath string) map[string]map[string]string {
	t.Helper()
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Categories []map[string]any
		Mean       map[string]any
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]string{}
	for _, c := range doc.Categories {
		name := c["name"].(string)
		row := map[string]string{
			"good": fmt.Sprint(c["n_good"]), "defective": fmt.Sprint(c["n_defective"]),
			"missed": fmt.Sprint(c["missed"]), "false_alarms": fmt.Sprint(c["false_alarms"]),
		}
		for _, k := range metricKs {
			row[k] = fmtJSON(c[k])
		}
		want[name+"/"] = row
		defects, _ := c["defects"].([]any)
		for _, d := range defects {
			dm := d.(map[string]any)
			r := map[string]string{"defective": fmt.Sprint(dm["n"]), "missed": fmt.Sprint(dm["missed"])}
			for _, k := range metricKs {
				r[k] = fmtJSON(dm[k])
			}
			want[name+"/"+dm["defect"].(string)] = r
		}
	}
	mean := map[string]string{}
	for _, k := range metricKs {
		mean[k] = fmtJSON(doc.Mean[k])
	}
	want["mean/"] = mean
	return want
}

func compareTable(t *testing.T, where string, got, want map[string]map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: table has %d rows, the JSON %d", where, len(got), len(want))
	}
	for key, cells := range want {
		g, ok := got[key]
		if !ok {
			t.Errorf("%s: no table row for %s", where, key)
			continue
		}
		for k, v := range cells {
			if g[k] != v {
				t.Errorf("%s: row %s, %s = %q, the JSON says %q", where, key, k, g[k], v)
			}
		}
	}
}

func parseTable(html string) map[string]map[string]string {
	got := map[string]map[string]string{}
	for _, r := range rowRe.FindAllStringSubmatch(tableRe.FindString(html), -1) {
		cells := map[string]string{}
		for _, c := range cellRe.FindAllStringSubmatch(r[3], -1) {
			cells[c[1]] = c[2]
		}
		got[r[1]+"/"+r[2]] = cells
	}
	return got
}

// TestEvalReport runs a small eval with --report and --json and checks the page
// as a person would: it loads in headless Chromium without console errors or
// failed loads, every image it references exists and decodes, and the summary
// table shows the JSON's numbers. ADVGS_SCREENSHOTS=DIR keeps screenshots of the
// page and one overlay there.
func TestEvalReport(t *testing.T) {
	dir := t.TempDir()
	data, model := fitTiny(t, dir)
	repDir := filepath.Join(dir, "report")
	res, err := runEvalWith(t.Context(), evalOptions{Model: model, Data: data, Offline: true, Report: repDir})
	if err != nil {
		t.Fatal(err)
	}
	jsonPath := filepath.Join(dir, "eval.json")
	b, _ := json.MarshalIndent(res, "", "  ")
	if err := os.WriteFile(jsonPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(repDir, "index.html")
	if res.Report != page {
		t.Fatalf("report at %q, want %q", res.Report, page)
	}
	html := checkStaticPage(t, page)
	want := expectedTable(t, jsonPath)
	compareTable(t, "index.html", parseTable(html), want)
	if n := strings.Count(html, "<figure"); n != 2*(3+3*2) {
		t.Errorf("gallery has %d figures, want 18 test images", n)
	}
	for _, p := range []string{"roc.png", "pr.png", "hist.png"} {
		if m, _ := filepath.Glob(filepath.Join(repDir, "img", "*", p)); len(m) != 2 {
			t.Errorf("%s plots: %v, want one per category", p, m)
		}
	}

	br := startBrowser(t, 1280, 1000)
	br.open(page)
	imgs := br.loadAllImages()
	if len(imgs) != strings.Count(html, "<img ") {
		t.Errorf("browser sees %d images, the page has %d", len(imgs), strings.Count(html, "<img "))
	}
	for _, im := range imgs {
		if w, _ := im[1].(float64); w <= 0 {
			t.Errorf("image %v does not decode in the browser: %v", im[0], im[3])
		}
	}
	var rows [][]string
	br.eval(`JSON.stringify(Array.from(document.querySelectorAll("table.summary tbody tr")).map(r =>
  [r.dataset.category + "/" + r.dataset.defect].concat(Array.from(r.cells).map(c => c.className + "=" + c.textContent.trim()))))`, &rows)
	got := tableCells(rows)
	compareTable(t, "rendered table", got, want)
	if shots := os.Getenv("ADVGS_SCREENSHOTS"); shots != "" {
		saveScreenshots(t, br, repDir, shots)
	}
	if p := br.problems(); len(p) > 0 {
		t.Errorf("the page logged problems:\n%s", strings.Join(p, "\n"))
	}
}

// saveScreenshots keeps, in dir, a screenshot of the report's top, a full-page
// one, and the first gallery overlay and the first category's plots as PNGs.
func saveScreenshots(t *testing.T, br *browser, repDir, dir string) {
	os.MkdirAll(dir, 0o755)
	br.screenshot(filepath.Join(dir, "report.png"), false)
	br.screenshot(filepath.Join(dir, "report-full.png"), true)
	var refs []string
	br.eval(`JSON.stringify(Array.from(document.querySelectorAll(".gallery a")).slice(0, 1).map(a => a.getAttribute("href")).concat(
  Array.from(document.querySelectorAll(".plots img")).slice(0, 3).map(i => i.getAttribute("src"))))`, &refs)
	for i, ref := range refs {
		f, err := os.Open(filepath.Join(repDir, filepath.FromSlash(ref)))
		if err != nil {
			t.Fatal(err)
		}
		img, _, err := image.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := reports.WriteImage(filepath.Join(dir, fmt.Sprintf("ref%d.png", i)), img, 0); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBenchReport runs a tiny GMM benchmark keeping its samples, writes the
// sampler report and checks it as TestEvalReport does: the metric table against
// the result's JSON, every image decoding, no console errors.
func TestBenchReport(t *testing.T) {
	cfg, err := bench.LoadConfig("gmm", "")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Training.NIter, cfg.Training.NEval, cfg.Training.LogIter = 4, 300, 1
	cfg.Sampler.Value.Hidden, cfg.Sampler.Value.TEmb = 8, 8
	res, err := bench.Run(cfg, bench.Options{Name: "gmm", KeepSamples: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"vgs", "reference", "mala", "mala_walltime"} {
		if len(res.Samples[k]) != 300*2 {
			t.Errorf("kept %d values of %s samples, want 600", len(res.Samples[k]), k)
		}
	}
	dir := t.TempDir()
	page, err := reports.WriteSamplerReport(filepath.Join(dir, "report"), []*bench.Result{res}, reports.SamplerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	checkStaticPage(t, page)
	// The table shows the JSON's numbers.
	b, _ := json.Marshal(map[string]any{"results": []*bench.Result{res}})
	var doc struct {
		Results []struct {
			Target    string
			Metrics   map[string]float64
			Floor     map[string]float64
			Baselines []struct {
				Sampler string
				Metrics map[string]float64
			}
		}
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]string{}
	for _, r := range doc.Results {
		add := func(sampler string, m map[string]float64) {
			cells := map[string]string{}
			for k := range m {
				if !strings.HasSuffix(k, "_std") {
					cells[k] = reports.FormatBenchMetric(m, k)
				}
			}
			want[r.Target+"/"+sampler] = cells
		}
		add("vgs", r.Metrics)
		add("floor", r.Floor)
		for _, bl := range r.Baselines {
			add(bl.Sampler, bl.Metrics)
		}
	}
	br := startBrowser(t, 1280, 1000)
	br.open(page)
	for _, im := range br.loadAllImages() {
		if w, _ := im[1].(float64); w <= 0 {
			t.Errorf("image %v does not decode in the browser: %v", im[0], im[3])
		}
	}
	var rows [][]string
	br.eval(`JSON.stringify(Array.from(document.querySelectorAll("table.metrics tbody tr")).map(r =>
  [r.dataset.target + "/" + r.dataset.sampler].concat(Array.from(r.cells).slice(4).map(c => c.className + "=" + c.textContent.trim()))))`, &rows)
	got := tableCells(rows)
	compareTable(t, "metric table", got, want)
	if shots := os.Getenv("ADVGS_SCREENSHOTS"); shots != "" {
		br.screenshot(filepath.Join(shots, "bench-report.png"), true)
	}
	if p := br.problems(); len(p) > 0 {
		t.Errorf("the page logged problems:\n%s", strings.Join(p, "\n"))
	}
}

// tableCells turns rows scraped from a page, each [key, "class=text", ...], into
// key → class → text.
func tableCells(rows [][]string) map[string]map[string]string {
	got := map[string]map[string]string{}
	for _, r := range rows {
		cells := map[string]string{}
		for _, c := range r[1:] {
			k, v, _ := strings.Cut(c, "=")
			cells[k] = v
		}
		got[r[0]] = cells
	}
	return got
}
