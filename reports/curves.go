package reports

import (
	"fmt"
	"math"
)

// Curve is a sequence of points of a ROC curve (X = false-positive rate, Y =
// true-positive rate) or of a precision-recall curve (X = recall, Y = precision),
// one point per distinct threshold from the highest score down.
type Curve struct {
	X, Y []float64
}

// Len is the number of points.
func (c Curve) Len() int { return len(c.X) }

// XY returns point i (gonum/plot's plotter.XYer).
func (c Curve) XY(i int) (x, y float64) { return c.X[i], c.Y[i] }

// decimate keeps at most n points of c, evenly spaced in index, always keeping the
// first and the last; the curve's shape at plotting resolution is unchanged.
func (c Curve) decimate(n int) Curve {
	if n < 2 || c.Len() <= n {
		return c
	}
	out := Curve{X: make([]float64, 0, n), Y: make([]float64, 0, n)}
	for k := 0; k < n; k++ {
		i := int(math.Round(float64(k) * float64(c.Len()-1) / float64(n-1)))
		out.X = append(out.X, c.X[i])
		out.Y = append(out.Y, c.Y[i])
	}
	return out
}

// curveBuilder accumulates tie groups (highest score first) into a ROC curve, a
// precision-recall curve and the average precision.
type curveBuilder struct {
	P, N    float64
	tp, fp  float64
	roc, pr Curve
	ap      float64
}

func newCurveBuilder(P, N float64) *curveBuilder {
	b := &curveBuilder{P: P, N: N}
	b.roc.X, b.roc.Y = []float64{0}, []float64{0}
	return b
}

// add takes one tie group of dtp positives and dfp negatives.
func (b *curveBuilder) add(dtp, dfp float64) {
	b.tp += dtp
	b.fp += dfp
	b.roc.X = append(b.roc.X, b.fp/b.N)
	b.roc.Y = append(b.roc.Y, b.tp/b.P)
	if b.tp+b.fp > 0 {
		prec, rec := b.tp/(b.tp+b.fp), b.tp/b.P
		if len(b.pr.X) == 0 && rec > 0 {
			// Start the curve at recall 0 with the first precision, as drawn by
			// scikit-learn's PrecisionRecallDisplay.
			b.pr.X, b.pr.Y = append(b.pr.X, 0), append(b.pr.Y, prec)
		}
		if len(b.pr.X) > 0 {
			b.pr.X, b.pr.Y = append(b.pr.X, rec), append(b.pr.Y, prec)
		}
		b.ap += dtp / b.P * prec
	}
}

// ROC returns the ROC curve of scores against labels (true = anomalous): one point
// per distinct score, from (0, 0) to (1, 1). Its trapezoid area is AUROC.
func ROC(scores []float64, labels []bool) (Curve, error) {
	b, err := imageCurves(scores, labels)
	if err != nil {
		return Curve{}, err
	}
	return b.roc, nil
}

// PR returns the precision-recall curve of scores against labels: recall and
// precision at every distinct score taken as threshold ("anomalous when score ≥
// t"), starting at recall 0.
func PR(scores []float64, labels []bool) (Curve, error) {
	b, err := imageCurves(scores, labels)
	if err != nil {
		return Curve{}, err
	}
	return b.pr, nil
}

// AveragePrecision is AP = Σ_n (R_n − R_{n−1})·P_n over the distinct thresholds
// from the highest score down (scikit-learn's average_precision_score: the step
// area under the precision-recall curve, no interpolation).
func AveragePrecision(scores []float64, labels []bool) (float64, error) {
	b, err := imageCurves(scores, labels)
	if err != nil {
		return math.NaN(), err
	}
	return b.ap, nil
}

func imageCurves(scores []float64, labels []bool) (*curveBuilder, error) {
	if len(scores) != len(labels) {
		return nil, fmt.Errorf("reports: %d scores and %d labels", len(scores), len(labels))
	}
	P, N := count(labels)
	if P == 0 || N == 0 {
		return nil, fmt.Errorf("reports: curves need both normal and anomalous samples (have %g and %g)", N, P)
	}
	b := newCurveBuilder(P, N)
	thresholds(scores, labels, func(_ float64, dtp, dfp float64) { b.add(dtp, dfp) })
	return b, nil
}

// PixelCurves are the pixel-level ROC and precision-recall curves of a PixelSet,
// thinned to at most a given number of points, with their areas.
type PixelCurves struct {
	ROC, PR Curve
	// AUROC is the exact pixel AUROC (as PixelSet.AUROC), AP the exact pixel
	// average precision; both use every pixel, not the thinned curves.
	AUROC, AP float64
}

// Curves computes the pixel-level ROC and PR curves in one pass over the sorted
// pixels, keeping at most maxPoints points of each (0 means 1000).
func (p *PixelSet) Curves(maxPoints int) (PixelCurves, error) {
	if maxPoints <= 0 {
		maxPoints = 1000
	}
	var P float64
	for _, s := range p.regions {
		P += float64(s)
	}
	N := float64(len(p.px)) - P
	if P == 0 || N == 0 {
		return PixelCurves{}, fmt.Errorf("reports: pixel curves need normal and anomalous pixels (have %g and %g)", N, P)
	}
	b := newCurveBuilder(P, N)
	var area float64
	p.walk(func(neg int, regs map[int32]int) bool {
		dtp := 0.0
		for _, c := range regs {
			dtp += float64(c)
		}
		area += float64(neg) * (b.tp + dtp/2)
		b.add(dtp, float64(neg))
		return true
	})
	return PixelCurves{ROC: b.roc.decimate(maxPoints), PR: b.pr.decimate(maxPoints), AUROC: area / (P * N), AP: b.ap}, nil
}

// MergePixels returns a new PixelSet holding the pixels of all sets, with their
// ground-truth regions kept apart (renumbered). It lets a caller pool per-defect
// sets into a category's set, or one defect type with the good images, without
// keeping the maps.
func MergePixels(sets ...*PixelSet) *PixelSet {
	n := 0
	for _, s := range sets {
		n += len(s.px)
	}
	out := &PixelSet{px: make([]uint64, 0, n)}
	for _, s := range sets {
		off := uint64(len(out.regions))
		for _, v := range s.px {
			if uint32(v) != 0 {
				v += off
			}
			out.px = append(out.px, v)
		}
		out.regions = append(out.regions, s.regions...)
	}
	return out
}
