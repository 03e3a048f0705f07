package ebm

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/advgs/advgs/internal/ckpt"
	"github.com/advgs/advgs/internal/nn"
	"github.com/advgs/advgs/vgs"
)

// Config is a detector recipe (configs/mvtec.yaml): the energy, the VGS sampler that
// makes its negatives, the training loop, the Langevin alternative and scoring.
type Config struct {
	Features FeaturesConfig `yaml:"features" json:"features"`
	Energy   AEConfig       `yaml:"energy" json:"energy"`
	Sampler  vgs.Config     `yaml:"sampler" json:"sampler"`
	Training TrainConfig    `yaml:"training" json:"training"`
	Langevin LangevinConfig `yaml:"langevin" json:"langevin"`
	Score    ScoreConfig    `yaml:"score" json:"score"`
}

// TrainConfig is the contrastive-divergence loop of VGS.md E.5.
type TrainConfig struct {
	// Steps is the step budget (paper: 100 epochs ≈ 90,700 steps of 784 patches).
	Steps int `yaml:"steps" json:"steps"`
	// MaxEpochs, when > 0, caps Steps at MaxEpochs passes over the training
	// patches (see StepBudget): small training sets get fewer CD steps.
	MaxEpochs float64 `yaml:"max_epochs" json:"max_epochs"`
	// Batch is the number of positive (and negative) patches per step (paper: 784).
	Batch int `yaml:"batch" json:"batch"`
	// LR is the energy's Adam learning rate (paper: 1e-4).
	LR float64 `yaml:"lr" json:"lr"`
	// Gamma weighs the squared-energy regulariser (paper: 1).
	Gamma float64 `yaml:"gamma" json:"gamma"`
	// NUpdate is the number of TD passes per step (paper: 3).
	NUpdate int `yaml:"n_update" json:"n_update"`
	// NoiseScale multiplies the sampler noise for negatives (paper: 1).
	NoiseScale float64 `yaml:"noise_scale" json:"noise_scale"`
	// FinalNoise adds noise at the last sampler step (paper: true).
	FinalNoise bool `yaml:"final_noise" json:"final_noise"`
	// PretrainSteps of reconstruction training (minimise the mean of Σ(x−r̂)²) start
	// the energy, standing in for the paper's unpublished pre-trained autoencoder.
	PretrainSteps int     `yaml:"pretrain_steps" json:"pretrain_steps"`
	PretrainLR    float64 `yaml:"pretrain_lr" json:"pretrain_lr"`
	// PretrainMaxEpochs, when > 0, caps PretrainSteps at that many passes over
	// the training patches (see PretrainBudget). The default config leaves it at 0:
	// a cap of 35 measured worse on the small mvtec-mini sets (configs/mvtec.yaml).
	PretrainMaxEpochs float64 `yaml:"pretrain_max_epochs" json:"pretrain_max_epochs,omitempty"`
	// PatchesPerImage subsamples the training patches of each image (0: all).
	PatchesPerImage int `yaml:"patches_per_image" json:"patches_per_image"`
	// MaxImages caps the training images per category (0: all), chosen at random.
	MaxImages int `yaml:"max_images" json:"max_images"`
	// HoldOut is the fraction of training images kept aside for the threshold.
	HoldOut float64 `yaml:"holdout" json:"holdout"`
	// CheckpointEvery writes a checkpoint every so many steps (0: only at the end
	// and on interrupt).
	CheckpointEvery int `yaml:"checkpoint_every" json:"checkpoint_every"`
	// Seed seeds every random draw.
	Seed uint64 `yaml:"seed" json:"seed"`
}

// LangevinConfig is the MCMC alternative: Riemannian Langevin on the sphere at the
// sampler's temperature τ (sampler.tau), so that both samplers target exp(−E/τ),
//
//	x ← Exp_x(P_x(−(η/τ)·∇E(x) + √(2η)·ε)),
//
// run for the same number of steps as VGS (sampler.n_step).
type LangevinConfig struct {
	// StepSize is η; 0 means sampler.s2_start (the VGS drift step s2·α² ≈ s2).
	StepSize float64 `yaml:"step_size" json:"step_size"`
}

