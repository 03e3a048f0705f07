package nn

import (
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
)

// Architecture names of the value networks (VGS.md B.4).
const (
	FCNetTemb = "fcnet_temb" // FCNet_temb: x-branch, 3-layer t-branch MLP, 3-layer head
	DeeperV2  = "deeperv2"   // FCNet_temb_deeperv2: concat[x, emb(t)] into a 4-layer MLP
	DeeperV3  = "deeperv3"   // FCNet_temb_deeperv3: projected t features, multiplicative gating
)

// Activations of the hidden layers. The reference configs use ReLU only; the smooth
// ones are an option (not in the paper) for value networks whose input gradient is a
// sampler's drift: a ReLU network's gradient is piecewise constant in x.
const (
	ReLU     = "relu"     // max(0, h)
	SiLU     = "silu"     // h·σ(h), σ the logistic sigmoid
	Softplus = "softplus" // log(1 + e^h)
)

// Arch describes a time-conditioned scalar network V(x, t).
type Arch struct {
	Kind       string `yaml:"arch"`          // fcnet_temb, deeperv2 or deeperv3
	In         int    `yaml:"in_dim"`        // input dimension
	Hidden     int    `yaml:"hidden_dim"`    // H
	TEmb       int    `yaml:"t_emb_dim"`     // E, even
	TFeat      int    `yaml:"t_feature_dim"` // F (deeperv3 only)
	Out        int    `yaml:"out_dim"`       // 1 for a value network
	Activation string `yaml:"activation"`    // relu (or empty), silu or softplus
}

// Validate reports the first field of a that cannot build a network.
func (a Arch) Validate() error {
	switch a.Kind {
	case FCNetTemb, DeeperV2, DeeperV3:
	default:
		return fmt.Errorf("value.arch: %q is not one of %s, %s, %s", a.Kind, FCNetTemb, DeeperV2, DeeperV3)
	}
	if a.In < 1 {
		return fmt.Errorf("value.in_dim: must be ≥ 1, got %d", a.In)
	}
	if a.Hidden < 1 {
		return fmt.Errorf("value.hidden_dim: must be ≥ 1, got %d", a.Hidden)
	}
	if a.TEmb < 2 || a.TEmb%2 != 0 {
		return fmt.Errorf("value.t_emb_dim: must be even and ≥ 2, got %d", a.TEmb)
	}
	if a.Kind == DeeperV3 && a.TFeat < 1 {
		return fmt.Errorf("value.t_feature_dim: must be ≥ 1 for deeperv3, got %d", a.TFeat)
	}
	if a.Out < 1 {
		return fmt.Errorf("value.out_dim: must be ≥ 1, got %d", a.Out)
	}
	switch a.Activation {
	case "", ReLU, SiLU, Softplus:
	default:
		return fmt.Errorf("value.activation: %q is not one of %s, %s, %s", a.Activation, ReLU, SiLU, Softplus)
	}
	return nil
}

// layers makes the dense layers of a, in a fixed order, with PyTorch names.
func (a Arch) layers(rng *rand.Rand) []*Dense {
	H, E := a.Hidden, a.TEmb
	switch a.Kind {
	case FCNetTemb:
		return []*Dense{
			NewDense("net1.net.0", a.In, H, rng),
			NewDense("net2.net.0", E, H, rng),
			NewDense("net2.net.2", H, H, rng),
			NewDense("net2.net.4", H, H, rng),
			NewDense("net3.net.0", 2*H, H, rng),
			NewDense("net3.net.2", H, H, rng),
			NewDense("net3.net.4", H, a.Out, rng),
		}
	case DeeperV2:
		return []*Dense{
			NewDense("fc1", a.In+E, H, rng),
			NewDense("fc2", H, H, rng),
			NewDense("fc3", H, H, rng),
			NewDense("fc4", H, a.Out, rng),
		}
	case DeeperV3:
		F := a.TFeat
		return []*Dense{
			NewDense("t_proj", E, F, rng),
			NewDense("fc1", a.In, H, rng),
			NewDense("temb1", F, H, rng),
			NewDense("fc2", 2*H, 2*H, rng),
			NewDense("fc3", 2*H, H, rng),
			NewDense("temb2", F, H, rng),
			NewDense("fc4", H, a.Out, rng),
		}
	}
	panic("nn: unknown arch " + a.Kind)
}

