package bench

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/advgs/advgs/internal/fastblas"
	"github.com/advgs/advgs/internal/progress"
	"github.com/advgs/advgs/vgs"
	"github.com/advgs/advgs/vgs/mcmc"
)

// Target is what a benchmark needs of its target distribution: the energy, exact (or
// reference) samples and the reference per-dimension standard deviations.
type Target interface {
	vgs.Energy
	// Exact draws n exact samples (n×Dim).
	Exact(n int, rng *rand.Rand) []float32
	// RefStd is the per-dimension std that Δstd compares with.
	RefStd() []float64
}

// ModeTarget is a mixture target whose samples can be assigned to modes.
type ModeTarget interface {
	Target
	// Modes returns the number of modes and the mode of each sample of x.
	Modes(x []float32) (k int, labels []int)
}

// Options controls a benchmark run.
type Options struct {
	Name     string    // the benchmark's name in the result (gmm, funnel, ...)
	Quick    bool      // use the config's quick section (n_iter, n_eval)
	Seed     *uint64   // overrides the config's seed
	Log      io.Writer // progress and log lines; nil for none
	SaveTo   string    // when set, the trained sampler is saved there
	NoMALA   bool      // skip the MCMC baselines
	Progress bool      // draw a progress bar / periodic lines on Log
	// KeepSamples keeps the evaluated samples in Result.Samples (for plots; see
	// reports.WriteSamplerReport). Off by default: they can be tens of MB.
	KeepSamples bool
	// AfterIter, when set, is called by Train after every iteration's TD update with
	// the iteration, the sampler and the update's statistics (for diagnostics that
	// follow a training run; see vgs/targets TestGMMTrainingHistory). It must not
	// draw from Train's random stream. An error stops training.
	AfterIter func(it int, s *vgs.Sampler, st vgs.TDStats) error
}

// Point is one logged training iteration.
type Point struct {
	Iter      int     `json:"iter"`
	Seconds   float64 `json:"seconds"`
	Loss      float64 `json:"loss"`
	Velocity  float64 `json:"velocity"`
	InitSigma float64 `json:"init_sigma"`
	ValTVDE   float64 `json:"val_tvd_e,omitempty"` // particle benchmarks: validation TVD-E
}

// Baseline is an MCMC baseline's result.
type Baseline struct {
	Sampler    string             `json:"sampler"`
	Steps      int                `json:"steps"`
	StepSize   float64            `json:"step_size"`
	AcceptRate float64            `json:"accept_rate"`
	Seconds    float64            `json:"seconds"`
	Metrics    map[string]float64 `json:"metrics"`
}

// Result is the JSON contract of `advgs bench TARGET --json FILE` (DESIGN.md).
type Result struct {
	Target       string  `json:"target"`
	Sampler      string  `json:"sampler"`
	Steps        int     `json:"steps"`
	TrainSeconds float64 `json:"train_seconds"`
	// ValSeconds is the time spent on validation during training (particle targets),
	// which TrainSeconds leaves out.
	ValSeconds       float64            `json:"val_seconds,omitempty"`
	SampleSeconds    float64            `json:"sample_seconds"`
	EnergyEvalsTrain int64              `json:"energy_evals_train"`
	NEval            int                `json:"n_eval"`
	Metrics          map[string]float64 `json:"metrics"`
	Baselines        []Baseline         `json:"baselines"`
	Floor            map[string]float64 `json:"floor"`
	BLAS             string             `json:"blas"`
	Seed             uint64             `json:"seed"`
	Quick            bool               `json:"quick"`
	History          []Point            `json:"history"`
	Config           Config             `json:"config"`
	// Checkpoint is, for the particle targets, the training iteration whose weights
	// were evaluated, chosen on the validation file.
	Checkpoint *Checkpoint `json:"checkpoint,omitempty"`
	// OtherCheckpoint is the choice of the other selection rule (see
	// ParticleConfig.ValMinInRange) with its test metrics, when it differs.
	OtherCheckpoint *Checkpoint `json:"other_checkpoint,omitempty"`
	// Samples holds, with Options.KeepSamples, the samples the metrics were
	// computed on, row-major with the target's dimension per row: "vgs",
	// "reference" (the exact samples, or the particle test set), and the
	// baselines by name ("mala", "mala_walltime"). Not part of the JSON.
	Samples map[string][]float32 `json:"-"`
}

