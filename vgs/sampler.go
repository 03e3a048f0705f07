package vgs

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/advgs/advgs/internal/nn"
)

// ValueNet is a time-conditioned scalar network V(x, t) as the sampler uses it: a
// forward pass, the input gradient with the weights held constant, and the gradient of
// a regression loss with respect to its parameters. *nn.Net implements it; the
// particle benchmarks wrap it in an invariant feature map, the funnel in a radial one.
type ValueNet interface {
	// Forward writes V(x_i, t_i) into v.
	Forward(v, x []float32, t []int) error
	// InputGrad writes V(x_i, t_i) into v (if v is not nil) and ∇ₓV(x_i, t_i) into row i of gx.
	InputGrad(v, gx, x []float32, t []int) error
	// LossGrad returns (1/B)·Σ_i L(scale·V(x_i,t_i) − y_i) and its parameter gradients.
	LossGrad(x []float32, t []int, y []float32, loss nn.Loss, scale float32) (float64, [][]float32, error)
	// Params lists the weights, in the order of LossGrad's gradients.
	Params() []*nn.Param
}

// ErrDiverged is returned (wrapped) when a loss, a sample or init_sigma becomes NaN
// or infinite, a sample coordinate exceeds MaxAbsSample in magnitude, or the energies
// before the last step say the batch has blown up (see Sampler.checkLastEnergies).
var ErrDiverged = errors.New("vgs: training diverged")

// MaxAbsSample bounds the sample coordinates a healthy run produces. Runs that blow
// up can stay finite in float32 (values near 1e31 were seen on the funnel) and would
// otherwise go on to write meaningless metrics. No benchmark or detector sample comes
// near it: funnel samples reach about e^{x1/2}·|n| ≈ 1e4 at the 1e-7 tail.
const MaxAbsSample = 1e15

// Sampler is a Value Gradient Sampler: a T-step controlled Markov chain whose drift is
// the gradient of a learned value function (VGS.md A), together with the state that
// learns it by temporal differences: the online and target value networks, their
// optimiser, and the learnable initial std σ0.
type Sampler struct {
	Config Config
	// S2, Alpha and Sigma are the schedules s2_t, α_t and σ_t = √s2_t·α_t, t = 0..T−1.
	S2, Alpha, Sigma []float64
	// InitSigma is σ0, the std of the initial state x_0 ~ N(0, σ0² I).
	InitSigma float64
	// Online is the value network trained by TD; Target is its EMA copy, used for the
	// drift and for bootstrapping.
	Online, Target ValueNet

	vopt *nn.Adam
	iopt scalarAdam
}

// New makes a sampler with fresh value networks whose weights are drawn from rng.
// cfg is completed with Defaults and validated.
func New(cfg Config, rng *rand.Rand) (*Sampler, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	online, err := nn.NewNet(cfg.Value, rng)
	if err != nil {
		return nil, fmt.Errorf("sampler.value: %w", err)
	}
	target, _ := nn.NewNet(cfg.Value, rng)
	nn.CopyParams(target.Params(), online.Params())
	if iv := cfg.Invariant; iv != nil {
		on, err := NewInvariant(online, iv.NParticles, iv.NDims, iv.Eps, iv.Reciprocal)
		if err != nil {
			return nil, err
		}
		tg, _ := NewInvariant(target, iv.NParticles, iv.NDims, iv.Eps, iv.Reciprocal)
		return NewWithNets(cfg, on, tg)
	}
	if rc := cfg.Radial; rc != nil {
		on, err := NewRadial(online, rc.Keep, cfg.Dim(), rc.Log, rc.Eps)
		if err != nil {
			return nil, err
		}
		tg, _ := NewRadial(target, rc.Keep, cfg.Dim(), rc.Log, rc.Eps)
		return NewWithNets(cfg, on, tg)
	}
	return NewWithNets(cfg, online, target)
}

// NewWithNets makes a sampler around given online and target networks (with equal
// parameter shapes), for value networks that wrap nn.Net.
func NewWithNets(cfg Config, online, target ValueNet) (*Sampler, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s2, err := MakeS2(cfg.S2Schedule, cfg.NStep, cfg.S2Start, cfg.S2End)
	if err != nil {
		return nil, err
	}
	alpha, err := MakeAlpha(cfg.AlphaMethod, s2)
	if err != nil {
		return nil, err
	}
	s := &Sampler{Config: cfg, S2: s2, Alpha: alpha, Sigma: make([]float64, len(s2)),
		InitSigma: InitSigma0(cfg.AlphaMethod, s2), Online: online, Target: target}
	if cfg.InitSigma != nil {
		s.InitSigma = *cfg.InitSigma
	}
	for i := range s2 {
		s.Sigma[i] = math.Sqrt(s2[i]) * alpha[i]
	}
	s.vopt = nn.NewAdam(online.Params(), cfg.VLR)
	if cfg.ILR != nil {
		s.iopt = newScalarAdam(*cfg.ILR)
	}
	return s, nil
}

