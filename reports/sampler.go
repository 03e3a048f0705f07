package reports

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/advgs/advgs/vgs/bench"
	"github.com/advgs/advgs/vgs/targets"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Reference is a published result to compare a benchmark with.
type Reference struct {
	// Source says where the numbers come from.
	Source string
	// Metrics holds the values by metric key (DESIGN.md), with "<key>_std" for a
	// spread where one was published.
	Metrics map[string]float64
}

// PaperReference returns the reference numbers known for the benchmark targets:
// the VGS checkpoints shipped with the paper's code, evaluated by its notebooks
// (VGS.md D.7; 10 rounds of 2,000 samples). The paper's GMM and funnel tables
// could not be retrieved, so those targets have none.
func PaperReference() map[string]Reference {
	const src = "VGS reference checkpoint (VGS.md D.7)"
	return map[string]Reference{
		"dw4": {Source: src, Metrics: map[string]float64{"w2": 1.6104, "w2_std": 0.0274,
			"tvd_e": 0.0664, "tvd_e_std": 0.0086, "tvd_d": 0.0571, "tvd_d_std": 0.0044}},
		"lj13": {Source: src, Metrics: map[string]float64{"w2": 4.1669, "w2_std": 0.0051,
			"tvd_e": 0.1122, "tvd_e_std": 0.0088, "tvd_d": 0.0140, "tvd_d_std": 0.0016}},
	}
}

// SamplerConfig configures a sampler report. Zero fields take the defaults in
// brackets.
type SamplerConfig struct {
	// Title heads the page [advgs sampler benchmarks].
	Title string
	// Reference holds reference numbers by target name [PaperReference()]; a
	// target without one shows no reference row.
	Reference map[string]Reference
	// MaxScatter is the most samples drawn in a scatter panel [2000].
	MaxScatter int
}

func (c SamplerConfig) withDefaults() SamplerConfig {
	if c.Title == "" {
		c.Title = "advgs sampler benchmarks"
	}
	if c.Reference == nil {
		c.Reference = PaperReference()
	}
	if c.MaxScatter <= 0 {
		c.MaxScatter = 2000
	}
	return c
}

// metricOrder is the column order of the metric table; other keys follow sorted.
var metricOrder = []string{"sinkhorn", "w2", "tvd_e", "tvd_d", "tvd_d_fine", "delta_std", "mode_mass_error"}

// samplerNames are the sample sets of a bench.Result in display order, with labels.
var samplerNames = []struct{ key, label string }{
	{"reference", "exact / reference"}, {"vgs", "VGS"}, {"mala", "MALA (same steps)"}, {"mala_walltime", "MALA (same wall time)"},
}

type samplerRow struct {
	Target, Sampler, Kind string // Kind: vgs, baseline, floor, reference
	Steps, Seconds        string
	Cells                 []samplerCell
}

type samplerCell struct{ Key, Text string }

type samplerTarget struct {
	Name, Anchor string
	Summary      string
	Plots        []pagePlot
	Notes        []string
}

type samplerPage struct {
	Title   string
	Columns []string
	Rows    []samplerRow
	Targets []samplerTarget
}

// FormatBenchMetric formats metric key of m as the sampler table shows it: four
// decimals, "mean ± std" when m has key_std, "" when m lacks key.
func FormatBenchMetric(m map[string]float64, key string) string {
	v, ok := m[key]
	if !ok {
		return ""
	}
	if s, ok := m[key+"_std"]; ok {
		return fmt.Sprintf("%.4f ± %.4f", v, s)
	}
	return fmt.Sprintf("%.4f", v)
}

