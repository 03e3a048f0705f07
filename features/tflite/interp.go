package tflite

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// Interpreter runs a Model in float32 on dequantized weights.
//
// Every constant is dequantized once, at construction: weights (q − z)·s per
// tensor or per output channel, int32 biases q·s_in·s_w. Activations stay
// float32; after each operator the fused activation (RELU, RELU6, RELU_N1_TO_1)
// is applied and, for a quantized output tensor, the value is clamped to the
// interval its uint8 grid can represent, which is the saturation the quantized
// model performs. The values are not re-rounded to the grid: that changes class
// probabilities by ≤ 0.01 (FEATURES-NOTES.md).
//
// Convolutions are im2col + one SGEMM per operator over the whole batch (a 1×1
// stride-1 convolution multiplies the activation buffer directly), through
// gonum's blas32, which internal/fastblas switches to OpenBLAS under -tags
// openblas. Depthwise convolutions are direct loops over channels-last rows,
// split over GOMAXPROCS goroutines. Activation buffers are planned once per batch
// size by liveness and reused on every Run.
//
// Only the operators needed for the requested outputs are run, so a backbone that
// needs a stride-16 feature map never computes the classifier head.
//
// Profile lesson (go test -bench MobileNetV2Features -cpuprofile, 2 cores): with
// pure-Go gonum half the time is SGEMM, a quarter the depthwise loops, and the
// per-element bias + clamp pass after each GEMM took 15 %: written with branches
// (if v < lo … else if v > hi) it was slower than the min/max builtins, which
// compile to branch-free MINSS/MAXSS; switching cut 34 → 29 ms/image. Under
// OpenBLAS 40 % of samples sit in libc, OpenBLAS's threads spinning beside Go's
// goroutines on the two cores (the GEMMs here are small: M = 8·28·28); running
// with OPENBLAS_NUM_THREADS=1 gave 21 ms/image instead of 29.
//
// An Interpreter is not safe for concurrent use.
type Interpreter struct {
	m       *Model
	threads int
	input   int
	outputs []int
	steps   []*step

	batch   int
	bufs    [][]float32 // per tensor index, for the current batch
	shapes  [][]int
	scratch []float32
}

type step struct {
	op     *Operator
	index  int
	run    func(it *Interpreter, s *step) error
	w, b   []float32
	lo, hi float32
	// geometry (NHWC)
	inH, inW, inC    int
	outH, outW, outC int
	kh, kw           int
	padT, padL       int
	strH, strW       int
	dilH, dilW       int
	mult             int
	beta             float32
	pointwise        bool
}

// InterpreterOptions configure NewInterpreter.
type InterpreterOptions struct {
	// Outputs are the tensor indices to compute; nil means the model's outputs.
	Outputs []int
	// Threads bounds the goroutines of the Go-side loops; ≤ 0 means GOMAXPROCS.
	Threads int
}

// NewInterpreter prepares m for running. It fails, naming the operator, if an
// operator needed for the requested outputs is not supported.
func NewInterpreter(m *Model, opt InterpreterOptions) (*Interpreter, error) {
	if len(m.Inputs) != 1 {
		return nil, fmt.Errorf("tflite: model has %d inputs, want 1", len(m.Inputs))
	}
	it := &Interpreter{m: m, threads: opt.Threads, input: m.Inputs[0], outputs: opt.Outputs}
	if it.outputs == nil {
		it.outputs = m.Outputs
	}
	// Producer of each tensor.
	prod := make([]int, len(m.Tensors))
	for i := range prod {
		prod[i] = -1
	}
	for i, op := range m.Operators {
		for _, o := range op.Outputs {
			prod[o] = i
		}
	}
	need := make([]bool, len(m.Operators))
	var stack []int
	for _, o := range it.outputs {
		if o < 0 || o >= len(m.Tensors) {
			return nil, fmt.Errorf("tflite: requested output tensor %d of %d", o, len(m.Tensors))
		}
		if o != it.input && prod[o] < 0 {
			return nil, fmt.Errorf("tflite: requested output tensor %d (%s) is not computed by any operator", o, m.Tensors[o].Name)
		}
		stack = append(stack, o)
	}
	for len(stack) > 0 {
		t := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		p := prod[t]
		if p < 0 || need[p] {
			continue
		}
		need[p] = true
		for _, in := range m.Operators[p].Inputs {
			if in >= 0 {
				stack = append(stack, in)
			}
		}
	}
	for i := range m.Operators {
		if !need[i] {
			continue
		}
		s, err := it.prepare(i)
		if err != nil {
			return nil, fmt.Errorf("tflite: operator %d (%s): %w", i, m.Operators[i].Code, err)
		}
		it.steps = append(it.steps, s)
	}
	return it, nil
}