// T is the number of transitions.
func (s *Sampler) T() int { return s.Config.NStep }

// Dim is the length of one sample.
func (s *Sampler) Dim() int { return s.Config.Dim() }

// SetVLR sets the value network's Adam learning rate for the updates that follow
// (a schedule over training; Config.VLR is the initial rate and is left as is).
func (s *Sampler) SetVLR(lr float64) { s.vopt.LR = lr }

// D is the effective dimension used in the D-dependent formulas.
func (s *Sampler) D() int { return s.Config.D() }

// valueScale is the factor that turns a network output into a value: D when the
// network outputs V/D (scale_with_D), else 1.
func (s *Sampler) valueScale() float32 {
	if s.Config.ScaleWithD {
		return float32(s.D())
	}
	return 1
}

// SampleOptions controls one call of Sample.
type SampleOptions struct {
	// NoiseScale multiplies the initial std and every step's noise (off-policy
	// exploration); 0 means 1.
	NoiseScale float64
	// FinalNoise adds noise at the last transition.
	FinalNoise bool
	// Initial, when set, is x_0 (n×Dim, copied); otherwise x_0 ~ N(0, (σ0·NoiseScale)² I).
	Initial []float32
	// KeepOverflow leaves every chain whose energy before the last step overflows
	// where it is (zero last drift) however many there are, where Sample would
	// otherwise report ErrDiverged (see checkLastEnergies). It is for measuring a
	// checkpoint (particle validation and test sampling), where a collapsed batch
	// is a result to score, not a training run that has blown up. NaN energies and
	// samples out of bounds are still ErrDiverged.
	KeepOverflow bool
}

// Trajectory is one batch of sampler runs: States[t] is x_t (B×Dim, t = 0..T) and
// Mus[t] the drift μ_t applied at transition t (t = 0..T−1).
type Trajectory struct {
	B, Dim int
	States [][]float32
	Mus    [][]float32
	// Overflowed counts the chains whose energy before the last step was infinite
	// or beyond ±MaxAbsSample, clamped at clip_energy (see checkLastEnergies).
	Overflowed int
}

// Final returns x_T.
func (tr *Trajectory) Final() []float32 { return tr.States[len(tr.States)-1] }

