package vgs

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"github.com/advgs/advgs/internal/ckpt"
	"github.com/advgs/advgs/internal/nn"
)

// FormatVersion names the layout of a saved sampler; Load refuses other versions.
const FormatVersion = "advgs-vgs/1"

// Tensors returns the sampler's state under the reference code's state-dict names:
// init_sigma, s2, alpha, value.<param> (target network) and value_on.<param> (online).
func (s *Sampler) Tensors() map[string]ckpt.Tensor {
	m := map[string]ckpt.Tensor{
		"init_sigma": {Shape: []int{1}, Data: []float32{float32(s.InitSigma)}},
		"s2":         {Shape: []int{len(s.S2)}, Data: toF32(s.S2)},
		"alpha":      {Shape: []int{len(s.Alpha)}, Data: toF32(s.Alpha)},
	}
	for _, p := range s.Target.Params() {
		m["value."+p.Name] = ckpt.Tensor{Shape: p.Shape, Data: p.Data}
	}
	for _, p := range s.Online.Params() {
		m["value_on."+p.Name] = ckpt.Tensor{Shape: p.Shape, Data: p.Data}
	}
	return m
}

// Save writes the sampler (config, schedules, σ0, both networks) to path as
// safetensors, atomically. extra metadata entries are stored beside the config.
func (s *Sampler) Save(path string, extra map[string]string) error {
	cfg, err := json.Marshal(s.Config)
	if err != nil {
		return err
	}
	md := map[string]string{"format": FormatVersion, "config": string(cfg)}
	for k, v := range extra {
		md[k] = v
	}
	return ckpt.Save(path, ckpt.File{Tensors: s.Tensors(), Metadata: md})
}

// Load reads a sampler written by Save; its value networks are wrapped (invariant,
// radial) as the stored config says.
func Load(path string) (*Sampler, map[string]string, error) {
	f, err := ckpt.Load(path)
	if err != nil {
		return nil, nil, err
	}
	if v := f.Metadata["format"]; v != FormatVersion {
		return nil, nil, fmt.Errorf("%s: format %q, this advgs reads %q", path, v, FormatVersion)
	}
	var cfg Config
	if err := json.Unmarshal([]byte(f.Metadata["config"]), &cfg); err != nil {
		return nil, nil, fmt.Errorf("%s: config metadata: %w", path, err)
	}
	s, err := New(cfg, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := s.SetTensors(f.Tensors); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, f.Metadata, nil
}

// SetTensors restores the state written by Tensors, checking every name and shape.
func (s *Sampler) SetTensors(m map[string]ckpt.Tensor) error {
	sig, ok := m["init_sigma"]
	if !ok || len(sig.Data) != 1 {
		return fmt.Errorf("tensor init_sigma missing or not a scalar")
	}
	s.InitSigma = float64(sig.Data[0])
	if err := setParams("value.", s.Target.Params(), m); err != nil {
		return err
	}
	return setParams("value_on.", s.Online.Params(), m)
}

func setParams(prefix string, ps []*nn.Param, m map[string]ckpt.Tensor) error {
	for _, p := range ps {
		t, ok := m[prefix+p.Name]
		if !ok {
			return fmt.Errorf("tensor %s%s missing", prefix, p.Name)
		}
		if len(t.Data) != len(p.Data) {
			return fmt.Errorf("tensor %s%s has shape %v, the network needs %v", prefix, p.Name, t.Shape, p.Shape)
		}
		copy(p.Data, t.Data)
	}
	return nil
}

func toF32(v []float64) []float32 {
	o := make([]float32, len(v))
	for i, x := range v {
		o[i] = float32(x)
	}
	return o
}

// OptimizerTensors returns the training state that Tensors leaves out: the Adam
// moments of the online value network ("vopt.m.<param>", "vopt.v.<param>"), the
// Adam state of σ0 and both step counts ("vopt.state" = [k_value, m_σ, v_σ, k_σ]).
// Training checkpoints store it so that a resumed run continues the same updates;
// model files do not need it.
func (s *Sampler) OptimizerTensors() map[string]ckpt.Tensor {
	m, v, k := s.vopt.State()
	out := map[string]ckpt.Tensor{"vopt.state": {Shape: []int{4},
		Data: []float32{float32(k), float32(s.iopt.m), float32(s.iopt.v), float32(s.iopt.k)}}}
	for i, p := range s.Online.Params() {
		out["vopt.m."+p.Name] = ckpt.Tensor{Shape: p.Shape, Data: m[i]}
		out["vopt.v."+p.Name] = ckpt.Tensor{Shape: p.Shape, Data: v[i]}
	}
	return out
}

// SetOptimizerTensors restores a state written by OptimizerTensors, checking that
// every tensor is present with the network's shapes.
func (s *Sampler) SetOptimizerTensors(t map[string]ckpt.Tensor) error {
	st, ok := t["vopt.state"]
	if !ok || len(st.Data) != 4 {
		return fmt.Errorf("tensor vopt.state missing or not of length 4")
	}
	m, v, _ := s.vopt.State()
	for i, p := range s.Online.Params() {
		for j, key := range []string{"vopt.m." + p.Name, "vopt.v." + p.Name} {
			tn, ok := t[key]
			if !ok || len(tn.Data) != len(p.Data) {
				return fmt.Errorf("tensor %s missing or of the wrong shape (the network needs %v)", key, p.Shape)
			}
			copy([][]float32{m[i], v[i]}[j], tn.Data)
		}
	}
	s.vopt.SetStep(int(st.Data[0]))
	s.iopt.m, s.iopt.v, s.iopt.k = float64(st.Data[1]), float64(st.Data[2]), int(st.Data[3])
	return nil
}
