package ebm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/advgs/advgs/internal/fastblas"
	"github.com/advgs/advgs/internal/nn"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// AEConfig sizes the autoencoder energy (VGS.md B.6). YAML names are the ones of
// configs/mvtec.yaml.
type AEConfig struct {
	// EncHidden are the hidden widths of the encoder FCNet (paper: [1024, 1024, 1024]).
	EncHidden []int `yaml:"enc_hidden" json:"enc_hidden"`
	// Latent is the width of the normalised latent z (paper: 128).
	Latent int `yaml:"latent_dim" json:"latent_dim"`
	// DecHidden are the hidden widths of the decoder FCNet (paper: [1024, 1024, 1024]).
	DecHidden []int `yaml:"dec_hidden" json:"dec_hidden"`
	// Tau is τ_E in E = out_scale²·err/τ_E (paper: 0.1).
	Tau float64 `yaml:"tau" json:"tau"`
	// OutScale is the initial value of the learnable scalar out_scale (paper: 1.0).
	OutScale float64 `yaml:"out_scale" json:"out_scale"`
}

// Validate names the first field that cannot build an energy.
func (c AEConfig) Validate() error {
	for _, h := range c.EncHidden {
		if h < 1 {
			return fmt.Errorf("energy.enc_hidden: widths must be ≥ 1, got %v", c.EncHidden)
		}
	}
	for _, h := range c.DecHidden {
		if h < 1 {
			return fmt.Errorf("energy.dec_hidden: widths must be ≥ 1, got %v", c.DecHidden)
		}
	}
	if c.Latent < 2 {
		return fmt.Errorf("energy.latent_dim: must be ≥ 2, got %d", c.Latent)
	}
	if !(c.Tau > 0) {
		return fmt.Errorf("energy.tau: must be > 0, got %g", c.Tau)
	}
	if !(c.OutScale > 0) {
		return fmt.Errorf("energy.out_scale: must be > 0, got %g", c.OutScale)
	}
	return nil
}

// AE is the autoencoder energy of VGS.md B.6 on unit patch vectors x ∈ S^{D−1}:
//
//	z = Enc(x),  ẑ = z/‖z‖,   r = Dec(ẑ),  r̂ = r/‖r‖
//	E(x) = s²·Σ_j (x_j − r̂_j)² / τ_E
//
// Enc and Dec are FCNets (Linear → ReLU → … → Linear, linear output), s is the
// learnable out_scale. For unit x, Σ(x−r̂)² = 2 − 2·cos(x, r̂) ∈ [0, 4].
//
// The forward pass and both backward passes (∇ₓE, the input gradient that VGS
// samples with, and ∂L/∂θ for a loss L(E(x₁), …, E(x_B))) are written out by hand
// over blas32 SGEMMs (OpenBLAS under -tags openblas). With L2 normalisation
// u = v/‖v‖ the backward rule is ∂L/∂v = (g − (g·u)·u)/‖v‖ for g = ∂L/∂u.
// Lesson: the gorgonia graphs of internal/nn allocate one activation set per run and
// need one graph per batch size; for this fixed MLP the hand-written passes are
// simpler, allocation-free, and are checked against finite differences in the tests.
//
// AE implements vgs.Energy. It keeps scratch buffers, so it is not safe for
// concurrent use.
type AE struct {
	Config AEConfig
	// In is D, the patch-vector length.
	In       int
	Enc, Dec []*nn.Dense
	// Scale is out_scale, a 1-element parameter.
	Scale *nn.Param

	work map[int]*work
}

// maxChunk bounds the rows of one pass (scratch memory ≈ maxChunk × Σ widths).
const maxChunk = 1024

// NewAE builds an AE energy on dim-dimensional inputs with PyTorch-style initial
// weights drawn from rng.
func NewAE(cfg AEConfig, dim int, rng *rand.Rand) (*AE, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if dim < 2 {
		return nil, fmt.Errorf("ebm: feature dimension must be ≥ 2, got %d", dim)
	}
	m := &AE{Config: cfg, In: dim, work: map[int]*work{}}
	m.Enc = fcnet("energy.encoder.net", dim, cfg.EncHidden, cfg.Latent, rng)
	m.Dec = fcnet("energy.decoder.net", cfg.Latent, cfg.DecHidden, dim, rng)
	m.Scale = nn.NewParam("energy.out_scale", 1)
	m.Scale.Data[0] = float32(cfg.OutScale)
	return m, nil
}