// Sample runs the controlled chain on n samples (VGS.md A.2). For t = 0..T−1, with
// y = α_t·x_t and h_t = s2_t·α_t²/τ:
//
//	g = ∇_y V_target(y, t+1)          (t < T−1)
//	g = ∇_y E(y)                      (t = T−1; zero where E > clip_energy, if set and clip_grad is not)
//	                                  (and where E overflows, with KeepOverflow)
//	μ_t     = h_t·g, scaled down to norm clip_drift·σ_t·√D if set and longer
//	x_{t+1} = y − μ_t + NoiseScale·σ_t·ε                         (Euclidean)
//	x_{t+1} = Exp_y(−P_y(μ_t) + P_y(NoiseScale·σ_t·ε))           (sphere, normalize)
//
// with no noise at the last step unless FinalNoise. Random draws come from rng.
func (s *Sampler) Sample(n int, e Energy, opt SampleOptions, rng *rand.Rand) (*Trajectory, error) {
	D, T := s.Dim(), s.T()
	if e == nil || e.Dim() != D {
		return nil, fmt.Errorf("vgs: energy dimension does not match the sampler's %d", D)
	}
	ns := opt.NoiseScale
	if ns == 0 {
		ns = 1
	}
	tr := &Trajectory{B: n, Dim: D, States: make([][]float32, T+1), Mus: make([][]float32, T)}
	x := make([]float32, n*D)
	if opt.Initial != nil {
		if len(opt.Initial) != n*D {
			return nil, fmt.Errorf("vgs: initial states have %d values, want %d×%d", len(opt.Initial), n, D)
		}
		copy(x, opt.Initial)
	} else {
		sd := s.InitSigma * ns
		for i := range x {
			x[i] = float32(rng.NormFloat64() * sd)
		}
		if s.Config.Normalize {
			NormalizeRows(x, D)
		}
	}
	tr.States[0] = x
	y := make([]float32, n*D)
	g := make([]float32, n*D)
	ev := make([]float32, n)
	ts := make([]int, n)
	vs := s.valueScale()
	clipE := s.Config.ClipEnergy != nil && (s.Config.ClipGrad == nil || s.Config.ClipLastStep)
	for t := 0; t < T; t++ {
		a := float32(s.Alpha[t])
		for i, v := range tr.States[t] {
			y[i] = a * v
		}
		if t == T-1 {
			e.EnergyGrad(ev, g, y)
			over, err := s.checkLastEnergies(ev, opt.KeepOverflow)
			tr.Overflowed = over
			if err != nil {
				return tr, err
			}
			if clipE {
				zeroClipped(g, ev, *s.Config.ClipEnergy, D)
			}
			if opt.KeepOverflow && over > 0 {
				zeroOverflowed(g, ev, D)
			}
		} else {
			for i := range ts {
				ts[i] = t + 1
			}
			if err := s.Target.InputGrad(nil, g, y, ts); err != nil {
				return nil, err
			}
			if vs != 1 {
				for i := range g {
					g[i] *= vs
				}
			}
		}
		h := float32(s.S2[t] * s.Alpha[t] * s.Alpha[t] / s.Config.Tau)
		sd := ns * s.Sigma[t]
		if t == T-1 && !opt.FinalNoise {
			sd = 0
		}
		mu := make([]float32, n*D)
		next := make([]float32, n*D)
		for i := range mu {
			mu[i] = h * g[i]
		}
		if c := s.Config.ClipDrift; c != nil {
			capRows(mu, *c*s.Sigma[t]*math.Sqrt(float64(D)), D)
		}
		if s.Config.Normalize {
			nz := make([]float32, D)
			for r := 0; r < n; r++ {
				yr, mr := y[r*D:(r+1)*D], mu[r*D:(r+1)*D]
				Tangent(mr, yr)
				for j := range nz {
					nz[j] = float32(sd * rng.NormFloat64())
				}
				Tangent(nz, yr)
				for j := range nz {
					nz[j] -= mr[j]
				}
				ExpMap(next[r*D:(r+1)*D], yr, nz)
			}
		} else {
			for i := range next {
				next[i] = y[i] - mu[i]
				if sd != 0 {
					next[i] += float32(sd * rng.NormFloat64())
				}
			}
		}
		tr.Mus[t] = mu
		tr.States[t+1] = next
	}
	if !bounded(tr.Final()) {
		return tr, fmt.Errorf("%w: NaN, Inf or a coordinate beyond ±%g in the samples", ErrDiverged, MaxAbsSample)
	}
	return tr, nil
}

// capRows scales down each D-row of mu whose L2 norm exceeds c to norm c.
func capRows(mu []float32, c float64, D int) {
	for r := 0; r < len(mu)/D; r++ {
		row := mu[r*D : (r+1)*D]
		ss := 0.0
		for _, v := range row {
			ss += float64(v) * float64(v)
		}
		if n := math.Sqrt(ss); n > c {
			f := float32(c / n)
			for i := range row {
				row[i] *= f
			}
		}
	}
}

// zeroClipped zeroes the gradient rows whose energy exceeds clip (the gradient of
// min(E, clip)).
func zeroClipped(g, e []float32, clip float64, D int) {
	for r, v := range e {
		if float64(v) > clip {
			clear(g[r*D : (r+1)*D])
		}
	}
}

// zeroOverflowed zeroes the gradient rows whose energy is infinite or beyond
// ±MaxAbsSample.
func zeroOverflowed(g, e []float32, D int) {
	for r, v := range e {
		if math.Abs(float64(v)) > MaxAbsSample {
			clear(g[r*D : (r+1)*D])
		}
	}
}

// clampEnergy applies clip_energy to TD-target energies: min(E, c), or with
// logarithmic compression c + log(1 + E − c) above c.
func clampEnergy(e []float32, clip *float64, log bool) {
	if clip == nil {
		return
	}
	c := float32(*clip)
	for i, v := range e {
		if v > c {
			if log {
				// +Inf (overflowing float32 energies) counts as MaxFloat32: ≈ c + 88.7.
				e[i] = c + float32(math.Log1p(min(float64(v), math.MaxFloat32)-float64(c)))
			} else {
				e[i] = c
			}
		}
	}
}

