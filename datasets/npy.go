package datasets

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
)

// ReadNPY reads a NumPy .npy file holding a 2-D little-endian float32 ('<f4')
// or float64 ('<f8') array in C (row-major) order, and returns it as float32
// row-major data with its shape. Fortran order, big-endian or other dtypes
// (object arrays included), other ranks and truncated files are errors naming
// the file.
func ReadNPY(path string) (data []float32, rows, cols int, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("datasets: %w", err)
	}
	data, rows, cols, err = ParseNPY(b)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("datasets: %s: %w", path, err)
	}
	return data, rows, cols, nil
}

// ParseNPY is ReadNPY on the bytes of a file.
func ParseNPY(b []byte) (data []float32, rows, cols int, err error) {
	if len(b) < 10 || string(b[:6]) != "\x93NUMPY" {
		return nil, 0, 0, fmt.Errorf("not a .npy file (no \\x93NUMPY magic)")
	}
	major := b[6]
	var hlen, off int
	switch major {
	case 1:
		hlen, off = int(binary.LittleEndian.Uint16(b[8:10])), 10
	case 2, 3:
		if len(b) < 12 {
			return nil, 0, 0, fmt.Errorf("truncated .npy header")
		}
		hlen, off = int(binary.LittleEndian.Uint32(b[8:12])), 12
	default:
		return nil, 0, 0, fmt.Errorf(".npy format version %d is not supported", major)
	}
	if hlen < 0 || off+hlen > len(b) || off+hlen < off {
		return nil, 0, 0, fmt.Errorf("truncated .npy header (%d bytes announced, %d present)", hlen, len(b)-off)
	}
	h := string(b[off : off+hlen])
	descr, err := npyField(h, "descr")
	if err != nil {
		return nil, 0, 0, err
	}
	descr = strings.Trim(descr, `'"`)
	fortran, err := npyField(h, "fortran_order")
	if err != nil {
		return nil, 0, 0, err
	}
	if fortran != "False" {
		return nil, 0, 0, fmt.Errorf("array is in Fortran order; want C order (np.ascontiguousarray)")
	}
	shapeS, err := npyField(h, "shape")
	if err != nil {
		return nil, 0, 0, err
	}
	var shape []int
	for _, p := range strings.Split(strings.Trim(shapeS, "() "), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return nil, 0, 0, fmt.Errorf("bad shape %s", shapeS)
		}
		shape = append(shape, n)
	}
	if len(shape) != 2 {
		return nil, 0, 0, fmt.Errorf("array has shape %v; want a 2-D array", shape)
	}
	rows, cols = shape[0], shape[1]
	var size int
	switch descr {
	case "<f4":
		size = 4
	case "<f8":
		size = 8
	case ">f4", ">f8":
		return nil, 0, 0, fmt.Errorf("array is big-endian (%s); want little-endian <f4 or <f8", descr)
	default:
		return nil, 0, 0, fmt.Errorf("array dtype %q is not supported; want <f4 or <f8", descr)
	}
	n := rows * cols
	if rows != 0 && (n/rows != cols || n > math.MaxInt/size) {
		return nil, 0, 0, fmt.Errorf("shape %v is too large", shape)
	}
	body := b[off+hlen:]
	if len(body) < n*size {
		return nil, 0, 0, fmt.Errorf("truncated: %d data bytes for shape %v of %s (want %d)", len(body), shape, descr, n*size)
	}
	data = make([]float32, n)
	if size == 4 {
		if err := binary.Read(bytes.NewReader(body[:4*n]), binary.LittleEndian, data); err != nil {
			return nil, 0, 0, err
		}
	} else {
		for i := range data {
			data[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(body[8*i:])))
		}
	}
	return data, rows, cols, nil
}

// npyField extracts the value text of key from the header's Python dict literal.
func npyField(h, key string) (string, error) {
	for _, q := range []string{"'", `"`} {
		i := strings.Index(h, q+key+q)
		if i < 0 {
			continue
		}
		rest := strings.TrimSpace(h[i+len(key)+2:])
		rest, ok := strings.CutPrefix(rest, ":")
		if !ok {
			break
		}
		rest = strings.TrimSpace(rest)
		if strings.HasPrefix(rest, "(") {
			if j := strings.Index(rest, ")"); j >= 0 {
				return rest[:j+1], nil
			}
			break
		}
		if j := strings.IndexAny(rest, ",}"); j >= 0 {
			return strings.TrimSpace(rest[:j]), nil
		}
		break
	}
	return "", fmt.Errorf("malformed .npy header: no %q in %q", key, h)
}
