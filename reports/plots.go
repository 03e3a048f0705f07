package reports

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"strconv"

	"github.com/advgs/advgs/internal/atomicfile"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// palette is the Okabe–Ito colour-blind-safe palette, used for all plot lines.
var palette = []color.NRGBA{
	{0, 114, 178, 255},   // blue
	{213, 94, 0, 255},    // vermillion
	{0, 158, 115, 255},   // bluish green
	{204, 121, 167, 255}, // reddish purple
	{230, 159, 0, 255},   // orange
	{86, 180, 233, 255},  // sky blue
	{0, 0, 0, 255},       // black
}

func withAlpha(c color.NRGBA, a uint8) color.NRGBA { c.A = a; return c }

// plotDPI is the resolution of PNG plots: a 5-inch plot is 480 pixels wide.
const plotDPI = 96

// savePNG renders p at w×h and writes it to path atomically.
func savePNG(p *plot.Plot, w, h vg.Length, path string) error {
	c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(plotDPI))
	p.Draw(draw.New(c))
	return writeCanvas(c, path)
}

// saveGrid renders plots in a rows×cols grid (nil cells stay blank), each cell
// cw×ch, and writes the PNG atomically.
func saveGrid(plots [][]*plot.Plot, cw, ch vg.Length, path string) error {
	rows := len(plots)
	cols := 0
	for _, r := range plots {
		cols = max(cols, len(r))
	}
	c := vgimg.NewWith(vgimg.UseWH(cw*vg.Length(cols), ch*vg.Length(rows)), vgimg.UseDPI(plotDPI))
	dc := draw.New(c)
	t := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter, PadY: vg.Millimeter,
		PadTop: vg.Millimeter, PadBottom: vg.Millimeter, PadLeft: vg.Millimeter, PadRight: vg.Millimeter}
	full := make([][]*plot.Plot, rows)
	for i := range full {
		full[i] = make([]*plot.Plot, cols)
		for j := range full[i] {
			if j < len(plots[i]) && plots[i][j] != nil {
				full[i][j] = plots[i][j]
			} else {
				full[i][j] = plot.New()
				full[i][j].HideAxes()
			}
		}
	}
	canvases := plot.Align(full, t, dc)
	for i := range full {
		for j := range full[i] {
			if j < len(plots[i]) && plots[i][j] != nil {
				full[i][j].Draw(canvases[i][j])
			}
		}
	}
	return writeCanvas(c, path)
}

func writeCanvas(c *vgimg.Canvas, path string) error {
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		return fmt.Errorf("reports: encoding %s: %w", path, err)
	}
	return atomicfile.WriteBytes(path, buf.Bytes())
}

// namedCurve is one line of a curve plot.
type namedCurve struct {
	name string
	c    Curve
}

// curvePlot draws ROC curves (roc = true: dashed chance diagonal, legend at the
// bottom right) or precision-recall curves (legend at the bottom left) on [0, 1]².
func curvePlot(title string, curves []namedCurve, roc bool) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	if roc {
		p.X.Label.Text, p.Y.Label.Text = "false-positive rate", "true-positive rate"
		d, _ := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
		d.Color = color.Gray{Y: 150}
		d.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(d)
	} else {
		p.X.Label.Text, p.Y.Label.Text = "recall", "precision"
		p.Legend.Left = true
	}
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1.02
	p.Add(plotter.NewGrid())
	p.Legend.XOffs, p.Legend.YOffs = -vg.Millimeter*2, vg.Millimeter*2
	if p.Legend.Left {
		p.Legend.XOffs = vg.Millimeter * 2
	}
	for i, nc := range curves {
		if nc.c.Len() == 0 {
			continue
		}
		l, err := plotter.NewLine(nc.c)
		if err != nil {
			return nil, err
		}
		l.Color = palette[i%len(palette)]
		l.Width = vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(nc.name, l)
	}
	return p, nil
}

// bins returns n equal bins spanning [lo, hi] (widened when lo = hi).
func bins(lo, hi float64, n int) (edges []float64) {
	if !(hi > lo) {
		lo, hi = lo-0.5, hi+0.5
	}
	edges = make([]float64, n+1)
	for i := range edges {
		edges[i] = lo + (hi-lo)*float64(i)/float64(n)
	}
	return edges
}

// histogram returns the counts of v in the bins given by edges (values outside
// are dropped) and how many were dropped.
func histogram(v []float64, edges []float64, density bool) (counts []float64, out int) {
	n := len(edges) - 1
	counts = make([]float64, n)
	lo, hi := edges[0], edges[n]
	w := (hi - lo) / float64(n)
	in := 0
	for _, x := range v {
		if !(x >= lo && x <= hi) {
			out++
			continue
		}
		k := min(int((x-lo)/w), n-1)
		counts[k]++
		in++
	}
	if density && in > 0 {
		for i := range counts {
			counts[i] /= float64(len(v)) * w
		}
	}
	return counts, out
}

