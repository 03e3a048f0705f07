package tflite

import (
	"fmt"
	"os"
)

// TensorType is the element type of a tensor, as numbered in the TFLite schema.
type TensorType uint8

// Tensor types of the TFLite schema that this package knows by name.
const (
	Float32 TensorType = 0
	Float16 TensorType = 1
	Int32   TensorType = 2
	Uint8   TensorType = 3
	Int64   TensorType = 4
	Int16   TensorType = 7
	Int8    TensorType = 9
)

func (t TensorType) String() string {
	switch t {
	case Float32:
		return "FLOAT32"
	case Float16:
		return "FLOAT16"
	case Int32:
		return "INT32"
	case Uint8:
		return "UINT8"
	case Int64:
		return "INT64"
	case Int16:
		return "INT16"
	case Int8:
		return "INT8"
	}
	return fmt.Sprintf("TensorType(%d)", uint8(t))
}

// Quantization holds the affine quantization of a tensor: real = (q − ZeroPoint)·Scale,
// per tensor (one entry) or per channel along axis Dim (one entry per channel).
type Quantization struct {
	Scale     []float32
	ZeroPoint []int64
	Dim       int
}

// Tensor is one tensor of a TFLite subgraph: a constant (Data non-nil) or an
// activation computed by the graph.
type Tensor struct {
	Index int
	Name  string
	Shape []int
	Type  TensorType
	Quant Quantization
	// Data is the raw little-endian content of a constant tensor (nil for activations).
	Data []byte
}

// Size is the number of elements of the tensor (the product of its shape).
func (t *Tensor) Size() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Operator is one node of the graph: a builtin operator code, tensor indices of
// its inputs (−1 for an omitted optional input) and outputs, and its decoded options.
type Operator struct {
	Code    BuiltinOp
	Custom  string
	Inputs  []int
	Outputs []int
	Opts    Options
}

// Options are the builtin options of an operator that the interpreter uses.
// Fields that do not apply to an operator are zero.
type Options struct {
	Padding          Padding
	StrideW, StrideH int
	DilationW        int
	DilationH        int
	FilterW, FilterH int
	DepthMultiplier  int
	Activation       Activation
	NewShape         []int
	Beta             float32
	Axis             int
	KeepNumDims      bool
	AlignCorners     bool
	HalfPixel        bool
}

// Padding is the TFLite padding scheme.
type Padding uint8

// Padding schemes: SAME pads so that out = ceil(in/stride); VALID does not pad.
const (
	Same  Padding = 0
	Valid Padding = 1
)

// Activation is a fused activation function applied to an operator's output.
type Activation uint8

// Fused activations of the TFLite schema.
const (
	ActNone      Activation = 0
	ActRelu      Activation = 1
	ActReluN1To1 Activation = 2
	ActRelu6     Activation = 3
	ActTanh      Activation = 4
)

// Model is a parsed TFLite model: the first subgraph's tensors and operators.
type Model struct {
	Version     uint32
	Description string
	Tensors     []*Tensor
	Operators   []Operator
	Inputs      []int
	Outputs     []int
}

// Load reads and parses a TFLite model file. Errors name the file.
func Load(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tflite: %w", err)
	}
	m, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("tflite: %s: %w", path, err)
	}
	return m, nil
}