// fcnet makes Linear layers in → hidden… → out, named as PyTorch's Sequential
// (Linear modules at even indices, ReLUs between them).
func fcnet(prefix string, in int, hidden []int, out int, rng *rand.Rand) []*nn.Dense {
	var ls []*nn.Dense
	prev := in
	for i, h := range append(append([]int(nil), hidden...), out) {
		ls = append(ls, nn.NewDense(fmt.Sprintf("%s.%d", prefix, 2*i), prev, h, rng))
		prev = h
	}
	return ls
}

// Params returns every parameter: encoder (weight, bias per layer), decoder, out_scale.
func (m *AE) Params() []*nn.Param {
	var ps []*nn.Param
	for _, l := range m.Enc {
		ps = append(ps, l.Params()...)
	}
	for _, l := range m.Dec {
		ps = append(ps, l.Params()...)
	}
	return append(ps, m.Scale)
}

// NumParams counts the scalars of the energy.
func (m *AE) NumParams() int { return nn.CountParams(m.Params()) }

// work holds the activations of one chunk size.
type work struct {
	B          int
	enc, dec   [][]float32 // layer outputs (after ReLU for hidden layers)
	zn, rn     []float32   // normalised latent and reconstruction
	nz, nr     []float32   // norms ‖z‖, ‖r‖ per row
	err        []float32   // Σ(x−r̂)² per row
	ga, gb     []float32   // backward scratch (B × widest layer)
	gz, gr, gx []float32
}

func (m *AE) getWork(B int) *work {
	if w := m.work[B]; w != nil {
		return w
	}
	if m.work == nil {
		m.work = map[int]*work{}
	}
	w := &work{B: B}
	widest := m.In
	for _, l := range m.Enc {
		w.enc = append(w.enc, make([]float32, B*l.Out))
		widest = max(widest, l.Out)
	}
	for _, l := range m.Dec {
		w.dec = append(w.dec, make([]float32, B*l.Out))
		widest = max(widest, l.Out)
	}
	w.zn = make([]float32, B*m.Config.Latent)
	w.rn = make([]float32, B*m.In)
	w.nz, w.nr, w.err = make([]float32, B), make([]float32, B), make([]float32, B)
	w.ga, w.gb = make([]float32, B*widest), make([]float32, B*widest)
	w.gz, w.gr, w.gx = make([]float32, B*m.Config.Latent), make([]float32, B*m.In), make([]float32, B*m.In)
	if len(m.work) > 8 { // bound the cache: batch sizes seen are few in practice
		clear(m.work)
	}
	m.work[B] = w
	return w
}

// gemm computes C = op(A)·op(B) + beta·C for row-major matrices, op(A) m×k, op(B) k×n.
//
// With OpenBLAS, a large product is split by rows of C into one block per
// processor, each a single-threaded Sgemm on its own goroutine. Profile lesson
// (advgs fit, pre-training on 2 cores): the process ran at 104 % CPU, 56 % of it
// in single-threaded SGEMMs (fastblas keeps OpenBLAS at one thread because its
// own threads spin next to Go's on the value networks' small products); two
// OpenBLAS threads were 1.35× faster here but fragile under load. The blocks
// are deterministic but may round differently from one call (OpenBLAS picks its
// small-matrix kernels by size; TestGemmSplit). Pure-Go gonum parallelises
// inside Sgemm.
func gemm(tA, tB bool, m, n, k int, a []float32, b []float32, beta float32, c []float32) {
	ta, tb := blas.NoTrans, blas.NoTrans
	lda, ldb := k, n
	if tA {
		ta, lda = blas.Trans, m
	}
	if tB {
		tb, ldb = blas.Trans, k
	}
	impl := blas32.Implementation()
	parts := min(runtime.GOMAXPROCS(0), m/splitMinRows)
	if fastblas.Name != "openblas" || parts < 2 || m*n*k < splitMinWork {
		impl.Sgemm(ta, tb, m, n, k, 1, a, lda, b, ldb, beta, c, n)
		return
	}
	var wg sync.WaitGroup
	rows := (m + parts - 1) / parts
	for lo := 0; lo < m; lo += rows {
		hi := min(lo+rows, m)
		// Rows lo..hi of op(A): rows of A (offset lo·lda) or, transposed, its
		// columns (offset lo, same lda).
		off := lo * lda
		if tA {
			off = lo
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			impl.Sgemm(ta, tb, hi-lo, n, k, 1, a[off:], lda, b, ldb, beta, c[lo*n:], n)
		}()
	}
	wg.Wait()
}

