package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestParamCountsMatchReference(t *testing.T) {
	// Checksums from VGS.md B.4.
	cases := []struct {
		a    Arch
		want int
	}{
		{Arch{Kind: FCNetTemb, In: 2, Hidden: 1024, TEmb: 1024}, 6300673},
		{Arch{Kind: FCNetTemb, In: 2, Hidden: 128, TEmb: 128}, 99457},
		{Arch{Kind: FCNetTemb, In: 6, Hidden: 512, TEmb: 512}, 1579521},
		{Arch{Kind: DeeperV2, In: 10, Hidden: 1024, TEmb: 1024}, 3160065},
		{Arch{Kind: DeeperV3, In: 78, Hidden: 512, TEmb: 128, TFeat: 512}, 2206721},
		{Arch{Kind: DeeperV3, In: 272, Hidden: 512, TEmb: 128, TFeat: 512}, 2306049},
	}
	for _, c := range cases {
		n, err := NewNet(c.a, rand.New(rand.NewPCG(1, 2)))
		if err != nil {
			t.Fatal(err)
		}
		if got := CountParams(n.Params()); got != c.want {
			t.Errorf("%s(in=%d,H=%d): %d params, want %d", c.a.Kind, c.a.In, c.a.Hidden, got, c.want)
		}
	}
}

func TestArchValidate(t *testing.T) {
	bad := []Arch{
		{Kind: "mlp", In: 2, Hidden: 8, TEmb: 8, Out: 1},
		{Kind: FCNetTemb, In: 0, Hidden: 8, TEmb: 8, Out: 1},
		{Kind: FCNetTemb, In: 2, Hidden: 8, TEmb: 7, Out: 1},
		{Kind: DeeperV3, In: 2, Hidden: 8, TEmb: 8, Out: 1},
		{Kind: FCNetTemb, In: 2, Hidden: 8, TEmb: 8, Out: 1, Activation: "gelu"},
	}
	for _, a := range bad {
		if err := a.Validate(); err == nil {
			t.Errorf("%+v accepted", a)
		}
	}
}

func TestTimeEmbedding(t *testing.T) {
	e := make([]float32, 8)
	TimeEmbedding(e, 3)
	// half = 4, w_k = 10000^(−k/3): w = 1, 0.04641589, 0.00215443, 0.0001
	w := []float64{1, math.Pow(10000, -1.0/3), math.Pow(10000, -2.0/3), 1e-4}
	for k := range w {
		if d := math.Abs(float64(e[k]) - math.Sin(3*w[k])); d > 1e-6 {
			t.Errorf("sin %d: %v", k, e[k])
		}
		if d := math.Abs(float64(e[4+k]) - math.Cos(3*w[k])); d > 1e-6 {
			t.Errorf("cos %d: %v", k, e[4+k])
		}
	}
}

func smallNets(t *testing.T) []*Net {
	var nets []*Net
	for _, a := range []Arch{
		{Kind: FCNetTemb, In: 3, Hidden: 6, TEmb: 4},
		{Kind: DeeperV2, In: 3, Hidden: 6, TEmb: 4},
		{Kind: DeeperV3, In: 3, Hidden: 6, TEmb: 4, TFeat: 5},
		{Kind: FCNetTemb, In: 3, Hidden: 6, TEmb: 4, Activation: SiLU},
		{Kind: DeeperV2, In: 3, Hidden: 6, TEmb: 4, Activation: Softplus},
		{Kind: DeeperV3, In: 3, Hidden: 6, TEmb: 4, TFeat: 5, Activation: SiLU},
	} {
		n, err := NewNet(a, rand.New(rand.NewPCG(7, 7)))
		if err != nil {
			t.Fatal(err)
		}
		nets = append(nets, n)
	}
	return nets
}

func randn(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

func sum(v []float32) float64 {
	s := 0.0
	for _, x := range v {
		s += float64(x)
	}
	return s
}

// TestInputGradFiniteDifference checks ∇ₓΣV against central differences.
func TestInputGradFiniteDifference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range smallNets(t) {
		B, D := 4, n.Arch.In
		x := randn(rng, B*D)
		ts := []int{0, 1, 2, 5}
		v, gx := make([]float32, B), make([]float32, B*D)
		if err := n.InputGrad(v, gx, x, ts); err != nil {
			t.Fatal(err)
		}
		v2 := make([]float32, B)
		if err := n.Forward(v2, x, ts); err != nil {
			t.Fatal(err)
		}
		for i := range v {
			if v[i] != v2[i] {
				t.Fatalf("%s: forward graphs disagree: %v vs %v", n.Arch.Kind, v, v2)
			}
		}
		const h = 1e-2
		for j := range x {
			xp := append([]float32(nil), x...)
			xm := append([]float32(nil), x...)
			xp[j] += h
			xm[j] -= h
			n.Forward(v2, xp, ts)
			fp := sum(v2)
			n.Forward(v2, xm, ts)
			fd := (fp - sum(v2)) / (2 * h)
			if math.Abs(fd-float64(gx[j])) > 2e-3*(1+math.Abs(fd)) {
				t.Errorf("%s: dV/dx[%d] = %g, finite difference %g", n.Arch.Kind+"/"+n.Arch.Activation, j, gx[j], fd)
			}
		}
	}
}

