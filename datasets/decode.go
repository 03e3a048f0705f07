package datasets

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // JPEG decoder
	_ "image/png"  // PNG decoder
	"os"
	"path/filepath"
	"strings"

	"github.com/disintegration/imaging"
	_ "golang.org/x/image/bmp" // BMP decoder
)

// MaxPixels bounds width·height of an image or mask; larger headers are rejected
// before any pixel memory is allocated.
const MaxPixels = 1 << 26

// imageExts are the file extensions listed as images (compared in lower case).
var imageExts = map[string]bool{".png": true, ".jpg": true, ".jpeg": true, ".bmp": true}

// IsImageFile reports whether name looks like an image advgs reads: a PNG, JPEG
// or BMP extension and not a hidden file (".DS_Store", "._x.png").
func IsImageFile(name string) bool {
	base := filepath.Base(name)
	return !strings.HasPrefix(base, ".") && imageExts[strings.ToLower(filepath.Ext(base))]
}

// DecodeImage decodes a PNG, JPEG or BMP image held in b into 8-bit RGBA with
// R, G, B significant: grayscale is replicated to three channels, paletted and
// 16-bit images are converted (16-bit values keep their high byte), alpha is
// kept but not used by the backbones. name is used in errors only.
func DecodeImage(b []byte, name string) (*image.NRGBA, error) {
	img, err := decode(b, name)
	if err != nil {
		return nil, err
	}
	if n, ok := img.(*image.NRGBA); ok && n.Rect.Min == (image.Point{}) {
		return n, nil
	}
	return imaging.Clone(img), nil
}

// DecodeMask decodes a ground-truth mask (any format DecodeImage reads) into a
// binary *image.Gray: a pixel is defective (255) when its luminance is ≥ 128
// (of 255), otherwise 0.
func DecodeMask(b []byte, name string) (*image.Gray, error) {
	img, err := decode(b, name)
	if err != nil {
		return nil, err
	}
	r := img.Bounds()
	out := image.NewGray(image.Rect(0, 0, r.Dx(), r.Dy()))
	if g, ok := img.(*image.Gray); ok {
		for y := 0; y < r.Dy(); y++ {
			src := g.Pix[y*g.Stride : y*g.Stride+r.Dx()]
			dst := out.Pix[y*out.Stride:]
			for x, v := range src {
				if v >= 128 {
					dst[x] = 255
				}
			}
		}
		return out, nil
	}
	for y := 0; y < r.Dy(); y++ {
		for x := 0; x < r.Dx(); x++ {
			if color.GrayModel.Convert(img.At(r.Min.X+x, r.Min.Y+y)).(color.Gray).Y >= 128 {
				out.Pix[y*out.Stride+x] = 255
			}
		}
	}
	return out, nil
}

func decode(b []byte, name string) (img image.Image, err error) {
	// The standard decoders are robust, but a decoder panic must never reach the
	// user: turn it into an error naming the file.
	defer func() {
		if r := recover(); r != nil {
			img, err = nil, fmt.Errorf("datasets: %s: image decoder failed: %v", name, r)
		}
	}()
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("datasets: %s: not a readable PNG, JPEG or BMP image: %w", name, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > MaxPixels {
		return nil, fmt.Errorf("datasets: %s: %s image of %d×%d pixels; want 1 to %d pixels", name, format, cfg.Width, cfg.Height, MaxPixels)
	}
	img, _, err = image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("datasets: %s: corrupt or truncated %s image: %w", name, format, err)
	}
	return img, nil
}

// LoadImage reads and decodes an image file (see DecodeImage).
func LoadImage(path string) (*image.NRGBA, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	return DecodeImage(b, path)
}

// LoadMask reads and decodes a mask file (see DecodeMask).
func LoadMask(path string) (*image.Gray, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	return DecodeMask(b, path)
}

// ResizeMaskNearest resizes a binary mask to w×h by nearest neighbour, which
// keeps it binary.
func ResizeMaskNearest(m *image.Gray, w, h int) *image.Gray {
	r := m.Bounds()
	out := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		sy := r.Min.Y + min((2*y+1)*r.Dy()/(2*h), r.Dy()-1)
		for x := 0; x < w; x++ {
			sx := r.Min.X + min((2*x+1)*r.Dx()/(2*w), r.Dx()-1)
			out.Pix[y*out.Stride+x] = m.Pix[m.PixOffset(sx, sy)]
		}
	}
	return out
}
