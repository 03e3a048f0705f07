package reports

import (
	"cmp"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"gonum.org/v1/plot/vg"
)

// DetectorConfig configures a detector report. Zero fields take the defaults in
// brackets.
type DetectorConfig struct {
	// Title heads the page [advgs evaluation report].
	Title string
	// Style draws the full-size overlays [MaxSide 512, MinSide 256; Heat colours].
	Style OverlayStyle
	// ThumbSide is the longer side of the gallery thumbnails in pixels [200].
	ThumbSide int
	// JPEGQuality is the quality of the overlay and thumbnail JPEGs [90].
	JPEGQuality int
	// CurvePoints is the most points kept of a pixel-level curve [1000].
	CurvePoints int
}

func (c DetectorConfig) withDefaults() DetectorConfig {
	if c.Title == "" {
		c.Title = "advgs evaluation report"
	}
	if c.Style.MaxSide == 0 {
		c.Style.MaxSide = 512
	}
	if c.Style.MinSide == 0 {
		c.Style.MinSide = 256
	}
	if c.ThumbSide <= 0 {
		c.ThumbSide = 200
	}
	if c.JPEGQuality <= 0 {
		c.JPEGQuality = 85
	}
	if c.CurvePoints <= 0 {
		c.CurvePoints = 1000
	}
	c.Style = c.Style.withDefaults()
	return c
}

// TestImage is one scored test image of a detector report.
type TestImage struct {
	// Category and Defect name the image's class and defect type ("good" or
	// another name; Defective says which is which). Path is its file.
	Category, Defect, Path string
	// Defective is the ground truth: true for a defective image.
	Defective bool
	// Score is the image's anomaly score and Threshold the decision threshold:
	// the verdict is "anomalous" when Score > Threshold.
	Score, Threshold float64
	// Scale colours the map; it should be the same for all images of a category.
	Scale ColorScale
	// MapThreshold outlines the map values above it as the predicted defect
	// region (NaN: no prediction outline).
	MapThreshold float64
}

// Predicted reports the verdict: Score > Threshold.
func (t TestImage) Predicted() bool { return t.Score > t.Threshold }

// Verdict says the prediction and whether it is right.
func (t TestImage) Verdict() string {
	switch p := t.Predicted(); {
	case p && t.Defective:
		return "anomalous (correct)"
	case p:
		return "anomalous (false alarm)"
	case t.Defective:
		return "normal (missed defect)"
	default:
		return "normal (correct)"
	}
}

// Miss reports whether the verdict is wrong.
func (t TestImage) Miss() bool { return t.Predicted() != t.Defective }

// DetectorReport builds the report of an evaluation in a folder: an overlay and a
// thumbnail per test image (written as images are added, so no image is kept in
// memory), ROC, precision-recall and score-histogram plots per category, and
// index.html tying them together with the summary table. Use NewDetectorReport,
// AddImage for each test image, AddPixels once per category, then Write.
type DetectorReport struct {
	dir  string
	cfg  DetectorConfig
	cats []*catReport
	// JPEG encoding and writing run on one background goroutine, overlapping
	// the caller's scoring; Write waits for them.
	jobs chan writeJob
	done chan struct{}
	mu   sync.Mutex
	err  error
}

type writeJob struct {
	path string
	img  *image.NRGBA
}

// write queues img to be encoded and written to path.
func (r *DetectorReport) write(path string, img *image.NRGBA) error {
	if r.jobs == nil {
		r.jobs, r.done = make(chan writeJob, 8), make(chan struct{})
		go func() {
			defer close(r.done)
			for j := range r.jobs {
				if err := WriteImage(j.path, j.img, r.cfg.JPEGQuality); err != nil {
					r.mu.Lock()
					if r.err == nil {
						r.err = err
					}
					r.mu.Unlock()
				}
			}
		}()
	}
	r.mu.Lock()
	err := r.err
	r.mu.Unlock()
	if err != nil {
		return err
	}
	r.jobs <- writeJob{path, img}
	return nil
}

