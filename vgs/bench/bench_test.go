package bench

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEmbeddedConfigsLoad(t *testing.T) {
	for _, name := range Targets() {
		c, err := LoadConfig(name, "")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := NewTarget(c.EnergyModel.Name, c.Sampler.Dim()); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestBadConfigsNameTheField(t *testing.T) {
	base, _ := os.ReadFile("../../configs/gmm.yaml")
	cases := map[string][2]string{
		"unknown key":   {"  n_step: 20\n", "  n_step: 20\n  n_stepz: 3\n"},
		"wrong type":    {"  n_step: 20\n", "  n_step: twenty\n"},
		"schedule":      {"s2_schedule: quad", "s2_schedule: cubic"},
		"T < 1":         {"  n_step: 20\n", "  n_step: 0\n"},
		"neg. variance": {"s2_start: 0.2", "s2_start: -0.2"},
	}
	want := map[string]string{"unknown key": "n_stepz", "wrong type": "twenty", "schedule": "s2_schedule",
		"T < 1": "n_step", "neg. variance": "s2_start"}
	for name, r := range cases {
		s := strings.Replace(string(base), r[0], r[1], 1)
		if s == string(base) {
			t.Fatalf("%s: replacement did not apply", name)
		}
		p := filepath.Join(t.TempDir(), "c.yaml")
		os.WriteFile(p, []byte(s), 0o644)
		_, err := LoadConfig("gmm", p)
		if err == nil || !strings.Contains(err.Error(), want[name]) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %v should name %q and the file", name, err, want[name])
		}
	}
}

// TestRunSmall runs the whole pipeline on a tiny budget and checks the JSON contract.
func TestRunSmall(t *testing.T) {
	c, _ := LoadConfig("gmm", "")
	c.Training.NIter = 3
	c.Training.NEval = 300
	c.Sampler.Value.Hidden, c.Sampler.Value.TEmb = 8, 8
	save := filepath.Join(t.TempDir(), "s.safetensors")
	res, err := Run(c, Options{Name: "gmm", SaveTo: save})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(res)
	var m map[string]any
	json.Unmarshal(b, &m)
	for _, k := range []string{"target", "sampler", "steps", "train_seconds", "sample_seconds", "energy_evals_train", "metrics", "baselines", "floor", "config"} {
		if _, ok := m[k]; !ok {
			t.Errorf("result JSON lacks %q", k)
		}
	}
	for _, k := range []string{"sinkhorn", "tvd_e", "delta_std", "mode_mass_error"} {
		if _, ok := res.Metrics[k]; !ok {
			t.Errorf("metrics lack %q", k)
		}
		if _, ok := res.Floor[k]; !ok {
			t.Errorf("floor lacks %q", k)
		}
	}
	if len(res.Baselines) != 2 || res.Baselines[0].Sampler != "mala" || res.Baselines[1].Sampler != "mala_walltime" {
		t.Errorf("baselines %+v", res.Baselines)
	}
	// 3 iterations × (128 last-step gradients + 128 TD targets) rows.
	if res.EnergyEvalsTrain != 3*2*128 {
		t.Errorf("energy evaluations %d", res.EnergyEvalsTrain)
	}
	if _, err := os.Stat(save); err != nil {
		t.Error(err)
	}
}
