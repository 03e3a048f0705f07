// Package mcmc holds the Markov-chain Monte Carlo baselines the VGS benchmarks and
// the EBM are compared with, run on a batch of independent chains (the rows of a
// row-major B×D slice) of a target p(x) ∝ exp(−E(x)) given as a vgs.Energy:
//
//   - MALA (Run): the Metropolis-adjusted Langevin algorithm, with TuneStep to pick
//     its step size by acceptance rate and RunFor to run it for a wall-clock budget
//     (the "same wall time" baseline);
//   - ULA: the unadjusted Langevin algorithm, optionally on the unit sphere (the
//     image EBM's MCMC alternative to VGS).
//
// Every random draw comes from the *rand.Rand passed in, so a seed reproduces a run.
package mcmc

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/advgs/advgs/vgs"
)

// Config is a Langevin run.
type Config struct {
	// Step is the step size h > 0: the drift is −h∇E and the noise std √(2h).
	Step float64
	// Steps is the number of steps (≥ 0; RunFor ignores it).
	Steps int
	// Sphere (ULA only) keeps every chain on the unit sphere: drift and noise are
	// projected onto the tangent space at x, and the moved point is normalised.
	Sphere bool
}

func (c Config) check(alg string) error {
	if !(c.Step > 0) || math.IsInf(c.Step, 0) {
		return fmt.Errorf("mcmc: %s: step size must be > 0 and finite, got %g", alg, c.Step)
	}
	if c.Steps < 0 {
		return fmt.Errorf("mcmc: %s: number of steps must be ≥ 0, got %d", alg, c.Steps)
	}
	return nil
}

// chains holds the work buffers of a batch of chains.
type chains struct {
	e      vgs.Energy
	D, B   int
	x      []float32 // current states (the caller's slice)
	ex, g  []float32 // E and ∇E at x
	y      []float32 // proposals
	ey, gy []float32
}

func newChains(e vgs.Energy, x []float32) (*chains, error) {
	D := e.Dim()
	if len(x)%D != 0 || len(x) == 0 {
		return nil, fmt.Errorf("mcmc: %d values are not rows of dimension %d", len(x), D)
	}
	B := len(x) / D
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("mcmc: initial state of chain %d holds %v", i/D, v)
		}
	}
	c := &chains{e: e, D: D, B: B, x: x, ex: make([]float32, B), g: make([]float32, len(x)),
		y: make([]float32, len(x)), ey: make([]float32, B), gy: make([]float32, len(x))}
	e.EnergyGrad(c.ex, c.g, x)
	for r, v := range c.ex {
		if math.IsNaN(float64(v)) {
			return nil, fmt.Errorf("mcmc: energy of initial state %d is NaN", r)
		}
	}
	for i, v := range c.g {
		if math.IsNaN(float64(v)) {
			return nil, fmt.Errorf("mcmc: energy gradient at initial state %d is NaN", i/D)
		}
	}
	return c, nil
}

// step makes one MALA step on every chain: the proposal
// y = x − h∇E(x) + √(2h)·ξ is accepted with probability
// min(1, exp(−E(y) + E(x) − log q(x|y) + log q(y|x))), q(b|a) = N(b; a − h∇E(a), 2h I).
// A proposal whose energy or gradient is NaN or +Inf has probability 0 and is
// rejected. It returns the number of accepted moves.
func (c *chains) step(h float64, rng *rand.Rand) (int, error) {
	D := c.D
	sd := math.Sqrt(2 * h)
	for i := range c.y {
		c.y[i] = c.x[i] - float32(h)*c.g[i] + float32(sd*rng.NormFloat64())
	}
	c.e.EnergyGrad(c.ey, c.gy, c.y)
	acc := 0
	for r := 0; r < c.B; r++ {
		lqf, lqb := 0.0, 0.0 // log q(y|x), log q(x|y) up to the same constant
		for k := r * D; k < (r+1)*D; k++ {
			f := float64(c.y[k]) - float64(c.x[k]) + h*float64(c.g[k])
			b := float64(c.x[k]) - float64(c.y[k]) + h*float64(c.gy[k])
			lqf += f * f
			lqb += b * b
		}
		la := -float64(c.ey[r]) + float64(c.ex[r]) - lqb/(4*h) + lqf/(4*h)
		if math.IsNaN(la) {
			continue // a proposal with NaN energy or gradient is rejected
		}
		if la >= 0 || rng.Float64() < math.Exp(la) {
			copy(c.x[r*D:(r+1)*D], c.y[r*D:(r+1)*D])
			copy(c.g[r*D:(r+1)*D], c.gy[r*D:(r+1)*D])
			c.ex[r] = c.ey[r]
			acc++
		}
	}
	return acc, nil
}

