package reports

import (
	"bytes"
	"fmt"
	"html/template"
	"image/color"
	"math"

	"github.com/advgs/advgs/internal/atomicfile"
)

// The pages are plain HTML with inline CSS: no scripts, no network. Images are
// files beside index.html referenced by relative paths; gallery thumbnails carry
// their size and loading="lazy", and off-screen figures skip rendering
// (content-visibility), so a 1,000-image gallery loads only what is on screen.

const pageCSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:1.5em auto;max-width:1280px;padding:0 1em;color:#222;background:#fff}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #ccc}
.meta{color:#555;margin:.2em 0}
table{border-collapse:collapse;font-variant-numeric:tabular-nums;margin:.8em 0}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f2f2f2}td.name,th.name{text-align:left}
tr.cat td{font-weight:600;background:#fafafa}tr.defect td.name.defect{padding-left:1.6em}
tr.mean td{font-weight:600;border-top:2px solid #888}
.plots.wide{display:block}.plots.wide img{display:block;max-width:100%;width:auto;margin-bottom:1em}
.plots{display:grid;grid-template-columns:repeat(auto-fit,minmax(360px,1fr));gap:1em;align-items:start}.plots img{width:100%;max-width:560px;height:auto;border:1px solid #eee}
.bar{display:inline-block;width:220px;height:12px;vertical-align:middle;border:1px solid #999}
.swatch{display:inline-block;width:22px;height:0;vertical-align:middle;border-top:3px solid}
.gallery{display:flex;flex-wrap:wrap;gap:10px}
.gallery figure{margin:0;width:210px;content-visibility:auto;contain-intrinsic-size:210px 290px}
.gallery img{display:block;border:3px solid #ddd;background:#eee}
.gallery figure.miss img{border-color:#d55e00}
figcaption{font-size:.8em;line-height:1.3;overflow-wrap:anywhere}
figcaption .v{font-weight:600}figure.miss .v{color:#b34700}
nav a{margin-right:1em}
`

type pagePlot struct{ Src, Alt string }

type pageCategory struct {
	Name, Anchor            string
	Scale                   ColorScale
	Threshold, MapThreshold float64
	Misses                  int
	Plots                   []pagePlot
	Images                  []imageEntry
}

type detectorPage struct {
	Title       string
	Summary     Summary
	Categories  []pageCategory
	Gradient    string
	Truth, Pred string
}

func cssColor(c color.NRGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

var funcs = template.FuncMap{
	"metric": FormatMetric,
	"count":  FormatCount,
	"g3": func(v float64) string {
		if math.IsNaN(v) {
			return "–"
		}
		return fmt.Sprintf("%.3g", v)
	},
	"f3":  func(v float64) string { return fmt.Sprintf("%.3f", v) },
	"f1":  func(v float64) string { return fmt.Sprintf("%.1f", v) },
	"css": func(s string) template.CSS { return template.CSS(s) },
	"base": func(p string) string {
		for i := len(p) - 1; i >= 0; i-- {
			if p[i] == '/' || p[i] == '\\' {
				return p[i+1:]
			}
		}
		return p
	},
}

var detectorTmpl = template.Must(template.New("detector").Funcs(funcs).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>` + pageCSS + `</style></head>
<body>
<h1>{{.Title}}</h1>
<p class="meta">dataset <code>{{.Summary.Dataset}}</code> · model <code>{{.Summary.Model}}</code>{{if .Summary.MsPerImage}} · {{f1 .Summary.MsPerImage}} ms per test image{{end}}</p>
{{range .Summary.Notes}}<p class="meta">{{.}}</p>
{{end}}
<nav>{{range .Categories}}<a href="#{{.Anchor}}">{{.Name}}</a>{{end}}</nav>
<h2>Summary</h2>
<table class="summary">
<thead><tr><th class="name">category</th><th class="name">defect</th><th>good</th><th>defective</th><th>image AUROC</th><th>pixel AUROC</th><th>AUPRO</th><th>F1-max</th><th>missed</th><th>false alarms</th></tr></thead>
<tbody>
{{range .Summary.Rows}}<tr class="{{if .Defect}}defect{{else}}cat{{end}}" data-category="{{.Category}}" data-defect="{{.Defect}}"><td class="name">{{if not .Defect}}{{.Category}}{{end}}</td><td class="name defect">{{if .Defect}}{{.Defect}}{{else}}all{{end}}</td><td class="good">{{count .Good}}</td><td class="defective">{{count .Defective}}</td><td class="image_auroc">{{metric .ImageAUROC}}</td><td class="pixel_auroc">{{metric .PixelAUROC}}</td><td class="aupro">{{metric .AUPRO}}</td><td class="f1_max">{{metric .F1Max}}</td><td class="missed">{{count .Missed}}</td><td class="false_alarms">{{count .FalseAlarms}}</td></tr>
{{end}}{{with .Summary.Mean}}<tr class="mean" data-category="mean" data-defect=""><td class="name">mean</td><td class="name defect">over categories</td><td class="good">{{count .Good}}</td><td class="defective">{{count .Defective}}</td><td class="image_auroc">{{metric .ImageAUROC}}</td><td class="pixel_auroc">{{metric .PixelAUROC}}</td><td class="aupro">{{metric .AUPRO}}</td><td class="f1_max">{{metric .F1Max}}</td><td class="missed">{{count .Missed}}</td><td class="false_alarms">{{count .FalseAlarms}}</td></tr>
{{end}}</tbody></table>
<p class="meta">Image AUROC and F1-max rank the image scores; pixel AUROC and AUPRO (per-region overlap up to 30 % false-positive rate) pool every pixel of the maps at 224×224. A defect row compares that defect type with the good images. Missed: defective images scored at or below the threshold; false alarms: good images above it.</p>
<h2>Reading the overlays</h2>
<p class="meta">Each test image is shown beside itself with the anomaly map blended over it: <span class="bar" style="background:{{css .Gradient}}"></span> from the low to the high end of the category's fixed colour scale (the same for every image of a category; values beyond the ends are clamped).
<span class="swatch" style="border-color:{{css .Truth}}"></span> ground-truth outline (where there is a mask), <span class="swatch" style="border-color:{{css .Pred}};border-top-style:dashed"></span> predicted defect: where the map exceeds the decision threshold. Click a thumbnail for the full-size overlay.</p>
{{range .Categories}}
<section id="{{.Anchor}}">
<h2>{{.Name}}</h2>
<p class="meta">colour scale {{g3 .Scale.Low}} … {{g3 .Scale.High}} (patch energy) · map threshold {{g3 .MapThreshold}} · image threshold {{f3 .Threshold}} (normalised score)</p>
<div class="plots">{{range .Plots}}<img src="{{.Src}}" alt="{{.Alt}}">{{end}}</div>
<h3>Test images ({{len .Images}}; {{.Misses}} wrong verdicts, shown first, worst first; then by score, highest first)</h3>
<div class="gallery">
{{range .Images}}<figure{{if .Miss}} class="miss"{{end}}><a href="{{.Full}}"><img src="{{.Thumb}}" width="{{.ThumbW}}" height="{{.ThumbH}}" loading="lazy" decoding="async" alt="{{.Defect}} {{base .Path}}"></a><figcaption>{{.Defect}} · {{base .Path}}<br>score {{f3 .Score}} · <span class="v">{{.Verdict}}</span></figcaption></figure>
{{end}}</div>
</section>
{{end}}
<p class="meta">Written by advgs. Plots: gonum/plot; overlay colours: the Heat colormap (lightness linear in OKLab).</p>
</body></html>
`))

var samplerTmpl = template.Must(template.New("sampler").Funcs(funcs).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>` + pageCSS + `
tr.vgs td{font-weight:600}tr.floor td,tr.reference td{color:#555;font-style:italic}
tr.first td{border-top:2px solid #888}
</style></head>
<body>
<h1>{{.Title}}</h1>
<nav>{{range .Targets}}<a href="#{{.Anchor}}">{{.Name}}</a>{{end}}</nav>
<h2>Metrics</h2>
<table class="metrics">
<thead><tr><th class="name">target</th><th class="name">sampler</th><th>steps</th><th>seconds</th>{{range .Columns}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range $i, $r := .Rows}}<tr class="{{$r.Kind}}{{if eq $r.Kind "vgs"}} first{{end}}" data-target="{{$r.Target}}" data-sampler="{{$r.Sampler}}"><td class="name">{{$r.Target}}</td><td class="name">{{$r.Sampler}}</td><td>{{$r.Steps}}</td><td>{{$r.Seconds}}</td>{{range $r.Cells}}<td class="{{.Key}}">{{.Text}}</td>{{end}}</tr>
{{end}}</tbody></table>
<p class="meta">Lower is better for every metric. vgs: the trained sampler; mala: Metropolis-adjusted Langevin with the same number of steps, mala_walltime: for VGS's training plus sampling time (steps: how many it took; seconds: training + sampling for VGS); floor: the same metrics between two independent sets of exact or reference samples of the same size, the best a sampler can reach; reference: published numbers. Particle metrics are mean ± std over the evaluation rounds.</p>
{{range .Targets}}
<section id="{{.Anchor}}">
<h2>{{.Name}}</h2>
<p class="meta">{{.Summary}}</p>
{{range .Notes}}<p class="meta">{{.}}</p>
{{end}}<div class="plots wide">{{range .Plots}}<img src="{{.Src}}" alt="{{.Alt}}">{{end}}</div>
</section>
{{end}}
<p class="meta">Written by advgs bench. Plots: gonum/plot.</p>
</body></html>
`))

// writeTemplate executes t with data and writes the result to path atomically.
func writeTemplate(path string, t *template.Template, data any) error {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return fmt.Errorf("reports: %s: %w", path, err)
	}
	return atomicfile.WriteBytes(path, buf.Bytes())
}