// TestParamGradFiniteDifference checks the gradients of every loss with respect to
// every parameter against central differences.
func TestParamGradFiniteDifference(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range smallNets(t) {
		for _, loss := range []Loss{L1, L2, SmoothL1} {
			B, D := 5, n.Arch.In
			x := randn(rng, B*D)
			ts := []int{0, 1, 2, 3, 4}
			y := randn(rng, B)
			for i := range y {
				y[i] *= 3 // residuals on both sides of the Huber kink
			}
			scale := float32(0.5)
			_, grads, err := n.LossGrad(x, ts, y, loss, scale)
			if err != nil {
				t.Fatal(err)
			}
			g := make([][]float32, len(grads))
			for i := range grads {
				g[i] = append([]float32(nil), grads[i]...)
			}
			lossAt := func() float64 {
				v := make([]float32, B)
				n.Forward(v, x, ts)
				s := 0.0
				for i := range v {
					z := float64(scale*v[i] - y[i])
					switch loss {
					case L2:
						s += z * z
					case L1:
						s += math.Abs(z)
					case SmoothL1:
						if math.Abs(z) < 1 {
							s += 0.5 * z * z
						} else {
							s += math.Abs(z) - 0.5
						}
					}
				}
				return s / float64(B)
			}
			l0, _, _ := n.LossGrad(x, ts, y, loss, scale)
			if d := math.Abs(l0 - lossAt()); d > 1e-5 {
				t.Fatalf("%s %s: graph loss %g, direct %g", n.Arch.Kind, loss, l0, lossAt())
			}
			// A ReLU kink inside [θ−h, θ+h] makes the central difference meaningless
			// (GO-STACK.md §2); such points are detected by comparing the one-sided
			// slopes and skipped, and they must stay rare.
			const h = 2e-3
			f0 := lossAt()
			checked, skipped := 0, 0
			for pi, p := range n.Params() {
				for j := range p.Data {
					old := p.Data[j]
					p.Data[j] = old + h
					fp := lossAt()
					p.Data[j] = old - h
					fm := lossAt()
					p.Data[j] = old
					fd := (fp - fm) / (2 * h)
					if r, l := (fp-f0)/h, (f0-fm)/h; math.Abs(r-l) > 5e-3*(1+math.Abs(fd)) {
						skipped++
						continue
					}
					checked++
					if math.Abs(fd-float64(g[pi][j])) > 5e-3*(1+math.Abs(fd)) {
						t.Errorf("%s %s: d/d%s[%d] = %g, finite difference %g", n.Arch.Kind+"/"+n.Arch.Activation, loss, p.Name, j, g[pi][j], fd)
					}
				}
			}
			t.Logf("%s %s: %d checked, %d on a kink", n.Arch.Kind, loss, checked, skipped)
			if skipped > checked/4 {
				t.Errorf("%s %s: %d of %d parameters sat on a kink", n.Arch.Kind, loss, skipped, skipped+checked)
			}
		}
	}
}

func TestAdamFirstStep(t *testing.T) {
	p := NewParam("w", 3)
	copy(p.Data, []float32{1, 2, 3})
	a := NewAdam([]*Param{p}, 0.1)
	a.Step([][]float32{{0.5, -2, 0}})
	// First step: θ − lr·g/(|g|+ε) (bias corrections cancel).
	want := []float32{0.9, 2.1, 3}
	for i := range want {
		if math.Abs(float64(p.Data[i]-want[i])) > 1e-6 {
			t.Errorf("θ[%d] = %v, want %v", i, p.Data[i], want[i])
		}
	}
}

func TestClipGradNorm(t *testing.T) {
	g := [][]float32{{3}, {4}}
	if n := ClipGradNorm(g, 1); math.Abs(n-5) > 1e-9 {
		t.Fatalf("norm %v", n)
	}
	if math.Abs(float64(g[0][0])-0.6) > 1e-5 || math.Abs(float64(g[1][0])-0.8) > 1e-5 {
		t.Errorf("clipped to %v", g)
	}
}

func TestEMAAndCopy(t *testing.T) {
	a, b := NewParam("a", 2), NewParam("b", 2)
	copy(a.Data, []float32{1, 1})
	copy(b.Data, []float32{3, 5})
	EMA([]*Param{a}, []*Param{b}, 0.75)
	if a.Data[0] != 1.5 || a.Data[1] != 2 {
		t.Errorf("EMA gave %v", a.Data)
	}
	EMA([]*Param{a}, []*Param{b}, 0)
	if a.Data[0] != 3 || a.Data[1] != 5 {
		t.Errorf("hard copy gave %v", a.Data)
	}
}

// TestWeightsSharedAcrossGraphs checks that an in-place update is seen by every
// cached graph.
func TestWeightsSharedAcrossGraphs(t *testing.T) {
	n := smallNets(t)[0]
	x := randn(rand.New(rand.NewPCG(1, 1)), 2*3)
	ts := []int{1, 2}
	v1, v2 := make([]float32, 2), make([]float32, 2)
	n.Forward(v1, x, ts)
	for _, p := range n.Params() {
		for j := range p.Data {
			p.Data[j] *= 1.5
		}
	}
	n.Forward(v2, x, ts)
	gx := make([]float32, 6)
	v3 := make([]float32, 2)
	n.InputGrad(v3, gx, x, ts)
	if v1[0] == v2[0] || v2[0] != v3[0] {
		t.Errorf("weights not shared: %v %v %v", v1, v2, v3)
	}
}
