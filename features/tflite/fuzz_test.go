package tflite

import (
	"os"
	"strings"
	"testing"

	"github.com/advgs/advgs/internal/sharedpath"
)

// FuzzParse feeds random and mutated bytes to the flatbuffer reader and the
// interpreter construction: they must return errors, never panic.
func FuzzParse(f *testing.F) {
	f.Add([]byte("\x10\x00\x00\x00TFL3\x00\x00\x00\x00"))
	if d, err := sharedpath.Dir(); err == nil {
		if b, err := os.ReadFile(d + "/weights/mobilenet_v1_0.25_128_quant.tflite"); err == nil {
			f.Add(b[:4096])
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			return
		}
		_, _ = NewInterpreter(m, InterpreterOptions{})
	})
}

func TestParseErrors(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("short"), []byte("\x00\x00\x00\x00XXXXmore"), []byte("\xff\xff\xff\x7fTFL3")} {
		if _, err := Parse(b); err == nil {
			t.Errorf("Parse(%q): no error", b)
		}
	}
	p := sharedpath.Require(t, "weights/mobilenet_v1_0.25_128_quant.tflite")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{100, 1000, len(b) / 2} {
		if _, err := Parse(b[:n]); err == nil {
			t.Errorf("Parse of %d-byte truncation: no error", n)
		}
	}
}

func TestUnsupportedOperator(t *testing.T) {
	m, err := Load(sharedpath.Require(t, "weights/mobilenet_v1_0.25_128_quant.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	m.Operators[len(m.Operators)-1].Code = OpLogistic
	_, err = NewInterpreter(m, InterpreterOptions{})
	if err == nil || !strings.Contains(err.Error(), "LOGISTIC") {
		t.Fatalf("want error naming LOGISTIC, got %v", err)
	}
}
