package targets

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/advgs/advgs/internal/sharedpath"
	"github.com/advgs/advgs/vgs"
)

func TestParticleGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	x := make([]float32, 4*8)
	for i := range x {
		x[i] = float32(2 * rng.NormFloat64())
	}
	checkGradStep(t, "dw4", NewDW4(), x, 1e-5, 1e-5)
	// LJ-13 near a reasonable configuration: a jittered cubic lattice of spacing 1.1.
	y := make([]float32, 3*39)
	for r := 0; r < 3; r++ {
		for i := 0; i < 13; i++ {
			y[r*39+3*i] = float32(1.1*float64(i%3) + 0.05*rng.NormFloat64())
			y[r*39+3*i+1] = float32(1.1*float64((i/3)%3) + 0.05*rng.NormFloat64())
			y[r*39+3*i+2] = float32(1.1*float64(i/9) + 0.05*rng.NormFloat64())
		}
	}
	checkGradStep(t, "lj13", NewLJ13(), y, 1e-6, 1e-5)
}

// TestParticleInvariance: both energies are invariant to translations and particle
// permutations, so their gradients sum to zero over particles.
func TestParticleInvariance(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	for _, e := range []interface {
		vgs.Energy
		Particles() (int, int)
	}{NewDW4(), NewLJ13()} {
		n, d := e.Particles()
		x := make([]float32, n*d)
		for i := range x {
			x[i] = float32(1.2 * rng.NormFloat64())
		}
		e0, g := make([]float32, 1), make([]float32, n*d)
		e.EnergyGrad(e0, g, x)
		for k := 0; k < d; k++ {
			s := 0.0
			for i := 0; i < n; i++ {
				s += float64(g[i*d+k])
			}
			if math.Abs(s) > 1e-3*(1+math.Abs(float64(g[k]))) {
				t.Errorf("%T: gradient sums to %v in dimension %d", e, s, k)
			}
		}
		y := make([]float32, n*d)
		perm := rng.Perm(n)
		for i, p := range perm {
			for k := 0; k < d; k++ {
				y[i*d+k] = x[p*d+k] + float32(k+1)*0.75
			}
		}
		e1 := make([]float32, 1)
		e.Energy(e1, y)
		if math.Abs(float64(e1[0]-e0[0])) > 1e-4*(1+math.Abs(float64(e0[0]))) {
			t.Errorf("%T: energy %v after translation and permutation, %v before", e, e1[0], e0[0])
		}
	}
}

func TestSanityEnergies(t *testing.T) {
	// VGS.md C.4, computed in float64 from the shared files.
	cases := []struct {
		file string
		e    vgs.Energy
		want float64
	}{
		{"data/particles/test_LJ13.npy", NewLJ13(), -44.504218},
		{"data/particles/test_DW4.npy", NewDW4(), -22.357628},
		{"data/particles/val_DW4_2000.npy", NewDW4(), -25.163308},
	}
	for _, c := range cases {
		p := sharedpath.Require(t, c.file)
		data, rows, cols, err := readNPY(p)
		if err != nil {
			t.Fatal(err)
		}
		if cols != c.e.Dim() {
			t.Fatalf("%s has %d columns", c.file, cols)
		}
		e := make([]float32, rows)
		c.e.Energy(e, data)
		if math.Abs(float64(e[0])-c.want) > 2e-5*math.Abs(c.want) {
			t.Errorf("E(%s[0]) = %.6f, want %.6f", c.file, e[0], c.want)
		}
		if c.file == "data/particles/test_LJ13.npy" {
			// VGS.md C.4: over all 10,000 test configurations min −66.18, mean −43.13, max −10.21.
			mn, mx, m := math.Inf(1), math.Inf(-1), 0.0
			for _, v := range e {
				mn, mx, m = math.Min(mn, float64(v)), math.Max(mx, float64(v)), m+float64(v)/float64(rows)
			}
			if math.Abs(mn+66.18) > 0.01 || math.Abs(mx+10.21) > 0.01 || math.Abs(m+43.13) > 0.01 {
				t.Errorf("test_LJ13 energies: min %.3f mean %.3f max %.3f", mn, m, mx)
			}
		}
	}
}

func TestRemoveMeanAndDistances(t *testing.T) {
	x := []float32{1, 2, 3, 4, 5, 6, 7, 9} // 4 particles in 2-D
	RemoveMean(x, 4, 2)
	want := []float32{-3, -3.25, -1, -1.25, 1, 0.75, 3, 3.75}
	for i := range x {
		if math.Abs(float64(x[i]-want[i])) > 1e-6 {
			t.Fatalf("RemoveMean gave %v, want %v", x, want)
		}
	}
	d := PairDistances([]float32{0, 0, 3, 4, 0, 1}, 3, 2) // pairs (0,1), (0,2), (1,2)
	if len(d) != 3 || d[0] != 5 || d[1] != 1 || math.Abs(d[2]-math.Sqrt(18)) > 1e-12 {
		t.Errorf("distances %v", d)
	}
	if NumPairs(13) != 78 || NumPairs(4) != 6 {
		t.Error("NumPairs")
	}
	defer func() {
		if recover() == nil {
			t.Error("ragged rows did not panic")
		}
	}()
	RemoveMean(make([]float32, 7), 4, 2)
}
