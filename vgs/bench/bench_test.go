package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/advgs/advgs/internal/sharedpath"
	"github.com/advgs/advgs/vgs"
	"github.com/advgs/advgs/vgs/targets"
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
		if IsParticle(c.EnergyModel.Name) {
			continue
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
		"lr end":        {"training:\n", "training:\n  v_lr_end: -1.0e-5\n"},
		"decay start":   {"training:\n", "training:\n  v_lr_end: 1.0e-5\n  v_lr_decay_start: 100000\n"},
	}
	want := map[string]string{"unknown key": "n_stepz", "wrong type": "twenty", "schedule": "s2_schedule",
		"T < 1": "n_step", "neg. variance": "s2_start", "lr end": "v_lr_end", "decay start": "v_lr_decay_start"}
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

// TestVLRSchedule pins the half-cosine decay of the value learning rate and checks
// that the optimiser follows it: a run whose rate decays to nearly zero ends with
// other weights than the same run at a constant rate.
func TestVLRSchedule(t *testing.T) {
	c, err := LoadConfig("gmm", "")
	if err != nil {
		t.Fatal(err)
	}
	c.Sampler.VLR = 1e-3
	if got := c.VLRAt(5, 11); got != 1e-3 {
		t.Errorf("without v_lr_end: lr %g, want v_lr", got)
	}
	end := 1e-5
	c.Training.VLREnd, c.Training.VLRDecayStart = &end, 4
	for _, tc := range []struct {
		it   int
		want float64
	}{{0, 1e-3}, {4, 1e-3}, {7, (1e-3 + 1e-5) / 2}, {10, 1e-5}, {12, 1e-5}} {
		if got := c.VLRAt(tc.it, 11); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("iteration %d of 11: lr %g, want %g", tc.it, got, tc.want)
		}
	}
	if a, b := c.VLRAt(5, 11), c.VLRAt(6, 11); !(a > b && b > (1e-3+1e-5)/2) {
		t.Errorf("lr at 5, 6: %g, %g; want decreasing and above the midpoint", a, b)
	}
	weights := func(end *float64) []float32 {
		c.Training.NIter, c.Training.BatchSize = 3, 32
		c.Training.VLREnd, c.Training.VLRDecayStart = end, 0
		c.Sampler.Value.Hidden, c.Sampler.Value.TEmb = 8, 8
		target, err := NewTarget(c.EnergyModel.Name, 2)
		if err != nil {
			t.Fatal(err)
		}
		s, _, _, err := Train(c, target, 3, rand.New(rand.NewPCG(1, 2)), Options{})
		if err != nil {
			t.Fatal(err)
		}
		ts := s.Tensors()
		var w []float32
		for _, k := range slices.Sorted(maps.Keys(ts)) {
			w = append(w, ts[k].Data...)
		}
		return w
	}
	tiny := 1e-12
	a, b, a2 := weights(nil), weights(&tiny), weights(nil)
	if !slices.Equal(a, a2) {
		t.Fatal("the same run twice gave other weights")
	}
	if slices.Equal(a, b) {
		t.Error("decaying v_lr to 1e-12 changed no weight")
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

func TestParticleFilesRejected(t *testing.T) {
	dir := t.TempDir()
	// A float32 .npy with 3 columns: wrong row length for DW-4.
	hdr := "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
	for (10+len(hdr)+1)%64 != 0 {
		hdr += " "
	}
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(hdr)+1), 0)
	b = append(append(b, hdr...), '\n')
	b = append(b, make([]byte, 24)...)
	p := filepath.Join(dir, "bad.npy")
	os.WriteFile(p, b, 0o644)
	if _, err := LoadParticles(p, dw4()); err == nil || !strings.Contains(err.Error(), "bad.npy") {
		t.Errorf("wrong row length: %v", err)
	}
	// NaN in an 8-column file.
	hdr = strings.Replace(hdr, "(2, 3)", "(1, 8)", 1)
	b = append([]byte("\x93NUMPY\x01\x00"), byte(len(hdr)+1), 0)
	b = append(append(b, hdr...), '\n')
	row := make([]byte, 32)
	row[30], row[31] = 0xc0, 0x7f // float32 NaN, little-endian
	b = append(b, row...)
	os.WriteFile(p, b, 0o644)
	if _, err := LoadParticles(p, dw4()); err == nil || !strings.Contains(err.Error(), "NaN") {
		t.Errorf("NaN row: %v", err)
	}
}

