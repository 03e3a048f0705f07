// Package mcmc holds the Markov-chain Monte Carlo baselines the VGS benchmarks and
// the EBM are compared with: Metropolis-adjusted Langevin (MALA) and the unadjusted
// Langevin algorithm (ULA), run on a batch of independent chains.
package mcmc

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/advgs/advgs/vgs"
)

// Config is a Langevin run: the step size h and the number of steps.
type Config struct {
	Step  float64
	Steps int
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
	c := &chains{e: e, D: D, B: B, x: x, ex: make([]float32, B), g: make([]float32, len(x)),
		y: make([]float32, len(x)), ey: make([]float32, B), gy: make([]float32, len(x))}
	e.EnergyGrad(c.ex, c.g, x)
	return c, nil
}

// step makes one MALA step on every chain: the proposal
// y = x − h∇E(x) + √(2h)·ξ is accepted with probability
// min(1, exp(−E(y) + E(x) − log q(x|y) + log q(y|x))), q(b|a) = N(b; a − h∇E(a), 2h I).
// It returns the number of accepted moves.
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
			if math.IsNaN(float64(c.ex[r])) {
				return acc, fmt.Errorf("mcmc: energy is NaN")
			}
			continue // a NaN proposal is rejected
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

// MALA runs cfg.Steps Metropolis-adjusted Langevin steps of size cfg.Step on every
// row of x (updated in place) and returns the mean acceptance rate.
func MALA(e vgs.Energy, x []float32, cfg Config, rng *rand.Rand) (float64, error) {
	if !(cfg.Step > 0) {
		return 0, fmt.Errorf("mcmc: step size must be > 0, got %g", cfg.Step)
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

// RunFor runs MALA steps of size cfg.Step on x until the wall-clock budget is spent
// and returns the number of steps and the mean acceptance rate.
func RunFor(e vgs.Energy, x []float32, cfg Config, budget time.Duration, rng *rand.Rand) (int, float64, error) {
	if !(cfg.Step > 0) {
		return 0, 0, fmt.Errorf("mcmc: step size must be > 0, got %g", cfg.Step)
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

// TuneStep picks the step size from grid whose mean acceptance rate over a pilot run
// of `steps` steps from init is closest to OptimalAcceptance. Tuning by acceptance,
// not by a sample-quality metric, keeps the baseline honest: it never sees exact
// samples.
func TuneStep(e vgs.Energy, init func(*rand.Rand) []float32, steps int, grid []float64, rng *rand.Rand) (float64, error) {
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

// ULA runs cfg.Steps unadjusted Langevin steps x ← x − h∇E(x) + √(2h)·ξ on x.
func ULA(e vgs.Energy, x []float32, cfg Config, rng *rand.Rand) error {
	D := e.Dim()
	if len(x)%D != 0 {
		return fmt.Errorf("mcmc: %d values are not rows of dimension %d", len(x), D)
	}
	ev := make([]float32, len(x)/D)
	g := make([]float32, len(x))
	sd := math.Sqrt(2 * cfg.Step)
	for s := 0; s < cfg.Steps; s++ {
		e.EnergyGrad(ev, g, x)
		for i := range x {
			x[i] += -float32(cfg.Step)*g[i] + float32(sd*rng.NormFloat64())
		}
	}
	for _, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("mcmc: Langevin chain diverged (NaN or Inf); lower the step size")
		}
	}
	return nil
}