// Parse decodes a TFLite flatbuffer held in b. The constant tensors alias b.
// Malformed input gives an error, never a panic.
func Parse(b []byte) (*Model, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("file of %d bytes is too short to be a TFLite model", len(b))
	}
	if string(b[4:8]) != "TFL3" {
		return nil, fmt.Errorf("not a TFLite model (file identifier %q, want \"TFL3\")", b[4:8])
	}
	f := &fb{buf: b}
	root := f.root()
	m := &Model{
		Version:     f.scalarU32(root, 0, 0),
		Description: f.str(root, 3),
	}
	// Operator codes.
	var codes []BuiltinOp
	var customs []string
	for _, oc := range f.tables(root, 1) {
		dep := int32(int8(f.scalarU8(oc, 0, 0)))
		bc := f.scalarI32(oc, 3, 0)
		if dep > bc {
			bc = dep
		}
		codes = append(codes, BuiltinOp(bc))
		customs = append(customs, f.str(oc, 1))
	}
	// Buffers.
	bufTabs := f.tables(root, 4)
	buffers := make([][]byte, len(bufTabs))
	for i, bt := range bufTabs {
		buffers[i] = f.bytesField(bt, 0)
		if off := f.scalarU64(bt, 1, 0); off > 1 {
			size := f.scalarU64(bt, 2, 0)
			if off+size > uint64(len(b)) || off+size < off {
				return nil, fmt.Errorf("buffer %d (offset %d, size %d) lies outside the %d-byte file", i, off, size, len(b))
			}
			buffers[i] = b[off : off+size]
		}
	}
	subs := f.tables(root, 2)
	if f.err != nil {
		return nil, f.err
	}
	if len(subs) == 0 {
		return nil, fmt.Errorf("model has no subgraph")
	}
	sg := subs[0]
	for i, tt := range f.tables(sg, 0) {
		t := &Tensor{
			Index: i,
			Shape: f.ints(tt, 0),
			Type:  TensorType(f.scalarU8(tt, 1, 0)),
			Name:  f.str(tt, 3),
		}
		if bi := int(f.scalarU32(tt, 2, 0)); bi > 0 {
			if bi >= len(buffers) {
				return nil, fmt.Errorf("tensor %d (%s) names buffer %d of %d", i, t.Name, bi, len(buffers))
			}
			if len(buffers[bi]) > 0 {
				t.Data = buffers[bi]
			}
		}
		if q := f.subTable(tt, 4); q != 0 {
			t.Quant = Quantization{
				Scale:     f.float32s(q, 2),
				ZeroPoint: f.int64s(q, 3),
				Dim:       int(f.scalarI32(q, 6, 0)),
			}
		}
		for _, d := range t.Shape {
			if d < 0 || d > 1<<24 {
				return nil, fmt.Errorf("tensor %d (%s) has invalid shape %v", i, t.Name, t.Shape)
			}
		}
		m.Tensors = append(m.Tensors, t)
	}
	nt := len(m.Tensors)
	checkIdx := func(what string, idx []int, allowOmitted bool) error {
		for _, x := range idx {
			if (x == -1 && allowOmitted) || (x >= 0 && x < nt) {
				continue
			}
			return fmt.Errorf("%s refers to tensor %d of %d", what, x, nt)
		}
		return nil
	}
	m.Inputs = f.ints(sg, 1)
	m.Outputs = f.ints(sg, 2)
	if err := checkIdx("subgraph inputs", m.Inputs, false); err != nil {
		return nil, err
	}
	if err := checkIdx("subgraph outputs", m.Outputs, false); err != nil {
		return nil, err
	}
	for i, ot := range f.tables(sg, 3) {
		ci := int(f.scalarU32(ot, 0, 0))
		if ci >= len(codes) {
			return nil, fmt.Errorf("operator %d uses opcode index %d of %d", i, ci, len(codes))
		}
		op := Operator{Code: codes[ci], Custom: customs[ci], Inputs: f.ints(ot, 1), Outputs: f.ints(ot, 2)}
		if err := checkIdx(fmt.Sprintf("operator %d (%s) inputs", i, op.Code), op.Inputs, true); err != nil {
			return nil, err
		}
		if err := checkIdx(fmt.Sprintf("operator %d (%s) outputs", i, op.Code), op.Outputs, false); err != nil {
			return nil, err
		}
		op.Opts = parseOptions(f, op.Code, f.subTable(ot, 4))
		m.Operators = append(m.Operators, op)
	}
	if f.err != nil {
		return nil, f.err
	}
	return m, nil
}

