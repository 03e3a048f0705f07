// Package nn holds the small neural-network toolkit that the sampler and the energy
// models share: float32 parameters with seeded PyTorch-style initialisation, the
// sinusoidal time embedding, the three value-network shapes of the VGS reference code
// (FCNet_temb, FCNet_temb_deeperv2, FCNet_temb_deeperv3), compiled gorgonia graphs
// cached per batch size, a fused Adam and gradient-norm clipping.
//
// Graphs. gorgonia fixes the batch size of a graph, so a Net keeps one compiled graph
// per (kind, batch size): a forward-only graph for V(x,t), a forward graph with the
// input gradient ∇ₓΣᵢV(xᵢ,tᵢ) (first-order autodiff only: gorgonia's nested gradients
// are wrong, see GO-STACK.md §2), and a training graph with the loss and its parameter
// gradients. Every graph binds the same weight tensors, so an in-place optimiser step is
// seen by all of them. Graph building takes a package-wide lock, because gorgonia's
// Grad is not safe to call concurrently even on independent graphs.
//
// Layout. A dense layer stores W as in×out (row-major) and computes y = x·W + b; this is
// PyTorch's Linear with its weight transposed. Parameter names follow the PyTorch
// module paths of the reference code where they are known.
package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"

	"gorgonia.org/tensor"
)

// buildMu serialises graph construction and gradient derivation (gorgonia's Grad adds
// package-global constant nodes; concurrent calls race).
var buildMu sync.Mutex

// Param is one named weight tensor. Data is the backing slice of Value, so writing
// into Data changes the weights seen by every graph that binds Value.
type Param struct {
	Name  string
	Shape []int
	Data  []float32
	Value *tensor.Dense
}

// NewParam allocates a zero parameter of the given shape.
func NewParam(name string, shape ...int) *Param {
	n := 1
	for _, s := range shape {
		n *= s
	}
	data := make([]float32, n)
	sh := append([]int(nil), shape...)
	return &Param{Name: name, Shape: sh, Data: data,
		Value: tensor.New(tensor.WithShape(sh...), tensor.WithBacking(data))}
}

// Size is the number of scalars in p.
func (p *Param) Size() int { return len(p.Data) }

// InitUniform fills p with U(−bound, bound) draws from rng.
func (p *Param) InitUniform(bound float64, rng *rand.Rand) {
	for i := range p.Data {
		p.Data[i] = float32((2*rng.Float64() - 1) * bound)
	}
}

// Dense is a fully connected layer y = x·W + b with W in×out.
type Dense struct {
	In, Out int
	W, B    *Param
}

// NewDense makes a layer named name (parameters name.weight, name.bias) initialised
// as PyTorch's nn.Linear: W and b ~ U(−1/√in, 1/√in).
func NewDense(name string, in, out int, rng *rand.Rand) *Dense {
	d := &Dense{In: in, Out: out, W: NewParam(name+".weight", in, out), B: NewParam(name+".bias", 1, out)}
	bound := 1 / math.Sqrt(float64(in))
	d.W.InitUniform(bound, rng)
	d.B.InitUniform(bound, rng)
	return d
}

// Params returns W and b.
func (d *Dense) Params() []*Param { return []*Param{d.W, d.B} }

// CountParams sums the sizes of ps.
func CountParams(ps []*Param) int {
	n := 0
	for _, p := range ps {
		n += p.Size()
	}
	return n
}

// CopyParams copies src's values into dst (same order and shapes).
func CopyParams(dst, src []*Param) {
	if len(dst) != len(src) {
		panic(fmt.Sprintf("nn: CopyParams with %d and %d params", len(dst), len(src)))
	}
	for i := range dst {
		copy(dst[i].Data, src[i].Data)
	}
}

// EMA sets θ_dst ← decay·θ_dst + (1−decay)·θ_src for every parameter.
// decay = 0 is a hard copy.
func EMA(dst, src []*Param, decay float64) {
	if decay == 0 {
		CopyParams(dst, src)
		return
	}
	a, b := float32(decay), float32(1-decay)
	for i := range dst {
		d, s := dst[i].Data, src[i].Data
		for j := range d {
			d[j] = a*d[j] + b*s[j]
		}
	}
}
