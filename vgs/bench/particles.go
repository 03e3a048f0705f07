package bench

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/advgs/advgs/datasets"
	"github.com/advgs/advgs/internal/ckpt"
	"github.com/advgs/advgs/internal/fastblas"
	"github.com/advgs/advgs/internal/progress"
	"github.com/advgs/advgs/internal/sharedpath"
	"github.com/advgs/advgs/vgs"
	"github.com/advgs/advgs/vgs/mcmc"
	"github.com/advgs/advgs/vgs/metrics"
	"github.com/advgs/advgs/vgs/targets"
)

// ParticleTarget is an energy of n particles in d dimensions.
type ParticleTarget interface {
	vgs.Energy
	Particles() (n, d int)
}

// ParticleConfig is the particle part of a benchmark config.
type ParticleConfig struct {
	ValFile  string `yaml:"val_file" json:"val_file"`   // reference samples for validation
	TestFile string `yaml:"test_file" json:"test_file"` // reference samples for the final test
	ValIter  int    `yaml:"val_iter" json:"val_iter"`   // validate every val_iter iterations (best TVD-E kept)
	// ValStart is the first iteration (0-based) that may be validated: validation runs
	// at iterations it ≥ val_start with (it − val_start + 1) mod val_iter = 0, and at
	// the last iteration. 0 (the reference's rule) validates from the start. Not in the
	// paper: it lets a run validate often where its good checkpoints are without paying
	// for validations where they cannot be.
	ValStart int `yaml:"val_start" json:"val_start,omitempty"`
	// ValMinInRange is the share of a checkpoint's validation energies that must fall
	// in [−100, 100] for it to be kept as the best. 0 is the reference's rule, under
	// which a checkpoint with less than 60 % in range scores TVD-E 1e10 and anything
	// else competes on the TVD-E of its in-range energies alone, so a partly collapsed
	// checkpoint can win. Not in the paper. When no checkpoint qualifies, the
	// reference's choice is kept.
	ValMinInRange float64 `yaml:"val_min_in_range" json:"val_min_in_range,omitempty"`
	Rounds        int     `yaml:"rounds" json:"rounds"` // test rounds (10)
	RoundSize     int     `yaml:"round_size" json:"round_size"`
	// EvalNoiseScale is the noise scale of evaluation samples (LJ-13: 0.9; 0 means 1).
	EvalNoiseScale float64 `yaml:"eval_noise_scale" json:"eval_noise_scale"`
}

// strictInRange is the share of validation energies in [−100, 100] that the logged
// second checkpoint selection asks for when the run itself uses the reference's rule
// (see RunParticles).
const strictInRange = 0.95

// pick keeps the checkpoint with the lowest validation TVD-E among those with at
// least minIn of their validation energies in [−100, 100].
type pick struct {
	minIn float64
	tvd   float64
	iter  int
	in    float64
	state map[string]ckpt.Tensor
}

func newPick(minIn float64) *pick { return &pick{minIn: minIn, tvd: math.Inf(1), iter: -1} }

// offer considers the sampler's current weights, validated at iteration it with
// TVD-E v and share in of its energies in range.
func (p *pick) offer(s *vgs.Sampler, it int, v, in float64) {
	if in >= p.minIn && v < p.tvd {
		p.tvd, p.iter, p.in = v, it, in
		p.state = cloneTensors(s.Tensors())
	}
}

// rule names the selection rule of p for the log.
func (p *pick) rule() string {
	if p.minIn <= metrics.ParticleMinInRange {
		return "the reference's rule"
	}
	return fmt.Sprintf("≥ %.0f%% of validation energies in range", 100*p.minIn)
}

// checkpoint describes p's choice for the result.
func (p *pick) checkpoint() *Checkpoint {
	return &Checkpoint{Iteration: p.iter, ValTVDE: p.tvd, ValInRange: p.in, Rule: p.rule()}
}