// WriteSamplerReport writes the report of a benchmark run (one target or `bench
// all`) into dir: index.html with the metric table (VGS, the MALA baselines, the
// floor and the reference numbers) and, per target, the training curves and, when
// the result kept its samples (bench.Options.KeepSamples), the sample plots:
// scatter of the first two coordinates over the exact density and per-dimension
// marginals for the GMM and the funnel, interatomic-distance and energy histograms
// for DW-4 and LJ-13. It returns the page's path.
func WriteSamplerReport(dir string, results []*bench.Result, cfg SamplerConfig) (string, error) {
	cfg = cfg.withDefaults()
	if err := os.MkdirAll(filepath.Join(dir, "img"), 0o755); err != nil {
		return "", fmt.Errorf("reports: report folder: %w", err)
	}
	cols := map[string]bool{}
	for _, r := range results {
		for k := range r.Metrics {
			if !strings.HasSuffix(k, "_std") {
				cols[k] = true
			}
		}
	}
	page := samplerPage{Title: cfg.Title}
	for _, k := range metricOrder {
		if cols[k] {
			page.Columns = append(page.Columns, k)
			delete(cols, k)
		}
	}
	rest := make([]string, 0, len(cols))
	for k := range cols {
		rest = append(rest, k)
	}
	sort.Strings(rest)
	page.Columns = append(page.Columns, rest...)
	row := func(target, sampler, kind, steps, secs string, m map[string]float64) samplerRow {
		r := samplerRow{Target: target, Sampler: sampler, Kind: kind, Steps: steps, Seconds: secs}
		for _, k := range page.Columns {
			r.Cells = append(r.Cells, samplerCell{Key: k, Text: FormatBenchMetric(m, k)})
		}
		return r
	}
	for i, r := range results {
		page.Rows = append(page.Rows, row(r.Target, "vgs", "vgs", fmt.Sprint(r.Steps),
			fmt.Sprintf("%.1f + %.2f", r.TrainSeconds, r.SampleSeconds), r.Metrics))
		for _, b := range r.Baselines {
			page.Rows = append(page.Rows, row(r.Target, b.Sampler, "baseline", fmt.Sprint(b.Steps), fmt.Sprintf("%.1f", b.Seconds), b.Metrics))
		}
		if len(r.Floor) > 0 {
			page.Rows = append(page.Rows, row(r.Target, "floor", "floor", "", "", r.Floor))
		}
		if ref, ok := cfg.Reference[r.Target]; ok {
			page.Rows = append(page.Rows, row(r.Target, "reference", "reference", "", "", ref.Metrics))
		}
		t, err := samplerSection(dir, fmt.Sprintf("t%02d-%s", i, slug(r.Target)), r, cfg)
		if err != nil {
			return "", err
		}
		if ref, ok := cfg.Reference[r.Target]; ok {
			t.Notes = append(t.Notes, "reference: "+ref.Source)
		}
		page.Targets = append(page.Targets, t)
	}
	path := filepath.Join(dir, "index.html")
	if err := writeTemplate(path, samplerTmpl, page); err != nil {
		return "", err
	}
	return path, nil
}

// samplerSection draws one target's plots into dir/img/<anchor>/.
func samplerSection(dir, anchor string, r *bench.Result, cfg SamplerConfig) (samplerTarget, error) {
	t := samplerTarget{Name: r.Target, Anchor: anchor}
	t.Summary = fmt.Sprintf("%s: VGS with T = %d steps, trained %.1f s (%d energy evaluations), sampled %d in %.2f s; %s BLAS, seed %d%s",
		r.Target, r.Steps, r.TrainSeconds, r.EnergyEvalsTrain, r.NEval, r.SampleSeconds, r.BLAS, r.Seed, map[bool]string{true: ", quick run", false: ""}[r.Quick])
	sub := filepath.Join("img", anchor)
	if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
		return t, fmt.Errorf("reports: %w", err)
	}
	add := func(name, alt string, draw func(path string) error) error {
		rel := sub + "/" + name
		if err := draw(filepath.Join(dir, rel)); err != nil {
			return err
		}
		t.Plots = append(t.Plots, pagePlot{Src: filepath.ToSlash(rel), Alt: alt})
		return nil
	}
	if len(r.Samples) > 0 && r.Samples["reference"] != nil {
		name := r.Config.EnergyModel.Name
		if bench.IsParticle(name) {
			var pt bench.ParticleTarget = targets.NewDW4()
			if name == "lj13" {
				pt = targets.NewLJ13()
			}
			if err := add("distances.png", "interatomic distances: "+r.Target, func(p string) error { return particleHists(p, r, pt, true) }); err != nil {
				return t, err
			}
			if err := add("energies.png", "energies: "+r.Target, func(p string) error { return particleHists(p, r, pt, false) }); err != nil {
				return t, err
			}
		} else {
			tg, err := bench.NewTarget(name, r.Config.Sampler.Dim())
			if err != nil {
				return t, fmt.Errorf("reports: %s: %w", r.Target, err)
			}
			if err := add("samples.png", "samples over the exact density: "+r.Target, func(p string) error { return scatterPanels(p, r, tg, cfg.MaxScatter) }); err != nil {
				return t, err
			}
			if err := add("marginals.png", "per-dimension marginals: "+r.Target, func(p string) error { return marginals(p, r, tg.Dim()) }); err != nil {
				return t, err
			}
		}
	} else {
		t.Notes = append(t.Notes, "no samples kept (run with --report to plot them)")
	}
	if len(r.History) > 0 {
		if err := add("training.png", "training curves: "+r.Target, func(p string) error { return trainingCurves(p, r) }); err != nil {
			return t, err
		}
	}
	return t, nil
}

