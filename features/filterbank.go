package features

import (
	"fmt"
	"image"
	"math"
)

// DefaultFilterBankGrid is the default grid side of the filterbank backbone.
const DefaultFilterBankGrid = 28

// filterBank is the weight-free backbone. See newFilterBank.
type filterBank struct {
	info Info
	opt  Options
	size int
	tmp  [][]float32
}

// Filter-bank channel gains: they bring the groups to comparable magnitudes on
// natural and industrial images (pixel values in [0, 1]).
const (
	fbGainMean   = 1
	fbGainStd    = 4
	fbGainGrad   = 8
	fbGainSecond = 16
	fbBias       = 1
)

// newFilterBank builds the weight-free "filterbank" backbone. Every image is
// stretched to 224×224 and described per grid cell (8×8 input pixels at the
// default 28×28 grid) by
//
//   - colour: the mean and standard deviation over the cell of the opponent
//     channels L = (R+G+B)/3, a = R − G, b = (R+G)/2 − B (6 values);
//   - oriented filters at three scales (a Gaussian pyramid with the [1 4 6 4 1]/16
//     kernel, levels of 224, 112, 56 px): the cell mean of |∂_θ L| (first
//     derivative steered to θ = 0°, 45°, 90°, 135°, i.e. |cos θ·L_x + sin θ·L_y|)
//     and of |∂²_θ L| = |cos²θ·L_xx + 2 cos θ sin θ·L_xy + sin²θ·L_yy|
//     (8 values per scale, 24 in all);
//   - a constant channel fbBias, so that the L2 normalisation keeps the overall
//     magnitude of the responses (a flat patch and a scratched one differ in
//     length, not only in direction).
//
// The groups are scaled by fixed gains, averaged over each cell's neighbourhood
// like the CNN features, and L2-normalised: 31 channels. It needs no weights and
// runs in a few milliseconds; it is weaker than mobilenetv2 on objects, and is
// meant for offline use and tests.
func newFilterBank(opt Options) (Backbone, error) {
	if len(opt.Layers) > 0 {
		return nil, fmt.Errorf("features: filterbank has no selectable layers (got %v)", opt.Layers)
	}
	grid := opt.Grid
	if grid <= 0 {
		grid = DefaultFilterBankGrid
	}
	size := 224
	if opt.Input > 0 && opt.Input != size {
		return nil, fmt.Errorf("features: filterbank input size is fixed at %d px (got %d)", size, opt.Input)
	}
	if size%grid != 0 || (size/grid)%4 != 0 {
		return nil, fmt.Errorf("features: filterbank grid %d must divide 224 into cells of a multiple of 4 px (7, 14, 28, 56)", grid)
	}
	b := &filterBank{opt: opt, size: size}
	b.info = Info{
		Name: "filterbank", InputW: size, InputH: size, GridW: grid, GridH: grid, Channels: 31,
		Layers:     []string{"colour-mean", "colour-std", "oriented-d1-s0..2", "oriented-d2-s0..2", "bias"},
		Preprocess: "stretch to 224×224 (bilinear); p/255",
		Smooth:     opt.smooth(),
	}
	return b, nil
}

func (b *filterBank) Info() Info { return b.info }

// Extract implements Backbone.
func (b *filterBank) Extract(imgs []image.Image, dst []Grid) ([]Grid, error) {
	if err := checkImages(imgs); err != nil {
		return dst, err
	}
	dst = growGrids(dst, len(imgs))
	if len(b.tmp) < len(imgs) {
		b.tmp = append(b.tmp, make([][]float32, len(imgs)-len(b.tmp))...)
	}
	parallelImages(len(imgs), b.opt.Threads, func(k int) {
		g := &dst[k]
		b.extractOne(imgs[k], g, &b.tmp[k])
	})
	return dst, nil
}

type plane struct {
	w, h int
	p    []float32
}

func newPlane(w, h int) plane { return plane{w, h, make([]float32, w*h)} }

