package metrics_test

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"regexp"
	"strconv"
	"testing"

	"github.com/advgs/advgs/internal/sharedpath"
	"github.com/advgs/advgs/vgs"
	"github.com/advgs/advgs/vgs/metrics"
	"github.com/advgs/advgs/vgs/targets"
)

// readNPY2 is a minimal test-only reader of 2-D little-endian float32 .npy files
// (version 1 headers); the real reader is in package datasets.
func readNPY2(t *testing.T, path string) ([]float32, int) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	hl := int(binary.LittleEndian.Uint16(b[8:10]))
	h := string(b[10 : 10+hl])
	m := regexp.MustCompile(`'descr': '<f4'.*'shape': \((\d+), (\d+)\)`).FindStringSubmatch(h)
	if m == nil || b[6] != 1 {
		t.Fatalf("%s: unexpected header %q", path, h)
	}
	c, _ := strconv.Atoi(m[2])
	raw := b[10+hl:]
	out := make([]float32, len(raw)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return out, c
}

// TestParticleFloors measures the particle metrics between two disjoint halves of
// the test file (2,000 rows drawn from each per round, mean over rounds) and checks
// them against issue 4's independent measurement: DW-4 W2 1.55, TVD-E 0.036, TVD-D
// 0.007; LJ-13 W2 3.11, TVD-E 0.070, TVD-D 0.002. One round by default, ten with
// ADVGS_LONG=1.
func TestParticleFloors(t *testing.T) {
	rounds := 1
	if os.Getenv("ADVGS_LONG") == "1" {
		rounds = 10
	}
	for _, c := range []struct {
		file              string
		e                 interface{ Particles() (int, int) }
		w2, tvdE, tvdD    float64
		w2Tol, eTol, dTol float64
	}{
		{"data/particles/test_DW4.npy", targets.NewDW4(), 1.55, 0.036, 0.007, 0.12, 0.02, 0.006},
		{"data/particles/test_LJ13.npy", targets.NewLJ13(), 3.11, 0.070, 0.002, 0.1, 0.025, 0.002},
	} {
		data, cols := readNPY2(t, sharedpath.Require(t, c.file))
		n, d := c.e.Particles()
		targets.RemoveMean(data, n, d)
		rows := len(data) / cols
		rng := rand.New(rand.NewPCG(0, 0))
		perm := rng.Perm(rows)
		half := rows / 2
		pick := func(idx []int) []float32 {
			out := make([]float32, 0, 2000*cols)
			for _, k := range rng.Perm(len(idx))[:2000] {
				out = append(out, data[idx[k]*cols:(idx[k]+1)*cols]...)
			}
			return out
		}
		en := c.e.(vgs.Energy)
		f64 := func(x []float32) []float64 {
			e := make([]float32, len(x)/cols)
			en.Energy(e, x)
			o := make([]float64, len(e))
			for i, v := range e {
				o[i] = float64(v)
			}
			return o
		}
		var w2, te, td, tdf float64
		for r := 0; r < rounds; r++ {
			a, b := pick(perm[:half]), pick(perm[half:])
			w, err := metrics.W2(a, b, cols)
			if err != nil {
				t.Fatal(err)
			}
			da, db := targets.PairDistances(a, n, d), targets.PairDistances(b, n, d)
			w2 += w / float64(rounds)
			te += metrics.TVDFixed(f64(a), f64(b), 2000) / float64(rounds)
			td += metrics.TVDFixed(da, db, 2000) / float64(rounds)
			tdf += metrics.TVDFine(da, db) / float64(rounds)
		}
		t.Logf("%s floor over %d round(s): W2 %.4f, TVD-E %.4f, TVD-D %.4f, TVD-D fine %.4f", c.file, rounds, w2, te, td, tdf)
		if math.Abs(w2-c.w2) > c.w2Tol || math.Abs(te-c.tvdE) > c.eTol || math.Abs(td-c.tvdD) > c.dTol {
			t.Errorf("%s floor W2 %.4f TVD-E %.4f TVD-D %.4f, want about %.2f %.3f %.3f", c.file, w2, te, td, c.w2, c.tvdE, c.tvdD)
		}
	}
}