// Model returns the interpreted model.
func (it *Interpreter) Model() *Model { return it.m }

func actRange(a Activation) (float32, float32, error) {
	inf := float32(math.Inf(1))
	switch a {
	case ActNone:
		return -inf, inf, nil
	case ActRelu:
		return 0, inf, nil
	case ActRelu6:
		return 0, 6, nil
	case ActReluN1To1:
		return -1, 1, nil
	}
	return 0, 0, fmt.Errorf("fused activation %d is not supported", a)
}

func (it *Interpreter) tensor(i int) *Tensor { return it.m.Tensors[i] }

func (it *Interpreter) prepare(i int) (*step, error) {
	op := &it.m.Operators[i]
	s := &step{op: op, index: i}
	nin := func(n int) error {
		if len(op.Inputs) < n || len(op.Outputs) < 1 {
			return fmt.Errorf("has %d inputs and %d outputs, want at least %d and 1", len(op.Inputs), len(op.Outputs), n)
		}
		for _, x := range op.Inputs[:n] {
			if x < 0 {
				return fmt.Errorf("a required input is omitted")
			}
		}
		return nil
	}
	lo, hi, err := actRange(op.Opts.Activation)
	if err != nil {
		return nil, err
	}
	if len(op.Outputs) > 0 {
		if qlo, qhi, ok := it.tensor(op.Outputs[0]).Range(); ok {
			lo = max(lo, qlo)
			hi = min(hi, qhi)
		}
	}
	s.lo, s.hi = lo, hi
	switch op.Code {
	case OpConv2D, OpDepthwiseConv2D:
		if err := nin(2); err != nil {
			return nil, err
		}
		in, w, out := it.tensor(op.Inputs[0]), it.tensor(op.Inputs[1]), it.tensor(op.Outputs[0])
		if len(in.Shape) != 4 || len(w.Shape) != 4 || len(out.Shape) != 4 {
			return nil, fmt.Errorf("want 4-D input, filter and output, have %v, %v, %v", in.Shape, w.Shape, out.Shape)
		}
		s.inH, s.inW, s.inC = in.Shape[1], in.Shape[2], in.Shape[3]
		s.outH, s.outW, s.outC = out.Shape[1], out.Shape[2], out.Shape[3]
		s.kh, s.kw = w.Shape[1], w.Shape[2]
		s.strH, s.strW = op.Opts.StrideH, op.Opts.StrideW
		s.dilH, s.dilW = op.Opts.DilationH, op.Opts.DilationW
		if s.strH < 1 || s.strW < 1 || s.dilH < 1 || s.dilW < 1 {
			return nil, fmt.Errorf("invalid stride %d×%d or dilation %d×%d", s.strH, s.strW, s.dilH, s.dilW)
		}
		var oh, ow int
		oh, s.padT = outSize(s.inH, s.kh, s.strH, s.dilH, op.Opts.Padding)
		ow, s.padL = outSize(s.inW, s.kw, s.strW, s.dilW, op.Opts.Padding)
		if oh != s.outH || ow != s.outW {
			return nil, fmt.Errorf("output %d×%d computed from input %v, file says %v", oh, ow, in.Shape, out.Shape)
		}
		if op.Code == OpConv2D {
			if w.Shape[0] != s.outC || w.Shape[3] != s.inC {
				return nil, fmt.Errorf("filter shape %v does not match input %v and output %v", w.Shape, in.Shape, out.Shape)
			}
			s.run = (*Interpreter).runConv
			s.pointwise = s.kh == 1 && s.kw == 1 && s.strH == 1 && s.strW == 1 && s.padT == 0 && s.padL == 0
		} else {
			s.mult = op.Opts.DepthMultiplier
			if s.mult < 1 || w.Shape[3] != s.outC || s.outC != s.inC*s.mult || w.Shape[0] != 1 {
				return nil, fmt.Errorf("filter shape %v, depth multiplier %d do not match input %v and output %v", w.Shape, s.mult, in.Shape, out.Shape)
			}
			s.run = (*Interpreter).runDepthwise
		}
		if s.w, err = Dequantize(w, nil); err != nil {
			return nil, err
		}
		s.b = make([]float32, s.outC)
		if len(op.Inputs) > 2 && op.Inputs[2] >= 0 {
			bt := it.tensor(op.Inputs[2])
			var bs []float32
			if len(in.Quant.Scale) == 1 {
				for _, ws := range w.Quant.Scale {
					bs = append(bs, in.Quant.Scale[0]*ws)
				}
			}
			if s.b, err = Dequantize(bt, bs); err != nil {
				return nil, err
			}
			if len(s.b) != s.outC {
				return nil, fmt.Errorf("bias has %d values for %d output channels", len(s.b), s.outC)
			}
		}
	case OpAveragePool2D, OpMaxPool2D:
		if err := nin(1); err != nil {
			return nil, err
		}
		in, out := it.tensor(op.Inputs[0]), it.tensor(op.Outputs[0])
		if len(in.Shape) != 4 || len(out.Shape) != 4 || in.Shape[3] != out.Shape[3] {
			return nil, fmt.Errorf("want 4-D input and output with equal channels, have %v and %v", in.Shape, out.Shape)
		}
		s.inH, s.inW, s.inC = in.Shape[1], in.Shape[2], in.Shape[3]
		s.outH, s.outW, s.outC = out.Shape[1], out.Shape[2], out.Shape[3]
		s.kh, s.kw = op.Opts.FilterH, op.Opts.FilterW
		s.strH, s.strW = op.Opts.StrideH, op.Opts.StrideW
		if s.strH < 1 || s.strW < 1 || s.kh < 1 || s.kw < 1 {
			return nil, fmt.Errorf("invalid filter %d×%d or stride %d×%d", s.kh, s.kw, s.strH, s.strW)
		}
		var oh, ow int
		oh, s.padT = outSize(s.inH, s.kh, s.strH, 1, op.Opts.Padding)
		ow, s.padL = outSize(s.inW, s.kw, s.strW, 1, op.Opts.Padding)
		if oh != s.outH || ow != s.outW {
			return nil, fmt.Errorf("output %d×%d computed from input %v, file says %v", oh, ow, in.Shape, out.Shape)
		}
		s.run = (*Interpreter).runPool
	case OpAdd, OpMul:
		if err := nin(2); err != nil {
			return nil, err
		}
		a, b, out := it.tensor(op.Inputs[0]), it.tensor(op.Inputs[1]), it.tensor(op.Outputs[0])
		if a.Size() != out.Size() || b.Size() != out.Size() {
			return nil, fmt.Errorf("broadcasting (%v with %v) is not supported", a.Shape, b.Shape)
		}
		for _, x := range []*Tensor{a, b} {
			if x.Data != nil {
				return nil, fmt.Errorf("constant operand %s is not supported", x.Name)
			}
		}
		s.run = (*Interpreter).runElementwise
	case OpReshape, OpSqueeze:
		if err := nin(1); err != nil {
			return nil, err
		}
		in, out := it.tensor(op.Inputs[0]), it.tensor(op.Outputs[0])
		if in.Size() != out.Size() {
			return nil, fmt.Errorf("input %v and output %v differ in size", in.Shape, out.Shape)
		}
		s.lo, s.hi = float32(math.Inf(-1)), float32(math.Inf(1))
		s.run = (*Interpreter).runCopy
	case OpSoftmax:
		if err := nin(1); err != nil {
			return nil, err
		}
		in, out := it.tensor(op.Inputs[0]), it.tensor(op.Outputs[0])
		if in.Size() != out.Size() || len(in.Shape) == 0 {
			return nil, fmt.Errorf("input %v and output %v differ in size", in.Shape, out.Shape)
		}
		s.outC = in.Shape[len(in.Shape)-1]
		s.beta = op.Opts.Beta
		s.run = (*Interpreter).runSoftmax
	default:
		return nil, fmt.Errorf("operator %s is not supported by this interpreter", op.Code)
	}
	for _, o := range op.Outputs {
		if t := it.tensor(o); t.Data != nil || len(t.Shape) == 0 || t.Shape[0] != 1 {
			return nil, fmt.Errorf("output tensor %s has shape %v; want an activation with batch dimension 1", t.Name, t.Shape)
		}
	}
	return s, nil
}

