package nn

import (
	"fmt"
	"math/rand/v2"
	"sync"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Loss names a per-row regression loss L(z) of the residual z = a·V(x,t) − y.
type Loss string

// The TD losses of the reference code.
const (
	L2       Loss = "l2"        // z²  (MSE)
	L1       Loss = "l1"        // |z|
	SmoothL1 Loss = "smooth_l1" // 0.5·z² if |z| < 1, else |z| − 0.5 (Huber, β = 1)
)

// Valid reports whether l is a known loss.
func (l Loss) Valid() bool { return l == L2 || l == L1 || l == SmoothL1 }

// MaxChunk is the largest batch a single compiled graph processes; larger batches are
// split into chunks of this size (bounding memory and the number of cached graphs).
const MaxChunk = 4096

// Net is a time-conditioned network V(x, t) with gorgonia graphs cached per batch
// size. It is safe for use by one goroutine at a time.
type Net struct {
	Arch   Arch
	layers []*Dense
	params []*Param

	mu     sync.Mutex
	graphs map[graphKey]*graph
}

type graphKind int

const (
	kindValue graphKind = iota
	kindInputGrad
	kindTrain
)

type graphKey struct {
	kind  graphKind
	batch int
	steps int // K, rows of the time-embedding table
	loss  Loss
	scale float32
}

type graph struct {
	x, table, sel, y *tensor.Dense // input backings
	out, gx          *G.Node
	loss             *G.Node
	params           *paramNodes
	grads            [][]float32 // per-parameter gradients, assembled from the views
	vm               G.VM
}

// NewNet builds a network with weights drawn from rng (PyTorch's default rule).
func NewNet(a Arch, rng *rand.Rand) (*Net, error) {
	if a.Out == 0 {
		a.Out = 1
	}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	n := &Net{Arch: a, layers: a.layers(rng), graphs: map[graphKey]*graph{}}
	for _, l := range n.layers {
		n.params = append(n.params, l.Params()...)
	}
	return n, nil
}

// Params returns the parameters in a fixed order (two per layer: weight, bias).
func (n *Net) Params() []*Param { return n.params }

func (n *Net) graph(k graphKey) (*graph, error) {
	if g, ok := n.graphs[k]; ok {
		return g, nil
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	g, err := n.build(k)
	if err != nil {
		return nil, err
	}
	n.graphs[k] = g
	return g, nil
}

func (n *Net) build(k graphKey) (gr *graph, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("nn: building graph: %v", r)
		}
	}()
	B, K, a := k.batch, k.steps, n.Arch
	g := G.NewGraph()
	gr = &graph{
		x:     tensor.New(tensor.WithShape(B, a.In), tensor.WithBacking(make([]float32, B*a.In))),
		table: tensor.New(tensor.WithShape(K, a.TEmb), tensor.WithBacking(make([]float32, K*a.TEmb))),
		sel:   tensor.New(tensor.WithShape(B, K), tensor.WithBacking(make([]float32, B*K))),
	}
	tab := gr.table.Data().([]float32)
	for t := 0; t < K; t++ {
		TimeEmbedding(tab[t*a.TEmb:(t+1)*a.TEmb], float64(t))
	}
	x := G.NewMatrix(g, tensor.Float32, G.WithShape(B, a.In), G.WithName("x"), G.WithValue(gr.x))
	table := G.NewMatrix(g, tensor.Float32, G.WithShape(K, a.TEmb), G.WithName("temb"), G.WithValue(gr.table))
	sel := G.NewMatrix(g, tensor.Float32, G.WithShape(B, K), G.WithName("sel"), G.WithValue(gr.sel))
	pn := &paramNodes{g: g, ps: n.params, nodes: make([][]paramView, len(n.params))}
	out, err := a.forward(x, table, sel, pn)
	if err != nil {
		return nil, err
	}
	gr.out = out
	switch k.kind {
	case kindInputGrad:
		gx, err := G.Grad(G.Must(G.Sum(out)), x)
		if err != nil {
			return nil, err
		}
		gr.gx = gx[0]
	case kindTrain:
		gr.y = tensor.New(tensor.WithShape(B, a.Out), tensor.WithBacking(make([]float32, B*a.Out)))
		y := G.NewMatrix(g, tensor.Float32, G.WithShape(B, a.Out), G.WithName("y"), G.WithValue(gr.y))
		pred := out
		if k.scale != 1 {
			pred = G.Must(G.Mul(out, G.NewConstant(k.scale)))
		}
		z := G.Must(G.Sub(pred, y))
		var l *G.Node
		switch k.loss {
		case L2:
			l = G.Must(G.Square(z))
		case L1:
			l = G.Must(G.Abs(z))
		case SmoothL1:
			// huber(z) = 0.5·c² + (|z| − c) with c = min(|z|, 1) = |z| − relu(|z| − 1)
			az := G.Must(G.Abs(z))
			c := G.Must(G.Sub(az, G.Must(G.Rectify(G.Must(G.Sub(az, G.NewConstant(float32(1))))))))
			l = G.Must(G.Add(G.Must(G.Mul(G.Must(G.Square(c)), G.NewConstant(float32(0.5)))), G.Must(G.Sub(az, c))))
		default:
			return nil, fmt.Errorf("nn: unknown loss %q", k.loss)
		}
		gr.loss = G.Must(G.Mean(l))
		all := pn.all()
		if _, err = G.Grad(gr.loss, all...); err != nil {
			return nil, err
		}
		// Parameter gradients are read from the dual values of the parameter nodes:
		// reading the returned gradient nodes is unreliable, since the tape machine
		// reuses their registers for later instructions. Dual values accumulate
		// across runs, so LossGrad zeroes them before each run.
		gr.params = pn
		gr.grads = make([][]float32, len(n.params))
		for i, p := range n.params {
			gr.grads[i] = make([]float32, p.Size())
		}
		gr.vm = G.NewTapeMachine(g, G.BindDualValues(all...))
		return gr, nil
	}
	gr.vm = G.NewTapeMachine(g)
	return gr, nil
}