// flush waits for the queued images and returns the first error writing them.
func (r *DetectorReport) flush() error {
	if r.jobs != nil {
		close(r.jobs)
		<-r.done
		r.jobs = nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

type catReport struct {
	name   string
	slug   string
	images []imageEntry
	pixel  *PixelCurves
	scale  ColorScale
}

type imageEntry struct {
	TestImage
	Full, Thumb    string // paths relative to the report folder
	ThumbW, ThumbH int
}

// NewDetectorReport creates the report folder dir (and dir/img).
func NewDetectorReport(dir string, cfg DetectorConfig) (*DetectorReport, error) {
	if err := os.MkdirAll(filepath.Join(dir, "img"), 0o755); err != nil {
		return nil, fmt.Errorf("reports: report folder: %w", err)
	}
	return &DetectorReport{dir: dir, cfg: cfg.withDefaults()}, nil
}

// Dir is the report folder.
func (r *DetectorReport) Dir() string { return r.dir }

func (r *DetectorReport) category(name string) *catReport {
	for _, c := range r.cats {
		if c.name == name {
			return c
		}
	}
	c := &catReport{name: name, slug: fmt.Sprintf("c%02d-%s", len(r.cats), slug(name))}
	r.cats = append(r.cats, c)
	return c
}

// slug keeps letters, digits, '.', '_' and '-' of s and replaces the rest by '_'.
func slug(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "_"
	}
	return string(b)
}

// AddImage draws the overlay of one test image (image | image with the map,
// outlines and caption) and its thumbnail, queues both to be written, and records
// the score. m is the image's anomaly map at any resolution (see Map); mask is its
// ground truth or nil. img, m and mask are not used after AddImage returns. An
// error writing an earlier image is returned here or by Write.
func (r *DetectorReport) AddImage(t TestImage, img *image.NRGBA, m Map, mask *image.Gray) error {
	c := r.category(t.Category)
	if len(c.images) == 0 {
		c.scale = t.Scale
	}
	idx := len(c.images)
	base := strings.TrimSuffix(filepath.Base(t.Path), filepath.Ext(t.Path))
	name := fmt.Sprintf("%04d_%s_%s", idx, slug(t.Defect), slug(base))
	sub := filepath.Join("img", c.slug)
	if err := os.MkdirAll(filepath.Join(r.dir, sub), 0o755); err != nil {
		return fmt.Errorf("reports: %w", err)
	}
	e := imageEntry{TestImage: t, Full: sub + "/" + name + ".jpg", Thumb: sub + "/" + name + "_t.jpg"}
	o := Overlay{Image: img, Map: m, Mask: mask, Scale: t.Scale, Threshold: t.MapThreshold,
		Caption: []string{
			fmt.Sprintf("%s / %s / %s", t.Category, t.Defect, filepath.Base(t.Path)),
			fmt.Sprintf("score %.3f, threshold %.3f: %s", t.Score, t.Threshold, t.Verdict()),
		}}
	full, err := Compose(o, r.cfg.Style)
	if err != nil {
		return fmt.Errorf("reports: %s: %w", t.Path, err)
	}
	if err := r.write(filepath.Join(r.dir, e.Full), full); err != nil {
		return err
	}
	ts := r.cfg.Style
	ts.MaxSide, ts.MinSide = r.cfg.ThumbSide, r.cfg.ThumbSide
	thumb, err := DrawOverlay(o, ts)
	if err != nil {
		return fmt.Errorf("reports: %s: %w", t.Path, err)
	}
	e.ThumbW, e.ThumbH = thumb.Rect.Dx(), thumb.Rect.Dy()
	if err := r.write(filepath.Join(r.dir, e.Thumb), thumb); err != nil {
		return err
	}
	c.images = append(c.images, e)
	return nil
}

// AddPixels computes a category's pixel-level ROC and precision-recall curves from
// its pooled maps (the PixelSet of the pixel metrics) and keeps only the curves,
// so the caller can drop the pixels.
func (r *DetectorReport) AddPixels(category string, px *PixelSet) error {
	pc, err := px.Curves(r.cfg.CurvePoints)
	if err != nil {
		return fmt.Errorf("reports: category %s: %w", category, err)
	}
	r.category(category).pixel = &pc
	return nil
}

// Summary is the table of a detector report: one row per category and per defect
// type of a category, and the mean over categories.
type Summary struct {
	// Dataset and Model name what was evaluated.
	Dataset, Model string
	// Rows are the category rows (Defect == "") each followed by its defect rows.
	Rows []SummaryRow
	// Mean is the unweighted mean over categories (nil: no mean row).
	Mean *SummaryRow
	// MsPerImage is the evaluation time per test image (0: not shown).
	MsPerImage float64
	// Notes are shown under the title (threshold origin, backbone, ...).
	Notes []string
}

// SummaryRow is one row of the summary table. A nil metric is shown as "–"; a
// negative count is not applicable.
type SummaryRow struct {
	Category, Defect                     string
	Good, Defective                      int
	ImageAUROC, PixelAUROC, AUPRO, F1Max *float64
	Missed, FalseAlarms                  int
}

// FormatMetric formats a metric as the summary table shows it: three decimals,
// "–" for nil or NaN.
func FormatMetric(v *float64) string {
	if v == nil || math.IsNaN(*v) {
		return "–"
	}
	return fmt.Sprintf("%.3f", *v)
}

// FormatCount formats a count as the table does: "–" when negative.
func FormatCount(n int) string {
	if n < 0 {
		return "–"
	}
	return fmt.Sprint(n)
}

// Write waits for the queued images, writes each category's plots and
// index.html, and returns the page's path. Call it once, after the last AddImage.
func (r *DetectorReport) Write(s Summary) (string, error) {
	if err := r.flush(); err != nil {
		return "", err
	}
	page := detectorPage{Title: r.cfg.Title, Summary: s, Gradient: r.cfg.Style.Colormap.CSSGradient(16),
		Truth: cssColor(r.cfg.Style.Truth), Pred: cssColor(r.cfg.Style.Pred)}
	for _, c := range r.cats {
		pc := pageCategory{Name: c.name, Anchor: c.slug, Scale: c.scale}
		var scores []float64
		var labels []bool
		var normal, defective []float64
		threshold := math.NaN()
		for _, e := range c.images {
			scores = append(scores, e.Score)
			labels = append(labels, e.Defective)
			if e.Defective {
				defective = append(defective, e.Score)
			} else {
				normal = append(normal, e.Score)
			}
			threshold = e.Threshold
			if e.Miss() {
				pc.Misses++
			}
		}
		pc.MapThreshold = math.NaN()
		if len(c.images) > 0 {
			pc.MapThreshold = c.images[0].MapThreshold
		}
		pc.Threshold = threshold
		dir := filepath.Join("img", c.slug)
		var rocs, prs []namedCurve
		if roc, err := ROC(scores, labels); err == nil {
			a, _ := AUROC(scores, labels)
			rocs = append(rocs, namedCurve{fmt.Sprintf("image AUROC %.3f", a), roc})
			pr, _ := PR(scores, labels)
			ap, _ := AveragePrecision(scores, labels)
			prs = append(prs, namedCurve{fmt.Sprintf("image AP %.3f", ap), pr})
		}
		if c.pixel != nil {
			rocs = append(rocs, namedCurve{fmt.Sprintf("pixel AUROC %.3f", c.pixel.AUROC), c.pixel.ROC})
			prs = append(prs, namedCurve{fmt.Sprintf("pixel AP %.3f", c.pixel.AP), c.pixel.PR})
		}
		if len(rocs) > 0 {
			for _, pl := range []struct {
				file, title string
				curves      []namedCurve
				roc         bool
			}{{"roc.png", "ROC: " + c.name, rocs, true}, {"pr.png", "precision-recall: " + c.name, prs, false}} {
				p, err := curvePlot(pl.title, pl.curves, pl.roc)
				if err != nil {
					return "", err
				}
				rel := dir + "/" + pl.file
				if err := savePNG(p, 4.5*vg.Inch, 4.5*vg.Inch, filepath.Join(r.dir, rel)); err != nil {
					return "", err
				}
				pc.Plots = append(pc.Plots, pagePlot{Src: rel, Alt: pl.title})
			}
		}
		if len(scores) > 0 {
			rel := dir + "/hist.png"
			p := scoreHistogram("scores: "+c.name, normal, defective, threshold)
			if err := savePNG(p, 5.5*vg.Inch, 4.5*vg.Inch, filepath.Join(r.dir, rel)); err != nil {
				return "", err
			}
			pc.Plots = append(pc.Plots, pagePlot{Src: rel, Alt: "score histogram: " + c.name})
		}
		pc.Images = galleryOrder(c.images)
		page.Categories = append(page.Categories, pc)
	}
	path := filepath.Join(r.dir, "index.html")
	if err := writeTemplate(path, detectorTmpl, page); err != nil {
		return "", err
	}
	return path, nil
}

// galleryOrder puts the misses first, the worst (farthest from the threshold on
// the wrong side) first, then the correct verdicts by score, highest first.
func galleryOrder(images []imageEntry) []imageEntry {
	out := slices.Clone(images)
	slices.SortStableFunc(out, func(a, b imageEntry) int {
		if a.Miss() != b.Miss() {
			if a.Miss() {
				return -1
			}
			return 1
		}
		if a.Miss() {
			return cmp.Compare(math.Abs(b.Score-b.Threshold), math.Abs(a.Score-a.Threshold))
		}
		return cmp.Compare(b.Score, a.Score)
	})
	return out
}
