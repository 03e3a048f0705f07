package tflite

import (
	"bufio"
	"image"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/advgs/advgs/internal/sharedpath"
	"github.com/disintegration/imaging"
	_ "golang.org/x/image/bmp"
)

func loadLabels(t *testing.T) []string {
	f, err := os.Open(sharedpath.Require(t, "weights/imagenet_labels.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var labels []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		labels = append(labels, strings.TrimSpace(sc.Text()))
	}
	return labels
}

// preprocess resizes img to the model input (bilinear, aspect ratio not kept) and
// maps pixels to real units with the input quantization.
func preprocess(t *testing.T, m *Model, path string) []float32 {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	in := m.Tensors[m.Inputs[0]]
	h, w := in.Shape[1], in.Shape[2]
	r := imaging.Resize(img, w, h, imaging.Linear)
	s, z := in.Quant.Scale[0], float32(in.Quant.ZeroPoint[0])
	out := make([]float32, 0, h*w*3)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			o := r.PixOffset(x, y)
			for c := 0; c < 3; c++ {
				out = append(out, (float32(r.Pix[o+c])-z)*s)
			}
		}
	}
	return out
}

type pred struct {
	label string
	p     float32
}

func top5(probs []float32, labels []string) []pred {
	idx := make([]int, len(probs))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return probs[idx[a]] > probs[idx[b]] })
	var out []pred
	for _, i := range idx[:5] {
		out = append(out, pred{labels[i], probs[i]})
	}
	return out
}

func TestKnownAnswers(t *testing.T) {
	labels := loadLabels(t)
	if len(labels) != 1001 || labels[0] != "background" {
		t.Fatalf("labels: %d lines, first %q; want 1001 with background first", len(labels), labels[0])
	}
	cases := []struct {
		model     string
		image     string
		want      string
		wantFirst bool
		minP      float32
	}{
		{"mobilenet_v2_1.0_224_quant.tflite", "cat.bmp", "Egyptian cat", true, 0.6},
		{"mobilenet_v2_1.0_224_quant.tflite", "grace_hopper.bmp", "military uniform", true, 0.5},
		{"mobilenet_v1_0.25_128_quant.tflite", "cat.bmp", "cat", true, 0},
		{"mobilenet_v1_0.25_128_quant.tflite", "grace_hopper.bmp", "military uniform", false, 0},
	}
	models := map[string]*Interpreter{}
	for _, c := range cases {
		it := models[c.model]
		if it == nil {
			m, err := Load(sharedpath.Require(t, "weights/"+c.model))
			if err != nil {
				t.Fatal(err)
			}
			if it, err = NewInterpreter(m, InterpreterOptions{}); err != nil {
				t.Fatal(err)
			}
			models[c.model] = it
		}
		x := preprocess(t, it.Model(), sharedpath.Require(t, "weights/"+c.image))
		if err := it.Run(x, 1); err != nil {
			t.Fatal(err)
		}
		probs, shape := it.Output(it.Model().Outputs[0])
		if len(probs) != 1001 {
			t.Fatalf("%s: output shape %v", c.model, shape)
		}
		top := top5(probs, labels)
		t.Logf("%s %s: %v", c.model, c.image, top)
		found := -1
		for i, p := range top {
			if strings.Contains(p.label, c.want) {
				found = i
				break
			}
		}
		if found < 0 || (c.wantFirst && found != 0) || top[found].p < c.minP {
			t.Errorf("%s on %s: want %q (first=%v, p≥%.2f) in top 5, got %v", c.model, c.image, c.want, c.wantFirst, c.minP, top)
		}
	}
}

// TestBatchMatchesSingle checks that a batch of two gives the same outputs as two
// single runs (buffer planning and batched GEMM).
func TestBatchMatchesSingle(t *testing.T) {
	m, err := Load(sharedpath.Require(t, "weights/mobilenet_v1_0.25_128_quant.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	it, err := NewInterpreter(m, InterpreterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a := preprocess(t, m, sharedpath.Require(t, "weights/cat.bmp"))
	b := preprocess(t, m, sharedpath.Require(t, "weights/grace_hopper.bmp"))
	out := m.Outputs[0]
	var single [][]float32
	for _, x := range [][]float32{a, b} {
		if err := it.Run(x, 1); err != nil {
			t.Fatal(err)
		}
		o, _ := it.Output(out)
		single = append(single, append([]float32(nil), o...))
	}
	if err := it.Run(append(append([]float32(nil), a...), b...), 2); err != nil {
		t.Fatal(err)
	}
	o, shape := it.Output(out)
	if shape[0] != 2 {
		t.Fatalf("batched shape %v", shape)
	}
	for i := range 2 {
		for j, v := range single[i] {
			if d := v - o[i*1001+j]; d > 1e-5 || d < -1e-5 {
				t.Fatalf("image %d class %d: single %v batched %v", i, j, v, o[i*1001+j])
			}
		}
	}
}

// TestResize runs MobileNetV2's convolutional part at other input sizes: every
// feature map's side is ⌈input/stride⌉, the classifier part keeps the file's
// shapes and is refused if requested, and bad sizes are refused.
func TestResize(t *testing.T) {
	path := sharedpath.Require(t, "weights/mobilenet_v2_1.0_224_quant.tflite")
	find := func(m *Model, name string) int {
		for i, tn := range m.Tensors {
			if strings.HasPrefix(tn.Name, name) && tn.Data == nil {
				return i
			}
		}
		t.Fatalf("no tensor %s", name)
		return -1
	}
	for _, side := range []int{320, 33} {
		m, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Resize(side, side); err != nil {
			t.Fatal(err)
		}
		b5 := find(m, "MobilenetV2/expanded_conv_5/add")
		b15 := find(m, "MobilenetV2/expanded_conv_15/add")
		ceil := func(s int) int { return (side + s - 1) / s }
		if sh := m.Tensors[b5].Shape; sh[1] != ceil(8) || sh[2] != ceil(8) || sh[3] != 32 {
			t.Fatalf("input %d: block 5 shape %v, want side %d", side, sh, ceil(8))
		}
		if sh := m.Tensors[b15].Shape; sh[1] != ceil(32) || sh[2] != ceil(32) || sh[3] != 160 {
			t.Fatalf("input %d: block 15 shape %v, want side %d", side, sh, ceil(32))
		}
		it, err := NewInterpreter(m, InterpreterOptions{Outputs: []int{b5, b15}})
		if err != nil {
			t.Fatal(err)
		}
		in := make([]float32, side*side*3)
		for i := range in {
			in[i] = float32(i%7) / 7
		}
		if err := it.Run(in, 1); err != nil {
			t.Fatal(err)
		}
		if out, sh := it.Output(b15); len(out) != sh[1]*sh[2]*sh[3] {
			t.Fatalf("output of %d values for shape %v", len(out), sh)
		}
		if side == 320 {
			if _, err := NewInterpreter(m, InterpreterOptions{}); err == nil {
				t.Fatal("the classifier was accepted after a resize that breaks its shapes")
			}
		}
	}
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Resize(0, 224); err == nil {
		t.Fatal("a zero-height input was accepted")
	}
}
