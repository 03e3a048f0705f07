package reports

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/advgs/advgs/vgs/bench"
)

// fakeResult fabricates a benchmark result with kept samples: exact samples as the
// reference, exact samples plus noise as VGS, a standard normal as MALA.
func fakeResult(t *testing.T, target, energy string, dim int, exact func(n int, rng *rand.Rand) []float32, particle bool) *bench.Result {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, uint64(dim)))
	n := 600
	ref := exact(n, rng)
	gen := exact(n, rng)
	for i := range gen {
		gen[i] += float32(0.1 * rng.NormFloat64())
	}
	mala := make([]float32, n*dim)
	for i := range mala {
		mala[i] = float32(rng.NormFloat64())
	}
	r := &bench.Result{Target: target, Sampler: "vgs", Steps: 20, TrainSeconds: 12.5, SampleSeconds: 0.25, NEval: n, BLAS: "gonum", Seed: 1,
		Samples: map[string][]float32{"reference": ref, "vgs": gen, "mala": mala}}
	r.Config.EnergyModel.Name = energy
	r.Config.Sampler.SampleShape = []int{dim}
	keys := []string{"sinkhorn", "tvd_e", "delta_std"}
	if particle {
		keys = []string{"w2", "w2_std", "tvd_e", "tvd_e_std", "tvd_d", "tvd_d_std"}
	}
	r.Metrics, r.Floor = map[string]float64{}, map[string]float64{}
	mm := map[string]float64{}
	for i, k := range keys {
		r.Metrics[k] = 0.1 * float64(i+1)
		r.Floor[k] = 0.01 * float64(i+1)
		mm[k] = 0.5 * float64(i+1)
	}
	r.Baselines = []bench.Baseline{{Sampler: "mala", Steps: 20, Metrics: mm}}
	for it := 0; it < 50; it += 10 {
		p := bench.Point{Iter: it, Loss: 1 / float64(it+1), Velocity: 2 + float64(it)/10, InitSigma: 1 + float64(it)/100}
		if particle {
			p.ValTVDE = 0.5 / float64(it+1)
		}
		r.History = append(r.History, p)
	}
	return r
}

func TestSamplerReport(t *testing.T) {
	gmm, err := bench.NewTarget("grid", 2)
	if err != nil {
		t.Fatal(err)
	}
	funnel, err := bench.NewTarget("funnel", 10)
	if err != nil {
		t.Fatal(err)
	}
	dw4 := func(n int, rng *rand.Rand) []float32 {
		// Four particles near the corners of a square of side 4 (DW-4's wells).
		x := make([]float32, n*8)
		for i := 0; i < n; i++ {
			for k, c := range [][2]float64{{-2, -2}, {2, -2}, {2, 2}, {-2, 2}} {
				x[i*8+2*k] = float32(c[0] + 0.2*rng.NormFloat64())
				x[i*8+2*k+1] = float32(c[1] + 0.2*rng.NormFloat64())
			}
		}
		return x
	}
	results := []*bench.Result{
		fakeResult(t, "gmm", "grid", 2, gmm.Exact, false),
		fakeResult(t, "funnel", "funnel", 10, funnel.Exact, false),
		fakeResult(t, "dw4", "dw4", 8, dw4, true),
	}
	results[0].Metrics["mode_mass_error"] = 0.0123
	dir := t.TempDir()
	if d := os.Getenv("ADVGS_SCREENSHOTS"); d != "" { // keep the report to look at
		dir = filepath.Join(d, "sampler-report")
	}
	page, err := WriteSamplerReport(dir, results, SamplerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	html := string(b)
	for _, want := range []string{
		`data-target="gmm" data-sampler="vgs"`, `<td class="mode_mass_error">0.0123</td>`,
		`data-target="dw4" data-sampler="reference"`, `<td class="w2">1.6104 ± 0.0274</td>`, // D.7
		`<td class="w2">0.1000 ± 0.2000</td>`, `data-target="funnel" data-sampler="floor"`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(html, `data-target="gmm" data-sampler="reference"`) {
		t.Error("a reference row for the GMM, which has no reference numbers")
	}
	srcs := regexp.MustCompile(`src="([^"]+)"`).FindAllStringSubmatch(html, -1)
	if len(srcs) != 3*2+3 {
		t.Errorf("%d images on the page, want 2 sample plots and training curves per target", len(srcs))
	}
	for _, m := range srcs {
		if _, err := os.Stat(filepath.Join(dir, m[1])); err != nil {
			t.Errorf("missing %s", m[1])
		}
	}
}
