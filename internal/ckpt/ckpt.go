// Package ckpt stores named float32 tensors and string metadata in the safetensors
// format (an 8-byte header length, a JSON header, then raw little-endian data), the
// format of the project's sampler checkpoints and model files. Files are written
// atomically.
package ckpt

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/advgs/advgs/internal/atomicfile"
	"github.com/nlpodyssey/safetensors"
)

// Tensor is a float32 tensor with its shape.
type Tensor struct {
	Shape []int
	Data  []float32
}

// File is the content of a checkpoint: tensors by name and string metadata.
type File struct {
	Tensors  map[string]Tensor
	Metadata map[string]string
}

// Encode serialises f.
func Encode(w io.Writer, f File) error {
	views := make(map[string]safetensors.TensorView, len(f.Tensors))
	for name, t := range f.Tensors {
		n := 1
		shape := make([]uint64, len(t.Shape))
		for i, s := range t.Shape {
			shape[i] = uint64(s)
			n *= s
		}
		if n != len(t.Data) {
			return fmt.Errorf("tensor %s: shape %v holds %d values, data has %d", name, t.Shape, n, len(t.Data))
		}
		b := make([]byte, 0, 4*len(t.Data))
		for _, v := range t.Data {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
		tv, err := safetensors.NewTensorView(safetensors.F32, shape, b)
		if err != nil {
			return fmt.Errorf("tensor %s: %w", name, err)
		}
		views[name] = tv
	}
	return safetensors.SerializeToWriter(views, f.Metadata, w)
}

// Save writes f to path atomically.
func Save(path string, f File) error {
	return atomicfile.Write(path, func(w io.Writer) error { return Encode(w, f) })
}

// Load reads a checkpoint. Every tensor must be F32.
func Load(path string) (File, error) {
	buf, err := os.ReadFile(path)
	if err != nil {
		return File{}, err
	}
	return Decode(buf, path)
}

// Decode parses a checkpoint held in buf; name is used in errors.
func Decode(buf []byte, name string) (f File, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: not a valid safetensors file (%v)", name, r)
		}
	}()
	st, err := safetensors.Deserialize(buf)
	if err != nil {
		return File{}, fmt.Errorf("%s: not a valid safetensors file: %w", name, err)
	}
	_, md, err := safetensors.ReadMetadata(buf)
	if err != nil {
		return File{}, fmt.Errorf("%s: %w", name, err)
	}
	f = File{Tensors: map[string]Tensor{}, Metadata: md.Metadata()}
	for _, nt := range st.Tensors() {
		tv := nt.TensorView
		if tv.DType() != safetensors.F32 {
			return File{}, fmt.Errorf("%s: tensor %s has dtype %s, want F32", name, nt.Name, tv.DType())
		}
		raw := tv.Data()
		data := make([]float32, len(raw)/4)
		for i := range data {
			data[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		shape := make([]int, len(tv.Shape()))
		for i, s := range tv.Shape() {
			shape[i] = int(s)
		}
		f.Tensors[nt.Name] = Tensor{Shape: shape, Data: data}
	}
	return f, nil
}