// testProtocol is the particle test of VGS.md D.5: nRounds rounds of size samples,
// drawn with so, against random rows of test.
type testProtocol struct {
	t             ParticleTarget
	test          []float32
	so            vgs.SampleOptions
	nRounds, size int
}

// evalOtherChoice evaluates the checkpoint other with the protocol, on random
// streams of its own fixed by seed, logs its metrics, and puts the checkpoint chosen
// back into the sampler.
func evalOtherChoice(s *vgs.Sampler, other *pick, chosen map[string]ckpt.Tensor, tp testProtocol, seed uint64, opt Options) (*Checkpoint, error) {
	if err := s.SetTensors(other.state); err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(seed, 0x737472))
	tr, err := s.Sample(tp.nRounds*tp.size, tp.t, tp.so, r)
	if err != nil {
		return nil, err
	}
	m, err := rounds(tp.t, tr.Final(), tp.test, tp.nRounds, tp.size, r)
	if err != nil {
		return nil, err
	}
	logf(opt.Log, "vgs, best checkpoint under %s: %s", other.rule(), fmtMetrics(m))
	logf(opt.Log, "(that checkpoint: iteration %d, validation tvd_e %.4f, %.0f%% in range)", other.iter, other.tvd, 100*other.in)
	c := other.checkpoint()
	c.Metrics = m
	return c, s.SetTensors(chosen)
}

// validates reports whether iteration it (0-based) of nIter is validated.
func (p ParticleConfig) validates(it, nIter int) bool {
	if p.ValIter <= 0 || it < p.ValStart {
		return false
	}
	return (it-p.ValStart+1)%p.ValIter == 0 || it == nIter-1
}

// ParticleData resolves a particle data file: absolute, relative to the working
// directory, or relative to the shared reference folder (ADVGS_SHARED or ../shared
// beside the module).
func ParticleData(name string) (string, error) {
	if filepath.IsAbs(name) {
		return name, nil
	}
	if _, err := os.Stat(name); err == nil {
		return name, nil
	}
	d, err := sharedpath.Dir()
	if err != nil {
		return "", fmt.Errorf("particle data %s not found here, and %v", name, err)
	}
	return filepath.Join(d, name), nil
}

// LoadParticles reads an .npy file of configurations, checks its row length against
// the target and that it holds no NaN or Inf, and removes each sample's mean.
func LoadParticles(name string, t ParticleTarget) ([]float32, error) {
	path, err := ParticleData(name)
	if err != nil {
		return nil, err
	}
	data, rows, cols, err := datasets.ReadNPY(path)
	if err != nil {
		return nil, err
	}
	n, d := t.Particles()
	if cols != n*d {
		return nil, fmt.Errorf("%s: rows have %d values, the target has %d particles in %d-D (%d values)", path, cols, n, d, n*d)
	}
	for i, v := range data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("%s: row %d holds %v", path, i/cols, v)
		}
	}
	if rows == 0 {
		return nil, fmt.Errorf("%s: no rows", path)
	}
	targets.RemoveMean(data, n, d)
	return data, nil
}

// ParticleMetrics are the particle metrics of one round (VGS.md D.5): w2 (exact OT on
// centred coordinates), tvd_e (energies, fixed [−100, 100] binning), tvd_d
// (interatomic distances, same binning), tvd_d_fine (distances, 200 bins over the
// reference's range).
func ParticleMetrics(t ParticleTarget, gen, ref []float32) (map[string]float64, error) {
	n, d := t.Particles()
	gen = append([]float32(nil), gen...)
	targets.RemoveMean(gen, n, d)
	ns := len(gen) / (n * d)
	w2, err := metrics.W2(gen, ref, n*d)
	if err != nil {
		return nil, err
	}
	eg, er := make([]float32, ns), make([]float32, len(ref)/(n*d))
	t.Energy(eg, gen)
	t.Energy(er, ref)
	dg, dr := targets.PairDistances(gen, n, d), targets.PairDistances(ref, n, d)
	return map[string]float64{
		"w2":         w2,
		"tvd_e":      metrics.TVDFixed(f64(eg), f64(er), ns),
		"tvd_d":      metrics.TVDFixed(dg, dr, ns),
		"tvd_d_fine": metrics.TVDFine(dg, dr),
	}, nil
}

