package targets

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/advgs/advgs/datasets"
	"github.com/advgs/advgs/internal/sharedpath"
)

func TestParticleGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	x := make([]float32, 3*8)
	for i := range x {
		x[i] = float32(2 * rng.NormFloat64())
	}
	checkGrad(t, "dw4", NewDW4(), x, 3e-3)
	// LJ-13 near a reasonable configuration: a jittered cubic lattice of spacing 1.1.
	y := make([]float32, 2*39)
	for r := 0; r < 2; r++ {
		for i := 0; i < 13; i++ {
			y[r*39+3*i] = float32(1.1*float64(i%3) + 0.05*rng.NormFloat64())
			y[r*39+3*i+1] = float32(1.1*float64((i/3)%3) + 0.05*rng.NormFloat64())
			y[r*39+3*i+2] = float32(1.1*float64(i/9) + 0.05*rng.NormFloat64())
		}
	}
	checkGradStep(t, "lj13", NewLJ13(), y, 1e-3, 2e-2)
}

func TestSanityEnergies(t *testing.T) {
	// VGS.md C.4, computed in float64 from the shared files.
	cases := []struct {
		file string
		e    interface {
			Energy(e, x []float32)
			Dim() int
		}
		want float64
	}{
		{"data/particles/test_LJ13.npy", NewLJ13(), -44.504218},
		{"data/particles/test_DW4.npy", NewDW4(), -22.357628},
		{"data/particles/val_DW4_2000.npy", NewDW4(), -25.163308},
	}
	for _, c := range cases {
		p := sharedpath.Require(t, c.file)
		data, _, cols, err := datasets.ReadNPY(p)
		if err != nil {
			t.Fatal(err)
		}
		if cols != c.e.Dim() {
			t.Fatalf("%s has %d columns", c.file, cols)
		}
		e := make([]float32, 1)
		c.e.Energy(e, data[:cols])
		if math.Abs(float64(e[0])-c.want) > 1e-4 {
			t.Errorf("E(%s[0]) = %.6f, want %.6f", c.file, e[0], c.want)
		}
	}
}

func TestRemoveMeanAndDistances(t *testing.T) {
	x := []float32{1, 2, 3, 4, 5, 6, 7, 9} // 4 particles in 2-D
	RemoveMean(x, 4, 2)
	sx, sy := 0.0, 0.0
	for i := 0; i < 4; i++ {
		sx += float64(x[2*i])
		sy += float64(x[2*i+1])
	}
	if math.Abs(sx) > 1e-6 || math.Abs(sy) > 1e-6 {
		t.Errorf("centroid %v %v", sx, sy)
	}
	d := PairDistances([]float32{0, 0, 3, 4, 0, 1}, 3, 2)
	if len(d) != 3 || d[0] != 5 || d[1] != 1 || math.Abs(d[2]-math.Sqrt(18)) > 1e-12 {
		t.Errorf("distances %v", d)
	}
}