// outSize returns the output length and the leading padding of a window of k
// taps (dilation d) sliding with stride over n inputs: VALID gives
// ⌈(n − (k−1)d)/stride⌉ with no padding, SAME gives ⌈n/stride⌉ with
// ⌊total/2⌋ padding in front, total = max(0, (out−1)·stride + (k−1)d + 1 − n).
func outSize(n, k, stride, d int, p Padding) (out, pad int) {
	ek := (k-1)*d + 1
	if p == Valid {
		if n < ek {
			return 0, 0
		}
		return (n-ek)/stride + 1, 0
	}
	out = (n + stride - 1) / stride
	total := (out-1)*stride + ek - n
	if total < 0 {
		total = 0
	}
	return out, total / 2
}

// setBatch plans buffers for batch size n: tensors get slots by liveness so that
// a slot is reused once its last reader has run.
func (it *Interpreter) setBatch(n int) {
	if n == it.batch {
		return
	}
	it.batch = n
	nt := len(it.m.Tensors)
	it.bufs = make([][]float32, nt)
	it.shapes = make([][]int, nt)
	last := make([]int, nt)
	for i := range last {
		last[i] = -1
	}
	for si, s := range it.steps {
		for _, in := range s.op.Inputs {
			if in >= 0 {
				last[in] = si
			}
		}
	}
	keep := map[int]bool{}
	for _, o := range it.outputs {
		keep[o] = true
		last[o] = len(it.steps)
	}
	type slot struct {
		size int
		free bool
		ts   []int
	}
	var slots []*slot
	owner := map[int]*slot{}
	for si, s := range it.steps {
		for _, o := range s.op.Outputs {
			t := it.tensor(o)
			size := t.Size() * n
			var best *slot
			for _, sl := range slots {
				if sl.free && (best == nil || abs(sl.size-size) < abs(best.size-size)) {
					best = sl
				}
			}
			if best == nil {
				best = &slot{}
				slots = append(slots, best)
			}
			best.free = false
			best.size = max(best.size, size)
			best.ts = append(best.ts, o)
			owner[o] = best
		}
		for _, in := range s.op.Inputs {
			if in >= 0 && last[in] == si && !keep[in] {
				if sl := owner[in]; sl != nil {
					sl.free = true
				}
			}
		}
	}
	for _, sl := range slots {
		b := make([]float32, sl.size)
		for _, t := range sl.ts {
			it.bufs[t] = b[:it.tensor(t).Size()*n]
		}
	}
	for i, t := range it.m.Tensors {
		if len(t.Shape) > 0 {
			sh := append([]int(nil), t.Shape...)
			sh[0] *= n
			it.shapes[i] = sh
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// InputShape returns the model's input shape [1, H, W, C].
func (it *Interpreter) InputShape() []int { return it.tensor(it.input).Shape }

// Run computes the requested outputs for a batch of n inputs. input holds n
// images of the input shape, channels last, already in real (dequantized) units:
// for a uint8 model input with scale s and zero point z, pixel p becomes (p − z)·s.
// The input slice is read, not kept.
func (it *Interpreter) Run(input []float32, n int) error {
	if n < 1 {
		return fmt.Errorf("tflite: batch size %d", n)
	}
	in := it.tensor(it.input)
	if want := in.Size() * n; len(input) != want {
		return fmt.Errorf("tflite: input has %d values, want %d (%d × %v)", len(input), want, n, in.Shape)
	}
	it.setBatch(n)
	it.bufs[it.input] = input
	for _, s := range it.steps {
		if err := s.run(it, s); err != nil {
			return fmt.Errorf("tflite: operator %d (%s): %w", s.index, s.op.Code, err)
		}
	}
	return nil
}

// Output returns the buffer of a computed tensor for the last Run (batch-major,
// shape with the batch dimension multiplied by n). It is overwritten by the next Run.
func (it *Interpreter) Output(tensor int) ([]float32, []int) {
	if it.bufs == nil || tensor < 0 || tensor >= len(it.bufs) {
		return nil, nil
	}
	return it.bufs[tensor], it.shapes[tensor]
}

func clampSlice(x []float32, lo, hi float32) {
	for i, v := range x {
		x[i] = min(max(v, lo), hi)
	}
}

func (it *Interpreter) runConv(s *step) error {
	in := it.bufs[s.op.Inputs[0]]
	out := it.bufs[s.op.Outputs[0]]
	n := it.batch
	m := n * s.outH * s.outW
	k := s.kh * s.kw * s.inC
	a := in
	if !s.pointwise {
		if cap(it.scratch) < m*k {
			it.scratch = make([]float32, m*k)
		}
		a = it.scratch[:m*k]
		it.im2col(s, in, a)
	}
	blas32.Implementation().Sgemm(blas.NoTrans, blas.Trans, m, s.outC, k, 1, a, k, s.w, k, 0, out, s.outC)
	oc := s.outC
	parallelFor(m, it.threads, 1024, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			row := out[r*oc : r*oc+oc]
			b := s.b[:len(row)]
			lo, hi := s.lo, s.hi
			for c := range row {
				row[c] = min(max(row[c]+b[c], lo), hi)
			}
		}
	})
	return nil
}

// im2col writes, for every output position (row), the kh·kw·inC input values
// under the filter (zero outside the image) in filter order (ky, kx, c).
func (it *Interpreter) im2col(s *step, in, col []float32) {
	k := s.kh * s.kw * s.inC
	rows := it.batch * s.outH
	parallelFor(rows, it.threads, 8, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			b, oy := r/s.outH, r%s.outH
			img := in[b*s.inH*s.inW*s.inC:]
			for ox := 0; ox < s.outW; ox++ {
				dst := col[((r*s.outW)+ox)*k:][:k]
				p := 0
				for ky := 0; ky < s.kh; ky++ {
					iy := oy*s.strH - s.padT + ky*s.dilH
					for kx := 0; kx < s.kw; kx++ {
						ix := ox*s.strW - s.padL + kx*s.dilW
						seg := dst[p : p+s.inC]
						if iy < 0 || iy >= s.inH || ix < 0 || ix >= s.inW {
							clear(seg)
						} else {
							copy(seg, img[(iy*s.inW+ix)*s.inC:])
						}
						p += s.inC
					}
				}
			}
		}
	})
}