// rounds evaluates gen (rounds·size samples) against size random reference rows per
// round drawn without replacement, and returns the mean of each metric and, under
// key_std, its population standard deviation.
func rounds(t ParticleTarget, gen, ref []float32, nRounds, size int, rng *rand.Rand) (map[string]float64, error) {
	n, d := t.Particles()
	D := n * d
	if len(ref)/D < size {
		return nil, fmt.Errorf("reference set has %d rows, a round needs %d", len(ref)/D, size)
	}
	var all []map[string]float64
	for r := 0; r < nRounds; r++ {
		perm := rng.Perm(len(ref) / D)[:size]
		sub := make([]float32, 0, size*D)
		for _, i := range perm {
			sub = append(sub, ref[i*D:(i+1)*D]...)
		}
		m, err := ParticleMetrics(t, gen[r*size*D:(r+1)*size*D], sub)
		if err != nil {
			return nil, err
		}
		all = append(all, m)
	}
	out := map[string]float64{}
	for k := range all[0] {
		mean, sq := 0.0, 0.0
		for _, m := range all {
			mean += m[k]
		}
		mean /= float64(len(all))
		for _, m := range all {
			sq += (m[k] - mean) * (m[k] - mean)
		}
		out[k] = mean
		out[k+"_std"] = math.Sqrt(sq / float64(len(all)))
	}
	return out, nil
}