// Checkpoint is a validated training iteration of a particle run.
type Checkpoint struct {
	Iteration  int     `json:"iteration"`
	ValTVDE    float64 `json:"val_tvd_e"`    // TVD-E on the validation file
	ValInRange float64 `json:"val_in_range"` // share of validation energies in [−100, 100]
	Rule       string  `json:"rule"`         // the selection rule that chose it
	// Fallback is set when no checkpoint met particles.val_min_in_range and the
	// reference's rule chose instead.
	Fallback bool `json:"fallback,omitempty"`
	// Metrics are the test metrics (OtherCheckpoint only: Result.Metrics are the
	// chosen checkpoint's).
	Metrics map[string]float64 `json:"metrics,omitempty"`
}

// keep stores x under name in res.Samples when opt asks for samples.
func (res *Result) keep(opt Options, name string, x []float32) {
	if !opt.KeepSamples {
		return
	}
	if res.Samples == nil {
		res.Samples = map[string][]float32{}
	}
	res.Samples[name] = x
}

// counted wraps an energy and counts the rows it evaluates.
type counted struct {
	inner vgs.Energy
	n     atomic.Int64
}

func (c *counted) Dim() int { return c.inner.Dim() }

func (c *counted) Energy(e, x []float32) {
	c.n.Add(int64(len(e)))
	c.inner.Energy(e, x)
}

func (c *counted) EnergyGrad(e, g, x []float32) {
	c.n.Add(int64(len(e)))
	c.inner.EnergyGrad(e, g, x)
}

// Train trains a sampler on target as the reference's outer loop (VGS.md A.9): each
// iteration draws a batch with the off-policy noise scale and final noise, then runs
// UpdateTD with n_update passes.
func Train(cfg Config, target vgs.Energy, nIter int, rng *rand.Rand, opt Options) (*vgs.Sampler, []Point, int64, error) {
	s, err := vgs.New(cfg.Sampler, rng)
	if err != nil {
		return nil, nil, 0, err
	}
	if target.Dim() != s.Dim() {
		return nil, nil, 0, fmt.Errorf("sampler.sample_shape: %v does not match the target's dimension %d", cfg.Sampler.SampleShape, target.Dim())
	}
	ce := &counted{inner: target}
	var bar *progress.Bar
	if opt.Progress {
		bar = progress.New(opt.Log, nIter, "train "+cfg.EnergyModel.Name)
	}
	var hist []Point
	start := time.Now()
	for it := 0; it < nIter; it++ {
		s.SetVLR(cfg.VLRAt(it, nIter))
		tr, err := s.Sample(cfg.Training.BatchSize, ce, vgs.SampleOptions{NoiseScale: cfg.OffPolicy.NoiseScale, FinalNoise: true}, rng)
		if err != nil {
			return nil, hist, ce.n.Load(), fmt.Errorf("iteration %d: %w", it, err)
		}
		st, err := s.UpdateTD(tr, ce, cfg.Buffer.NUpdate, rng)
		if err != nil {
			return nil, hist, ce.n.Load(), fmt.Errorf("iteration %d: %w", it, err)
		}
		if cfg.Training.LogIter > 0 && (it%cfg.Training.LogIter == 0 || it == nIter-1) {
			hist = append(hist, Point{Iter: it, Seconds: time.Since(start).Seconds(), Loss: st.Loss, Velocity: st.Velocity, InitSigma: st.InitSigma})
		}
		bar.Add(1, fmt.Sprintf("loss %.4g vel %.3g σ0 %.3f", st.Loss, st.Velocity, st.InitSigma))
		if opt.AfterIter != nil {
			if err := opt.AfterIter(it, s, st); err != nil {
				return nil, hist, ce.n.Load(), fmt.Errorf("iteration %d: %w", it, err)
			}
		}
	}
	bar.Finish()
	return s, hist, ce.n.Load(), nil
}