// splitMinRows and splitMinWork bound the products gemm splits: at least 32
// rows per block and 2²¹ multiply-adds in all (below that, starting goroutines
// costs more than the second core saves).
const (
	splitMinRows = 32
	splitMinWork = 1 << 21
)

// dense computes y = x·W + b (x B×in), with ReLU when relu.
func dense(l *nn.Dense, x, y []float32, B int, relu bool) {
	y = y[:B*l.Out]
	for r := 0; r < B; r++ {
		copy(y[r*l.Out:(r+1)*l.Out], l.B.Data)
	}
	gemm(false, false, B, l.Out, l.In, x[:B*l.In], l.W.Data, 1, y)
	if relu {
		for i, v := range y {
			if v < 0 {
				y[i] = 0
			}
		}
	}
}

// normalize writes u = v/‖v‖ row-wise and the norms (floored at 1e-12).
func normalize(u, norms, v []float32, B, n int) {
	for r := 0; r < B; r++ {
		vr := v[r*n : (r+1)*n]
		s := float32(0)
		for _, a := range vr {
			s += a * a
		}
		nv := float32(math.Sqrt(float64(s)))
		if nv < 1e-12 {
			nv = 1e-12
		}
		norms[r] = nv
		inv := 1 / nv
		ur := u[r*n : (r+1)*n]
		for j, a := range vr {
			ur[j] = a * inv
		}
	}
}

// normalizeBack turns g = ∂L/∂u into ∂L/∂v = (g − (g·u)u)/‖v‖ in place.
func normalizeBack(g, u, norms []float32, B, n int) {
	for r := 0; r < B; r++ {
		gr, ur := g[r*n:(r+1)*n], u[r*n:(r+1)*n]
		d := float32(0)
		for j := range gr {
			d += gr[j] * ur[j]
		}
		inv := 1 / norms[r]
		for j := range gr {
			gr[j] = (gr[j] - d*ur[j]) * inv
		}
	}
}

// forward fills w for the B rows of x and writes E into e.
func (m *AE) forward(w *work, x, e []float32, B int) {
	h := x
	for i, l := range m.Enc {
		dense(l, h, w.enc[i], B, i < len(m.Enc)-1)
		h = w.enc[i]
	}
	normalize(w.zn, w.nz, h, B, m.Config.Latent)
	h = w.zn
	for i, l := range m.Dec {
		dense(l, h, w.dec[i], B, i < len(m.Dec)-1)
		h = w.dec[i]
	}
	D := m.In
	normalize(w.rn, w.nr, h, B, D)
	s := m.Scale.Data[0]
	c := s * s / float32(m.Config.Tau)
	for r := 0; r < B; r++ {
		xr, rr := x[r*D:(r+1)*D], w.rn[r*D:(r+1)*D]
		acc := float32(0)
		for j := range xr {
			d := xr[j] - rr[j]
			acc += d * d
		}
		w.err[r] = acc
		e[r] = c * acc
	}
}

// backward propagates dE (∂L/∂E per row) through the last forward. It adds
// ∂L/∂θ into grads (aligned with Params; nil skips) and writes ∂L/∂x into dx
// (nil skips).
func (m *AE) backward(w *work, x, dE []float32, B int, dx []float32, grads [][]float32) {
	D := m.In
	s := m.Scale.Data[0]
	tau := float32(m.Config.Tau)
	c := s * s / tau
	// ∂L/∂r̂ = −2(x−r̂)·c·dE ; direct ∂L/∂x = +2(x−r̂)·c·dE.
	gr := w.gr[:B*D]
	var dScale float32
	for r := 0; r < B; r++ {
		k := 2 * c * dE[r]
		dScale += dE[r] * 2 * s * w.err[r] / tau
		for j := r * D; j < (r+1)*D; j++ {
			gr[j] = -k * (x[j] - w.rn[j])
		}
	}
	if dx != nil {
		for r := 0; r < B; r++ {
			k := 2 * c * dE[r]
			for j := r * D; j < (r+1)*D; j++ {
				dx[j] = k * (x[j] - w.rn[j])
			}
		}
	}
	normalizeBack(gr, w.rn, w.nr, B, D)
	nEnc := len(m.Enc)
	pg := func(li int) ([]float32, []float32) { // gradient slices of layer li (encoder first)
		if grads == nil {
			return nil, nil
		}
		return grads[2*li], grads[2*li+1]
	}
	// Decoder, last to first. g holds ∂L/∂(pre-activation output of layer i).
	g := gr
	for i := len(m.Dec) - 1; i >= 0; i-- {
		l := m.Dec[i]
		in := w.zn
		if i > 0 {
			in = w.dec[i-1]
		}
		gW, gb := pg(nEnc + i)
		var next []float32
		if i > 0 {
			next = w.ga[:B*l.In]
			if &g[0] == &w.ga[0] {
				next = w.gb[:B*l.In]
			}
		} else {
			next = w.gz[:B*l.In]
		}
		m.linearBack(l, in, g, next, gW, gb, B, i > 0)
		g = next
	}
	normalizeBack(g, w.zn, w.nz, B, m.Config.Latent)
	for i := nEnc - 1; i >= 0; i-- {
		l := m.Enc[i]
		in := x
		if i > 0 {
			in = w.enc[i-1]
		}
		gW, gb := pg(i)
		var next []float32
		if i > 0 {
			next = w.ga[:B*l.In]
			if &g[0] == &w.ga[0] {
				next = w.gb[:B*l.In]
			}
		} else if dx != nil {
			next = w.gx[:B*l.In]
		}
		m.linearBack(l, in, g, next, gW, gb, B, i > 0)
		g = next
	}
	if dx != nil {
		for j := range dx[:B*D] {
			dx[j] += g[j]
		}
	}
	if grads != nil {
		grads[len(grads)-1][0] += dScale
	}
}

