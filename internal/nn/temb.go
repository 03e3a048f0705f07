package nn

import "math"

// TimeEmbedding writes the sinusoidal embedding of the step index t into dst
// (len(dst) = dim, dim even):
//
//	half = dim/2,  w_k = exp(−k·ln(10000)/(half−1)),  k = 0..half−1
//	emb(t) = [sin(t·w_0) … sin(t·w_{half−1}), cos(t·w_0) … cos(t·w_{half−1})]
//
// as in the VGS reference code (all sines first, then all cosines). For half = 1 the
// single frequency is 1.
func TimeEmbedding(dst []float32, t float64) {
	dim := len(dst)
	half := dim / 2
	for k := 0; k < half; k++ {
		w := 1.0
		if half > 1 {
			w = math.Exp(-float64(k) * math.Log(10000) / float64(half-1))
		}
		dst[k] = float32(math.Sin(t * w))
		dst[half+k] = float32(math.Cos(t * w))
	}
}