func (it *Interpreter) runDepthwise(s *step) error {
	in := it.bufs[s.op.Inputs[0]]
	out := it.bufs[s.op.Outputs[0]]
	rows := it.batch * s.outH
	C := s.outC
	parallelFor(rows, it.threads, 2, func(lo, hi int) {
		var tmp []float32
		if s.mult != 1 {
			tmp = make([]float32, C)
		}
		for r := lo; r < hi; r++ {
			b, oy := r/s.outH, r%s.outH
			img := in[b*s.inH*s.inW*s.inC:]
			for ox := 0; ox < s.outW; ox++ {
				acc := out[(r*s.outW+ox)*C:][:C]
				if s.mult == 1 && s.kh == 3 && s.kw == 3 && depthwise3x3(s, img, oy, ox, acc) {
					continue
				}
				copy(acc, s.b)
				for ky := 0; ky < s.kh; ky++ {
					iy := oy*s.strH - s.padT + ky*s.dilH
					if iy < 0 || iy >= s.inH {
						continue
					}
					for kx := 0; kx < s.kw; kx++ {
						ix := ox*s.strW - s.padL + kx*s.dilW
						if ix < 0 || ix >= s.inW {
							continue
						}
						w := s.w[(ky*s.kw+kx)*C:][:C]
						x := img[(iy*s.inW+ix)*s.inC:][:s.inC]
						if s.mult == 1 {
							x = x[:len(acc)]
							w = w[:len(acc)]
							for c := range acc {
								acc[c] += x[c] * w[c]
							}
						} else {
							for c := range tmp {
								tmp[c] = x[c/s.mult]
							}
							for c := range acc {
								acc[c] += tmp[c] * w[c]
							}
						}
					}
				}
				clampSlice(acc, s.lo, s.hi)
			}
		}
	})
	return nil
}

