package reports

import (
	"fmt"
	"image/color"
	"math"
	"strings"
)

// Colormap is a 256-entry colour table for values in [0, 1].
type Colormap [256]color.NRGBA

// At returns the colour of v ∈ [0, 1] (clamped; NaN maps to entry 0).
func (m *Colormap) At(v float64) color.NRGBA {
	if !(v > 0) {
		return m[0]
	}
	if v >= 1 {
		return m[255]
	}
	return m[int(v*255+0.5)]
}

// CSSGradient returns a CSS linear-gradient (left to right) through n+1 evenly
// spaced entries of the map, for colour bars in HTML.
func (m *Colormap) CSSGradient(n int) string {
	n = max(n, 1)
	var b strings.Builder
	b.WriteString("linear-gradient(to right")
	for i := 0; i <= n; i++ {
		c := m[i*255/n]
		fmt.Fprintf(&b, ", #%02x%02x%02x", c.R, c.G, c.B)
	}
	b.WriteString(")")
	return b.String()
}

// Heat is the heat-map colormap of the reports: black-violet through red and orange
// to pale yellow, built so that it is perceptually ordered. Entry i has OKLab
// lightness L = 0.16 + 0.80·i/255, exactly linear in i, so equal steps in value are
// equal steps in perceived lightness and the map reads correctly in grey scale;
// hue turns from violet (290°) through red to yellow (470° ≡ 110°) with chroma
// 0.17·sin(π·t)^0.7 + 0.03, reduced where needed to stay inside the sRGB gamut
// (bisection on chroma at fixed L and hue, so lightness stays exact). It plays the
// role of matplotlib's inferno; the table is computed here rather than copied.
var Heat = buildHeat()

func buildHeat() *Colormap {
	var m Colormap
	for i := range m {
		t := float64(i) / 255
		L := 0.16 + 0.80*t
		h := (290 + 180*t) * math.Pi / 180
		c := 0.17*math.Pow(math.Sin(math.Pi*t), 0.7) + 0.03
		lo, hi := 0.0, c
		r, g, b, ok := oklabToSRGB(L, c*math.Cos(h), c*math.Sin(h))
		for k := 0; !ok && k < 40; k++ {
			mid := (lo + hi) / 2
			if _, _, _, in := oklabToSRGB(L, mid*math.Cos(h), mid*math.Sin(h)); in {
				lo = mid
			} else {
				hi = mid
			}
			r, g, b, _ = oklabToSRGB(L, lo*math.Cos(h), lo*math.Sin(h))
			ok = hi-lo < 1e-6
		}
		m[i] = color.NRGBA{R: to8(r), G: to8(g), B: to8(b), A: 255}
	}
	return &m
}

// oklabToSRGB converts OKLab (Ottosson 2020) to gamma-encoded sRGB in [0, 1] and
// reports whether the colour lies inside the gamut.
func oklabToSRGB(L, a, b float64) (r, g, bl float64, in bool) {
	l := L + 0.3963377774*a + 0.2158037573*b
	m := L - 0.1055613458*a - 0.0638541728*b
	s := L - 0.0894841775*a - 1.2914855480*b
	l, m, s = l*l*l, m*m*m, s*s*s
	lr := 4.0767416621*l - 3.3077115913*m + 0.2309699292*s
	lg := -1.2684380046*l + 2.6097574011*m - 0.3413193965*s
	lb := -0.0041960863*l - 0.7034186147*m + 1.7076147010*s
	const eps = 1e-9
	in = lr >= -eps && lr <= 1+eps && lg >= -eps && lg <= 1+eps && lb >= -eps && lb <= 1+eps
	return gamma(lr), gamma(lg), gamma(lb), in
}

// srgbToOKLab is the inverse of oklabToSRGB (used by the tests).
func srgbToOKLab(r, g, b float64) (L, A, B float64) {
	lr, lg, lb := linear(r), linear(g), linear(b)
	l := math.Cbrt(0.4122214708*lr + 0.5363325363*lg + 0.0514459929*lb)
	m := math.Cbrt(0.2119034982*lr + 0.6806995451*lg + 0.1073969566*lb)
	s := math.Cbrt(0.0883024619*lr + 0.2817188376*lg + 0.6299787005*lb)
	return 0.2104542553*l + 0.7936177850*m - 0.0040720468*s,
		1.9779984951*l - 2.4285922050*m + 0.4505937099*s,
		0.0259040371*l + 0.7827717662*m - 0.8086757660*s
}

func gamma(x float64) float64 {
	x = min(max(x, 0), 1)
	if x <= 0.0031308 {
		return 12.92 * x
	}
	return 1.055*math.Pow(x, 1/2.4) - 0.055
}

func linear(x float64) float64 {
	if x <= 0.04045 {
		return x / 12.92
	}
	return math.Pow((x+0.055)/1.055, 2.4)
}

func to8(x float64) uint8 { return uint8(math.Round(255 * min(max(x, 0), 1))) }

// ColorScale maps map values to [0, 1] for a colormap: (v − Low)/(High − Low),
// clamped. One scale serves every image of a category so that their colours can
// be compared.
type ColorScale struct {
	Low, High float64
}

// Norm returns the scaled value of v in [0, 1].
func (s ColorScale) Norm(v float64) float64 {
	d := s.High - s.Low
	if !(d > 0) {
		if v > s.Low {
			return 1
		}
		return 0
	}
	return min(max((v-s.Low)/d, 0), 1)
}
