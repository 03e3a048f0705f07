package reports

import (
	"math"
	"testing"
)

func near(t *testing.T, name string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9 {
		t.Errorf("%s = %.12g, want %.12g", name, got, want)
	}
}

func TestAUROCByHand(t *testing.T) {
	// Positives 0.8, 0.4; negatives 0.5, 0.1: pairs (0.8>0.5, 0.8>0.1, 0.4<0.5, 0.4>0.1) = 3/4.
	a, err := AUROC([]float64{0.8, 0.5, 0.4, 0.1}, []bool{true, false, true, false})
	if err != nil {
		t.Fatal(err)
	}
	near(t, "AUROC", a, 0.75)
	// A tie between a positive and a negative counts half: pairs (1, ½) over 2 = 0.75.
	a, _ = AUROC([]float64{0.5, 0.5, 0.2}, []bool{true, false, false})
	near(t, "AUROC with tie", a, 0.75)
	if _, err := AUROC([]float64{1, 2}, []bool{false, false}); err == nil {
		t.Error("AUROC without positives: no error")
	}
}

func TestF1MaxByHand(t *testing.T) {
	// Descending: 0.9+, 0.8−, 0.7+, 0.1+. t=0.9: P=1,R=1/3,F=0.5. t=0.8: P=.5,R=1/3,F=0.4.
	// t=0.7: P=2/3,R=2/3,F=2/3. t=0.1: P=3/4,R=1,F=6/7.
	f, thr, err := F1Max([]float64{0.9, 0.8, 0.7, 0.1}, []bool{true, false, true, true})
	if err != nil {
		t.Fatal(err)
	}
	near(t, "F1max", f, 6.0/7)
	near(t, "threshold", thr, 0.1)
}

func TestPixelMetricsByHand(t *testing.T) {
	var p PixelSet
	// 1×4 image: region {0,1} (one component), normal {2,3}.
	if err := p.Add([]float32{0.9, 0.2, 0.5, 0.1}, []uint8{1, 1, 0, 0}, 4, 1); err != nil {
		t.Fatal(err)
	}
	a, err := p.AUROC()
	if err != nil {
		t.Fatal(err)
	}
	// pairs: 0.9 beats both, 0.2 beats 0.1 only: 3/4.
	near(t, "pixel AUROC", a, 0.75)
	// Descending: 0.9 (PRO ½, FPR 0), 0.5 (FPR ½), 0.2 (PRO 1), 0.1 (FPR 1).
	// Up to FPR 1: ½·½ + ½·1 = 0.75. Up to 0.3: 0.3·½ / 0.3 = 0.5.
	full, _ := p.AUPRO(1)
	near(t, "AUPRO(1)", full, 0.75)
	cut, _ := p.AUPRO(0.3)
	near(t, "AUPRO(0.3)", cut, 0.5)
}

func TestRegionsEightConnected(t *testing.T) {
	var p PixelSet
	// Two diagonal pixels form one region; a far pixel another; sizes 2 and 1.
	mask := []uint8{
		1, 0, 0,
		0, 1, 0,
		0, 0, 0,
		0, 0, 1,
	}
	if err := p.Add(make([]float32, 12), mask, 3, 4); err != nil {
		t.Fatal(err)
	}
	if len(p.regions) != 2 || p.regions[0] != 2 || p.regions[1] != 1 {
		t.Fatalf("regions %v, want [2 1]", p.regions)
	}
	// AUPRO weighs regions equally: region 2 (1 px) found first counts as much as region 1.
	var q PixelSet
	q.Add([]float32{0.1, 0.2, 0.9, 0.3, 0.2, 0.3}, []uint8{1, 1, 1, 0, 0, 0}, 3, 2)
	// 3 pixels on the top row are 8-connected: one region of 3. Descending:
	// 0.9 (PRO 1/3), 0.3×2 normal (FPR 2/3), 0.2: one region + one normal (PRO 2/3, FPR 1), 0.1 (PRO 1).
	got, _ := q.AUPRO(1)
	// Area: [0,2/3]·1/3 + [2/3,1]·(1/3+2/3)/2 = 2/9 + 1/6 = 7/18.
	near(t, "AUPRO", got, 7.0/18)
}

func TestRadixOrderMatchesFloats(t *testing.T) {
	vals := []float32{-3, -0.5, 0, 1e-30, 0.25, 7, float32(math.Inf(1)), float32(math.Inf(-1))}
	var p PixelSet
	p.Add(vals, nil, len(vals), 1)
	p.sort()
	prev := float32(math.Inf(-1))
	for _, v := range p.px {
		k := uint32(v >> 32)
		var f float32
		if k&0x80000000 != 0 {
			f = math.Float32frombits(k &^ 0x80000000)
		} else {
			f = math.Float32frombits(^k)
		}
		if f < prev {
			t.Fatalf("radix order broken: %g after %g", f, prev)
		}
		prev = f
	}
}