// Run trains VGS on the config's target, samples, evaluates against exact samples,
// computes the floor (two independent exact sets) and the MALA baselines.
func Run(cfg Config, opt Options) (*Result, error) {
	target, err := NewTarget(cfg.EnergyModel.Name, cfg.Sampler.Dim())
	if err != nil {
		return nil, err
	}
	seed := cfg.Seed
	if opt.Seed != nil {
		seed = *opt.Seed
	}
	nIter, nEval := cfg.Training.NIter, cfg.Training.NEval
	if opt.Quick {
		if cfg.Quick.NIter > 0 {
			nIter = cfg.Quick.NIter
		}
		if cfg.Quick.NEval > 0 {
			nEval = cfg.Quick.NEval
		}
	}
	rng := rand.New(rand.NewPCG(seed, 0x76677321))
	res := &Result{Target: opt.Name, Sampler: "vgs", Steps: cfg.Sampler.NStep, NEval: nEval,
		BLAS: fastblas.Name, Seed: seed, Quick: opt.Quick, Config: cfg}
	logf(opt.Log, "bench %s: T=%d, %d iterations of batch %d, %s BLAS, seed %d", res.Target, res.Steps, nIter, cfg.Training.BatchSize, res.BLAS, seed)

	t0 := time.Now()
	s, hist, evals, err := Train(cfg, target, nIter, rng, opt)
	res.History, res.EnergyEvalsTrain = hist, evals
	if err != nil {
		if errors.Is(err, vgs.ErrDiverged) {
			return res, fmt.Errorf("%w; lower sampler.v_lr or set sampler.clip_grad", err)
		}
		return res, err
	}
	res.TrainSeconds = time.Since(t0).Seconds()
	if opt.SaveTo != "" {
		if err := s.Save(opt.SaveTo, map[string]string{"target": res.Target}); err != nil {
			return res, err
		}
	}

	t1 := time.Now()
	tr, err := s.Sample(nEval, target, vgs.SampleOptions{NoiseScale: 1, FinalNoise: cfg.FinalNoise}, rng)
	if err != nil {
		return res, err
	}
	res.SampleSeconds = time.Since(t1).Seconds()
	gen := tr.Final()
	logf(opt.Log, "trained in %.1fs, sampled %d in %.2fs", res.TrainSeconds, nEval, res.SampleSeconds)

	ref := target.Exact(nEval, rng)
	res.keep(opt, "vgs", gen)
	res.keep(opt, "reference", ref)
	res.Metrics = Evaluate(target, gen, ref)
	logf(opt.Log, "vgs: %s", fmtMetrics(res.Metrics))
	logf(opt.Log, "vgs marginals: %s", FmtMarginals(gen, target.Dim()))
	logf(opt.Log, "exact marginals: %s (reference std %s)", FmtMarginals(ref, target.Dim()), fmtFloats(target.RefStd()))
	logf(opt.Log, "energy quantiles (5, 25, 50, 75, 95 %%): vgs %s, exact %s", fmtEnergyQuantiles(target, gen), fmtEnergyQuantiles(target, ref))
	res.Floor = Evaluate(target, target.Exact(nEval, rng), ref)
	logf(opt.Log, "floor: %s", fmtMetrics(res.Floor))

	if !opt.NoMALA {
		init := func(r *rand.Rand) []float32 {
			x := make([]float32, nEval*target.Dim())
			for i := range x {
				x[i] = float32(r.NormFloat64())
			}
			return x
		}
		step, err := mcmc.TuneStep(target, func(r *rand.Rand) []float32 { return init(r)[:min(nEval, 2000)*target.Dim()] }, res.Steps, mcmc.DefaultGrid(), rng)
		if err != nil {
			return res, err
		}
		x := init(rng)
		tm := time.Now()
		acc, err := mcmc.MALA(target, x, mcmc.Config{Step: step, Steps: res.Steps}, rng)
		if err != nil {
			return res, err
		}
		res.Baselines = append(res.Baselines, Baseline{Sampler: "mala", Steps: res.Steps, StepSize: step, AcceptRate: acc,
			Seconds: time.Since(tm).Seconds(), Metrics: Evaluate(target, x, ref)})
		res.keep(opt, "mala", x)
		logf(opt.Log, "mala (%d steps of %.3g, acceptance %.2f): %s", res.Steps, step, acc, fmtMetrics(res.Baselines[0].Metrics))
		logf(opt.Log, "mala marginals: %s", FmtMarginals(x, target.Dim()))
		wall := time.Duration((res.TrainSeconds + res.SampleSeconds) * float64(time.Second))
		logf(opt.Log, "mala_walltime: running for %s", wall.Round(time.Second))
		x = init(rng)
		tm = time.Now()
		steps, acc, err := mcmc.RunFor(target, x, mcmc.Config{Step: step}, wall, rng)
		if err != nil {
			return res, err
		}
		res.Baselines = append(res.Baselines, Baseline{Sampler: "mala_walltime", Steps: steps, StepSize: step, AcceptRate: acc,
			Seconds: time.Since(tm).Seconds(), Metrics: Evaluate(target, x, ref)})
		res.keep(opt, "mala_walltime", x)
	}
	return res, nil
}

