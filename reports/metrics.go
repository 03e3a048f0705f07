// Metrics. Conventions: a higher score means more anomalous; label true means
// anomalous. Ties count half (AUROC is the Mann–Whitney statistic
// P(s⁺ > s⁻) + ½·P(s⁺ = s⁻), the trapezoid area under the ROC curve, as
// scikit-learn's roc_auc_score). Pixel metrics pool every pixel of every test image
// of a category (VGS.md E.6; normal images contribute all-zero masks).

package reports

import (
	"fmt"
	"math"
	"sort"
)

// AUROC is the area under the ROC curve of scores against labels.
func AUROC(scores []float64, labels []bool) (float64, error) {
	if len(scores) != len(labels) {
		return math.NaN(), fmt.Errorf("reports: %d scores and %d labels", len(scores), len(labels))
	}
	P, N := count(labels)
	if P == 0 || N == 0 {
		return math.NaN(), fmt.Errorf("reports: AUROC needs both normal and anomalous samples (have %g and %g)", N, P)
	}
	var tp, area float64
	thresholds(scores, labels, func(_ float64, dtp, dfp float64) {
		area += dfp * (tp + dtp/2)
		tp += dtp
	})
	return area / (P * N), nil
}

// F1Max is the largest F1 = 2PR/(P+R) over all thresholds "anomalous when score ≥
// t", and the threshold reaching it.
func F1Max(scores []float64, labels []bool) (f1, threshold float64, err error) {
	if len(scores) != len(labels) {
		return math.NaN(), 0, fmt.Errorf("reports: %d scores and %d labels", len(scores), len(labels))
	}
	P, _ := count(labels)
	if P == 0 {
		return math.NaN(), 0, fmt.Errorf("reports: F1 needs anomalous samples")
	}
	var tp, fp float64
	thresholds(scores, labels, func(t, dtp, dfp float64) {
		tp, fp = tp+dtp, fp+dfp
		if tp > 0 {
			prec, rec := tp/(tp+fp), tp/P
			if f := 2 * prec * rec / (prec + rec); f > f1 {
				f1, threshold = f, t
			}
		}
	})
	return f1, threshold, nil
}

// thresholds walks the distinct scores from the highest down and calls fn with
// each score t and the numbers of anomalous (dtp) and normal (dfp) samples scoring
// exactly t: the steps of every threshold curve ("anomalous when score ≥ t").
func thresholds(scores []float64, labels []bool, fn func(t, dtp, dfp float64)) {
	idx := sortedDesc(scores)
	for i := 0; i < len(idx); {
		j := i
		var dtp, dfp float64
		for ; j < len(idx) && scores[idx[j]] == scores[idx[i]]; j++ {
			if labels[idx[j]] {
				dtp++
			} else {
				dfp++
			}
		}
		fn(scores[idx[i]], dtp, dfp)
		i = j
	}
}

func count(labels []bool) (P, N float64) {
	for _, l := range labels {
		if l {
			P++
		} else {
			N++
		}
	}
	return P, N
}

func sortedDesc(s []float64) []int {
	idx := make([]int, len(s))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return s[idx[a]] > s[idx[b]] })
	return idx
}

// PixelSet pools the pixels of many anomaly maps for the pixel metrics. Each pixel
// is packed into 8 bytes (its score's order-preserving bits and its region: 0 for
// normal pixels, else the id of the connected component of the ground-truth mask
// it lies in), so tens of millions of pixels fit and sort in linear time.
type PixelSet struct {
	px      []uint64
	regions []int // size of region k at index k−1
}

// Add appends a w×h score map and its mask (non-zero = anomalous; nil = all normal).
// Mask regions are the 8-connected components of the mask (as the MVTec AUPRO
// code's scipy.ndimage.label with a 3×3 structure).
func (p *PixelSet) Add(scores []float32, mask []uint8, w, h int) error {
	if len(scores) != w*h || (mask != nil && len(mask) != w*h) {
		return fmt.Errorf("reports: map of %d and mask of %d values for %dx%d pixels", len(scores), len(mask), w, h)
	}
	lab := make([]int32, w*h)
	if mask != nil {
		stack := []int{}
		for s := range mask {
			if mask[s] == 0 || lab[s] != 0 {
				continue
			}
			p.regions = append(p.regions, 0)
			id := int32(len(p.regions))
			lab[s] = id
			stack = append(stack[:0], s)
			for len(stack) > 0 {
				q := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				p.regions[id-1]++
				x, y := q%w, q/w
				for dy := -1; dy <= 1; dy++ {
					for dx := -1; dx <= 1; dx++ {
						nx, ny := x+dx, y+dy
						if nx < 0 || ny < 0 || nx >= w || ny >= h {
							continue
						}
						n := ny*w + nx
						if mask[n] != 0 && lab[n] == 0 {
							lab[n] = id
							stack = append(stack, n)
						}
					}
				}
			}
		}
	}
	for i, s := range scores {
		p.px = append(p.px, uint64(orderKey(s))<<32|uint64(uint32(lab[i])))
	}
	return nil
}

