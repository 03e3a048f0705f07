package bench

import (
	"fmt"
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
	}
	return c.Sampler.Validate()
}