// samplerColor is the colour of a sample set in every plot.
func samplerColor(key string) color.NRGBA {
	switch key {
	case "vgs":
		return palette[0]
	case "mala":
		return palette[1]
	case "mala_walltime":
		return palette[2]
	}
	return color.NRGBA{R: 110, G: 110, B: 110, A: 255}
}

// sampleSets returns the kept sample sets of r in display order.
func sampleSets(r *bench.Result) (keys, labels []string) {
	for _, s := range samplerNames {
		if r.Samples[s.key] != nil {
			keys, labels = append(keys, s.key), append(labels, s.label)
		}
	}
	return keys, labels
}

// quantile returns the q-quantile of the sorted slice s (nearest rank).
func quantile(s []float64, q float64) float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	return s[min(len(s)-1, max(0, int(q*float64(len(s)-1)+0.5)))]
}

// robustRange is the [0.5 %, 99.5 %] quantile range of v, widened by 10 % a side.
func robustRange(v []float64) (lo, hi float64) {
	s := slices.Clone(v)
	s = slices.DeleteFunc(s, func(x float64) bool { return math.IsNaN(x) || math.IsInf(x, 0) })
	slices.Sort(s)
	lo, hi = quantile(s, 0.005), quantile(s, 0.995)
	if math.IsNaN(lo) {
		return 0, 1
	}
	pad := 0.1 * (hi - lo)
	if pad == 0 {
		pad = 0.5
	}
	return lo - pad, hi + pad
}

func column(x []float32, dim, j int) []float64 {
	out := make([]float64, len(x)/dim)
	for i := range out {
		out[i] = float64(x[i*dim+j])
	}
	return out
}

// densityGrid is the log-density of a 2-D slice on a regular grid (plotter.GridXYZ).
type densityGrid struct {
	x0, x1, y0, y1 float64
	n              int
	z              []float64
}

func (g *densityGrid) Dims() (int, int)   { return g.n, g.n }
func (g *densityGrid) Z(c, r int) float64 { return g.z[r*g.n+c] }
func (g *densityGrid) X(c int) float64    { return g.x0 + (g.x1-g.x0)*(float64(c)+0.5)/float64(g.n) }
func (g *densityGrid) Y(r int) float64    { return g.y0 + (g.y1-g.y0)*(float64(r)+0.5)/float64(g.n) }

// lightPalette runs from white to a light steel blue: a background for points.
type lightPalette struct{}

func (lightPalette) Colors() []color.Color {
	out := make([]color.Color, 64)
	for i := range out {
		f := float64(i) / 63
		out[i] = color.NRGBA{R: uint8(255 - f*120), G: uint8(255 - f*80), B: uint8(255 - f*40), A: 255}
	}
	return out
}

// logDensity2D returns the log-density of the first two coordinates: the GMM's
// own (it is 2-D), or the funnel's exact (x₁, x₂) marginal
// log N(x₁; 0, D−1) + log N(x₂; 0, e^{x₁}).
func logDensity2D(tg bench.Target, name string) func(x, y float64) float64 {
	if name == "funnel" {
		v1 := float64(tg.Dim() - 1)
		return func(x, y float64) float64 {
			return -0.5*x*x/v1 - 0.5*math.Log(2*math.Pi*v1) - 0.5*y*y*math.Exp(-x) - 0.5*(math.Log(2*math.Pi)+x)
		}
	}
	e := make([]float32, 1)
	return func(x, y float64) float64 {
		tg.Energy(e, []float32{float32(x), float32(y)})
		return -float64(e[0])
	}
}

