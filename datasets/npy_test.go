package datasets

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/advgs/advgs/internal/sharedpath"
)

func npyBytes(descr string, fortran bool, shape string, body []byte) []byte {
	f := "False"
	if fortran {
		f = "True"
	}
	h := fmt.Sprintf("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr, f, shape)
	for (10+len(h)+1)%64 != 0 {
		h += " "
	}
	h += "\n"
	b := []byte("\x93NUMPY\x01\x00")
	b = binary.LittleEndian.AppendUint16(b, uint16(len(h)))
	return append(append(b, h...), body...)
}

func TestReadNPYShared(t *testing.T) {
	data, r, c, err := ReadNPY(sharedpath.Require(t, "data/particles/test_DW4.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if r != 8192 || c != 8 || len(data) != r*c {
		t.Fatalf("shape %d×%d, %d values", r, c, len(data))
	}
	for _, v := range data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatalf("implausible value %v", v)
		}
	}
	if _, r, c, err = ReadNPY(sharedpath.Require(t, "data/particles/val_LJ13_2000.npy")); err != nil || r != 2000 || c != 39 {
		t.Fatalf("LJ13: %d×%d %v", r, c, err)
	}
}

func TestParseNPY(t *testing.T) {
	var f8 []byte
	for _, v := range []float64{1, 2.5, -3, 4, 5, 6} {
		f8 = binary.LittleEndian.AppendUint64(f8, math.Float64bits(v))
	}
	data, r, c, err := ParseNPY(npyBytes("<f8", false, "(2, 3)", f8))
	if err != nil || r != 2 || c != 3 || data[1] != 2.5 || data[2] != -3 {
		t.Fatalf("f8: %v %d %d %v", data, r, c, err)
	}
	bad := map[string][]byte{
		"Fortran":    npyBytes("<f8", true, "(2, 3)", f8),
		"big-endian": npyBytes(">f4", false, "(2, 3)", f8),
		"dtype":      npyBytes("|O", false, "(2, 3)", f8),
		"truncated":  npyBytes("<f8", false, "(2, 3)", f8[:40]),
		"2-D":        npyBytes("<f4", false, "(6,)", f8[:24]),
		"magic":      []byte("not numpy at all"),
		"header":     npyBytes("<f4", false, "(2, 3)", nil)[:20],
	}
	for want, b := range bad {
		if _, _, _, err := ParseNPY(b); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want error mentioning %q, got %v", want, err)
		}
	}
	if _, _, _, err := ReadNPY("/nonexistent/x.npy"); err == nil || !strings.Contains(err.Error(), "x.npy") {
		t.Errorf("missing file: %v", err)
	}
}