// TestRunParticlesSmall runs the DW-4 pipeline on a tiny budget.
func TestRunParticlesSmall(t *testing.T) {
	sharedpathRequire(t, "data/particles/val_DW4_2000.npy")
	res, err := RunParticles(tinyDW4(t, 2), Options{Name: "dw4"})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"w2", "w2_std", "tvd_e", "tvd_d", "tvd_d_fine"} {
		if _, ok := res.Metrics[k]; !ok {
			t.Errorf("metrics lack %s", k)
		}
		if _, ok := res.Floor[k]; !ok {
			t.Errorf("floor lacks %s", k)
		}
	}
	if f := res.Floor["w2"]; f < 1.3 || f > 3.5 { // 1.55 at 2,000 samples; larger for 300
		t.Errorf("DW-4 floor W2 %v, the reference measured 1.55", f)
	}
	if len(res.Baselines) != 2 {
		t.Errorf("baselines %+v", res.Baselines)
	}
}

// TestValIterLeavesTrainingAlone checks that validating more often changes which
// checkpoints are compared, not the training run: the validation of the last
// iteration gives the same TVD-E whether every iteration was validated or only the last.
func TestValIterLeavesTrainingAlone(t *testing.T) {
	sharedpathRequire(t, "data/particles/val_DW4_2000.npy")
	last := func(valIter int) Point {
		c := tinyDW4(t, 4)
		c.Particles.ValIter = valIter
		res, err := RunParticles(c, Options{Name: "dw4", NoMALA: true})
		if err != nil {
			t.Fatal(err)
		}
		return res.History[len(res.History)-1]
	}
	every, once := last(1), last(4)
	if every.Iter != 3 || once.Iter != 3 {
		t.Fatalf("last validations at iterations %d and %d, want 3", every.Iter, once.Iter)
	}
	if every.ValTVDE != once.ValTVDE || every.Loss != once.Loss {
		t.Errorf("val_iter 1: loss %v, tvd_e %v; val_iter 4: loss %v, tvd_e %v", every.Loss, every.ValTVDE, once.Loss, once.ValTVDE)
	}
}

func dw4() ParticleTarget { return targets.NewDW4() }

// tinyDW4 is configs/dw4.yaml cut down for tests: nIter iterations of batch 32 with
// an 8-wide value net, validated every iteration, tested on 2 rounds of 300.
func tinyDW4(t *testing.T, nIter int) Config {
	t.Helper()
	c, err := LoadConfig("dw4", "")
	if err != nil {
		t.Fatal(err)
	}
	c.Training.NIter, c.Training.BatchSize = nIter, 32
	c.Particles.ValIter, c.Particles.Rounds, c.Particles.RoundSize = 1, 2, 300
	c.Sampler.Value.Hidden, c.Sampler.Value.TEmb = 8, 8
	return c
}

func sharedpathRequire(t *testing.T, rel string) { sharedpath.Require(t, rel) }

func TestMarginals(t *testing.T) {
	m, s := Marginals([]float32{0, 1, 2, 3, 4, 8}, 2)
	want := []float64{2, 4}
	wantS := []float64{2, math.Sqrt(13)}
	for j := range m {
		if math.Abs(m[j]-want[j]) > 1e-12 || math.Abs(s[j]-wantS[j]) > 1e-12 {
			t.Errorf("dim %d: mean %v std %v, want %v %v", j, m[j], s[j], want[j], wantS[j])
		}
	}
	if got := FmtMarginals([]float32{0, 1, 2, 3, 4, 8}, 2); got != "mean [2.00 4.00] std [2.00 3.61]" {
		t.Errorf("FmtMarginals: %q", got)
	}
}

func TestParticleSummary(t *testing.T) {
	// Three DW-4 squares with sides 1, 2 and 3: smallest distances 1, 2, 3. With
	// three samples the quantiles are the sorted values at ⌊p·2⌋: 0, 1 and 1.
	var x []float32
	for _, a := range []float32{1, 2, 3} {
		x = append(x, 0, 0, a, 0, a, a, 0, a)
	}
	e32 := make([]float32, 3)
	dw4().Energy(e32, x)
	e := []float64{float64(e32[0]), float64(e32[1]), float64(e32[2])}
	slices.Sort(e)
	want := fmt.Sprintf("energy q05 %.4g q50 %.4g q95 %.4g; smallest distance q05 1.000 q50 2.000 q95 2.000", e[0], e[1], e[1])
	if got := ParticleSummary(dw4(), x); got != want {
		t.Errorf("ParticleSummary = %q, want %q", got, want)
	}
	if got := ParticleSummary(dw4(), nil); got != "no samples" {
		t.Errorf("empty: %q", got)
	}
}