// scatterPanels draws, side by side, the first two coordinates of each sample set
// over the exact log-density (shaded, 12 nats of range), all on the same axes.
func scatterPanels(path string, r *bench.Result, tg bench.Target, maxPts int) error {
	D := tg.Dim()
	ref := r.Samples["reference"]
	x0, x1 := robustRange(column(ref, D, 0))
	y0, y1 := robustRange(column(ref, D, 1))
	g := &densityGrid{x0: x0, x1: x1, y0: y0, y1: y1, n: 120}
	logp := logDensity2D(tg, r.Config.EnergyModel.Name)
	g.z = make([]float64, g.n*g.n)
	top := math.Inf(-1)
	for rr := 0; rr < g.n; rr++ {
		for c := 0; c < g.n; c++ {
			v := logp(g.X(c), g.Y(rr))
			g.z[rr*g.n+c] = v
			top = math.Max(top, v)
		}
	}
	keys, labels := sampleSets(r)
	var row []*plot.Plot
	for k, key := range keys {
		p := plot.New()
		hm := plotter.NewHeatMap(g, lightPalette{})
		hm.Min, hm.Max = top-12, top
		hm.Underflow = color.White
		hm.Rasterized = true
		p.Add(hm)
		x := r.Samples[key]
		n := len(x) / D
		step := max(1, (n+maxPts-1)/maxPts)
		var pts plotter.XYs
		outside := 0
		for i := 0; i < n; i++ {
			a, b := float64(x[i*D]), float64(x[i*D+1])
			if !(a >= x0 && a <= x1 && b >= y0 && b <= y1) {
				outside++
				continue
			}
			if i%step == 0 {
				pts = append(pts, plotter.XY{X: a, Y: b})
			}
		}
		if len(pts) > 0 {
			s, err := plotter.NewScatter(pts)
			if err != nil {
				return err
			}
			s.GlyphStyle = draw.GlyphStyle{Color: withAlpha(samplerColor(key), 150), Radius: vg.Points(1), Shape: draw.CircleGlyph{}}
			p.Add(s)
		}
		p.X.Tick.Marker, p.Y.Tick.Marker = tidyTicks{}, tidyTicks{}
		p.Title.Text = labels[k]
		if outside > 0 {
			p.Title.Text += fmt.Sprintf(" (%.1f%% outside)", 100*float64(outside)/float64(max(1, n)))
		}
		p.X.Label.Text, p.Y.Label.Text = "x1", "x2"
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = x0, x1, y0, y1
		row = append(row, p)
	}
	return saveGrid([][]*plot.Plot{row}, 3.6*vg.Inch, 3.8*vg.Inch, path)
}

// marginals draws a histogram per dimension: the reference filled, each sampler as
// a step line, as densities on the reference's robust range; the legend gets a
// cell of its own after the last dimension.
func marginals(path string, r *bench.Result, D int) error {
	keys, labels := sampleSets(r)
	cols := min(D+1, 6)
	rows := (D + 1 + cols - 1) / cols
	grid := make([][]*plot.Plot, rows)
	legend := plot.New()
	legend.HideAxes()
	legend.Legend.Top, legend.Legend.Left = true, true
	for j := 0; j < D; j++ {
		p := plot.New()
		lo, hi := robustRange(column(r.Samples["reference"], D, j))
		edges := bins(lo, hi, 50)
		for k, key := range keys {
			c, _ := histogram(column(r.Samples[key], D, j), edges, true)
			var th plot.Thumbnailer
			if key == "reference" {
				h := histPlotter(edges, c, samplerColor(key))
				p.Add(h)
				th = h
			} else {
				l := stepLine(edges, c, samplerColor(key), 1.2, key == "mala_walltime")
				p.Add(l)
				th = l
			}
			if j == 0 {
				legend.Legend.Add(labels[k], th)
			}
		}
		p.Title.Text = fmt.Sprintf("x%d", j+1)
		p.X.Tick.Marker, p.Y.Tick.Marker = tidyTicks{}, tidyTicks{}
		p.X.Min, p.X.Max = lo, hi
		grid[j/cols] = append(grid[j/cols], p)
	}
	grid[D/cols] = append(grid[D/cols], legend)
	return saveGrid(grid, 2.8*vg.Inch, 2.4*vg.Inch, path)
}