// checkLastEnergies returns ErrDiverged when the energies of the states before the
// last step say the run has blown up: any NaN; without clip_energy, any energy that
// is infinite or beyond ±MaxAbsSample; with clip_energy, such energies in more than
// half of the chains. A few chains in a state whose energy overflows are what the
// clamp is for (an LJ-13 pair at distance < 0.055 has E > 1e15, and one that
// collapsed below 6e-4 overflows float32: training goes on and learns the wall), but
// a batch whose energies overflow has run off (the funnel's e^{−x₁}·r² at x₁ ≈ −1e7
// with finite coordinates), and the clamp would hide that from the TD targets.
// With keep (SampleOptions.KeepOverflow) only NaN is a divergence. It also returns
// the number of such energies.
func (s *Sampler) checkLastEnergies(ev []float32, keep bool) (int, error) {
	over := 0
	for _, v := range ev {
		if v != v {
			return over, fmt.Errorf("%w: NaN energy before the last step", ErrDiverged)
		}
		if !(math.Abs(float64(v)) <= MaxAbsSample) {
			over++
		}
	}
	if over > 0 && !keep && (s.Config.ClipEnergy == nil || 2*over > len(ev)) {
		return over, fmt.Errorf("%w: %d of %d energies before the last step are infinite or beyond ±%g", ErrDiverged, over, len(ev), MaxAbsSample)
	}
	return over, nil
}

// bounded reports whether every value is finite and within ±MaxAbsSample.
func bounded(x []float32) bool {
	for _, v := range x {
		if !(math.Abs(float64(v)) <= MaxAbsSample) { // false for NaN too
			return false
		}
	}
	return true
}

// TDStats summarises one UpdateTD call.
type TDStats struct {
	Loss      float64 // mean TD loss over the minibatches
	Velocity  float64 // mean velocity ½‖μ‖²/(s2·α²) over the replayed tuples
	InitSigma float64 // σ0 after the update
}

// UpdateTD learns the value function from one trajectory (VGS.md A.4). The replay
// buffer holds every (x_t, t, μ_t); each of nUpdate passes shuffles it and walks it in
// minibatches of B. For a row with s2 = s2_t, a = α_t, σ = √s2·a:
//
//	x'     = a·x − μ + σ·ε                  (fresh noise, no NoiseScale; sphere: Exp_{ax}(−μ + P_{ax}(σ·ε)))
//	target = [t = T−1 ? min(E(x'), clip) : V_target(x', t+1)] + τ·(½‖μ‖²/(s2·a²) − D·ln a)
//	loss   = L(V_online(x, t)/D − target/D)  (values times D under scale_with_D)
//
// with L the TD loss, gradients clipped to clip_grad and an Adam step per minibatch.
// Then θ_target ← ema·θ_target + (1−ema)·θ_online, and, if i_lr is set, one Adam step
// on σ0 (see updateInitSigma). e is the energy being sampled.
func (s *Sampler) UpdateTD(tr *Trajectory, e Energy, nUpdate int, rng *rand.Rand) (TDStats, error) {
	T, D, B := s.T(), tr.Dim, tr.B
	if len(tr.States) != T+1 || D != s.Dim() {
		return TDStats{}, fmt.Errorf("vgs: trajectory has %d states of dimension %d, sampler has T=%d, D=%d", len(tr.States), D, T, s.Dim())
	}
	N := T * B
	cfg := s.Config
	Deff := float64(s.D())
	x := make([]float32, B*D)
	mu := make([]float32, B*D)
	xn := make([]float32, B*D)
	ts := make([]int, B)
	tn := make([]int, B)
	vn := make([]float32, B)
	target := make([]float32, B)
	var lastRows []int
	var lastX []float32
	var lastE []float32
	eps := make([]float32, D)
	y := make([]float32, D)
	vs := s.valueScale()
	scale := float32(1)
	if !cfg.ScaleWithD {
		scale = float32(1 / Deff)
	}
	var st TDStats
	nb := 0
	for pass := 0; pass < nUpdate; pass++ {
		perm := rng.Perm(N)
		for lo := 0; lo < N; lo += B {
			idx := perm[lo:min(lo+B, N)]
			b := len(idx)
			lastRows = lastRows[:0]
			for r, k := range idx {
				t, i := k/B, k%B
				ts[r], tn[r] = t, t+1
				copy(x[r*D:(r+1)*D], tr.States[t][i*D:(i+1)*D])
				copy(mu[r*D:(r+1)*D], tr.Mus[t][i*D:(i+1)*D])
				a := float32(s.Alpha[t])
				sd := s.Sigma[t]
				xr, mr, nr := x[r*D:(r+1)*D], mu[r*D:(r+1)*D], xn[r*D:(r+1)*D]
				for j := range eps {
					eps[j] = float32(sd * rng.NormFloat64())
				}
				if cfg.Normalize {
					for j := range y {
						y[j] = a * xr[j]
					}
					Tangent(eps, y)
					for j := range eps {
						eps[j] -= mr[j]
					}
					ExpMap(nr, y, eps)
				} else {
					for j := range nr {
						nr[j] = a*xr[j] - mr[j] + eps[j]
					}
				}
				vel := 0.0
				for _, m := range mr {
					vel += float64(m) * float64(m)
				}
				vel *= 0.5 / (s.S2[t] * s.Alpha[t] * s.Alpha[t])
				st.Velocity += vel
				target[r] = float32(cfg.Tau * (vel - Deff*math.Log(s.Alpha[t])))
				if t == T-1 {
					lastRows = append(lastRows, r)
				}
			}
			if err := s.Target.Forward(vn[:b], xn[:b*D], tn[:b]); err != nil {
				return st, err
			}
			for r := 0; r < b; r++ {
				vn[r] *= vs
			}
			if len(lastRows) > 0 {
				lastX = lastX[:0]
				for _, r := range lastRows {
					lastX = append(lastX, xn[r*D:(r+1)*D]...)
				}
				lastE = slices.Grow(lastE[:0], len(lastRows))[:len(lastRows)]
				e.Energy(lastE, lastX)
				clampEnergy(lastE, cfg.ClipEnergy, cfg.ClipEnergyLog)
				for k, r := range lastRows {
					vn[r] = lastE[k]
				}
			}
			for r := 0; r < b; r++ {
				target[r] = (target[r] + vn[r]) / float32(Deff)
			}
			loss, grads, err := s.Online.LossGrad(x[:b*D], ts[:b], target[:b], cfg.TDLoss, scale)
			if err != nil {
				return st, err
			}
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				return st, fmt.Errorf("%w: TD loss is %v", ErrDiverged, loss)
			}
			if cfg.ClipGrad != nil {
				nn.ClipGradNorm(grads, *cfg.ClipGrad)
			}
			s.vopt.Step(grads)
			st.Loss += loss
			nb++
		}
	}
	st.Loss /= float64(max(nb, 1))
	st.Velocity /= float64(max(nUpdate*N, 1))
	ema := 0.0
	if cfg.EMA != nil {
		ema = *cfg.EMA
	}
	nn.EMA(s.Target.Params(), s.Online.Params(), ema)
	if cfg.ILR != nil {
		if err := s.updateInitSigma(B, rng); err != nil {
			return st, err
		}
	}
	st.InitSigma = s.InitSigma
	return st, nil
}

