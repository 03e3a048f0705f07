package tflite

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Dequantize returns the real values of a constant tensor as float32.
//
// For UINT8/INT8 tensors real = (q − z)·s, with (s, z) per tensor or per channel
// along Quant.Dim. INT32 tensors (biases) use real = q·s where s is the tensor's own
// scale, or, when the file leaves it out, biasScale (input_scale·weight_scale, per
// output channel when the weights are per-channel). FLOAT32 data is read as is.
// biasScale may be nil.
func Dequantize(t *Tensor, biasScale []float32) ([]float32, error) {
	n := t.Size()
	if t.Data == nil {
		return nil, fmt.Errorf("tensor %d (%s) has no constant data", t.Index, t.Name)
	}
	elem := map[TensorType]int{Float32: 4, Uint8: 1, Int8: 1, Int32: 4}[t.Type]
	if elem == 0 {
		return nil, fmt.Errorf("tensor %d (%s): constant of type %s is not supported", t.Index, t.Name, t.Type)
	}
	if len(t.Data) != n*elem {
		return nil, fmt.Errorf("tensor %d (%s): %d bytes of data for shape %v of %s (want %d)", t.Index, t.Name, len(t.Data), t.Shape, t.Type, n*elem)
	}
	out := make([]float32, n)
	if t.Type == Float32 {
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
		}
		return out, nil
	}
	scale := t.Quant.Scale
	zero := t.Quant.ZeroPoint
	if t.Type == Int32 && len(scale) == 0 {
		scale = biasScale
		zero = nil
	}
	if len(scale) == 0 {
		return nil, fmt.Errorf("tensor %d (%s) of type %s has no quantization scale", t.Index, t.Name, t.Type)
	}
	// chanOf maps a flat index to its quantization channel.
	stride, nch := 1, 1
	if len(scale) > 1 {
		d := t.Quant.Dim
		if t.Type == Int32 {
			d = len(t.Shape) - 1
		}
		if d < 0 || d >= len(t.Shape) || t.Shape[d] != len(scale) {
			return nil, fmt.Errorf("tensor %d (%s): %d scales do not match dimension %d of shape %v", t.Index, t.Name, len(scale), d, t.Shape)
		}
		for _, s := range t.Shape[d+1:] {
			stride *= s
		}
		nch = len(scale)
	}
	if len(zero) != 0 && len(zero) != len(scale) {
		return nil, fmt.Errorf("tensor %d (%s): %d zero points for %d scales", t.Index, t.Name, len(zero), len(scale))
	}
	for i := range out {
		c := (i / stride) % nch
		var z int64
		if len(zero) > 0 {
			z = zero[c]
		}
		var q int64
		switch t.Type {
		case Uint8:
			q = int64(t.Data[i])
		case Int8:
			q = int64(int8(t.Data[i]))
		case Int32:
			q = int64(int32(binary.LittleEndian.Uint32(t.Data[4*i:])))
		}
		out[i] = float32(q-z) * scale[c]
	}
	return out, nil
}

// ints reads an INT32 (or INT64) constant tensor as ints, e.g. a RESHAPE shape.
func constInts(t *Tensor) ([]int, error) {
	n := t.Size()
	switch {
	case t.Type == Int32 && len(t.Data) == 4*n:
		out := make([]int, n)
		for i := range out {
			out[i] = int(int32(binary.LittleEndian.Uint32(t.Data[4*i:])))
		}
		return out, nil
	case t.Type == Int64 && len(t.Data) == 8*n:
		out := make([]int, n)
		for i := range out {
			out[i] = int(int64(binary.LittleEndian.Uint64(t.Data[8*i:])))
		}
		return out, nil
	}
	return nil, fmt.Errorf("tensor %d (%s): want an INT32 constant, have %s with %d bytes", t.Index, t.Name, t.Type, len(t.Data))
}

// Range returns the real interval representable by a quantized activation
// tensor, [(qmin − z)·s, (qmax − z)·s]; ok is false for float tensors or
// per-channel quantization.
func (t *Tensor) Range() (lo, hi float32, ok bool) {
	if len(t.Quant.Scale) != 1 {
		return 0, 0, false
	}
	s := t.Quant.Scale[0]
	var z float32
	if len(t.Quant.ZeroPoint) == 1 {
		z = float32(t.Quant.ZeroPoint[0])
	}
	switch t.Type {
	case Uint8:
		return (0 - z) * s, (255 - z) * s, true
	case Int8:
		return (-128 - z) * s, (127 - z) * s, true
	}
	return 0, 0, false
}
