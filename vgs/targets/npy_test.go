package targets

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// readNPY is a minimal test-only reader for little-endian float32 C-order 2-D .npy
// files (the real reader lives in package datasets; the tests here do not depend on
// it). It returns the data and the shape.
func readNPY(path string) ([]float32, int, int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, 0, err
	}
	if len(b) < 10 || string(b[:6]) != "\x93NUMPY" {
		return nil, 0, 0, fmt.Errorf("%s: not an .npy file", path)
	}
	var hl, off int
	if b[6] == 1 {
		hl, off = int(binary.LittleEndian.Uint16(b[8:10])), 10
	} else {
		hl, off = int(binary.LittleEndian.Uint32(b[8:12])), 12
	}
	h := string(b[off : off+hl])
	if !strings.Contains(h, "'<f4'") || strings.Contains(h, "'fortran_order': True") {
		return nil, 0, 0, fmt.Errorf("%s: want little-endian float32 C order, header %s", path, h)
	}
	m := regexp.MustCompile(`'shape': \((\d+), (\d+)\)`).FindStringSubmatch(h)
	if m == nil {
		return nil, 0, 0, fmt.Errorf("%s: want a 2-D shape, header %s", path, h)
	}
	r, _ := strconv.Atoi(m[1])
	c, _ := strconv.Atoi(m[2])
	data := b[off+hl:]
	if len(data) != 4*r*c {
		return nil, 0, 0, fmt.Errorf("%s: %d data bytes for shape (%d, %d)", path, len(data), r, c)
	}
	out := make([]float32, r*c)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
	}
	return out, r, c, nil
}