// Run runs cfg.Steps Metropolis-adjusted Langevin steps of size h = cfg.Step on
// every row of x (updated in place) and returns the mean acceptance rate over all
// chains and steps. One step on a chain at x:
//
//	y = x − h∇E(x) + √(2h)·ξ,  ξ ~ N(0, I)
//	accept with probability min(1, exp(E(x) − E(y) − ‖x − y + h∇E(y)‖²/4h + ‖y − x + h∇E(x)‖²/4h))
//
// so that p ∝ exp(−E) is exactly invariant. It errors on a bad config, on x that is
// not whole rows, and on an initial state that is not finite or whose energy or
// gradient is NaN; proposals with NaN or infinite energy are rejected (the chain
// stays), so the states never become NaN. It uses 3 energy-gradient buffers of the
// size of x and makes one EnergyGrad call per step.
func Run(e vgs.Energy, x []float32, cfg Config, rng *rand.Rand) (float64, error) {
	return MALA(e, x, cfg, rng)
}

// MALA is Run.
func MALA(e vgs.Energy, x []float32, cfg Config, rng *rand.Rand) (float64, error) {
	if err := cfg.check("MALA"); err != nil {
		return 0, err
	}
	if cfg.Sphere {
		return 0, fmt.Errorf("mcmc: MALA on the sphere is not implemented; use ULA with Sphere")
	}
	c, err := newChains(e, x)
	if err != nil {
		return 0, err
	}
	acc := 0
	for s := 0; s < cfg.Steps; s++ {
		a, err := c.step(cfg.Step, rng)
		if err != nil {
			return 0, err
		}
		acc += a
	}
	return float64(acc) / float64(max(1, cfg.Steps*c.B)), nil
}

// RunFor runs MALA steps (as Run) of size cfg.Step on x until the wall-clock budget
// is spent (cfg.Steps is ignored), checking the clock after every step, and returns
// the number of steps done and the mean acceptance rate. It is the "same wall time"
// baseline: give it VGS's training plus sampling time.
func RunFor(e vgs.Energy, x []float32, cfg Config, budget time.Duration, rng *rand.Rand) (int, float64, error) {
	cfg.Steps = 0
	if err := cfg.check("MALA"); err != nil {
		return 0, 0, err
	}
	if cfg.Sphere {
		return 0, 0, fmt.Errorf("mcmc: MALA on the sphere is not implemented")
	}
	c, err := newChains(e, x)
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	steps, acc := 0, 0
	for time.Since(start) < budget {
		a, err := c.step(cfg.Step, rng)
		if err != nil {
			return steps, 0, err
		}
		acc += a
		steps++
	}
	return steps, float64(acc) / float64(max(1, steps*c.B)), nil
}

// DefaultGrid is the log-spaced grid of step sizes TuneStep searches: 1e-4 … 10.
func DefaultGrid() []float64 {
	var g []float64
	for k := -4.0; k <= 1.0; k += 0.25 {
		g = append(g, math.Pow(10, k))
	}
	return g
}

// OptimalAcceptance is the asymptotically optimal MALA acceptance rate
// (Roberts & Rosenthal 1998).
const OptimalAcceptance = 0.574

