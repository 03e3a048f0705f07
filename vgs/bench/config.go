package bench

import (
	"fmt"
	"math"
	"os"

	"github.com/advgs/advgs/configs"
	"github.com/advgs/advgs/vgs"
)

// Config is a benchmark config file, laid out as the reference code's configs
// (VGS.md C.6) with a quick section for short runs.
type Config struct {
	Sampler vgs.Config `yaml:"sampler" json:"sampler"`
	Buffer  struct {
		NUpdate int `yaml:"n_update" json:"n_update"`
	} `yaml:"buffer" json:"buffer"`
	EnergyModel struct {
		Name string `yaml:"name" json:"name"`
	} `yaml:"energy_model" json:"energy_model"`
	Training struct {
		NIter     int `yaml:"n_iter" json:"n_iter"`
		BatchSize int `yaml:"batch_size" json:"batch_size"`
		LogIter   int `yaml:"log_iter" json:"log_iter"`
		NEval     int `yaml:"n_eval" json:"n_eval"`
		// VLREnd and VLRDecayStart (not in the paper) decay the value network's
		// learning rate along a half cosine, from sampler.v_lr at iteration
		// v_lr_decay_start to v_lr_end at the last iteration (see VLRAt). Unset,
		// the rate stays at v_lr as in the paper.
		VLREnd        *float64 `yaml:"v_lr_end" json:"v_lr_end,omitempty"`
		VLRDecayStart int      `yaml:"v_lr_decay_start" json:"v_lr_decay_start,omitempty"`
	} `yaml:"training" json:"training"`
	OffPolicy struct {
		NoiseScale float64 `yaml:"noise_scale" json:"noise_scale"`
	} `yaml:"off_policy" json:"off_policy"`
	// Particles holds the data files and evaluation protocol of dw4 and lj13.
	Particles  ParticleConfig `yaml:"particles" json:"particles"`
	FinalNoise bool           `yaml:"final_noise" json:"final_noise"`
	Seed       uint64         `yaml:"seed" json:"seed"`
	// Quick overrides n_iter and n_eval for a run of under a minute (--quick).
	Quick struct {
		NIter int `yaml:"n_iter" json:"n_iter"`
		NEval int `yaml:"n_eval" json:"n_eval"`
	} `yaml:"quick" json:"quick"`
}

// LoadConfig reads the config of a benchmark: the file when path is not empty, else
// the embedded default named after the target. Unknown keys and wrong types are
// errors naming the file; values are validated with the field's YAML name.
func LoadConfig(target, path string) (Config, error) {
	var (
		b    []byte
		err  error
		name = path
	)
	if path != "" {
		b, err = os.ReadFile(path)
	} else {
		name = "embedded configs/" + target + ".yaml"
		b, err = configs.Get(target)
	}
	if err != nil {
		return Config{}, fmt.Errorf("reading the config: %w", err)
	}
	var c Config
	if err := vgs.DecodeYAMLStrict(b, &c, name); err != nil {
		return Config{}, err
	}
	c.Sampler.Defaults()
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}

// Validate checks the fields outside the sampler block and then the sampler's.
func (c Config) Validate() error {
	if c.Buffer.NUpdate < 1 {
		return fmt.Errorf("buffer.n_update: must be ≥ 1, got %d", c.Buffer.NUpdate)
	}
	if c.Training.NIter < 1 {
		return fmt.Errorf("training.n_iter: must be ≥ 1, got %d", c.Training.NIter)
	}
	if c.Training.BatchSize < 1 {
		return fmt.Errorf("training.batch_size: must be ≥ 1, got %d", c.Training.BatchSize)
	}
	if c.Training.NEval < 2 {
		return fmt.Errorf("training.n_eval: must be ≥ 2, got %d", c.Training.NEval)
	}
	if c.Training.LogIter < 0 {
		return fmt.Errorf("training.log_iter: must be ≥ 0, got %d", c.Training.LogIter)
	}
	if e := c.Training.VLREnd; e != nil && !(*e > 0) {
		return fmt.Errorf("training.v_lr_end: must be > 0 when set, got %g", *e)
	}
	if d := c.Training.VLRDecayStart; d < 0 || d >= c.Training.NIter {
		return fmt.Errorf("training.v_lr_decay_start: must be in [0, n_iter = %d), got %d", c.Training.NIter, d)
	}
	if c.Training.VLRDecayStart > 0 && c.Training.VLREnd == nil {
		return fmt.Errorf("training.v_lr_decay_start: needs training.v_lr_end")
	}
	if !(c.OffPolicy.NoiseScale > 0) {
		return fmt.Errorf("off_policy.noise_scale: must be > 0, got %g", c.OffPolicy.NoiseScale)
	}
	if c.Quick.NIter < 0 || c.Quick.NEval < 0 {
		return fmt.Errorf("quick: n_iter and n_eval must be ≥ 0")
	}
	if IsParticle(c.EnergyModel.Name) {
		p := c.Particles
		if p.ValFile == "" || p.TestFile == "" {
			return fmt.Errorf("particles.val_file and particles.test_file: both are needed for %s", c.EnergyModel.Name)
		}
		if p.Rounds < 1 || p.RoundSize < 2 {
			return fmt.Errorf("particles.rounds/round_size: need ≥ 1 round of ≥ 2 samples, got %d × %d", p.Rounds, p.RoundSize)
		}
		if p.ValIter < 0 || p.EvalNoiseScale < 0 {
			return fmt.Errorf("particles.val_iter and particles.eval_noise_scale: must be ≥ 0")
		}
		if p.ValStart < 0 {
			return fmt.Errorf("particles.val_start: must be ≥ 0, got %d", p.ValStart)
		}
		if !(p.ValMinInRange >= 0 && p.ValMinInRange <= 1) {
			return fmt.Errorf("particles.val_min_in_range: must be a share in [0, 1], got %g", p.ValMinInRange)
		}
	}
	return c.Sampler.Validate()
}

// VLRAt is the value network's learning rate at iteration it (0-based) of a run of
// nIter iterations: sampler.v_lr, or, with training.v_lr_end set, from iteration
// s = v_lr_decay_start on, the half cosine
//
//	lr(it) = end + ½(v_lr − end)(1 + cos(π (it − s)/(nIter − 1 − s))),
//
// which is v_lr at s and v_lr_end at the last iteration nIter − 1.
func (c Config) VLRAt(it, nIter int) float64 {
	lr0, s := c.Sampler.VLR, c.Training.VLRDecayStart
	if c.Training.VLREnd == nil || it <= s {
		return lr0
	}
	end, span := *c.Training.VLREnd, nIter-1-s
	if span <= 0 || it >= nIter-1 {
		return end
	}
	return end + 0.5*(lr0-end)*(1+math.Cos(math.Pi*float64(it-s)/float64(span)))
}