// RunParticles trains VGS on DW-4 or LJ-13, keeps the iteration with the best
// validation TVD-E (the reference's model selection), and evaluates it with the
// protocol of the paper's notebooks: rounds × round_size samples without final noise
// against random test rows. The floor is the same protocol between two disjoint
// halves of the test file; the baselines are MALA from the sampler's initial
// distribution with the same number of steps and with the same wall time.
func RunParticles(cfg Config, opt Options) (*Result, error) {
	var t ParticleTarget
	switch cfg.EnergyModel.Name {
	case "dw4":
		t = targets.NewDW4()
	case "lj13":
		t = targets.NewLJ13()
	default:
		return nil, fmt.Errorf("energy_model.name: %q is not a particle system (dw4, lj13)", cfg.EnergyModel.Name)
	}
	pc := cfg.Particles
	val, err := LoadParticles(pc.ValFile, t)
	if err != nil {
		return nil, fmt.Errorf("particles.val_file: %w", err)
	}
	test, err := LoadParticles(pc.TestFile, t)
	if err != nil {
		return nil, fmt.Errorf("particles.test_file: %w", err)
	}
	seed := cfg.Seed
	if opt.Seed != nil {
		seed = *opt.Seed
	}
	nIter := cfg.Training.NIter
	nRounds, size := pc.Rounds, pc.RoundSize
	if opt.Quick {
		if cfg.Quick.NIter > 0 {
			nIter = cfg.Quick.NIter
		}
		nRounds = 2
	}
	rng := rand.New(rand.NewPCG(seed, 0x76677321))
	res := &Result{Target: opt.Name, Sampler: "vgs", Steps: cfg.Sampler.NStep, NEval: nRounds * size,
		BLAS: fastblas.Name, Seed: seed, Quick: opt.Quick, Config: cfg}
	logf(opt.Log, "bench %s: T=%d, %d iterations of batch %d, %s BLAS, seed %d", res.Target, res.Steps, nIter, cfg.Training.BatchSize, res.BLAS, seed)
	s, err := vgs.New(cfg.Sampler, rng)
	if err != nil {
		return nil, err
	}
	evalNS := pc.EvalNoiseScale
	if evalNS == 0 {
		evalNS = 1
	}
	// Validation and test sampling measure a checkpoint: a batch whose chains
	// collapsed (energies overflowing before the last step) is scored as such, not
	// reported as a diverged run as it is in training.
	measureOpts := vgs.SampleOptions{NoiseScale: evalNS, FinalNoise: cfg.FinalNoise, KeepOverflow: true}
	D := t.Dim()
	nVal := min(len(val)/D, size)
	// Each validation draws from its own stream, fixed by the seed and the iteration,
	// so that val_iter changes which checkpoints are compared, not the training run.
	// The validation file's energies and their summary, computed once.
	er := make([]float32, len(val)/D)
	t.Energy(er, val)
	r := f64(er)
	_, rlo, rhi := energySummary(r)
	validate := func(it int) (float64, float64, error) {
		vrng := rand.New(rand.NewPCG(seed^0x76616c, uint64(it)))
		tr, err := s.Sample(nVal, t, measureOpts, vrng)
		if err != nil {
			return 0, 0, err
		}
		eg := make([]float32, nVal)
		t.Energy(eg, tr.Final())
		g := f64(eg)
		in, lo, hi := energySummary(g)
		logf(opt.Log, "validation at iteration %d: %.1f%% of energies in [%g, %g]; their quartiles %.2f, %.2f (reference %.2f, %.2f)",
			it, 100*in, metrics.ParticleLo, metrics.ParticleHi, lo, hi, rlo, rhi)
		return metrics.TVDFixed(g, r, nVal), in, nil
	}
	ce := &counted{inner: t}
	bar := (*progress.Bar)(nil)
	if opt.Progress {
		bar = progress.New(opt.Log, nIter, "train "+res.Target)
	}
	// chosen follows particles.val_min_in_range; other, for the log only, the other
	// rule: ≥ strictInRange in range when the run uses the reference's, else the
	// reference's.
	chosen := newPick(pc.ValMinInRange)
	ref := chosen
	if chosen.minIn > 0 {
		ref = newPick(0)
	}
	other := ref
	if chosen.minIn <= metrics.ParticleMinInRange {
		other = newPick(strictInRange)
	}
	var valTime time.Duration
	overflowed, firstOverflow := 0, 0 // training chains whose energy before the last step overflowed
	start := time.Now()
	for it := 0; it < nIter; it++ {
		s.SetVLR(cfg.VLRAt(it, nIter))
		tr, err := s.Sample(cfg.Training.BatchSize, ce, vgs.SampleOptions{NoiseScale: cfg.OffPolicy.NoiseScale, FinalNoise: true}, rng)
		if err != nil {
			return res, fmt.Errorf("iteration %d: %w", it, err)
		}
		if tr.Overflowed > 0 {
			if overflowed == 0 {
				firstOverflow = it
			}
			overflowed += tr.Overflowed
		}
		st, err := s.UpdateTD(tr, ce, cfg.Buffer.NUpdate, rng)
		if err != nil {
			return res, fmt.Errorf("iteration %d: %w", it, err)
		}
		p := Point{Iter: it, Seconds: time.Since(start).Seconds(), Loss: st.Loss, Velocity: st.Velocity, InitSigma: st.InitSigma}
		if pc.validates(it, nIter) {
			tv := time.Now()
			v, in, err := validate(it)
			if err != nil {
				return res, err
			}
			chosen.offer(s, it, v, in)
			if ref != chosen {
				ref.offer(s, it, v, in)
			}
			if other != ref {
				other.offer(s, it, v, in)
			}
			valTime += time.Since(tv)
			p.ValTVDE = v
			logf(opt.Log, "validation at iteration %d: tvd_e %.4f (best %.4f at %d)", it, v, chosen.tvd, chosen.iter)
			res.History = append(res.History, p)
		} else if cfg.Training.LogIter > 0 && it%cfg.Training.LogIter == 0 {
			res.History = append(res.History, p)
		}
		bar.Add(1, fmt.Sprintf("loss %.4g vel %.3g σ0 %.3f best val tvd_e %.3f", st.Loss, st.Velocity, st.InitSigma, chosen.tvd))
	}
	bar.Finish()
	res.TrainSeconds = time.Since(start).Seconds() - valTime.Seconds()
	res.ValSeconds = valTime.Seconds()
	logf(opt.Log, "trained in %.1fs, plus %.1fs of validation", res.TrainSeconds, res.ValSeconds)
	if overflowed > 0 {
		logf(opt.Log, "%d training chains (first at iteration %d) reached the last step in a state whose energy is beyond ±%g; clamped at clip_energy", overflowed, firstOverflow, vgs.MaxAbsSample)
	}
	res.EnergyEvalsTrain = ce.n.Load()
	fellBack := chosen.state == nil && ref.state != nil
	if fellBack {
		logf(opt.Log, "no validated checkpoint has ≥ %.0f%% of its energies in range: keeping the reference's choice", 100*chosen.minIn)
		chosen = ref
	}
	if chosen.state != nil {
		if err := s.SetTensors(chosen.state); err != nil {
			return res, err
		}
		logf(opt.Log, "best validation tvd_e %.4f at iteration %d (%.0f%% in range; %s)", chosen.tvd, chosen.iter, 100*chosen.in, chosen.rule())
		res.Checkpoint = chosen.checkpoint()
		res.Checkpoint.Fallback = fellBack
	}
	if opt.SaveTo != "" {
		if err := s.Save(opt.SaveTo, map[string]string{"target": res.Target}); err != nil {
			return res, err
		}
	}
	t1 := time.Now()
	tr, err := s.Sample(nRounds*size, t, measureOpts, rng)
	if err != nil {
		return res, err
	}
	res.SampleSeconds = time.Since(t1).Seconds()
	res.keep(opt, "vgs", tr.Final())
	res.keep(opt, "reference", test)
	if res.Metrics, err = rounds(t, tr.Final(), test, nRounds, size, rng); err != nil {
		return res, err
	}
	logf(opt.Log, "vgs: %s", fmtMetrics(res.Metrics))
	if other.state != nil && other.iter != chosen.iter {
		tp := testProtocol{t: t, test: test, so: measureOpts, nRounds: nRounds, size: size}
		if res.OtherCheckpoint, err = evalOtherChoice(s, other, chosen.state, tp, seed, opt); err != nil {
			return res, err
		}
	}
	logf(opt.Log, "reference:       %s", ParticleSummary(t, test))
	logf(opt.Log, "vgs x_T:         %s", ParticleSummary(t, tr.Final()))
	logf(opt.Log, "vgs x_T/2 (mid): %s", ParticleSummary(t, tr.States[len(tr.States)/2]))
	// Floor: two disjoint halves of the test file.
	nt := len(test) / D
	perm := rng.Perm(nt)
	var ha, hb []float32
	for k, i := range perm {
		if k < nt/2 {
			ha = append(ha, test[i*D:(i+1)*D]...)
		} else {
			hb = append(hb, test[i*D:(i+1)*D]...)
		}
	}
	floorGen := make([]float32, 0, nRounds*size*D)
	for r := 0; r < nRounds; r++ {
		p := rng.Perm(len(ha) / D)[:size]
		for _, i := range p {
			floorGen = append(floorGen, ha[i*D:(i+1)*D]...)
		}
	}
	if res.Floor, err = rounds(t, floorGen, hb, nRounds, size, rng); err != nil {
		return res, err
	}
	logf(opt.Log, "floor: %s", fmtMetrics(res.Floor))
	if !opt.NoMALA {
		sigma0 := vgs.InitSigma0(cfg.Sampler.AlphaMethod, s.S2)
		init := func(r *rand.Rand, rows int) []float32 {
			x := make([]float32, rows*D)
			for i := range x {
				x[i] = float32(sigma0 * r.NormFloat64())
			}
			return x
		}
		step, err := mcmc.TuneStep(t, func(r *rand.Rand) []float32 { return init(r, size) }, res.Steps, mcmc.DefaultGrid(), rng)
		if err != nil {
			return res, err
		}
		for _, b := range []struct {
			name string
			wall time.Duration
		}{{"mala", 0}, {"mala_walltime", time.Duration((res.TrainSeconds + res.SampleSeconds) * float64(time.Second))}} {
			x := init(rng, nRounds*size)
			tm := time.Now()
			steps, acc := res.Steps, 0.0
			if b.wall == 0 {
				acc, err = mcmc.MALA(t, x, mcmc.Config{Step: step, Steps: res.Steps}, rng)
			} else {
				logf(opt.Log, "mala_walltime: running for %s", b.wall.Round(time.Second))
				steps, acc, err = mcmc.RunFor(t, x, mcmc.Config{Step: step}, b.wall, rng)
			}
			if err != nil {
				return res, err
			}
			m, err := rounds(t, x, test, nRounds, size, rng)
			if err != nil {
				return res, err
			}
			res.Baselines = append(res.Baselines, Baseline{Sampler: b.name, Steps: steps, StepSize: step, AcceptRate: acc,
				Seconds: time.Since(tm).Seconds(), Metrics: m})
			res.keep(opt, b.name, x)
			logf(opt.Log, "%s (%d steps of %.3g, acceptance %.2f): %s", b.name, steps, step, acc, fmtMetrics(m))
		}
	}
	return res, nil
}