// TuneStep picks the MALA step size by the acceptance-rate rule: for each h in grid
// (DefaultGrid: log-spaced 1e-4 … 10) it runs a pilot of `steps` MALA steps from a
// fresh init(rng) batch and returns the h whose mean acceptance rate is closest to
// OptimalAcceptance = 0.574, the rate that maximises MALA's efficiency for
// high-dimensional targets (Roberts & Rosenthal 1998). Ties go to the smaller h.
// Tuning by acceptance rather than by a sample-quality metric keeps the baseline
// honest: it never sees exact samples. It errors on an empty grid or a failing
// pilot.
func TuneStep(e vgs.Energy, init func(*rand.Rand) []float32, steps int, grid []float64, rng *rand.Rand) (float64, error) {
	if len(grid) == 0 {
		return 0, fmt.Errorf("mcmc: empty step-size grid")
	}
	best, bd := 0.0, math.Inf(1)
	for _, h := range grid {
		x := init(rng)
		a, err := MALA(e, x, Config{Step: h, Steps: steps}, rng)
		if err != nil {
			return 0, err
		}
		if d := math.Abs(a - OptimalAcceptance); d < bd {
			best, bd = h, d
		}
	}
	if best == 0 {
		return 0, fmt.Errorf("mcmc: empty step-size grid")
	}
	return best, nil
}

// ULA runs cfg.Steps unadjusted Langevin steps on every row of x (in place):
//
//	x ← x − h∇E(x) + √(2h)·ξ,  ξ ~ N(0, I)
//
// which samples p ∝ exp(−E) only up to an O(h) bias (there is no accept/reject).
// With cfg.Sphere every row must be a unit vector and stays one: the step
// v = −h∇E(x) + √(2h)·ξ is projected onto the tangent space, v ← v − (v·x)x, and
// the moved point is retracted by normalisation, x ← (x + v)/‖x + v‖. It errors on
// a bad config, rows that are not unit vectors (Sphere), and as soon as a state
// becomes NaN or infinite (naming the step; lower the step size).
func ULA(e vgs.Energy, x []float32, cfg Config, rng *rand.Rand) error {
	if err := cfg.check("ULA"); err != nil {
		return err
	}
	D := e.Dim()
	if len(x)%D != 0 || len(x) == 0 {
		return fmt.Errorf("mcmc: %d values are not rows of dimension %d", len(x), D)
	}
	B := len(x) / D
	if cfg.Sphere {
		for r := 0; r < B; r++ {
			if n := norm(x[r*D : (r+1)*D]); math.Abs(n-1) > 1e-3 {
				return fmt.Errorf("mcmc: ULA on the sphere: row %d has norm %g, want 1", r, n)
			}
		}
	}
	ev := make([]float32, B)
	g := make([]float32, len(x))
	v := make([]float64, D)
	sd := math.Sqrt(2 * cfg.Step)
	for s := 0; s < cfg.Steps; s++ {
		e.EnergyGrad(ev, g, x)
		for r := 0; r < B; r++ {
			xr, gr := x[r*D:(r+1)*D], g[r*D:(r+1)*D]
			for k := range v {
				v[k] = -cfg.Step*float64(gr[k]) + sd*rng.NormFloat64()
			}
			if cfg.Sphere {
				dot := 0.0
				for k, a := range xr {
					dot += v[k] * float64(a)
				}
				nn := 0.0
				for k, a := range xr {
					v[k] = float64(a) + v[k] - dot*float64(a)
					nn += v[k] * v[k]
				}
				nn = math.Sqrt(nn)
				for k := range v {
					v[k] = v[k]/nn - float64(xr[k])
				}
			}
			bad := false
			for k := range xr {
				xr[k] += float32(v[k])
				bad = bad || math.IsNaN(float64(xr[k])) || math.IsInf(float64(xr[k]), 0)
			}
			if bad {
				return fmt.Errorf("mcmc: ULA chain %d diverged (NaN or Inf) at step %d of %d; lower the step size %g", r, s+1, cfg.Steps, cfg.Step)
			}
		}
	}
	return nil
}

func norm(v []float32) float64 {
	s := 0.0
	for _, a := range v {
		s += float64(a) * float64(a)
	}
	return math.Sqrt(s)
}