// updateInitSigma takes one Adam step on σ0 (VGS.md A.5) with n fresh draws ε:
//
//	loss = mean_b V_target(σ0·ε_b, 0) − D·τ·ln σ0
//	∂loss/∂σ0 = mean_b ∇V(σ0·ε_b, 0)·ε_b − D·τ/σ0
//
// (under scale_with_D both terms are divided by D, as in the reference).
func (s *Sampler) updateInitSigma(n int, rng *rand.Rand) error {
	D := s.Dim()
	eps := make([]float32, n*D)
	z := make([]float32, n*D)
	for i := range eps {
		eps[i] = float32(rng.NormFloat64())
		z[i] = float32(s.InitSigma) * eps[i]
	}
	g := make([]float32, n*D)
	if err := s.Target.InputGrad(nil, g, z, make([]int, n)); err != nil {
		return err
	}
	dot := 0.0
	for i := range g {
		dot += float64(g[i]) * float64(eps[i])
	}
	c := float64(s.D())
	if s.Config.ScaleWithD {
		c = 1
	}
	grad := dot/float64(n) - c*s.Config.Tau/s.InitSigma
	s.InitSigma = s.iopt.step(s.InitSigma, grad)
	if math.IsNaN(s.InitSigma) || math.IsInf(s.InitSigma, 0) {
		return fmt.Errorf("%w: init_sigma is %v", ErrDiverged, s.InitSigma)
	}
	return nil
}

// scalarAdam is Adam (PyTorch defaults) on one scalar parameter.
type scalarAdam struct {
	lr, m, v float64
	k        int
}

func newScalarAdam(lr float64) scalarAdam { return scalarAdam{lr: lr} }

func (a *scalarAdam) step(p, g float64) float64 {
	a.k++
	a.m = 0.9*a.m + 0.1*g
	a.v = 0.999*a.v + 0.001*g*g
	bc1 := 1 - math.Pow(0.9, float64(a.k))
	bc2 := 1 - math.Pow(0.999, float64(a.k))
	return p - a.lr/bc1*a.m/(math.Sqrt(a.v)/math.Sqrt(bc2)+1e-8)
}