// Len is the number of pooled pixels.
func (p *PixelSet) Len() int { return len(p.px) }

// orderKey maps a float32 to a uint32 with the same order (NaN sorts high).
func orderKey(f float32) uint32 {
	b := math.Float32bits(f)
	if b&0x80000000 != 0 {
		return ^b
	}
	return b | 0x80000000
}

// sort orders the pixels by score, ascending (LSD radix sort on the 32 key bits).
func (p *PixelSet) sort() {
	tmp := make([]uint64, len(p.px))
	src, dst := p.px, tmp
	for shift := 32; shift < 64; shift += 8 {
		var cnt [257]int
		for _, v := range src {
			cnt[(v>>shift)&0xff+1]++
		}
		for i := 1; i < 257; i++ {
			cnt[i] += cnt[i-1]
		}
		for _, v := range src {
			b := (v >> shift) & 0xff
			dst[cnt[b]] = v
			cnt[b]++
		}
		src, dst = dst, src
	}
	p.px = src
}

// walk visits tie groups of pixels from the highest score down, calling fn with the
// group's normal-pixel count and its per-region counts (region id → pixels).
func (p *PixelSet) walk(fn func(neg int, regs map[int32]int) bool) {
	p.sort()
	regs := map[int32]int{}
	for i := len(p.px) - 1; i >= 0; {
		key := p.px[i] >> 32
		neg := 0
		clear(regs)
		for ; i >= 0 && p.px[i]>>32 == key; i-- {
			if r := int32(uint32(p.px[i])); r == 0 {
				neg++
			} else {
				regs[r]++
			}
		}
		if !fn(neg, regs) {
			return
		}
	}
}

// AUROC is the pixel-level AUROC over all pooled pixels.
func (p *PixelSet) AUROC() (float64, error) {
	var P, N float64
	for _, s := range p.regions {
		P += float64(s)
	}
	N = float64(len(p.px)) - P
	if P == 0 || N == 0 {
		return math.NaN(), fmt.Errorf("reports: pixel AUROC needs normal and anomalous pixels (have %g and %g)", N, P)
	}
	var tp, area float64
	p.walk(func(neg int, regs map[int32]int) bool {
		dtp := 0.0
		for _, c := range regs {
			dtp += float64(c)
		}
		area += float64(neg) * (tp + dtp/2)
		tp += dtp
		return true
	})
	return area / (P * N), nil
}

// AUPRO is the area under the per-region-overlap curve up to false-positive rate
// maxFPR, divided by maxFPR (MVTec AD's AUPRO, usually maxFPR = 0.3). At a
// threshold t, FPR is the share of normal pixels scoring ≥ t and PRO the mean over
// all ground-truth regions of the share of the region's pixels scoring ≥ t; the
// curve is integrated by trapezoids and cut at maxFPR by linear interpolation.
func (p *PixelSet) AUPRO(maxFPR float64) (float64, error) {
	K := len(p.regions)
	N := len(p.px)
	for _, s := range p.regions {
		N -= s
	}
	if K == 0 || N == 0 {
		return math.NaN(), fmt.Errorf("reports: AUPRO needs anomalous regions and normal pixels (have %d regions, %d normal pixels)", K, N)
	}
	if !(maxFPR > 0 && maxFPR <= 1) {
		return math.NaN(), fmt.Errorf("reports: AUPRO max FPR must be in (0, 1], got %g", maxFPR)
	}
	var fpr, pro, area float64
	p.walk(func(neg int, regs map[int32]int) bool {
		dpro := 0.0
		for r, c := range regs {
			dpro += float64(c) / float64(p.regions[r-1])
		}
		dpro /= float64(K)
		dfpr := float64(neg) / float64(N)
		if fpr+dfpr >= maxFPR {
			f := 1.0
			if dfpr > 0 {
				f = (maxFPR - fpr) / dfpr
			}
			area += (maxFPR - fpr) * (pro + f*dpro/2)
			fpr = maxFPR
			return false
		}
		area += dfpr * (pro + dpro/2)
		fpr += dfpr
		pro += dpro
		return true
	})
	return area / maxFPR, nil
}