// StepBudget is the number of CD steps for a pool of patches:
// min(Steps, ⌈MaxEpochs·patches/Batch⌉) when MaxEpochs > 0, else Steps.
func (t TrainConfig) StepBudget(patches int) int {
	return capEpochs(t.Steps, t.MaxEpochs, patches, t.Batch)
}

// PretrainBudget is the number of pre-training steps for a pool of patches:
// min(PretrainSteps, ⌈PretrainMaxEpochs·patches/Batch⌉) when PretrainMaxEpochs > 0,
// else PretrainSteps.
func (t TrainConfig) PretrainBudget(patches int) int {
	return capEpochs(t.PretrainSteps, t.PretrainMaxEpochs, patches, t.Batch)
}

// capEpochs is min(steps, ⌈epochs·patches/batch⌉), or steps when epochs ≤ 0.
func capEpochs(steps int, epochs float64, patches, batch int) int {
	if epochs <= 0 || batch < 1 {
		return steps
	}
	return min(steps, int(math.Ceil(epochs*float64(patches)/float64(batch))))
}

// FeaturesConfig chooses the backbone's feature maps and grid for fit (the
// backbone itself is fit's --backbone flag). Zero values mean the backbone's
// defaults. A model records what it was trained with, and score and eval rebuild
// the backbone from that record, not from this config.
type FeaturesConfig struct {
	// Layers names the feature maps (e.g. mobilenetv2: block5, block12, block15;
	// see features.MobileNetV2Layers).
	Layers []string `yaml:"layers" json:"layers,omitempty"`
	// Grid is the side of the patch grid in cells.
	Grid int `yaml:"grid" json:"grid,omitempty"`
	// Input is the side in pixels of the square input images are stretched to.
	Input int `yaml:"input" json:"input,omitempty"`
}

// ScoreConfig controls scoring and the default threshold.
type ScoreConfig struct {
	// ThresholdQuantile is the quantile of held-out normal image scores used as the
	// decision threshold (default 0.99).
	ThresholdQuantile float64 `yaml:"threshold_quantile" json:"threshold_quantile"`
}

// Complete fills the sampler's data-dependent fields for dim-dimensional patches:
// sample_shape [dim], D_effective dim−1 (the sphere S^{dim−1}, as the paper's 271)
// when unset, normalize on, and the defaults.
func (c *Config) Complete(dim int) {
	c.Sampler.SampleShape = []int{dim}
	if c.Sampler.DEffective == nil {
		d := dim - 1
		c.Sampler.DEffective = &d
	}
	c.Sampler.Value.In = dim
	c.Sampler.Normalize = true
	c.Sampler.Defaults()
	if c.Score.ThresholdQuantile == 0 {
		c.Score.ThresholdQuantile = 0.99
	}
}

// Validate names the first field out of range.
func (c Config) Validate() error {
	if c.Features.Grid < 0 {
		return fmt.Errorf("features.grid: must be ≥ 0 (0: the backbone's default), got %d", c.Features.Grid)
	}
	if c.Features.Input < 0 {
		return fmt.Errorf("features.input: must be ≥ 0 (0: the backbone's default), got %d", c.Features.Input)
	}
	if err := c.Energy.Validate(); err != nil {
		return err
	}
	if err := c.Sampler.Validate(); err != nil {
		return err
	}
	t := c.Training
	switch {
	case t.Steps < 0:
		return fmt.Errorf("training.steps: must be ≥ 0, got %d", t.Steps)
	case t.MaxEpochs < 0 || math.IsNaN(t.MaxEpochs):
		return fmt.Errorf("training.max_epochs: must be ≥ 0 (0: no cap), got %g", t.MaxEpochs)
	case t.PretrainMaxEpochs < 0 || math.IsNaN(t.PretrainMaxEpochs):
		return fmt.Errorf("training.pretrain_max_epochs: must be ≥ 0 (0: no cap), got %g", t.PretrainMaxEpochs)
	case t.Batch < 1:
		return fmt.Errorf("training.batch: must be ≥ 1, got %d", t.Batch)
	case !(t.LR > 0):
		return fmt.Errorf("training.lr: must be > 0, got %g", t.LR)
	case t.Gamma < 0:
		return fmt.Errorf("training.gamma: must be ≥ 0, got %g", t.Gamma)
	case t.NUpdate < 0:
		return fmt.Errorf("training.n_update: must be ≥ 0, got %d", t.NUpdate)
	case t.PretrainSteps < 0 || (t.PretrainSteps > 0 && !(t.PretrainLR > 0)):
		return fmt.Errorf("training.pretrain_steps/pretrain_lr: need steps ≥ 0 and lr > 0, got %d, %g", t.PretrainSteps, t.PretrainLR)
	case t.PatchesPerImage < 0 || t.MaxImages < 0:
		return fmt.Errorf("training.patches_per_image/max_images: must be ≥ 0")
	case t.HoldOut < 0 || t.HoldOut >= 1:
		return fmt.Errorf("training.holdout: must be in [0, 1), got %g", t.HoldOut)
	case t.CheckpointEvery < 0:
		return fmt.Errorf("training.checkpoint_every: must be ≥ 0")
	case c.Langevin.StepSize < 0:
		return fmt.Errorf("langevin.step_size: must be ≥ 0")
	case c.Score.ThresholdQuantile < 0 || c.Score.ThresholdQuantile > 1:
		return fmt.Errorf("score.threshold_quantile: must be in [0, 1], got %g", c.Score.ThresholdQuantile)
	}
	return nil
}

