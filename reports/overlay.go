package reports

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"path/filepath"
	"strings"

	"github.com/advgs/advgs/features"
	"github.com/advgs/advgs/internal/atomicfile"
	"github.com/disintegration/imaging"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Map is an anomaly map of W×H values, row-major (for example a model's patch
// grid). It is stretched over the whole image by bilinear interpolation with
// half-pixel centres, as features.Geometry.Upsample does, so a patch grid gives
// the same heat map as upsampling it to the image first.
type Map struct {
	W, H int
	V    []float32
}

// Overlay is one image with its anomaly map, drawn by DrawOverlay and Compose.
type Overlay struct {
	// Image is the picture.
	Image *image.NRGBA
	// Map is its anomaly map, of any size.
	Map Map
	// Mask is the ground-truth mask (non-zero = defect), of any size (resampled by
	// nearest neighbour); nil when there is none.
	Mask *image.Gray
	// Scale maps map values to the colormap; use one scale for every image of a
	// category so that colours compare across images.
	Scale ColorScale
	// Threshold outlines the map values above it as the predicted defect; NaN
	// draws no prediction outline.
	Threshold float64
	// Caption is drawn under the panels by Compose, one line each (wrapped).
	Caption []string
}

// OverlayStyle says how overlays are drawn. Zero fields take the defaults in
// brackets.
type OverlayStyle struct {
	// Colormap colours the map [Heat].
	Colormap *Colormap
	// MaxSide scales panels down so that their longer side is at most MaxSide
	// pixels; 0 keeps larger images at their size.
	MaxSide int
	// MinSide scales small images up so that the longer side is at least MinSide
	// pixels [0: no scaling up].
	MinSide int
	// MinAlpha and MaxAlpha are the opacity of the colour over the image at the
	// bottom and top of the scale: alpha = MinAlpha + (MaxAlpha − MinAlpha)·v
	// [0.25, 0.6], so the map shows everywhere and hot regions stand out.
	MinAlpha, MaxAlpha float64
	// Truth and Pred are the outline colours of the ground truth (solid) and of
	// the prediction (dashed) [lime green, cyan].
	Truth, Pred color.NRGBA
}

func (s OverlayStyle) withDefaults() OverlayStyle {
	if s.Colormap == nil {
		s.Colormap = Heat
	}
	if s.MinAlpha == 0 && s.MaxAlpha == 0 {
		s.MinAlpha, s.MaxAlpha = 0.25, 0.6
	}
	if s.Truth == (color.NRGBA{}) {
		s.Truth = color.NRGBA{R: 40, G: 255, B: 40, A: 255}
	}
	if s.Pred == (color.NRGBA{}) {
		s.Pred = color.NRGBA{R: 0, G: 210, B: 255, A: 255}
	}
	return s
}

// panelSize returns the panel size for a w×h image under the style's limits.
func (s OverlayStyle) panelSize(w, h int) (int, int) {
	long := max(w, h)
	target := long
	if s.MaxSide > 0 && long > s.MaxSide {
		target = s.MaxSide
	}
	if s.MinSide > 0 && long < s.MinSide {
		target = s.MinSide
	}
	if target == long {
		return w, h
	}
	f := float64(target) / float64(long)
	return max(1, int(math.Round(float64(w)*f))), max(1, int(math.Round(float64(h)*f)))
}

func (o Overlay) check() error {
	if o.Image == nil {
		return fmt.Errorf("reports: overlay without an image")
	}
	if o.Map.W <= 0 || o.Map.H <= 0 || len(o.Map.V) != o.Map.W*o.Map.H {
		return fmt.Errorf("reports: map of %d values is not %d×%d", len(o.Map.V), o.Map.W, o.Map.H)
	}
	return nil
}

// resample returns the map at w×h by bilinear interpolation (half-pixel centres,
// clamped at the border): features.Geometry.Upsample, so overlays and the pixel
// metrics see the same heat map. Validate has checked the map's size.
func (m Map) resample(w, h int) []float32 {
	out, _ := features.Geometry{GridW: m.W, GridH: m.H, ImageW: w, ImageH: h}.Upsample(m.V, nil)
	return out
}

// maskAt returns mask m resampled to w×h by nearest neighbour as booleans.
func maskAt(m *image.Gray, w, h int) []bool {
	b := m.Bounds()
	mw, mh := b.Dx(), b.Dy()
	out := make([]bool, w*h)
	for y := 0; y < h; y++ {
		sy := b.Min.Y + min((2*y+1)*mh/(2*h), mh-1)
		for x := 0; x < w; x++ {
			sx := b.Min.X + min((2*x+1)*mw/(2*w), mw-1)
			out[y*w+x] = m.Pix[m.PixOffset(sx, sy)] != 0
		}
	}
	return out
}

// DrawOverlay draws the overlay panel: the image (scaled to the style's limits)
// with the map blended over it in the colormap, the ground-truth outline (solid)
// when there is a mask, and the outline of the map above Threshold (dashed).
func DrawOverlay(o Overlay, st OverlayStyle) (*image.NRGBA, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	st = st.withDefaults()
	ib := o.Image.Bounds()
	w, h := st.panelSize(ib.Dx(), ib.Dy())
	base := o.Image
	if w != ib.Dx() || h != ib.Dy() {
		base = imaging.Resize(o.Image, w, h, imaging.Linear)
	}
	heat := o.Map.resample(w, h)
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := o.Scale.Norm(float64(heat[y*w+x]))
			c := st.Colormap.At(v)
			a := st.MinAlpha + (st.MaxAlpha-st.MinAlpha)*v
			si := base.PixOffset(base.Rect.Min.X+x, base.Rect.Min.Y+y)
			di := dst.PixOffset(x, y)
			p := base.Pix[si : si+4]
			dst.Pix[di+0] = mix(p[0], c.R, a)
			dst.Pix[di+1] = mix(p[1], c.G, a)
			dst.Pix[di+2] = mix(p[2], c.B, a)
			dst.Pix[di+3] = 255
		}
	}
	t := max(1, int(math.Round(float64(max(w, h))/256)))
	if o.Mask != nil {
		outline(dst, maskAt(o.Mask, w, h), t, st.Truth, 0)
	}
	if !math.IsNaN(o.Threshold) {
		pred := make([]bool, w*h)
		for i, v := range heat {
			pred[i] = float64(v) > o.Threshold
		}
		outline(dst, pred, t, st.Pred, 4*t)
	}
	return dst, nil
}

