package vgs

import (
	"math/rand/v2"
	"testing"
)

// TestOptimizerStateResume checks that a sampler rebuilt from Tensors and
// OptimizerTensors continues training exactly as the original: the same TD updates
// give the same value networks (a fresh Adam would take different first steps).
func TestOptimizerStateResume(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	cfg := testConfig(3)
	s, _ := New(cfg, rng)
	e := quadratic{dim: 2, c: 0}
	for it := 0; it < 3; it++ {
		tr, _ := s.Sample(16, e, SampleOptions{NoiseScale: 1.2, FinalNoise: true}, rng)
		if _, err := s.UpdateTD(tr, e, 1, rng); err != nil {
			t.Fatal(err)
		}
	}
	resumed, _ := New(cfg, rand.New(rand.NewPCG(9, 9)))
	fresh, _ := New(cfg, rand.New(rand.NewPCG(9, 9)))
	for _, r := range []*Sampler{resumed, fresh} {
		if err := r.SetTensors(s.Tensors()); err != nil {
			t.Fatal(err)
		}
		r.InitSigma = s.InitSigma // Tensors stores σ0 in float32
	}
	if err := resumed.SetOptimizerTensors(s.OptimizerTensors()); err != nil {
		t.Fatal(err)
	}
	tr, _ := s.Sample(16, e, SampleOptions{NoiseScale: 1.2, FinalNoise: true}, rand.New(rand.NewPCG(6, 6)))
	for _, r := range []*Sampler{s, resumed, fresh} {
		if _, err := r.UpdateTD(tr, e, 1, rand.New(rand.NewPCG(7, 7))); err != nil {
			t.Fatal(err)
		}
	}
	same := func(a, b *Sampler) bool {
		for i, p := range a.Online.Params() {
			for j, v := range p.Data {
				if b.Online.Params()[i].Data[j] != v {
					return false
				}
			}
		}
		return true
	}
	if !same(s, resumed) {
		t.Error("the resumed sampler's value network differs from the uninterrupted one")
	}
	if same(s, fresh) {
		t.Error("a sampler with a fresh Adam gave the same update: the test cannot see the optimiser state")
	}
	bad := s.OptimizerTensors()
	delete(bad, "vopt.state")
	if err := resumed.SetOptimizerTensors(bad); err == nil {
		t.Error("missing vopt.state: no error")
	}
}