// TestValStart pins which iterations are validated with particles.val_start and
// checks that a negative val_start is refused with the field's name.
func TestValStart(t *testing.T) {
	var got []int
	p := ParticleConfig{ValIter: 10, ValStart: 25}
	for it := 0; it < 60; it++ {
		if p.validates(it, 60) {
			got = append(got, it)
		}
	}
	if want := []int{34, 44, 54, 59}; !slices.Equal(got, want) {
		t.Errorf("val_iter 10 from 25 of 60: validated %v, want %v", got, want)
	}
	got = got[:0]
	p.ValStart = 0
	for it := 0; it < 25; it++ {
		if p.validates(it, 25) {
			got = append(got, it)
		}
	}
	if want := []int{9, 19, 24}; !slices.Equal(got, want) {
		t.Errorf("val_iter 10 from 0 of 25: validated %v, want %v (the reference's rule)", got, want)
	}
	wantParticleRefusal(t, "val_start: -5", "particles.val_start")
}

// wantParticleRefusal checks that configs/dw4.yaml with line added to its particles
// section is refused with an error naming field.
func wantParticleRefusal(t *testing.T, line, field string) {
	t.Helper()
	base, err := os.ReadFile("../../configs/dw4.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(base), "  val_iter:", "  "+line+"\n  val_iter:", 1)
	if s == string(base) {
		t.Fatal("configs/dw4.yaml has no particles.val_iter line to add to")
	}
	f := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(f, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfig("dw4", f); err == nil || !strings.Contains(err.Error(), field) {
		t.Errorf("%s: error %v, want one naming %s", line, err, field)
	}
}

// TestPick pins the two selection rules: the reference's (minIn 0) keeps the lowest
// TVD-E whatever the share in range, val_min_in_range skips checkpoints below it.
func TestPick(t *testing.T) {
	s, err := vgs.New(tinyDW4(t, 1).Sampler, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	ref, strict := newPick(0), newPick(0.95)
	for _, v := range []struct {
		it      int
		tvd, in float64
	}{
		{49, 0.8, 1}, {99, 1e10, 0.3}, {149, 0.2, 0.74}, {199, 0.3, 0.99}, {249, 0.25, 0.96},
	} {
		ref.offer(s, v.it, v.tvd, v.in)
		strict.offer(s, v.it, v.tvd, v.in)
	}
	if ref.iter != 149 || strict.iter != 249 || strict.in != 0.96 {
		t.Errorf("picked %d (reference rule) and %d at %.2f in range (≥ 95%%), want 149 and 249 at 0.96", ref.iter, strict.iter, strict.in)
	}
	if ref.state == nil || strict.state == nil {
		t.Error("a pick kept no weights")
	}
	if r := ref.rule(); r != "the reference's rule" {
		t.Errorf("rule %q", r)
	}
	if r := strict.rule(); !strings.Contains(r, "≥ 95%") {
		t.Errorf("rule %q", r)
	}
	wantParticleRefusal(t, "val_min_in_range: 1.5", "particles.val_min_in_range")
}

// TestEvalOtherChoice checks that the second selection evaluates the checkpoint it is
// given (its logged and returned metrics differ from those of the other checkpoint),
// returns its iteration and rule, and leaves the sampler holding the chosen one.
func TestEvalOtherChoice(t *testing.T) {
	sharedpathRequire(t, "data/particles/test_DW4.npy")
	c := tinyDW4(t, 1)
	tg := dw4()
	test, err := LoadParticles(c.Particles.TestFile, tg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := vgs.New(c.Sampler, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	best := cloneTensors(s.Tensors())
	strict := &pick{minIn: strictInRange, iter: 9, state: cloneTensors(best)}
	strict.state["init_sigma"].Data[0] *= 3 // a much wider start: other metrics
	same := &pick{minIn: strictInRange, iter: 9, state: best}
	tp := testProtocol{t: tg, test: test, so: vgs.SampleOptions{NoiseScale: 1}, nRounds: 1, size: 200}
	var a, b strings.Builder
	ca, err := evalOtherChoice(s, strict, best, tp, 7, Options{Log: &a})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Tensors()["init_sigma"].Data[0]; got != best["init_sigma"].Data[0] {
		t.Errorf("σ0 after the log %v, want the best checkpoint's %v", got, best["init_sigma"].Data[0])
	}
	cb, err := evalOtherChoice(s, same, best, tp, 7, Options{Log: &b})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(a.String(), "≥ 95%") || a.String() == b.String() {
		t.Errorf("log lines for two checkpoints:\n%s\n%s", a.String(), b.String())
	}
	if ca.Iteration != 9 || ca.Metrics["w2"] == cb.Metrics["w2"] || !strings.Contains(ca.Rule, "95%") {
		t.Errorf("returned checkpoints %+v and %+v: want iteration 9, the rule, and different metrics", ca, cb)
	}
}

// TestValMinInRangeRun runs the DW-4 pipeline with val_min_in_range 0.8 and checks the
// checkpoint it keeps against its own validation log: the lowest TVD-E among the
// checkpoints with ≥ 80 % of their validation energies in range or, when there is
// none, the reference rule's lowest TVD-E overall. (On this tiny run the shares are
// 79–86 % and the lowest TVD-E is at a checkpoint under 80 %, so the rule matters.)
func TestValMinInRangeRun(t *testing.T) {
	sharedpathRequire(t, "data/particles/val_DW4_2000.npy")
	c := tinyDW4(t, 4)
	c.Particles.ValMinInRange = 0.8
	var log strings.Builder
	res, err := RunParticles(c, Options{Name: "dw4", NoMALA: true, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	share, tvd := map[int]float64{}, map[int]float64{}
	kept := -1
	for _, l := range strings.Split(log.String(), "\n") {
		var it int
		var v float64
		if _, err := fmt.Sscanf(l, "validation at iteration %d: tvd_e %f", &it, &v); err == nil {
			tvd[it] = v
		} else if _, err := fmt.Sscanf(l, "validation at iteration %d: %f%%", &it, &v); err == nil {
			share[it] = v
		} else if _, err := fmt.Sscanf(l, "best validation tvd_e %f at iteration %d", &v, &it); err == nil {
			kept = it
		}
	}
	if len(tvd) != 4 || len(share) != 4 {
		t.Fatalf("validation log: %d TVD-E and %d share lines, want 4 each:\n%s", len(tvd), len(share), log.String())
	}
	want := -1
	for _, all := range []bool{true, false} { // the rule, then the fallback
		for it := range 4 {
			if (!all || share[it] >= 80) && (want < 0 || tvd[it] < tvd[want]) {
				want = it
			}
		}
		if want >= 0 {
			break
		}
	}
	if kept != want {
		t.Errorf("kept iteration %d, want %d (shares %v, tvd_e %v)", kept, want, share, tvd)
	}
	qualified := false
	for _, v := range share {
		qualified = qualified || v >= 80
	}
	if ck := res.Checkpoint; ck == nil || ck.Iteration != kept || math.Abs(ck.ValTVDE-tvd[kept]) > 5e-5 || ck.Fallback == qualified {
		t.Errorf("result's checkpoint %+v: want iteration %d, validation tvd_e %v, fallback %v", ck, kept, tvd[kept], !qualified)
	}
}

// TestTrainAfterIter checks that Train calls Options.AfterIter once per iteration, in
// order, and stops with its error.
func TestTrainAfterIter(t *testing.T) {
	c, _ := LoadConfig("gmm", "")
	c.Sampler.Value.Hidden, c.Sampler.Value.TEmb = 8, 8
	target, err := NewTarget(c.EnergyModel.Name, c.Sampler.Dim())
	if err != nil {
		t.Fatal(err)
	}
	var seen []int
	opt := Options{AfterIter: func(it int, s *vgs.Sampler, st vgs.TDStats) error {
		seen = append(seen, it)
		return nil
	}}
	if _, _, _, err := Train(c, target, 3, rand.New(rand.NewPCG(1, 2)), opt); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seen, []int{0, 1, 2}) {
		t.Errorf("AfterIter saw iterations %v, want 0 1 2", seen)
	}
	stop := errors.New("enough")
	opt.AfterIter = func(it int, s *vgs.Sampler, st vgs.TDStats) error {
		if it == 1 {
			return stop
		}
		return nil
	}
	if _, _, _, err := Train(c, target, 3, rand.New(rand.NewPCG(1, 2)), opt); !errors.Is(err, stop) || !strings.Contains(err.Error(), "iteration 1") {
		t.Errorf("error %v, want the callback's at iteration 1", err)
	}
}
