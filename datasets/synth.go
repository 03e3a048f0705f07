package datasets

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// SynthTextures are the surface kinds Synthesize can draw, one category each:
// "grain" (brushed metal: noise stretched along one direction), "weave" (fabric:
// two crossed sinusoidal thread patterns) and "stone" (multi-octave value noise).
var SynthTextures = []string{"grain", "weave", "stone"}

// SynthDefects are the defect types drawn on test images, each with an exact mask:
// "scratch" (a thin straight bright or dark line), "spot" (a filled ellipse of
// shifted brightness) and "crack" (a dark random-walk polyline).
var SynthDefects = []string{"scratch", "spot", "crack"}

// SynthConfig configures Synthesize. Zero fields take the defaults in brackets.
type SynthConfig struct {
	// Categories to write, from SynthTextures [all].
	Categories []string
	// Size is the side of the square images in pixels [128].
	Size int
	// Train is the number of good training images per category [20].
	Train int
	// TestGood is the number of good test images per category [4].
	TestGood int
	// TestPerDefect is the number of test images per defect type [4].
	TestPerDefect int
}

func (c SynthConfig) withDefaults() SynthConfig {
	if len(c.Categories) == 0 {
		c.Categories = SynthTextures
	}
	if c.Size <= 0 {
		c.Size = 128
	}
	if c.Train <= 0 {
		c.Train = 20
	}
	if c.TestGood <= 0 {
		c.TestGood = 4
	}
	if c.TestPerDefect <= 0 {
		c.TestPerDefect = 4
	}
	return c
}