// linearBack: given g = ∂L/∂y for y = in·W + b, adds ∂L/∂W = inᵀg and ∂L/∂b = Σ_rows g
// (when gW != nil) and writes ∂L/∂in = g·Wᵀ into gin (when non-nil), masked by the
// ReLU that produced in when reluIn (in > 0).
func (m *AE) linearBack(l *nn.Dense, in, g, gin, gW, gb []float32, B int, reluIn bool) {
	g = g[:B*l.Out]
	if gW != nil {
		gemm(true, false, l.In, l.Out, B, in[:B*l.In], g, 1, gW)
		for r := 0; r < B; r++ {
			gr := g[r*l.Out : (r+1)*l.Out]
			for j, v := range gr {
				gb[j] += v
			}
		}
	}
	if gin == nil {
		return
	}
	gemm(false, true, B, l.In, l.Out, g, l.W.Data, 0, gin[:B*l.In])
	if reluIn {
		for j := range gin[:B*l.In] {
			if in[j] <= 0 {
				gin[j] = 0
			}
		}
	}
}

// Dim is D, the patch-vector length (vgs.Energy).
func (m *AE) Dim() int { return m.In }

// chunks calls fn on consecutive row ranges of at most maxChunk rows.
func chunks(n int, fn func(lo, hi int)) {
	for lo := 0; lo < n; lo += maxChunk {
		fn(lo, min(lo+maxChunk, n))
	}
}

// Energy writes E(x_i) into e[i] for the rows of x (B×D).
func (m *AE) Energy(e, x []float32) {
	D := m.In
	chunks(len(x)/D, func(lo, hi int) {
		w := m.getWork(hi - lo)
		m.forward(w, x[lo*D:hi*D], e[lo:hi], hi-lo)
	})
}

// EnergyGrad writes E(x_i) into e[i] and ∇ₓE(x_i) into row i of g.
func (m *AE) EnergyGrad(e, g, x []float32) {
	D := m.In
	chunks(len(x)/D, func(lo, hi int) {
		B := hi - lo
		w := m.getWork(B)
		m.forward(w, x[lo*D:hi*D], e[lo:hi], B)
		ones := make([]float32, B)
		for i := range ones {
			ones[i] = 1
		}
		m.backward(w, x[lo*D:hi*D], ones, B, g[lo*D:hi*D], nil)
	})
}

// ParamGrad evaluates E on the rows of x and adds ∂L/∂θ for L with ∂L/∂E_i =
// dLdE(i, E_i) into grads (aligned with Params). It returns the energies.
func (m *AE) ParamGrad(x []float32, grads [][]float32, dLdE func(i int, e float32) float32) []float32 {
	D := m.In
	n := len(x) / D
	e := make([]float32, n)
	chunks(n, func(lo, hi int) {
		B := hi - lo
		w := m.getWork(B)
		m.forward(w, x[lo*D:hi*D], e[lo:hi], B)
		dE := make([]float32, B)
		for i := range dE {
			dE[i] = dLdE(lo+i, e[lo+i])
		}
		m.backward(w, x[lo*D:hi*D], dE, B, nil, grads)
	})
	return e
}

// NewGrads allocates zero gradient buffers aligned with Params.
func (m *AE) NewGrads() [][]float32 {
	var g [][]float32
	for _, p := range m.Params() {
		g = append(g, make([]float32, p.Size()))
	}
	return g
}