// load copies rows [lo, lo+B) of x and the one-hot step selection of t into g's
// inputs.
func (n *Net) load(g *graph, x []float32, t []int, lo, B int) {
	in := n.Arch.In
	copy(g.x.Data().([]float32), x[lo*in:(lo+B)*in])
	sel := g.sel.Data().([]float32)
	clear(sel)
	K := len(sel) / B
	for i := 0; i < B; i++ {
		sel[i*K+t[lo+i]] = 1
	}
}

// tableSize is the number of embedding-table rows a batch with steps t needs: the
// largest step plus one, rounded up to a multiple of 16 so that nearby step counts
// share graphs.
func tableSize(t []int) (int, error) {
	m := 0
	for _, v := range t {
		if v < 0 {
			return 0, fmt.Errorf("nn: negative time step %d", v)
		}
		m = max(m, v)
	}
	return (m/16 + 1) * 16, nil
}

func checkBatch(x []float32, t []int, in int) (int, error) {
	B := len(t)
	if B == 0 || len(x) != B*in {
		return 0, fmt.Errorf("nn: x has %d values for %d rows of dimension %d", len(x), B, in)
	}
	return B, nil
}

// Forward writes V(x_i, t_i) into v (len(v) = B·Out) for the B rows of x.
func (n *Net) Forward(v, x []float32, t []int) error { return n.runChunks(kindValue, v, nil, x, t) }

// InputGrad writes V(x_i, t_i) into v and ∇ₓ Σ_i V(x_i, t_i) into gx (row i is
// ∇V(x_i, t_i)); the parameters are constants. v may be nil.
func (n *Net) InputGrad(v, gx, x []float32, t []int) error {
	return n.runChunks(kindInputGrad, v, gx, x, t)
}

// runChunks evaluates a forward (kindValue) or input-gradient graph on the rows of x
// in chunks of at most MaxChunk rows, copying V into v (when not nil) and the input
// gradient into gx.
func (n *Net) runChunks(kind graphKind, v, gx, x []float32, t []int) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	B, err := checkBatch(x, t, n.Arch.In)
	if err != nil {
		return err
	}
	in, out := n.Arch.In, n.Arch.Out
	for lo := 0; lo < B; lo += MaxChunk {
		b := min(MaxChunk, B-lo)
		K, err := tableSize(t[lo : lo+b])
		if err != nil {
			return err
		}
		g, err := n.graph(graphKey{kind: kind, batch: b, steps: K})
		if err != nil {
			return err
		}
		n.load(g, x, t, lo, b)
		if err := g.vm.RunAll(); err != nil {
			g.vm.Reset()
			return err
		}
		if v != nil {
			copy(v[lo*out:(lo+b)*out], g.out.Value().Data().([]float32))
		}
		if kind == kindInputGrad {
			copy(gx[lo*in:(lo+b)*in], g.gx.Value().Data().([]float32))
		}
		g.vm.Reset()
	}
	return nil
}