// Negative samplers.
const (
	SamplerVGS      = "vgs"
	SamplerLangevin = "langevin"
)

// ErrNonFinite reports a NaN or Inf in the losses or the weights.
var ErrNonFinite = errors.New("ebm: training diverged (NaN or Inf)")

// Stats describes one training step.
type Stats struct {
	Step     int     `json:"step"`
	Loss     float64 `json:"loss"`      // CD loss
	Ep       float64 `json:"e_pos"`     // mean E(x⁺)/D
	En       float64 `json:"e_neg"`     // mean E(x⁻)/D
	TDLoss   float64 `json:"td_loss"`   // VGS value loss (0 for Langevin)
	Velocity float64 `json:"velocity"`  // VGS mean velocity
	Recon    float64 `json:"recon_err"` // mean Σ(x−r̂)² of the positives
}

// Trainer runs contrastive divergence on a pool of unit patch vectors.
type Trainer struct {
	Cfg        Config
	Kind       string // SamplerVGS or SamplerLangevin
	AE         *AE
	Sampler    *vgs.Sampler // the VGS sampler (also built for Langevin, unused there)
	Step       int          // CD steps done
	Pretrained bool

	patches []float32 // N×D pool of training patches
	D       int
	opt     *nn.Adam
	src     *rand.PCG
	rng     *rand.Rand
	perm    []int
	pos     int
	grads   [][]float32
}

// NewTrainer prepares training on patches (N×dim unit vectors). cfg is completed
// for dim and validated; kind is SamplerVGS or SamplerLangevin.
func NewTrainer(cfg Config, patches []float32, dim int, kind string) (*Trainer, error) {
	if kind != SamplerVGS && kind != SamplerLangevin {
		return nil, fmt.Errorf("--sampler: %q is not vgs or langevin", kind)
	}
	if dim < 2 || len(patches) < dim || len(patches)%dim != 0 {
		return nil, fmt.Errorf("ebm: %d training values do not make patches of dimension %d", len(patches), dim)
	}
	cfg.Complete(dim)
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	src := rand.NewPCG(cfg.Training.Seed, 0x5eed)
	rng := rand.New(src)
	ae, err := NewAE(cfg.Energy, dim, rng)
	if err != nil {
		return nil, err
	}
	s, err := vgs.New(cfg.Sampler, rng)
	if err != nil {
		return nil, err
	}
	t := &Trainer{Cfg: cfg, Kind: kind, AE: ae, Sampler: s, patches: patches, D: dim,
		opt: nn.NewAdam(ae.Params(), cfg.Training.LR), src: src, rng: rng, grads: ae.NewGrads()}
	return t, nil
}

// NumPatches is the size of the training pool.
func (t *Trainer) NumPatches() int { return len(t.patches) / t.D }