func mix(a, b uint8, alpha float64) uint8 {
	return uint8(math.Round((1-alpha)*float64(a) + alpha*float64(b)))
}

// outline paints the pixels of region m that lie within t pixels (Chebyshev) of a
// pixel outside it or of the image border. dash > 0 draws dashes of that length
// (along x + y) instead of a solid line.
func outline(dst *image.NRGBA, m []bool, t int, c color.NRGBA, dash int) {
	w, h := dst.Rect.Dx(), dst.Rect.Dy()
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if !m[y*w+x] || (dash > 0 && ((x+y)/dash)%2 == 1) {
				continue
			}
			edge := false
			for dy := -t; dy <= t && !edge; dy++ {
				for dx := -t; dx <= t; dx++ {
					nx, ny := x+dx, y+dy
					if nx < 0 || ny < 0 || nx >= w || ny >= h || !m[ny*w+nx] {
						edge = true
						break
					}
				}
			}
			if edge {
				dst.SetNRGBA(x, y, c)
			}
		}
	}
}

const (
	lineH   = 16 // caption line height (basicfont 7×13 plus spacing)
	charW   = 7
	padding = 6
)

// Compose draws the image and its overlay panel side by side with the caption
// and a legend line (colour bar with the scale's values, outline colours) below.
func Compose(o Overlay, st OverlayStyle) (*image.NRGBA, error) {
	panel, err := DrawOverlay(o, st)
	if err != nil {
		return nil, err
	}
	st = st.withDefaults()
	w, h := panel.Rect.Dx(), panel.Rect.Dy()
	left := o.Image
	if ib := o.Image.Bounds(); ib.Dx() != w || ib.Dy() != h {
		left = imaging.Resize(o.Image, w, h, imaging.Linear)
	}
	W := 2*w + padding
	cols := max(1, (W-2*padding)/charW)
	var lines []string
	for _, l := range o.Caption {
		lines = append(lines, wrap(l, cols)...)
	}
	H := h + padding + lineH*(len(lines)+1) + padding
	dst := image.NewNRGBA(image.Rect(0, 0, W, H))
	for i := range dst.Pix {
		dst.Pix[i] = 255
	}
	blit(dst, 0, 0, left)
	blit(dst, w+padding, 0, panel)
	y := h + padding
	for _, l := range lines {
		drawText(dst, padding, y, l, color.Black)
		y += lineH
	}
	// Legend: colour bar with its low and high values, then the outline colours.
	x := padding
	x = drawText(dst, x, y, fmt.Sprintf("%.3g", o.Scale.Low), color.Black) + 3
	barW := min(100, max(30, W/6))
	for i := 0; i < barW; i++ {
		c := st.Colormap.At(float64(i) / float64(barW-1))
		for yy := y + 2; yy < y+12 && yy < H; yy++ {
			if x+i < W {
				dst.SetNRGBA(x+i, yy, c)
			}
		}
	}
	x += barW + 3
	x = drawText(dst, x, y, fmt.Sprintf("%.3g", o.Scale.High), color.Black) + 2*charW
	if o.Mask != nil {
		x = legendLine(dst, x, y, st.Truth, 0)
		x = drawText(dst, x, y, "truth", color.Black) + 2*charW
	}
	if !math.IsNaN(o.Threshold) {
		x = legendLine(dst, x, y, st.Pred, 4)
		drawText(dst, x, y, "prediction", color.Black)
	}
	return dst, nil
}

