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

// Load reads a sampler written by Save, with plain (unwrapped) value networks.
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