// particleHists draws the histogram of interatomic distances (dist) or of
// energies of each sample set, as densities over the reference's robust range,
// with the share of values outside it in the legend.
func particleHists(path string, r *bench.Result, pt bench.ParticleTarget, dist bool) error {
	n, d := pt.Particles()
	D := n * d
	values := func(x []float32) []float64 {
		rows := len(x) / D
		if rows > 20000 { // plenty for a histogram
			x = x[:20000*D]
			rows = 20000
		}
		if dist {
			return targets.PairDistances(x, n, d)
		}
		e := make([]float32, rows)
		pt.Energy(e, x)
		out := make([]float64, rows)
		for i, v := range e {
			out[i] = float64(v)
		}
		return out
	}
	keys, labels := sampleSets(r)
	vals := make([][]float64, len(keys))
	for k, key := range keys {
		vals[k] = values(r.Samples[key])
	}
	lo, hi := robustRange(vals[0])
	edges := bins(lo, hi, 80)
	p := plot.New()
	p.Add(plotter.NewGrid())
	for k, key := range keys {
		c, out := histogram(vals[k], edges, true)
		label := labels[k]
		if out > 0 {
			label += fmt.Sprintf(" (%.1f%% outside)", 100*float64(out)/float64(len(vals[k])))
		}
		if key == "reference" {
			h := histPlotter(edges, c, samplerColor(key))
			p.Add(h)
			p.Legend.Add(label, h)
			continue
		}
		l := stepLine(edges, c, samplerColor(key), 1.5, key == "mala_walltime")
		p.Add(l)
		p.Legend.Add(label, l)
	}
	what := "energy"
	if dist {
		what = "interatomic distance"
	}
	top := 0.0
	for k := range keys {
		c, _ := histogram(vals[k], edges, true)
		for _, v := range c {
			top = math.Max(top, v)
		}
	}
	p.Y.Min, p.Y.Max = 0, top*1.35 // room for the legend
	p.Title.Text = fmt.Sprintf("%s: %s", r.Target, what)
	p.X.Label.Text, p.Y.Label.Text = what, "density"
	p.X.Tick.Marker, p.Y.Tick.Marker = tidyTicks{}, tidyTicks{}
	p.X.Min, p.X.Max = lo, hi
	p.Legend.Top = true
	return savePNG(p, 6*vg.Inch, 4*vg.Inch, path)
}

// baselineMetrics lists the metrics of each baseline.
func baselineMetrics(r *bench.Result) []map[string]float64 {
	var out []map[string]float64
	for _, b := range r.Baselines {
		out = append(out, b.Metrics)
	}
	return out
}

// hline is a horizontal reference line with a legend entry.
type hline struct {
	y     float64
	style draw.LineStyle
}

func (h hline) Plot(c draw.Canvas, p *plot.Plot) {
	y := c.Y(p.Y.Norm(h.y))
	c.StrokeLine2(h.style, c.Min.X, y, c.Max.X, y)
}

func (h hline) DataRange() (xmin, xmax, ymin, ymax float64) {
	return math.Inf(1), math.Inf(-1), h.y, h.y
}

func (h hline) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	c.StrokeLine2(h.style, c.Min.X, y, c.Max.X, y)
}