func (b *filterBank) extractOne(img image.Image, g *Grid, scratch *[]float32) {
	S := b.size
	G := b.info.GridW
	C := b.info.Channels
	g.reset(G, G, C)
	clear(g.Data)
	r := toNRGBA(img, S, S)
	L, A, B := newPlane(S, S), newPlane(S, S), newPlane(S, S)
	for y := 0; y < S; y++ {
		row := r.Pix[y*r.Stride:]
		for x := 0; x < S; x++ {
			R, Gc, Bc := float32(row[4*x])/255, float32(row[4*x+1])/255, float32(row[4*x+2])/255
			i := y*S + x
			L.p[i] = (R + Gc + Bc) / 3
			A.p[i] = R - Gc
			B.p[i] = (R+Gc)/2 - Bc
		}
	}
	// Colour mean and standard deviation per cell.
	cell := S / G
	for ci, pl := range []plane{L, A, B} {
		for i := 0; i < G; i++ {
			for j := 0; j < G; j++ {
				var s, s2 float32
				for y := i * cell; y < (i+1)*cell; y++ {
					for _, v := range pl.p[y*S+j*cell : y*S+(j+1)*cell] {
						s += v
						s2 += v * v
					}
				}
				n := float32(cell * cell)
				m := s / n
				v := g.Patch(i, j)
				v[ci] = fbGainMean * m
				v[3+ci] = fbGainStd * float32(math.Sqrt(math.Max(0, float64(s2/n-m*m))))
			}
		}
	}
	// Oriented responses over a three-level pyramid.
	cur := L
	for lvl := 0; lvl < 3; lvl++ {
		sm := blur(cur)
		orientedEnergies(sm, g, 6+8*lvl)
		if lvl < 2 {
			cur = halve(sm)
		}
	}
	for p := 0; p < G*G; p++ {
		g.Data[p*C+C-1] = fbBias
	}
	if rr := b.info.Smooth; rr > 0 {
		if cap(*scratch) < len(g.Data) {
			*scratch = make([]float32, len(g.Data))
		}
		boxSmooth(g, rr, (*scratch)[:len(g.Data)])
	}
	normalizePatches(g)
	bnd := img.Bounds()
	g.Geom = Geometry{ImageW: bnd.Dx(), ImageH: bnd.Dy(), InputW: S, InputH: S, GridW: G, GridH: G, ReceptiveField: 3 * cell * 4}
}

// blur convolves with the separable binomial kernel [1 4 6 4 1]/16 (σ ≈ 1),
// replicating the border.
func blur(in plane) plane {
	k := [5]float32{1.0 / 16, 4.0 / 16, 6.0 / 16, 4.0 / 16, 1.0 / 16}
	w, h := in.w, in.h
	tmp := newPlane(w, h)
	for y := 0; y < h; y++ {
		row := in.p[y*w : (y+1)*w]
		o := tmp.p[y*w : (y+1)*w]
		for x := 0; x < w; x++ {
			var s float32
			for t := -2; t <= 2; t++ {
				xx := min(max(x+t, 0), w-1)
				s += k[t+2] * row[xx]
			}
			o[x] = s
		}
	}
	out := newPlane(w, h)
	for y := 0; y < h; y++ {
		o := out.p[y*w : (y+1)*w]
		for t := -2; t <= 2; t++ {
			yy := min(max(y+t, 0), h-1)
			src := tmp.p[yy*w : (yy+1)*w]
			kk := k[t+2]
			for x := range o {
				o[x] += kk * src[x]
			}
		}
	}
	return out
}

// halve averages 2×2 blocks.
func halve(in plane) plane {
	out := newPlane(in.w/2, in.h/2)
	for y := 0; y < out.h; y++ {
		r0 := in.p[2*y*in.w:]
		r1 := in.p[(2*y+1)*in.w:]
		for x := 0; x < out.w; x++ {
			out.p[y*out.w+x] = (r0[2*x] + r0[2*x+1] + r1[2*x] + r1[2*x+1]) / 4
		}
	}
	return out
}

// orientedEnergies adds, for the pyramid level pl, the cell means of the
// absolute first- and second-derivative responses steered to 0°, 45°, 90°, 135°
// into channels [off, off+8) of g. Derivatives are central differences in the
// level's own pixels.
func orientedEnergies(pl plane, g *Grid, off int) {
	w, h := pl.w, pl.h
	G := g.W
	cell := w / G
	inv := 1 / float32(cell*cell)
	const c45 = 0.70710678
	at := func(x, y int) float32 { return pl.p[min(max(y, 0), h-1)*w+min(max(x, 0), w-1)] }
	for y := 0; y < h; y++ {
		ci := y / cell
		for x := 0; x < w; x++ {
			c := at(x, y)
			l, r, u, d := at(x-1, y), at(x+1, y), at(x, y-1), at(x, y+1)
			gx, gy := (r-l)/2, (d-u)/2
			xx := r - 2*c + l
			yy := d - 2*c + u
			xy := (at(x+1, y+1) - at(x+1, y-1) - at(x-1, y+1) + at(x-1, y-1)) / 4
			v := g.Patch(ci, x/cell)[off : off+8]
			s := inv * fbGainGrad
			v[0] += s * abs32(gx)
			v[1] += s * abs32(c45*(gx+gy))
			v[2] += s * abs32(gy)
			v[3] += s * abs32(c45*(gy-gx))
			s = inv * fbGainSecond
			v[4] += s * abs32(xx)
			v[5] += s * abs32(0.5*(xx+yy)+xy)
			v[6] += s * abs32(yy)
			v[7] += s * abs32(0.5*(xx+yy)-xy)
		}
	}
}

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}