// nextBatch copies the next n patches of a shuffled pass over the pool into dst
// (the reference's shuffled loader; a new permutation each epoch).
func (t *Trainer) nextBatch(dst []float32, n int) {
	N := t.NumPatches()
	for i := 0; i < n; i++ {
		if t.pos >= len(t.perm) {
			t.perm = t.rng.Perm(N)
			t.pos = 0
		}
		k := t.perm[t.pos]
		t.pos++
		copy(dst[i*t.D:(i+1)*t.D], t.patches[k*t.D:(k+1)*t.D])
	}
}

// randomPatches copies n uniformly drawn pool patches into dst (torch.randint).
func (t *Trainer) randomPatches(dst []float32, n int) {
	N := t.NumPatches()
	for i := 0; i < n; i++ {
		k := t.rng.IntN(N)
		copy(dst[i*t.D:(i+1)*t.D], t.patches[k*t.D:(k+1)*t.D])
	}
}

func zero(g [][]float32) {
	for _, v := range g {
		clear(v)
	}
}

// Pretrain runs the reconstruction pre-training: Adam on mean_i Σ_j(x_ij − r̂_ij)²
// over shuffled batches, out_scale fixed. It calls onStep after every step.
func (t *Trainer) Pretrain(ctx context.Context, onStep func(step int, recon float64)) error {
	tc := t.Cfg.Training
	if t.Pretrained || tc.PretrainSteps == 0 {
		t.Pretrained = true
		return nil
	}
	params := t.AE.Params()
	opt := nn.NewAdam(params[:len(params)-1], tc.PretrainLR)
	B := tc.Batch
	x := make([]float32, B*t.D)
	c := float32(t.AE.Config.Tau) / (t.AE.Scale.Data[0] * t.AE.Scale.Data[0]) // E·c = err
	for k, n := 0, tc.PretrainBudget(t.NumPatches()); k < n; k++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		t.nextBatch(x, B)
		zero(t.grads)
		e := t.AE.ParamGrad(x, t.grads, func(int, float32) float32 { return c / float32(B) })
		recon := 0.0
		for _, v := range e {
			recon += float64(v * c)
		}
		recon /= float64(B)
		if math.IsNaN(recon) || math.IsInf(recon, 0) {
			return fmt.Errorf("%w at pre-training step %d", ErrNonFinite, k)
		}
		opt.Step(t.grads[:len(t.grads)-1])
		if onStep != nil {
			onStep(k+1, recon)
		}
	}
	t.Pretrained = true
	return nil
}

// cdLoss evaluates the contrastive-divergence loss of VGS.md E.5 with Ep = E(x⁺)/D,
// En = E(x⁻)/D:
//
//	L = mean(Ep) − mean(En) + γ·(mean(Ep²) + mean(En²))
//
// and, when grads is non-nil, adds ∂L/∂θ into it. It returns L, mean Ep, mean En.
func cdLoss(m *AE, xp, xn []float32, gamma, D float32, grads [][]float32) (float64, float64, float64) {
	np, nn := len(xp)/m.In, len(xn)/m.In
	var ep, en []float32
	if grads == nil {
		ep, en = make([]float32, np), make([]float32, nn)
		m.Energy(ep, xp)
		m.Energy(en, xn)
	} else {
		ep = m.ParamGrad(xp, grads, func(_ int, e float32) float32 {
			return (1 + 2*gamma*e/D) / (D * float32(np))
		})
		en = m.ParamGrad(xn, grads, func(_ int, e float32) float32 {
			return (-1 + 2*gamma*e/D) / (D * float32(nn))
		})
	}
	var mp, mn, sp, sn float64
	for _, e := range ep {
		v := float64(e) / float64(D)
		mp += v
		sp += v * v
	}
	for _, e := range en {
		v := float64(e) / float64(D)
		mn += v
		sn += v * v
	}
	mp, mn, sp, sn = mp/float64(np), mn/float64(nn), sp/float64(np), sn/float64(nn)
	return mp - mn + float64(gamma)*(sp+sn), mp, mn
}

