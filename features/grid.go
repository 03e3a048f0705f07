package features

import (
	"fmt"
	"math"
)

// Grid is the patch-feature grid of one image: H×W patch vectors of C float32
// values, row-major, patch (i, j) at Data[(i·W + j)·C :][:C]. Backbones return
// every patch vector L2-normalised (‖v‖₂ = 1), so the squared Euclidean distance
// of two patches is 2 − 2·cos.
type Grid struct {
	H, W, C int
	Data    []float32
	Geom    Geometry
}

// Patch returns the feature vector of cell (i, j) (row i, column j), aliasing Data.
func (g *Grid) Patch(i, j int) []float32 {
	o := (i*g.W + j) * g.C
	return g.Data[o : o+g.C]
}

// reset shapes g to h×w×c, reusing its buffer when large enough.
func (g *Grid) reset(h, w, c int) {
	g.H, g.W, g.C = h, w, c
	n := h * w * c
	if cap(g.Data) < n {
		g.Data = make([]float32, n)
	}
	g.Data = g.Data[:n]
}

// Geometry maps grid cells back to the pixels of the original image.
//
// The image (ImageW×ImageH) is stretched to the backbone input (InputW×InputH,
// aspect ratio not kept), and the grid (GridW×GridH) tiles the input evenly, so
// cell (i, j) covers input pixels [j·InputW/GridW, (j+1)·InputW/GridW) ×
// [i·InputH/GridH, (i+1)·InputH/GridH), and image pixels scaled by ImageW/InputW
// and ImageH/InputH. Its receptive field is larger than the cell (ReceptiveField).
type Geometry struct {
	ImageW, ImageH int
	InputW, InputH int
	GridW, GridH   int
	// ReceptiveField is the approximate side, in input pixels, of the input region
	// that influences one cell's vector.
	ReceptiveField int
}

// CellCenter returns the centre of cell (i, j) in image pixel coordinates
// (x to the right, y down, pixel centres at half-integers).
func (g Geometry) CellCenter(i, j int) (x, y float64) {
	x = (float64(j) + 0.5) * float64(g.ImageW) / float64(g.GridW)
	y = (float64(i) + 0.5) * float64(g.ImageH) / float64(g.GridH)
	return x, y
}

// CellAt returns the cell containing image pixel (x, y).
func (g Geometry) CellAt(x, y int) (i, j int) {
	i = min(max(y*g.GridH/max(g.ImageH, 1), 0), g.GridH-1)
	j = min(max(x*g.GridW/max(g.ImageW, 1), 0), g.GridW-1)
	return i, j
}

// Upsample resizes a per-cell map (GridH×GridW, row-major) to the image size
// (ImageH×ImageW) by bilinear interpolation with half-pixel centres (cell centres
// as in CellCenter, clamped at the border), writing into dst when it is large
// enough. It is how patch scores become a pixel heat map.
func (g Geometry) Upsample(cells, dst []float32) ([]float32, error) {
	if len(cells) != g.GridH*g.GridW {
		return nil, fmt.Errorf("features: map has %d values, grid is %d×%d", len(cells), g.GridH, g.GridW)
	}
	n := g.ImageW * g.ImageH
	if cap(dst) < n {
		dst = make([]float32, n)
	}
	dst = dst[:n]
	bilinear(cells, g.GridH, g.GridW, 1, dst, g.ImageH, g.ImageW, 1, 0)
	return dst, nil
}

// bilinear resizes a channels-last map src (sh×sw×c) into dst (dh×dw, with dc
// channels per pixel, writing channels [off, off+c)) with half-pixel centres:
// the source coordinate of destination pixel x is (x + 0.5)·sw/dw − 0.5,
// clamped to [0, sw−1]. Downsampling by an integer factor k therefore averages
// the two middle source pixels of each k-block.
func bilinear(src []float32, sh, sw, c int, dst []float32, dh, dw, dc, off int) {
	type tap struct {
		i0, i1 int
		f      float32
	}
	taps := func(s, d int) []tap {
		t := make([]tap, d)
		for x := range t {
			p := (float64(x)+0.5)*float64(s)/float64(d) - 0.5
			p = math.Max(0, math.Min(p, float64(s-1)))
			i0 := int(p)
			i1 := min(i0+1, s-1)
			t[x] = tap{i0, i1, float32(p - float64(i0))}
		}
		return t
	}
	ty, tx := taps(sh, dh), taps(sw, dw)
	for y, a := range ty {
		r0 := src[a.i0*sw*c:]
		r1 := src[a.i1*sw*c:]
		for x, b := range tx {
			o := dst[(y*dw+x)*dc+off:][:c]
			p00, p01 := r0[b.i0*c:][:c], r0[b.i1*c:][:c]
			p10, p11 := r1[b.i0*c:][:c], r1[b.i1*c:][:c]
			w00 := (1 - a.f) * (1 - b.f)
			w01 := (1 - a.f) * b.f
			w10 := a.f * (1 - b.f)
			w11 := a.f * b.f
			for k := range o {
				o[k] = w00*p00[k] + w01*p01[k] + w10*p10[k] + w11*p11[k]
			}
		}
	}
}

// boxSmooth replaces every patch vector by the mean of the vectors in its
// (2r+1)×(2r+1) neighbourhood (clipped at the border), the local aggregation of
// PatchCore; tmp is scratch of the same size as g.Data.
func boxSmooth(g *Grid, r int, tmp []float32) {
	if r <= 0 {
		return
	}
	copy(tmp, g.Data)
	C := g.C
	for i := 0; i < g.H; i++ {
		for j := 0; j < g.W; j++ {
			o := g.Patch(i, j)
			clear(o)
			n := 0
			for a := max(i-r, 0); a <= min(i+r, g.H-1); a++ {
				for b := max(j-r, 0); b <= min(j+r, g.W-1); b++ {
					s := tmp[(a*g.W+b)*C:][:C]
					for k := range o {
						o[k] += s[k]
					}
					n++
				}
			}
			inv := 1 / float32(n)
			for k := range o {
				o[k] *= inv
			}
		}
	}
}

// normalizePatches scales every patch vector of g to unit L2 norm (a zero vector
// stays zero).
func normalizePatches(g *Grid) {
	for p := 0; p < g.H*g.W; p++ {
		v := g.Data[p*g.C : (p+1)*g.C]
		var s float32
		for _, x := range v {
			s += x * x
		}
		if s > 0 {
			inv := float32(1 / math.Sqrt(float64(s)))
			for k := range v {
				v[k] *= inv
			}
		}
	}
}
