package ckpt

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "m.safetensors")
	in := File{
		Tensors:  map[string]Tensor{"a": {Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, -6.5}}, "s": {Shape: []int{1}, Data: []float32{0.25}}},
		Metadata: map[string]string{"format": "1", "config": `{"x":1}`},
	}
	if err := Save(p, in); err != nil {
		t.Fatal(err)
	}
	out, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip changed the file:\n%+v\n%+v", in, out)
	}
}

func TestRejectsGarbage(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bad.safetensors")
	os.WriteFile(p, []byte("not a checkpoint at all"), 0o644)
	if _, err := Load(p); err == nil {
		t.Fatal("garbage accepted")
	}
	if err := Save(p, File{Tensors: map[string]Tensor{"a": {Shape: []int{3}, Data: []float32{1}}}}); err == nil {
		t.Fatal("inconsistent shape accepted")
	}
	if b, _ := os.ReadFile(p); string(b) != "not a checkpoint at all" {
		t.Error("a failed save changed the destination")
	}
}