// Negatives draws n negative samples as VGS.md E.5 does: n random training
// patches diffused on the sphere (vgs.InitialSamples with the sampler's s2), then
// the sampler (VGS, or Langevin with as many steps). It returns the samples and,
// for VGS, the trajectory (for the TD update).
func (t *Trainer) Negatives(n int) ([]float32, *vgs.Trajectory, error) {
	init := make([]float32, n*t.D)
	t.randomPatches(init, n)
	vgs.InitialSamples(init, t.D, t.Sampler.S2, t.rng)
	if t.Kind == SamplerLangevin {
		eta := t.Cfg.Langevin.StepSize
		if eta == 0 {
			eta = t.Cfg.Sampler.S2Start
		}
		SphereLangevin(t.AE, init, t.Sampler.T(), eta, t.Cfg.Sampler.Tau, t.rng)
		if !finite(init) {
			return nil, nil, fmt.Errorf("%w: NaN or Inf in the Langevin samples", ErrNonFinite)
		}
		return init, nil, nil
	}
	tc := t.Cfg.Training
	tr, err := t.Sampler.Sample(n, t.AE, vgs.SampleOptions{NoiseScale: tc.NoiseScale, FinalNoise: tc.FinalNoise, Initial: init}, t.rng)
	if err != nil {
		return nil, nil, err
	}
	return tr.Final(), tr, nil
}