// depthwise3x3 computes one output position of a 3×3 depthwise convolution
// (depth multiplier 1) whose nine taps all fall inside the image, in one pass
// over the channels with bias and clamp fused; it reports false, writing
// nothing, at the border. The profile of advgs score (MobileNetV2 up to block
// 15) had the tap-by-tap loop below at 41 % of the CPU time: it loads and
// stores the accumulator nine times per output. Fusing saved only ~6 % of the
// feature benchmark (35.2 → 33.0 ms/image): the loop is bound by scalar
// arithmetic (Go does not vectorise it), and it is still a third of the CPU
// time. The sum is formed in the same order (bias, then the taps in filter
// order), so the results are bit-identical.
func depthwise3x3(s *step, img []float32, oy, ox int, acc []float32) bool {
	iy := oy*s.strH - s.padT
	ix := ox*s.strW - s.padL
	dy, dx := s.dilH, s.dilW
	if iy < 0 || ix < 0 || iy+2*dy >= s.inH || ix+2*dx >= s.inW {
		return false
	}
	C := len(acc)
	row := func(y, x int) []float32 { return img[(y*s.inW+x)*s.inC:][:C] }
	x0, x1, x2 := row(iy, ix), row(iy, ix+dx), row(iy, ix+2*dx)
	x3, x4, x5 := row(iy+dy, ix), row(iy+dy, ix+dx), row(iy+dy, ix+2*dx)
	x6, x7, x8 := row(iy+2*dy, ix), row(iy+2*dy, ix+dx), row(iy+2*dy, ix+2*dx)
	w := s.w[:9*C]
	w0, w1, w2 := w[0:C], w[C:2*C], w[2*C:3*C]
	w3, w4, w5 := w[3*C:4*C], w[4*C:5*C], w[5*C:6*C]
	w6, w7, w8 := w[6*C:7*C], w[7*C:8*C], w[8*C:9*C]
	b := s.b[:C]
	lo, hi := s.lo, s.hi
	for c := range acc {
		v := b[c] + x0[c]*w0[c]
		v += x1[c] * w1[c]
		v += x2[c] * w2[c]
		v += x3[c] * w3[c]
		v += x4[c] * w4[c]
		v += x5[c] * w5[c]
		v += x6[c] * w6[c]
		v += x7[c] * w7[c]
		v += x8[c] * w8[c]
		acc[c] = min(max(v, lo), hi)
	}
	return true
}

