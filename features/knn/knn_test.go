package knn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/advgs/advgs/features"
)

func randGrid(rng *rand.Rand, h, w, c int) features.Grid {
	g := features.Grid{H: h, W: w, C: c, Data: make([]float32, h*w*c)}
	for i := range g.Data {
		g.Data[i] = float32(rng.NormFloat64())
	}
	return g
}

func TestScoreMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var train []features.Grid
	for i := 0; i < 3; i++ {
		train = append(train, randGrid(rng, 40, 50, 7)) // 6000 patches: two chunks
	}
	s, err := Fit(train)
	if err != nil {
		t.Fatal(err)
	}
	test := randGrid(rng, 3, 4, 7)
	copy(test.Patch(1, 1), train[2].Patch(5, 6)) // an exact match scores 0
	d, img, err := s.Score(test, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wantImg float64
	for p := 0; p < 12; p++ {
		x := test.Data[p*7 : p*7+7]
		best := math.Inf(1)
		for _, g := range train {
			for q := 0; q < g.H*g.W; q++ {
				var s float64
				for k, v := range g.Data[q*7 : q*7+7] {
					s += float64(v-x[k]) * float64(v-x[k])
				}
				best = math.Min(best, s)
			}
		}
		best = math.Sqrt(best)
		wantImg = math.Max(wantImg, best)
		if math.Abs(float64(d[p])-best) > 1e-3*(1+best) {
			t.Fatalf("patch %d: %v, brute force %v", p, d[p], best)
		}
	}
	if d[5] > 1e-2 || math.Abs(float64(img)-wantImg) > 1e-3 {
		t.Fatalf("exact match %v, image %v want %v", d[5], img, wantImg)
	}
	s.Subsample(100, rng)
	if s.Len() != 100 {
		t.Fatalf("subsample: %d", s.Len())
	}
	if _, _, err := s.Score(randGrid(rng, 2, 2, 5), nil); err == nil {
		t.Fatal("dimension mismatch accepted")
	}
}

func TestAUROC(t *testing.T) {
	a, err := AUROC([]float64{0.1, 0.4, 0.35, 0.8}, []bool{false, false, true, true})
	if err != nil || a != 0.75 {
		t.Fatalf("AUROC %v %v, want 0.75", a, err)
	}
	if a, _ := AUROC([]float64{1, 1, 1, 1}, []bool{false, true, false, true}); a != 0.5 {
		t.Fatalf("ties: %v", a)
	}
	if _, err := AUROC([]float64{1, 2}, []bool{true, true}); err == nil {
		t.Fatal("one class accepted")
	}
}