// TrainStep runs one CD step (VGS.md E.5): positives from the shuffled pool,
// negatives from Negatives, an Adam step on the CD loss, then (VGS) UpdateTD of the
// value function on the updated energy.
func (t *Trainer) TrainStep() (Stats, error) {
	tc := t.Cfg.Training
	B := tc.Batch
	xp := make([]float32, B*t.D)
	t.nextBatch(xp, B)
	xn, tr, err := t.Negatives(B)
	if err != nil {
		return Stats{}, err
	}
	zero(t.grads)
	// The reference divides by x.shape[1] = 272, the ambient dimension (not D_effective).
	loss, ep, en := cdLoss(t.AE, xp, xn, float32(tc.Gamma), float32(t.D), t.grads)
	st := Stats{Step: t.Step + 1, Loss: loss, Ep: ep, En: en,
		Recon: ep * float64(t.D) * t.AE.Config.Tau / float64(t.AE.Scale.Data[0]*t.AE.Scale.Data[0])}
	if !isFinite(loss) || !gradsFinite(t.grads) {
		return st, fmt.Errorf("%w at step %d (loss %g)", ErrNonFinite, t.Step+1, loss)
	}
	t.opt.Step(t.grads)
	if tr != nil && tc.NUpdate > 0 {
		td, err := t.Sampler.UpdateTD(tr, t.AE, tc.NUpdate, t.rng)
		if err != nil {
			if errors.Is(err, vgs.ErrDiverged) {
				return st, fmt.Errorf("%w at step %d: %v", ErrNonFinite, t.Step+1, err)
			}
			return st, err
		}
		st.TDLoss, st.Velocity = td.Loss, td.Velocity
	}
	t.Step++
	return st, nil
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func finite(x []float32) bool {
	for _, v := range x {
		if v != v || math.IsInf(float64(v), 0) {
			return false
		}
	}
	return true
}

func gradsFinite(g [][]float32) bool {
	for _, v := range g {
		if !finite(v) {
			return false
		}
	}
	return true
}

// SphereLangevin runs steps of Riemannian Langevin dynamics targeting exp(−E/tau)
// on the unit sphere, in place on the rows of x:
//
//	v = P_x(−(η/τ)·∇E(x) + √(2η)·ε),   x ← Exp_x(v) = cos‖v‖·x + sin‖v‖·v/‖v‖
//
// with P_x(v) = v − (v·x)x. Rows are renormalised after each step.
func SphereLangevin(e *AE, x []float32, steps int, eta, tau float64, rng *rand.Rand) {
	D := e.In
	n := len(x) / D
	en := make([]float32, n)
	g := make([]float32, len(x))
	v := make([]float32, D)
	out := make([]float32, D)
	sd := math.Sqrt(2 * eta)
	h := eta / tau
	for k := 0; k < steps; k++ {
		e.EnergyGrad(en, g, x)
		for r := 0; r < n; r++ {
			xr, gr := x[r*D:(r+1)*D], g[r*D:(r+1)*D]
			for j := range v {
				v[j] = float32(-h*float64(gr[j]) + sd*rng.NormFloat64())
			}
			vgs.Tangent(v, xr)
			vgs.ExpMap(out, xr, v)
			copy(xr, out)
		}
		vgs.NormalizeRows(x, D)
	}
}

// CheckpointFormat names the layout of training checkpoints.
const CheckpointFormat = "advgs-ebm-train/1"

// Checkpoint returns the trainer's state: the energy's weights and Adam moments,
// the sampler's value networks and their Adam state, and metadata (step, RNG state,
// config, sampler). A resumed run draws a new shuffle of the training pool.
func (t *Trainer) Checkpoint() (ckpt.File, error) {
	f := ckpt.File{Tensors: map[string]ckpt.Tensor{}, Metadata: map[string]string{}}
	m, v, k := t.opt.State()
	for i, p := range t.AE.Params() {
		f.Tensors[p.Name] = ckpt.Tensor{Shape: p.Shape, Data: p.Data}
		f.Tensors["opt.m."+p.Name] = ckpt.Tensor{Shape: p.Shape, Data: m[i]}
		f.Tensors["opt.v."+p.Name] = ckpt.Tensor{Shape: p.Shape, Data: v[i]}
	}
	for name, tn := range t.Sampler.Tensors() {
		f.Tensors["sampler."+name] = tn
	}
	for name, tn := range t.Sampler.OptimizerTensors() {
		f.Tensors["sampler."+name] = tn
	}
	rs, err := t.src.MarshalBinary()
	if err != nil {
		return f, err
	}
	cfg, err := json.Marshal(t.Cfg)
	if err != nil {
		return f, err
	}
	f.Metadata["format"] = CheckpointFormat
	f.Metadata["step"] = strconv.Itoa(t.Step)
	f.Metadata["adam_step"] = strconv.Itoa(k)
	f.Metadata["pretrained"] = strconv.FormatBool(t.Pretrained)
	f.Metadata["rng"] = base64.StdEncoding.EncodeToString(rs)
	f.Metadata["sampler"] = t.Kind
	f.Metadata["config"] = string(cfg)
	return f, nil
}

// Restore loads a checkpoint written by Checkpoint into t (made with the same config
// and data), checking the format, the sampler kind and every tensor's shape.
func (t *Trainer) Restore(f ckpt.File, name string) error {
	if got := f.Metadata["format"]; got != CheckpointFormat {
		return fmt.Errorf("%s: checkpoint format %q, want %q", name, got, CheckpointFormat)
	}
	if got := f.Metadata["sampler"]; got != t.Kind {
		return fmt.Errorf("%s: checkpoint was trained with --sampler %s, this run uses %s", name, got, t.Kind)
	}
	m, v, _ := t.opt.State()
	for i, p := range t.AE.Params() {
		for j, key := range []string{p.Name, "opt.m." + p.Name, "opt.v." + p.Name} {
			tn, ok := f.Tensors[key]
			if !ok || len(tn.Data) != p.Size() {
				return fmt.Errorf("%s: tensor %s missing or of the wrong shape (want %v): was it made with another config?", name, key, p.Shape)
			}
			copy([][]float32{p.Data, m[i], v[i]}[j], tn.Data)
		}
	}
	st := map[string]ckpt.Tensor{}
	for k, tn := range f.Tensors {
		if len(k) > 8 && k[:8] == "sampler." {
			st[k[8:]] = tn
		}
	}
	if err := t.Sampler.SetTensors(st); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := t.Sampler.SetOptimizerTensors(st); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	step, err1 := strconv.Atoi(f.Metadata["step"])
	k, err2 := strconv.Atoi(f.Metadata["adam_step"])
	rs, err3 := base64.StdEncoding.DecodeString(f.Metadata["rng"])
	if err := errors.Join(err1, err2, err3); err != nil {
		return fmt.Errorf("%s: bad checkpoint metadata: %w", name, err)
	}
	if err := t.src.UnmarshalBinary(rs); err != nil {
		return fmt.Errorf("%s: bad RNG state: %w", name, err)
	}
	t.Step = step
	t.opt.SetStep(k)
	t.Pretrained = f.Metadata["pretrained"] == "true"
	t.perm, t.pos = nil, 0
	return nil
}