// trainingCurves draws VGS's training history (value loss, mean velocity, learned
// initial σ) and, when validated, the validation TVD-E at each validation point
// with the final TVD-E of the MALA baselines and of the floor as horizontal lines.
func trainingCurves(path string, r *bench.Result) error {
	series := []struct {
		title string
		get   func(bench.Point) float64
		log   bool
	}{
		{"value loss", func(p bench.Point) float64 { return p.Loss }, true},
		{"mean velocity", func(p bench.Point) float64 { return p.Velocity }, false},
		{"learned initial sigma", func(p bench.Point) float64 { return p.InitSigma }, false},
	}
	var plots []*plot.Plot
	for _, s := range series {
		var xy plotter.XYs
		positive := true
		for _, h := range r.History {
			v := s.get(h)
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			positive = positive && v > 0
			xy = append(xy, plotter.XY{X: float64(h.Iter), Y: v})
		}
		p := plot.New()
		p.X.Tick.Marker, p.Y.Tick.Marker = tidyTicks{}, tidyTicks{}
		p.Title.Text = "VGS " + s.title
		p.X.Label.Text = "iteration"
		p.Add(plotter.NewGrid())
		if len(xy) > 0 {
			l, err := plotter.NewLine(xy)
			if err != nil {
				return err
			}
			l.Color, l.Width = palette[0], vg.Points(1.2)
			p.Add(l)
			if s.log && positive {
				lo, hi := math.Inf(1), math.Inf(-1)
				for _, q := range xy {
					lo, hi = math.Min(lo, q.Y), math.Max(hi, q.Y)
				}
				p.Y.Scale = plot.LogScale{}
				if hi >= 10*lo { // LogTicks labels powers of ten only
					p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
				}
			}
		}
		plots = append(plots, p)
	}
	var val plotter.XYs
	for _, h := range r.History {
		if h.ValTVDE > 0 {
			val = append(val, plotter.XY{X: float64(h.Iter), Y: h.ValTVDE})
		}
	}
	metric := "tvd_e"
	p := plot.New()
	p.X.Tick.Marker, p.Y.Tick.Marker = tidyTicks{}, tidyTicks{}
	p.X.Label.Text = "iteration"
	p.Add(plotter.NewGrid())
	if len(val) > 0 {
		p.Title.Text = "validation TVD-E"
		l, s, err := plotter.NewLinePoints(val)
		if err != nil {
			return err
		}
		l.Color, s.Color = palette[0], palette[0]
		p.Add(l, s)
		p.Legend.Add("VGS (validation)", l, s)
	} else {
		p.Title.Text = "final TVD-E"
	}
	xmax := 1.0
	if n := len(r.History); n > 0 {
		xmax = float64(r.History[n-1].Iter)
	}
	if v, ok := r.Metrics[metric]; ok {
		sc, _ := plotter.NewScatter(plotter.XYs{{X: xmax, Y: v}})
		sc.GlyphStyle = draw.GlyphStyle{Color: palette[0], Radius: vg.Points(4), Shape: draw.RingGlyph{}}
		p.Add(sc)
		p.Legend.Add(fmt.Sprintf("VGS test %.3f", v), sc)
	}
	for _, b := range r.Baselines {
		if v, ok := b.Metrics[metric]; ok {
			h := hline{y: v, style: draw.LineStyle{Color: samplerColor(b.Sampler), Width: vg.Points(1.2), Dashes: []vg.Length{vg.Points(5), vg.Points(3)}}}
			p.Add(h)
			p.Legend.Add(fmt.Sprintf("%s %.3f", b.Sampler, v), h)
		}
	}
	if v, ok := r.Floor[metric]; ok {
		h := hline{y: v, style: draw.LineStyle{Color: color.Gray{Y: 90}, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(1), vg.Points(2)}}}
		p.Add(h)
		p.Legend.Add(fmt.Sprintf("floor %.3f", v), h)
	}
	top := 0.0
	for _, q := range val {
		top = math.Max(top, q.Y)
	}
	for _, m := range append([]map[string]float64{r.Metrics, r.Floor}, baselineMetrics(r)...) {
		if v, ok := m[metric]; ok && !math.IsInf(v, 0) && !math.IsNaN(v) {
			top = math.Max(top, v)
		}
	}
	p.Legend.Top = true
	p.Legend.XOffs = -vg.Millimeter * 2
	p.X.Min, p.X.Max = 0, math.Max(xmax, 1)
	p.Y.Min, p.Y.Max = 0, math.Max(top, 1e-3)*1.6 // room for the legend
	plots = append(plots, p)
	return saveGrid([][]*plot.Plot{plots[:2], plots[2:]}, 4.5*vg.Inch, 3.4*vg.Inch, path)
}
