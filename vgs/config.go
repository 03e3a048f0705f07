package vgs

import (
	"bytes"
	"fmt"
	"math"

	"github.com/advgs/advgs/internal/nn"
	"gopkg.in/yaml.v3"
)

// Config is the sampler block of a VGS config. YAML names match the reference code's
// configs (VGS.md C.6); optional values are pointers, nil meaning "not set" (None).
type Config struct {
	Value       nn.Arch  `yaml:"value"`        // value network V(x, t)
	NStep       int      `yaml:"n_step"`       // T, number of transitions
	SampleShape []int    `yaml:"sample_shape"` // shape of one sample; D = product
	S2Schedule  string   `yaml:"s2_schedule"`  // linear, quad, sigmoid, constant, exp
	S2Start     float64  `yaml:"s2_start"`     // s2 at t = 0 (nearest the noise)
	S2End       float64  `yaml:"s2_end"`       // s2 at t = T−1 (nearest the data)
	AlphaMethod string   `yaml:"alpha_method"` // vp or ve
	Tau         float64  `yaml:"tau"`          // temperature τ of p ∝ exp(−E/τ)
	EMA         *float64 `yaml:"ema"`          // target-network EMA decay; nil = hard copy
	VLR         float64  `yaml:"v_lr"`         // Adam learning rate of the value network
	ILR         *float64 `yaml:"i_lr"`         // Adam learning rate of init_sigma; nil = fixed
	ClipEnergy  *float64 `yaml:"clip_energy"`  // clamp E from above at this value
	// InitSigma (not in the paper) is σ0's starting value; nil is the reference's
	// (InitSigma0: 1 for vp, √(1+Σs2) for ve). Without i_lr σ0 stays there.
	InitSigma *float64 `yaml:"init_sigma"`
	// ClipEnergyLog (not in the paper) compresses instead of cutting: above
	// clip_energy the TD target sees c + log(1 + E − c), which keeps the order of
	// very high energies (an LJ wall) bounded. The last step's gradient is
	// treated as with the hard clamp (zero above c unless clip_grad is set and
	// clip_last_step is not).
	// Measured on LJ-13 (configs/lj13.yaml header): alone (session 10) it
	// diverged; with clip_last_step and clip_drift 3 (session 22) it trains
	// stably and helps one seed of three, hurts another, so it stays off.
	ClipEnergyLog bool `yaml:"clip_energy_log"`
	// ClipLastStep (not in the paper) clamps the last sampling step's energy at
	// clip_energy, so that samples above it take no drift there, even when
	// clip_grad is set; the reference skips that clamp whenever clip_grad is set
	// (VGS.md A.2), and then a collapsed LJ-13 configuration (E ~ 1e12, gradient
	// ~ 1e14) is thrown to coordinates beyond 1e15 by the last step.
	ClipLastStep bool `yaml:"clip_last_step"`
	// ClipDrift (not in the paper), when set to k, caps each sample's drift at
	// ‖μ_t‖ ≤ k·σ_t·√dim, k times the expected norm of that step's noise, by
	// scaling the row down. The capped drift is the policy's: the TD target's
	// velocity ½‖μ‖²/(s2·α²) then stays below ½k²·dim per step, which breaks the
	// loop in which a too-steep value function throws samples far out, their
	// velocities raise the value targets there, and the next value function is
	// steeper still (how the funnel with s2_start ≥ 2 diverged). Measured in the
	// headers of configs/gmm.yaml (whose default sets it), configs/funnel.yaml and
	// configs/lj13.yaml.
	ClipDrift  *float64 `yaml:"clip_drift"`
	ClipGrad   *float64 `yaml:"clip_grad"`    // clip the value gradients' global L2 norm
	TDLoss     nn.Loss  `yaml:"TD_loss"`      // l2 (default), l1 or smooth_l1
	DEffective *int     `yaml:"D_effective"`  // D used in every D-dependent formula
	ScaleWithD bool     `yaml:"scale_with_D"` // the network outputs V/D
	Normalize  bool     `yaml:"normalize"`    // sphere-constrained variant
	// Invariant, when set, wraps the value network in the E(n)- and permutation-
	// invariant distance features of particle systems (VGS.md B.5).
	Invariant *InvariantConfig `yaml:"invariant"`
	// Radial (not in the paper), when set, makes V invariant to rotations of the
	// coordinates after the first Keep, which it sees only through their norm
	// (Radial; for the funnel).
	Radial *RadialConfig `yaml:"radial"`
}

// RadialConfig says which coordinates a Radial value network passes through.
type RadialConfig struct {
	Keep int     `yaml:"keep"` // leading coordinates seen as they are; the rest by their norm
	Log  bool    `yaml:"log"`  // the network sees ½·log(r² + eps) instead of the norm r
	Eps  float64 `yaml:"eps"`  // ε, > 0 with log
}

// InvariantConfig describes the particle system seen by an invariant value network.
type InvariantConfig struct {
	NParticles int     `yaml:"n_particles"` // n
	NDims      int     `yaml:"n_dims"`      // spatial dimension d; samples have n·d values
	Eps        float64 `yaml:"eps"`         // ε in √(d²+ε) (reference default 1)
	Reciprocal bool    `yaml:"dis_reciprocal"`
}

// Dim is the length of one sample, the product of SampleShape.
func (c Config) Dim() int {
	d := 1
	for _, s := range c.SampleShape {
		d *= s
	}
	return d
}

// D is the effective dimension: D_effective when set, else Dim (VGS.md A.7).
func (c Config) D() int {
	if c.DEffective != nil {
		return *c.DEffective
	}
	return c.Dim()
}