// Marginals returns the per-dimension mean and unbiased standard deviation of the
// rows of x (n×D).
func Marginals(x []float32, D int) (mean, std []float64) {
	n := len(x) / D
	mean, std = make([]float64, D), make([]float64, D)
	if n == 0 {
		return mean, std
	}
	for i := 0; i < n; i++ {
		for j := 0; j < D; j++ {
			mean[j] += float64(x[i*D+j])
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	for i := 0; i < n; i++ {
		for j := 0; j < D; j++ {
			d := float64(x[i*D+j]) - mean[j]
			std[j] += d * d
		}
	}
	for j := range std {
		std[j] = math.Sqrt(std[j] / float64(max(n-1, 1)))
	}
	return mean, std
}

// FmtMarginals formats the per-dimension means and standard deviations of x (n×D),
// e.g. "mean [2.26 0.05 …] std [0.77 3.37 …]", to see where samples sit (the
// funnel's x_1 should have mean 0 and std 3).
func FmtMarginals(x []float32, D int) string {
	m, s := Marginals(x, D)
	return "mean " + fmtFloats(m) + " std " + fmtFloats(s)
}

// fmtEnergyQuantiles formats the 5, 25, 50, 75 and 95 % quantiles of the energies
// of x, to see which way an energy histogram (TVD-E) is off.
func fmtEnergyQuantiles(t vgs.Energy, x []float32) string {
	e := make([]float32, len(x)/t.Dim())
	t.Energy(e, x)
	v := f64(e)
	slices.Sort(v)
	q := make([]float64, 0, 5)
	for _, p := range []float64{0.05, 0.25, 0.5, 0.75, 0.95} {
		q = append(q, v[int(p*float64(len(v)-1))])
	}
	return fmtFloats(q)
}

func fmtFloats(v []float64) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, a := range v {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%.2f", a)
	}
	b.WriteByte(']')
	return b.String()
}

// finiteOr returns v, or NaN's JSON-safe stand-in −1 when v is not finite.
func finiteOr(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return -1
	}
	return v
}

// fmtMetrics formats a metrics map in key order.
func fmtMetrics(m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s=%.4f", k, m[k])
	}
	return b.String()
}

func logf(w io.Writer, format string, a ...any) {
	if w != nil {
		fmt.Fprintf(w, format+"\n", a...)
	}
}