// LossGrad evaluates the mean loss (1/B)·Σ_i L(scale·V(x_i,t_i) − y_i) and its gradient
// with respect to every parameter. grads[j] is aligned with Params()[j] and is valid
// until the next call. The batch must not exceed MaxChunk.
func (n *Net) LossGrad(x []float32, t []int, y []float32, loss Loss, scale float32) (float64, [][]float32, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	B, err := checkBatch(x, t, n.Arch.In)
	if err != nil {
		return 0, nil, err
	}
	if B > MaxChunk {
		return 0, nil, fmt.Errorf("nn: training batch %d exceeds %d", B, MaxChunk)
	}
	if len(y) != B*n.Arch.Out {
		return 0, nil, fmt.Errorf("nn: %d targets for %d rows", len(y), B)
	}
	K, err := tableSize(t)
	if err != nil {
		return 0, nil, err
	}
	g, err := n.graph(graphKey{kind: kindTrain, batch: B, steps: K, loss: loss, scale: scale})
	if err != nil {
		return 0, nil, err
	}
	for _, vs := range g.params.nodes {
		for _, v := range vs {
			if gv, err := v.node.Grad(); err == nil && gv != nil {
				clear(gv.Data().([]float32))
			}
		}
	}
	n.load(g, x, t, 0, B)
	copy(g.y.Data().([]float32), y)
	if err := g.vm.RunAll(); err != nil {
		g.vm.Reset()
		return 0, nil, err
	}
	lv := float64(g.loss.Value().Data().(float32))
	for i, vs := range g.params.nodes {
		cols := 1
		if sh := n.params[i].Shape; len(sh) == 2 {
			cols = sh[1]
		}
		if len(vs) == 0 {
			clear(g.grads[i]) // a parameter the output does not depend on
		}
		for _, v := range vs {
			gv, err := v.node.Grad()
			if err != nil {
				g.vm.Reset()
				return 0, nil, fmt.Errorf("nn: gradient of %s: %v", n.params[i].Name, err)
			}
			copy(g.grads[i][v.lo*cols:v.hi*cols], gv.Data().([]float32))
		}
	}
	grads := g.grads
	g.vm.Reset()
	return lv, grads, nil
}

// paramView is a graph node bound to rows [lo, hi) of a parameter (all rows for a
// whole-parameter node), sharing its memory.
type paramView struct {
	node   *G.Node
	lo, hi int
}

// paramNodes creates the parameter nodes of one graph on demand.
type paramNodes struct {
	g     *G.ExprGraph
	ps    []*Param
	nodes [][]paramView
}

// whole returns the node of parameter i.
func (p *paramNodes) whole(i int) *G.Node {
	for _, v := range p.nodes[i] {
		if v.lo == 0 && v.hi == p.ps[i].Shape[0] {
			return v.node
		}
	}
	par := p.ps[i]
	n := G.NewMatrix(p.g, tensor.Float32, G.WithShape(par.Shape...), G.WithName(par.Name), G.WithValue(par.Value))
	p.nodes[i] = append(p.nodes[i], paramView{node: n, lo: 0, hi: par.Shape[0]})
	return n
}

// rows returns a node bound to rows [lo, hi) of the 2-D parameter i. The views of a
// parameter must not overlap (their gradients are assembled by copying).
func (p *paramNodes) rows(i, lo, hi int) *G.Node {
	par := p.ps[i]
	cols := par.Shape[1]
	view := tensor.New(tensor.WithShape(hi-lo, cols), tensor.WithBacking(par.Data[lo*cols:hi*cols]))
	n := G.NewMatrix(p.g, tensor.Float32, G.WithShape(hi-lo, cols), G.WithName(fmt.Sprintf("%s[%d:%d]", par.Name, lo, hi)), G.WithValue(view))
	p.nodes[i] = append(p.nodes[i], paramView{node: n, lo: lo, hi: hi})
	return n
}

// all lists every parameter node created.
func (p *paramNodes) all() []*G.Node {
	var out []*G.Node
	for _, vs := range p.nodes {
		for _, v := range vs {
			out = append(out, v.node)
		}
	}
	return out
}