// Defaults fills the values the reference code defaults: tau 1, TD_loss l2, relu,
// out_dim 1, and the value network's in_dim from sample_shape when it is 0.
func (c *Config) Defaults() {
	if c.Tau == 0 {
		c.Tau = 1
	}
	if c.TDLoss == "" {
		c.TDLoss = nn.L2
	}
	if c.Value.Out == 0 {
		c.Value.Out = 1
	}
	if c.Value.Activation == "" {
		c.Value.Activation = "relu"
	}
	if c.Value.In == 0 {
		c.Value.In = c.Dim()
		if iv := c.Invariant; iv != nil {
			c.Value.In = iv.NParticles * (iv.NParticles - 1) / 2
		}
		if rc := c.Radial; rc != nil {
			c.Value.In = rc.Keep + 1
		}
	}
}

// Validate reports the first field that is out of range, naming it as in the YAML.
func (c Config) Validate() error {
	if c.NStep < 1 {
		return fmt.Errorf("sampler.n_step: must be ≥ 1, got %d", c.NStep)
	}
	if len(c.SampleShape) == 0 {
		return fmt.Errorf("sampler.sample_shape: missing")
	}
	for _, s := range c.SampleShape {
		if s < 1 {
			return fmt.Errorf("sampler.sample_shape: entries must be ≥ 1, got %v", c.SampleShape)
		}
	}
	if _, err := MakeS2(c.S2Schedule, c.NStep, c.S2Start, c.S2End); err != nil {
		return err
	}
	if c.AlphaMethod != "vp" && c.AlphaMethod != "ve" {
		return fmt.Errorf("sampler.alpha_method: %q is not vp or ve", c.AlphaMethod)
	}
	if c.AlphaMethod == "vp" && (c.S2Start >= 1 || (c.S2Schedule != "constant" && c.S2End >= 1)) {
		return fmt.Errorf("sampler.s2_start/s2_end: vp needs variances below 1, got %g and %g", c.S2Start, c.S2End)
	}
	if !(c.Tau > 0) {
		return fmt.Errorf("sampler.tau: must be > 0, got %g", c.Tau)
	}
	if c.EMA != nil && (*c.EMA < 0 || *c.EMA >= 1) {
		return fmt.Errorf("sampler.ema: must be in [0, 1), got %g", *c.EMA)
	}
	if !(c.VLR > 0) {
		return fmt.Errorf("sampler.v_lr: must be > 0, got %g", c.VLR)
	}
	if c.ILR != nil && !(*c.ILR > 0) {
		return fmt.Errorf("sampler.i_lr: must be > 0 when set, got %g", *c.ILR)
	}
	if c.InitSigma != nil && !(*c.InitSigma > 0 && !math.IsInf(*c.InitSigma, 1)) {
		return fmt.Errorf("sampler.init_sigma: must be a positive number when set, got %g", *c.InitSigma)
	}
	if c.ClipDrift != nil && !(*c.ClipDrift > 0) {
		return fmt.Errorf("sampler.clip_drift: must be > 0 when set, got %g", *c.ClipDrift)
	}
	if c.ClipGrad != nil && !(*c.ClipGrad > 0) {
		return fmt.Errorf("sampler.clip_grad: must be > 0 when set, got %g", *c.ClipGrad)
	}
	if c.ClipEnergyLog && c.ClipEnergy == nil {
		return fmt.Errorf("sampler.clip_energy_log: needs sampler.clip_energy")
	}
	if c.ClipLastStep && c.ClipEnergy == nil {
		return fmt.Errorf("sampler.clip_last_step: needs sampler.clip_energy")
	}
	if c.ClipEnergy != nil && math.IsNaN(*c.ClipEnergy) {
		return fmt.Errorf("sampler.clip_energy: NaN")
	}
	if !c.TDLoss.Valid() {
		return fmt.Errorf("sampler.TD_loss: %q is not l2, l1 or smooth_l1", c.TDLoss)
	}
	if c.DEffective != nil && (*c.DEffective < 1 || *c.DEffective > c.Dim()) {
		return fmt.Errorf("sampler.D_effective: must be in [1, %d], got %d", c.Dim(), *c.DEffective)
	}
	if iv := c.Invariant; iv != nil {
		if iv.NParticles < 2 || iv.NDims < 1 || iv.NParticles*iv.NDims != c.Dim() {
			return fmt.Errorf("sampler.invariant: %d particles in %d-D do not make samples of dimension %d", iv.NParticles, iv.NDims, c.Dim())
		}
		if iv.Eps < 0 {
			return fmt.Errorf("sampler.invariant.eps: must be ≥ 0, got %g", iv.Eps)
		}
	}
	if rc := c.Radial; rc != nil {
		if c.Invariant != nil {
			return fmt.Errorf("sampler.radial: cannot be combined with sampler.invariant")
		}
		if rc.Keep < 0 || rc.Keep > c.Dim()-2 {
			return fmt.Errorf("sampler.radial.keep: must be in [0, %d] for samples of dimension %d, got %d", c.Dim()-2, c.Dim(), rc.Keep)
		}
		if rc.Log && !(rc.Eps > 0 && !math.IsInf(rc.Eps, 1)) {
			return fmt.Errorf("sampler.radial.eps: must be a positive number with log, got %g", rc.Eps)
		}
	}
	if err := c.Value.Validate(); err != nil {
		return fmt.Errorf("sampler.%w", err)
	}
	return nil
}

// DecodeYAMLStrict decodes b into v, rejecting unknown keys and wrong types; name is
// the file name used in errors.
func DecodeYAMLStrict(b []byte, v any, name string) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
