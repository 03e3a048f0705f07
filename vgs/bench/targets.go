package bench

import (
	"fmt"

	"github.com/advgs/advgs/vgs/metrics"
	"github.com/advgs/advgs/vgs/targets"
)

// Targets lists the benchmark targets `advgs bench` knows, each with an embedded
// config of the same name.
func Targets() []string { return []string{"gmm", "funnel", "dw4", "lj13"} }

// IsParticle reports whether a config's target is a particle system, run by
// RunParticles rather than Run.
func IsParticle(energyModel string) bool { return energyModel == "dw4" || energyModel == "lj13" }

// RunAny runs the benchmark of cfg with Run or RunParticles.
func RunAny(cfg Config, opt Options) (*Result, error) {
	if IsParticle(cfg.EnergyModel.Name) {
		return RunParticles(cfg, opt)
	}
	return Run(cfg, opt)
}

// NewTarget makes the target named in a config's energy_model.name: a mixture name of
// targets.NewGMM ("grid" is the paper's GMM) or "funnel" of dimension dim.
func NewTarget(name string, dim int) (Target, error) {
	switch name {
	case "funnel":
		return targets.NewFunnel(dim)
	case "grid", "4gauss", "circle":
		if dim != 2 {
			return nil, fmt.Errorf("sampler.sample_shape: mixture %q is 2-D, got dimension %d", name, dim)
		}
		return targets.NewGMM(name)
	}
	return nil, fmt.Errorf("energy_model.name: unknown target %q (want grid, 4gauss, circle or funnel)", name)
}

// Evaluate computes the synthetic-benchmark metrics of gen against the reference
// samples ref (VGS.md D.1–D.4): sinkhorn, tvd_e, delta_std and, for a mixture,
// mode_mass_error.
func Evaluate(t Target, gen, ref []float32) map[string]float64 {
	D := t.Dim()
	eg := make([]float32, len(gen)/D)
	er := make([]float32, len(ref)/D)
	t.Energy(eg, gen)
	t.Energy(er, ref)
	m := map[string]float64{
		"sinkhorn":  finiteOr(metrics.Sinkhorn(gen, ref, D, metrics.DefaultSinkhorn())),
		"tvd_e":     metrics.TVDEnergy(f64(eg), f64(er)),
		"delta_std": finiteOr(metrics.DeltaStd(gen, t.RefStd())),
	}
	if mt, ok := t.(ModeTarget); ok {
		k, lab := mt.Modes(gen)
		m["mode_mass_error"] = metrics.ModeMassError(lab, k)
	}
	return m
}

func f64(v []float32) []float64 {
	o := make([]float64, len(v))
	for i, x := range v {
		o[i] = float64(x)
	}
	return o
}