// Synthesize writes a synthetic MVTec-layout dataset under dir:
// dir/<texture>/train/good/NNN.png, dir/<texture>/test/{good,scratch,spot,crack}/NNN.png
// and dir/<texture>/ground_truth/<defect>/NNN_mask.png (0/255, exactly the
// pixels the defect changed). Every random draw comes from rng, so a seed gives
// the same files byte for byte. Each file is written atomically.
func Synthesize(dir string, cfg SynthConfig, rng *rand.Rand) error {
	cfg = cfg.withDefaults()
	for _, cat := range cfg.Categories {
		known := false
		for _, t := range SynthTextures {
			known = known || t == cat
		}
		if !known {
			return fmt.Errorf("datasets: unknown synthetic texture %q (have %v)", cat, SynthTextures)
		}
		// One style per category: the surfaces of a category vary only in their
		// random phase and noise, as parts of one production line do.
		style := newTextureStyle(cat, rng)
		write := func(sub string, i int, img image.Image, suffix string) error {
			p := filepath.Join(dir, cat, sub, fmt.Sprintf("%03d%s.png", i, suffix))
			return writePNG(p, img)
		}
		for i := 0; i < cfg.Train; i++ {
			if err := write("train/good", i, style.render(cfg.Size, rng), ""); err != nil {
				return err
			}
		}
		for i := 0; i < cfg.TestGood; i++ {
			if err := write("test/good", i, style.render(cfg.Size, rng), ""); err != nil {
				return err
			}
		}
		for _, d := range SynthDefects {
			for i := 0; i < cfg.TestPerDefect; i++ {
				img := style.render(cfg.Size, rng)
				mask := image.NewGray(img.Bounds())
				drawDefect(d, img, mask, rng)
				if err := write("test/"+d, i, img, ""); err != nil {
					return err
				}
				if err := write("ground_truth/"+d, i, mask, "_mask"); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

type textureStyle struct {
	kind   string
	tint   [3]float64
	angle  float64
	freq   [2]float64
	contr  float64
	bright float64
}

func newTextureStyle(kind string, rng *rand.Rand) textureStyle {
	s := textureStyle{kind: kind, angle: rng.Float64() * math.Pi, contr: 0.12 + 0.08*rng.Float64(), bright: 0.45 + 0.15*rng.Float64()}
	for c := range s.tint {
		s.tint[c] = 0.85 + 0.3*rng.Float64()
	}
	s.freq = [2]float64{0.25 + 0.25*rng.Float64(), 0.25 + 0.25*rng.Float64()}
	return s
}

// valueNoise returns an n×n field of smooth noise in [−1, 1]: random values on
// a coarse (n/cell+2)² lattice, bilinearly interpolated with a smoothstep.
func valueNoise(n int, cellX, cellY float64, rng *rand.Rand) []float64 {
	gw, gh := int(float64(n)/cellX)+2, int(float64(n)/cellY)+2
	lat := make([]float64, gw*gh)
	for i := range lat {
		lat[i] = 2*rng.Float64() - 1
	}
	out := make([]float64, n*n)
	for y := 0; y < n; y++ {
		fy := float64(y) / cellY
		y0 := int(fy)
		ty := fy - float64(y0)
		ty = ty * ty * (3 - 2*ty)
		for x := 0; x < n; x++ {
			fx := float64(x) / cellX
			x0 := int(fx)
			tx := fx - float64(x0)
			tx = tx * tx * (3 - 2*tx)
			a := lat[y0*gw+x0]*(1-tx) + lat[y0*gw+x0+1]*tx
			b := lat[(y0+1)*gw+x0]*(1-tx) + lat[(y0+1)*gw+x0+1]*tx
			out[y*n+x] = a*(1-ty) + b*ty
		}
	}
	return out
}

func (s textureStyle) render(n int, rng *rand.Rand) *image.NRGBA {
	v := make([]float64, n*n)
	ca, sa := math.Cos(s.angle), math.Sin(s.angle)
	switch s.kind {
	case "grain":
		// Long streaks along the angle: noise with a long cell along one axis,
		// sampled in rotated coordinates via two stretched fields summed.
		a := valueNoise(n, 40, 1.5, rng)
		b := valueNoise(n, 8, 8, rng)
		for i := range v {
			v[i] = 0.8*a[i] + 0.2*b[i]
		}
	case "weave":
		ph1, ph2 := rng.Float64()*2*math.Pi, rng.Float64()*2*math.Pi
		b := valueNoise(n, 16, 16, rng)
		for y := 0; y < n; y++ {
			for x := 0; x < n; x++ {
				u := ca*float64(x) + sa*float64(y)
				w := -sa*float64(x) + ca*float64(y)
				t1 := math.Sin(s.freq[0]*2*u + ph1)
				t2 := math.Sin(s.freq[1]*2*w + ph2)
				v[y*n+x] = 0.45*t1*t1 + 0.45*t2*t2 - 0.45 + 0.25*b[y*n+x]
			}
		}
	default: // stone
		for oct, cell := range []float64{32, 12, 5, 2} {
			f := valueNoise(n, cell, cell, rng)
			w := math.Pow(0.55, float64(oct))
			for i := range v {
				v[i] += w * f[i]
			}
		}
	}
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	for i, x := range v {
		g := s.bright + s.contr*x + 0.015*rng.NormFloat64()
		for c := 0; c < 3; c++ {
			img.Pix[4*i+c] = clampByte(255 * g * s.tint[c])
		}
		img.Pix[4*i+3] = 255
	}
	return img
}

func clampByte(x float64) uint8 {
	return uint8(math.Max(0, math.Min(255, math.Round(x))))
}

// drawDefect changes img in place and sets mask to 255 on exactly the changed pixels.
func drawDefect(kind string, img *image.NRGBA, mask *image.Gray, rng *rand.Rand) {
	n := img.Rect.Dx()
	set := func(x, y int, delta float64) {
		if x < 0 || y < 0 || x >= n || y >= n || mask.Pix[y*mask.Stride+x] != 0 {
			return
		}
		o := img.PixOffset(x, y)
		for c := 0; c < 3; c++ {
			img.Pix[o+c] = clampByte(float64(img.Pix[o+c]) + delta)
		}
		mask.Pix[y*mask.Stride+x] = 255
	}
	disc := func(cx, cy, r float64, delta float64) {
		for y := int(cy - r - 1); y <= int(cy+r+1); y++ {
			for x := int(cx - r - 1); x <= int(cx+r+1); x++ {
				dx, dy := float64(x)+0.5-cx, float64(y)+0.5-cy
				if dx*dx+dy*dy <= r*r {
					set(x, y, delta)
				}
			}
		}
	}
	sign := 1.0
	if rng.IntN(2) == 0 {
		sign = -1
	}
	m := float64(n)
	switch kind {
	case "scratch":
		x0, y0 := m*(0.2+0.6*rng.Float64()), m*(0.2+0.6*rng.Float64())
		a := rng.Float64() * 2 * math.Pi
		l := m * (0.2 + 0.3*rng.Float64())
		w := 0.7 + 0.6*rng.Float64()
		delta := sign * (60 + 40*rng.Float64())
		for t := 0.0; t <= l; t += 0.5 {
			disc(x0+t*math.Cos(a), y0+t*math.Sin(a), w, delta)
		}
	case "spot":
		cx, cy := m*(0.2+0.6*rng.Float64()), m*(0.2+0.6*rng.Float64())
		rx, ry := m*(0.03+0.05*rng.Float64()), m*(0.03+0.05*rng.Float64())
		delta := sign * (45 + 40*rng.Float64())
		for y := int(cy - ry - 1); y <= int(cy+ry+1); y++ {
			for x := int(cx - rx - 1); x <= int(cx+rx+1); x++ {
				dx, dy := (float64(x)+0.5-cx)/rx, (float64(y)+0.5-cy)/ry
				if dx*dx+dy*dy <= 1 {
					set(x, y, delta)
				}
			}
		}
	default: // crack
		x, y := m*(0.25+0.5*rng.Float64()), m*(0.25+0.5*rng.Float64())
		a := rng.Float64() * 2 * math.Pi
		steps := int(m * (0.25 + 0.25*rng.Float64()))
		delta := -(70 + 40*rng.Float64())
		for i := 0; i < steps; i++ {
			a += 0.5 * rng.NormFloat64()
			x += math.Cos(a)
			y += math.Sin(a)
			disc(x, y, 0.8, delta)
			if rng.Float64() < 0.03 { // a short branch
				bx, by, ba := x, y, a+math.Pi/3*(2*rng.Float64()-1)*2
				for j := 0; j < steps/5; j++ {
					ba += 0.4 * rng.NormFloat64()
					bx += math.Cos(ba)
					by += math.Sin(ba)
					disc(bx, by, 0.6, delta)
				}
			}
		}
	}
}

// writePNG encodes img and writes it to path atomically (temporary file in the
// same folder, then rename), creating the folder.
func writePNG(path string, img image.Image) error {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return fmt.Errorf("datasets: encoding %s: %w", path, err)
	}
	return writeFileAtomic(path, buf.Bytes())
}

func writeFileAtomic(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("datasets: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("datasets: writing %s: %w", path, err)
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("datasets: writing %s: %w", path, err)
	}
	return nil
}