// linear applies y = x·W + b with the graph nodes w, b.
func linear(x, w, b *G.Node) (*G.Node, error) {
	xw, err := G.Mul(x, w)
	if err != nil {
		return nil, err
	}
	return G.BroadcastAdd(xw, b, nil, []byte{0})
}

// forward builds V(x, t) from the input nodes x (B×In), table (K×E, the embeddings
// of the steps 0..K−1) and sel (B×K, one-hot rows selecting each row's step), with
// the parameter nodes of p (layer i has weight 2i and bias 2i+1).
//
// act is the hidden activation (a.Activation). Two exact rewrites keep the graph
// cheap (profiles of GMM- and DW-4-sized iterations):
//   - every layer that sees only t runs on the K table rows and is gathered with sel
//     (sel·f(table) = f(emb(t_i)) row by row; an elementwise activation commutes with
//     the gather because the rows of sel are one-hot), so the time branch costs K rows
//     instead of B;
//   - a layer applied to a concatenation [a, b] is written a·W_a + b·W_b with W_a, W_b
//     row blocks of its weight (views sharing the parameter's memory): gorgonia's
//     Concat and the slicing in its gradient were 17% of a DW-4 iteration.
func (a Arch) forward(x, table, sel *G.Node, p *paramNodes) (out *G.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("nn: building %s: %v", a.Kind, r)
		}
	}()
	lin := func(i int, h *G.Node) *G.Node { return G.Must(linear(h, p.whole(2*i), p.whole(2*i+1))) }
	act := func(h *G.Node) *G.Node {
		switch a.Activation {
		case SiLU:
			return G.Must(G.HadamardProd(h, G.Must(G.Sigmoid(h))))
		case Softplus:
			return G.Must(G.Softplus(h))
		}
		return G.Must(G.Rectify(h))
	}
	gather := func(h *G.Node) *G.Node { return G.Must(G.Mul(sel, h)) }
	mul := func(h *G.Node, w *G.Node) *G.Node { return G.Must(G.Mul(h, w)) }
	add := func(u, v *G.Node) *G.Node { return G.Must(G.Add(u, v)) }
	bias := func(h *G.Node, i int) *G.Node {
		return G.Must(G.BroadcastAdd(h, p.whole(2*i+1), nil, []byte{0}))
	}
	H, E, in := a.Hidden, a.TEmb, a.In
	switch a.Kind {
	case FCNetTemb:
		xa := lin(0, x)
		tb := lin(3, act(lin(2, act(lin(1, table)))))
		// net3.net.0 on concat[xa, tb]
		h := bias(add(mul(xa, p.rows(8, 0, H)), gather(mul(tb, p.rows(8, H, 2*H)))), 4)
		return lin(6, act(lin(5, act(h)))), nil
	case DeeperV2:
		// fc1 on concat[x, emb(t)]
		h := bias(add(mul(x, p.rows(0, 0, in)), gather(mul(table, p.rows(0, in, in+E)))), 0)
		h = act(h)
		h = act(lin(1, h))
		h = act(lin(2, h))
		return lin(3, h), nil
	case DeeperV3:
		tf := lin(0, table)
		// fc2 on act(concat[fc1(x), temb1(tf)])
		h := bias(add(mul(act(lin(1, x)), p.rows(6, 0, H)), gather(mul(act(lin(2, tf)), p.rows(6, H, 2*H)))), 3)
		h = act(h)
		h = lin(4, h)
		h = G.Must(G.HadamardProd(h, gather(lin(5, tf))))
		return lin(6, h), nil
	}
	return nil, fmt.Errorf("nn: unknown arch %q", a.Kind)
}