// histPlotter builds a filled histogram with the given bin edges and counts.
func histPlotter(edges, counts []float64, c color.NRGBA) *plotter.Histogram {
	h := &plotter.Histogram{Width: edges[1] - edges[0], FillColor: withAlpha(c, 110)}
	h.LineStyle = draw.LineStyle{Color: c, Width: vg.Points(0.8)}
	for i, v := range counts {
		h.Bins = append(h.Bins, plotter.HistogramBin{Min: edges[i], Max: edges[i+1], Weight: v})
	}
	return h
}

// stepLine draws a histogram as a step outline (for comparing several
// distributions on one plot).
func stepLine(edges, counts []float64, c color.NRGBA, width float64, dashed bool) *plotter.Line {
	var xy plotter.XYs
	for i, v := range counts {
		xy = append(xy, plotter.XY{X: edges[i], Y: v}, plotter.XY{X: edges[i+1], Y: v})
	}
	l, _ := plotter.NewLine(xy)
	l.Color = c
	l.Width = vg.Points(width)
	if dashed {
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
	}
	return l
}

// vline is a vertical line at x over the plot's y range, drawn after the others.
type vline struct {
	x     float64
	style draw.LineStyle
}

func (v vline) Plot(c draw.Canvas, p *plot.Plot) {
	x := c.X(p.X.Norm(v.x))
	c.StrokeLine2(v.style, x, c.Min.Y, x, c.Max.Y)
}

func (v vline) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	c.StrokeLine2(v.style, c.Min.X, y, c.Max.X, y)
}

// scoreHistogram plots the scores of normal and defective images on shared bins
// with the decision threshold as a vertical line.
func scoreHistogram(title string, normal, defective []float64, threshold float64) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text, p.Y.Label.Text = "score (normalised)", "images"
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range append(append([]float64{}, normal...), defective...) {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if !math.IsNaN(threshold) && !math.IsInf(threshold, 0) {
		lo, hi = math.Min(lo, threshold), math.Max(hi, threshold)
	}
	if math.IsInf(lo, 0) {
		lo, hi = 0, 1
	}
	n := max(10, min(40, int(math.Sqrt(float64(len(normal)+len(defective)))*2)))
	edges := bins(lo, hi, n)
	p.Add(plotter.NewGrid())
	top := 0.0
	for i, set := range []struct {
		name string
		v    []float64
	}{{"normal", normal}, {"defective", defective}} {
		if len(set.v) == 0 {
			continue
		}
		c, _ := histogram(set.v, edges, false)
		for _, v := range c {
			top = math.Max(top, v)
		}
		h := histPlotter(edges, c, palette[i])
		p.Add(h)
		p.Legend.Add(fmt.Sprintf("%s (%d)", set.name, len(set.v)), h)
	}
	if !math.IsNaN(threshold) && !math.IsInf(threshold, 0) {
		v := vline{x: threshold, style: draw.LineStyle{Color: color.Black, Width: vg.Points(1.5), Dashes: []vg.Length{vg.Points(5), vg.Points(3)}}}
		p.Add(v)
		p.Legend.Add(fmt.Sprintf("threshold %.3g", threshold), v)
	}
	p.Legend.Top = true
	p.Legend.XOffs = -vg.Millimeter * 2
	p.X.Tick.Marker, p.Y.Tick.Marker = tidyTicks{}, tidyTicks{}
	p.Y.Min, p.Y.Max = 0, math.Max(1, top)*1.45 // headroom for the legend
	pad := 0.03 * (edges[n] - edges[0])
	p.X.Min, p.X.Max = edges[0]-pad, edges[n]+pad
	return p
}

// tidyTicks are gonum's default tick positions with labels of enough significant
// digits to tell neighbouring ticks apart (the default can print 1.05 as "1.1").
type tidyTicks struct{}

// Ticks implements plot.Ticker.
func (tidyTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(lo, hi)
	for prec := 2; prec <= 8; prec++ {
		seen := map[string]bool{}
		ok := true
		for _, t := range ts {
			if t.Label != "" {
				l := strconv.FormatFloat(t.Value, 'g', prec, 64)
				ok = ok && !seen[l]
				seen[l] = true
			}
		}
		if ok {
			for i := range ts {
				if ts[i].Label != "" {
					ts[i].Label = strconv.FormatFloat(ts[i].Value, 'g', prec, 64)
				}
			}
			break
		}
	}
	return ts
}