// ParticleSummary describes particle samples x (rows of t's n·d coordinates) in one
// line: the 5 %, 50 % and 95 % quantiles of the energy and of each sample's
// smallest interatomic distance. It shows where samples fail that TVD-E only
// scores: too hot (energies above the reference's), collapsed (smallest distance
// far below the potential's minimum, energies huge) or spread out.
func ParticleSummary(t ParticleTarget, x []float32) string {
	n, d := t.Particles()
	B := len(x) / (n * d)
	if B == 0 {
		return "no samples"
	}
	e32 := make([]float32, B)
	t.Energy(e32, x[:B*n*d])
	e, dmin := make([]float64, B), make([]float64, B)
	dist := make([]float64, targets.NumPairs(n))
	for i := range B {
		e[i] = float64(e32[i])
		targets.PairDistancesInto(dist, x[i*n*d:(i+1)*n*d], n, d)
		dmin[i] = slices.Min(dist)
	}
	slices.Sort(e)
	slices.Sort(dmin)
	q := func(v []float64, p float64) float64 { return v[int(p*float64(len(v)-1))] }
	return fmt.Sprintf("energy q05 %.4g q50 %.4g q95 %.4g; smallest distance q05 %.3f q50 %.3f q95 %.3f",
		q(e, 0.05), q(e, 0.5), q(e, 0.95), q(dmin, 0.05), q(dmin, 0.5), q(dmin, 0.95))
}

func cloneTensors(m map[string]ckpt.Tensor) map[string]ckpt.Tensor {
	c := make(map[string]ckpt.Tensor, len(m))
	for k, t := range m {
		c[k] = ckpt.Tensor{Shape: t.Shape, Data: append([]float32(nil), t.Data...)}
	}
	return c
}

// energySummary is what the validation log says of a set of energies besides
// TVD-E: the share inside the reference's histogram range and the lower and upper
// quartiles of those inside, so a log shows whether samples are collapsed (out of
// range), too hot or too cold.
func energySummary(e []float64) (inRange, q1, q3 float64) {
	var in []float64
	for _, v := range e {
		if v >= metrics.ParticleLo && v <= metrics.ParticleHi {
			in = append(in, v)
		}
	}
	if len(in) == 0 {
		return 0, math.NaN(), math.NaN()
	}
	slices.Sort(in)
	return float64(len(in)) / float64(len(e)), in[len(in)/4], in[3*len(in)/4]
}