func (it *Interpreter) runPool(s *step) error {
	in := it.bufs[s.op.Inputs[0]]
	out := it.bufs[s.op.Outputs[0]]
	C := s.outC
	isMax := s.op.Code == OpMaxPool2D
	rows := it.batch * s.outH
	parallelFor(rows, it.threads, 4, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			b, oy := r/s.outH, r%s.outH
			img := in[b*s.inH*s.inW*C:]
			for ox := 0; ox < s.outW; ox++ {
				acc := out[(r*s.outW+ox)*C:][:C]
				cnt := 0
				for ky := 0; ky < s.kh; ky++ {
					iy := oy*s.strH - s.padT + ky
					if iy < 0 || iy >= s.inH {
						continue
					}
					for kx := 0; kx < s.kw; kx++ {
						ix := ox*s.strW - s.padL + kx
						if ix < 0 || ix >= s.inW {
							continue
						}
						x := img[(iy*s.inW+ix)*C:][:C]
						if cnt == 0 {
							copy(acc, x)
						} else if isMax {
							for c := range acc {
								acc[c] = max(acc[c], x[c])
							}
						} else {
							for c := range acc {
								acc[c] += x[c]
							}
						}
						cnt++
					}
				}
				if cnt == 0 {
					clear(acc)
				} else if !isMax {
					inv := 1 / float32(cnt)
					for c := range acc {
						acc[c] *= inv
					}
				}
				clampSlice(acc, s.lo, s.hi)
			}
		}
	})
	return nil
}

func (it *Interpreter) runElementwise(s *step) error {
	a := it.bufs[s.op.Inputs[0]]
	b := it.bufs[s.op.Inputs[1]]
	out := it.bufs[s.op.Outputs[0]]
	mul := s.op.Code == OpMul
	parallelFor(len(out), it.threads, 1<<14, func(lo, hi int) {
		o, x, y := out[lo:hi], a[lo:hi], b[lo:hi]
		for i := range o {
			var v float32
			if mul {
				v = x[i] * y[i]
			} else {
				v = x[i] + y[i]
			}
			if v < s.lo {
				v = s.lo
			} else if v > s.hi {
				v = s.hi
			}
			o[i] = v
		}
	})
	return nil
}

func (it *Interpreter) runCopy(s *step) error {
	copy(it.bufs[s.op.Outputs[0]], it.bufs[s.op.Inputs[0]])
	return nil
}

func (it *Interpreter) runSoftmax(s *step) error {
	in := it.bufs[s.op.Inputs[0]]
	out := it.bufs[s.op.Outputs[0]]
	c := s.outC
	for r := 0; r+c <= len(in); r += c {
		x, y := in[r:r+c], out[r:r+c]
		mx := x[0]
		for _, v := range x {
			mx = max(mx, v)
		}
		var sum float64
		for i, v := range x {
			e := math.Exp(float64(s.beta * (v - mx)))
			y[i] = float32(e)
			sum += e
		}
		inv := float32(1 / sum)
		for i := range y {
			y[i] *= inv
		}
		clampSlice(y, s.lo, s.hi)
	}
	return nil
}