// blit copies src into dst with src's top-left corner at (x, y), row by row.
func blit(dst *image.NRGBA, x, y int, src *image.NRGBA) {
	b := src.Rect
	for r := 0; r < b.Dy(); r++ {
		so := src.PixOffset(b.Min.X, b.Min.Y+r)
		copy(dst.Pix[dst.PixOffset(x, y+r):], src.Pix[so:so+4*b.Dx()])
	}
}

func legendLine(dst *image.NRGBA, x, y int, c color.NRGBA, dash int) int {
	for i := 0; i < 18; i++ {
		if dash > 0 && (i/dash)%2 == 1 {
			continue
		}
		for yy := y + 6; yy < y+8; yy++ {
			if image.Pt(x+i, yy).In(dst.Rect) {
				dst.SetNRGBA(x+i, yy, c)
			}
		}
	}
	return x + 22
}

// drawText writes s with its top-left corner at (x, y) and returns the x after it.
func drawText(dst *image.NRGBA, x, y int, s string, c color.Color) int {
	d := font.Drawer{Dst: dst, Src: image.NewUniform(c), Face: basicfont.Face7x13,
		Dot: fixed.P(x, y+basicfont.Face7x13.Ascent)}
	d.DrawString(s)
	return d.Dot.X.Round()
}

// wrap splits s into lines of at most n characters at spaces (hard-cutting longer
// words).
func wrap(s string, n int) []string {
	var out []string
	cur := []rune{}
	for _, word := range strings.Fields(s) {
		w := []rune(word)
		if len(cur) > 0 && len(cur)+1+len(w) > n {
			out, cur = append(out, string(cur)), cur[:0]
		}
		for len(w) > n {
			out, w = append(out, string(w[:n])), w[n:]
		}
		if len(cur) > 0 {
			cur = append(cur, ' ')
		}
		cur = append(cur, w...)
	}
	if len(cur) > 0 || len(out) == 0 {
		out = append(out, string(cur))
	}
	return out
}

// opaqueRGBA returns an opaque *image.NRGBA as the *image.RGBA with the same
// bytes (identical when every alpha is 255), which image/jpeg encodes several
// times faster; any other image is returned as it is.
func opaqueRGBA(img image.Image) image.Image {
	n, ok := img.(*image.NRGBA)
	if !ok {
		return img
	}
	for i := 3; i < len(n.Pix); i += 4 {
		if n.Pix[i] != 255 {
			return img
		}
	}
	return &image.RGBA{Pix: n.Pix, Stride: n.Stride, Rect: n.Rect}
}

// WriteImage encodes img by the extension of path (.png, or .jpg/.jpeg at the
// given JPEG quality) and writes it atomically.
func WriteImage(path string, img image.Image, jpegQuality int) error {
	var buf bytes.Buffer
	var err error
	switch strings.ToLower(filepath.Ext(path)) {
	case ".png":
		err = png.Encode(&buf, img)
	case ".jpg", ".jpeg":
		err = jpeg.Encode(&buf, opaqueRGBA(img), &jpeg.Options{Quality: jpegQuality})
	default:
		return fmt.Errorf("reports: %s: want a .png, .jpg or .jpeg file name", path)
	}
	if err != nil {
		return fmt.Errorf("reports: encoding %s: %w", path, err)
	}
	return atomicfile.WriteBytes(path, buf.Bytes())
}