func parseOptions(f *fb, code BuiltinOp, t table) Options {
	o := Options{StrideW: 1, StrideH: 1, DilationW: 1, DilationH: 1, DepthMultiplier: 1, Beta: 1}
	if t == 0 {
		return o
	}
	switch code {
	case OpConv2D:
		o.Padding = Padding(f.scalarU8(t, 0, 0))
		o.StrideW = int(f.scalarI32(t, 1, 1))
		o.StrideH = int(f.scalarI32(t, 2, 1))
		o.Activation = Activation(f.scalarU8(t, 3, 0))
		o.DilationW = int(f.scalarI32(t, 4, 1))
		o.DilationH = int(f.scalarI32(t, 5, 1))
	case OpDepthwiseConv2D:
		o.Padding = Padding(f.scalarU8(t, 0, 0))
		o.StrideW = int(f.scalarI32(t, 1, 1))
		o.StrideH = int(f.scalarI32(t, 2, 1))
		o.DepthMultiplier = int(f.scalarI32(t, 3, 1))
		o.Activation = Activation(f.scalarU8(t, 4, 0))
		o.DilationW = int(f.scalarI32(t, 5, 1))
		o.DilationH = int(f.scalarI32(t, 6, 1))
	case OpAveragePool2D, OpMaxPool2D:
		o.Padding = Padding(f.scalarU8(t, 0, 0))
		o.StrideW = int(f.scalarI32(t, 1, 1))
		o.StrideH = int(f.scalarI32(t, 2, 1))
		o.FilterW = int(f.scalarI32(t, 3, 1))
		o.FilterH = int(f.scalarI32(t, 4, 1))
		o.Activation = Activation(f.scalarU8(t, 5, 0))
	case OpAdd, OpMul:
		o.Activation = Activation(f.scalarU8(t, 0, 0))
	case OpReshape:
		o.NewShape = f.ints(t, 0)
	case OpSoftmax:
		o.Beta = f.scalarF32(t, 0, 1)
	case OpFullyConnected:
		o.Activation = Activation(f.scalarU8(t, 0, 0))
		o.KeepNumDims = f.scalarU8(t, 2, 0) != 0
	case OpConcatenation:
		o.Axis = int(f.scalarI32(t, 0, 0))
		o.Activation = Activation(f.scalarU8(t, 1, 0))
	case OpResizeBilinear:
		o.AlignCorners = f.scalarU8(t, 2, 0) != 0
		o.HalfPixel = f.scalarU8(t, 3, 0) != 0
	}
	return o
}

// Resize sets the model's input to h×w pixels and propagates the new spatial
// size through the graph's convolutions, poolings and element-wise operators
// (out = ⌈in/stride⌉ for SAME padding, ⌊(in − (k−1)d − 1)/stride⌋ + 1 for
// VALID), so that a fully convolutional prefix of the model runs at another
// resolution. The propagation stops at the first operator of another kind (a
// classifier's reshape, say): its outputs, and everything after them, keep the
// file's shapes, and NewInterpreter refuses them if they are requested and no
// longer fit. So does an operator whose window no longer fits its input. Constant tensors (weights) are never changed; Resize copies every
// shape it rewrites, so tensors shared with other models are not affected.
func (m *Model) Resize(h, w int) error {
	if len(m.Inputs) != 1 {
		return fmt.Errorf("tflite: resize: model has %d inputs, want 1", len(m.Inputs))
	}
	in := m.Tensors[m.Inputs[0]]
	if len(in.Shape) != 4 {
		return fmt.Errorf("tflite: resize: input shape %v is not NHWC", in.Shape)
	}
	if h < 1 || w < 1 {
		return fmt.Errorf("tflite: resize: input size %d×%d, want positive sides", h, w)
	}
	set := func(t *Tensor, h, w int) {
		t.Shape = []int{t.Shape[0], h, w, t.Shape[3]}
	}
	set(in, h, w)
	for _, op := range m.Operators {
		if len(op.Inputs) == 0 || len(op.Outputs) != 1 || op.Inputs[0] < 0 {
			return nil
		}
		src, dst := m.Tensors[op.Inputs[0]], m.Tensors[op.Outputs[0]]
		if len(src.Shape) != 4 || len(dst.Shape) != 4 {
			return nil
		}
		switch op.Code {
		case OpConv2D, OpDepthwiseConv2D, OpAveragePool2D, OpMaxPool2D:
			kh, kw, dh, dw := op.Opts.FilterH, op.Opts.FilterW, 1, 1
			if op.Code == OpConv2D || op.Code == OpDepthwiseConv2D {
				if len(op.Inputs) < 2 || op.Inputs[1] < 0 || len(m.Tensors[op.Inputs[1]].Shape) != 4 {
					return nil
				}
				fs := m.Tensors[op.Inputs[1]].Shape
				kh, kw, dh, dw = fs[1], fs[2], op.Opts.DilationH, op.Opts.DilationW
			}
			if op.Opts.StrideH < 1 || op.Opts.StrideW < 1 || kh < 1 || kw < 1 || dh < 1 || dw < 1 {
				return nil
			}
			oh, _ := outSize(src.Shape[1], kh, op.Opts.StrideH, dh, op.Opts.Padding)
			ow, _ := outSize(src.Shape[2], kw, op.Opts.StrideW, dw, op.Opts.Padding)
			if oh < 1 || ow < 1 {
				// Too small a map for this window (a classifier's VALID
				// pooling): stop here, as for an unknown operator.
				return nil
			}
			set(dst, oh, ow)
		case OpAdd, OpMul:
			set(dst, src.Shape[1], src.Shape[2])
		default:
			return nil
		}
	}
	return nil
}
