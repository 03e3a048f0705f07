package features

import (
	"errors"
	"fmt"
	"image"
	"runtime"
	"strings"
	"sync"

	"github.com/advgs/advgs/features/tflite"
)

// MobileNetV2File is the weights file of the mobilenetv2 backbone.
const MobileNetV2File = "mobilenet_v2_1.0_224_quant.tflite"

// MobileNetV2Layers names the feature maps of mobilenet_v2_1.0_224_quant that the
// mobilenetv2 backbone can use, by the tensor they read (the first
// ";"-separated part of the TFLite tensor name). "blockN" is the output of
// inverted-residual block N (after its residual ADD), "expandN" the ReLU6 output
// of block N's 1×1 expansion. Strides are relative to the 224-px input.
var MobileNetV2Layers = map[string]string{
	"block2":   "MobilenetV2/expanded_conv_2/add",           // stride 4, 56×56×24
	"block5":   "MobilenetV2/expanded_conv_5/add",           // stride 8, 28×28×32
	"block9":   "MobilenetV2/expanded_conv_9/add",           // stride 16, 14×14×64
	"block12":  "MobilenetV2/expanded_conv_12/add",          // stride 16, 14×14×96
	"block15":  "MobilenetV2/expanded_conv_15/add",          // stride 32, 7×7×160
	"expand6":  "MobilenetV2/expanded_conv_6/expand/Relu6",  // stride 8, 28×28×192
	"expand13": "MobilenetV2/expanded_conv_13/expand/Relu6", // stride 16, 14×14×576
}

// DefaultMobileNetV2Layers is the layer choice of the mobilenetv2 backbone; see
// the package documentation for the measurements behind it.
var DefaultMobileNetV2Layers = []string{"block5", "block12", "block15"}

// DefaultMobileNetV2Grid is the default grid side of the mobilenetv2 backbone.
const DefaultMobileNetV2Grid = 14

// MobileNetV1File is the weights file of the mobilenetv1 backbone: MobileNet v1
// (width 1.0, 224 px, uint8) without its classifier, as distributed for
// embedding extraction.
const MobileNetV1File = "mobilenet_v1_1.0_224_quant_embedding_extractor.tflite"

// MobileNetV1Layers names the feature maps of the mobilenetv1 backbone: "convN" is
// the ReLU6 output of pointwise convolution N (its depthwise-separable block N).
var MobileNetV1Layers = map[string]string{
	"conv3":  "MobilenetV1/MobilenetV1/Conv2d_3_pointwise/Relu6",  // stride 4, 56×56×128
	"conv5":  "MobilenetV1/MobilenetV1/Conv2d_5_pointwise/Relu6",  // stride 8, 28×28×256
	"conv11": "MobilenetV1/MobilenetV1/Conv2d_11_pointwise/Relu6", // stride 16, 14×14×512
	"conv13": "MobilenetV1/MobilenetV1/Conv2d_13_pointwise/Relu6", // stride 32, 7×7×1024
}

// DefaultMobileNetV1Layers is the layer choice of the mobilenetv1 backbone: the
// best-localising pair of ../shared/spec/FEATURES-NOTES.md on magnetic tile.
var DefaultMobileNetV1Layers = []string{"conv11", "conv13"}

type mobileNet struct {
	info Info
	opt  Options
	// its holds one interpreter per worker (Options.Threads): a batch is split
	// between them and they run concurrently. Profile lesson (advgs score,
	// 2 cores): with one interpreter the process used ~150 % CPU, because the
	// convolutions' SGEMMs run on one OpenBLAS thread while the second core
	// idles (more OpenBLAS threads only spin); two interpreters keep both cores busy.
	its    []*tflite.Interpreter
	inputs [][]float32 // per worker
	layers []int       // tensor indices
	inQ    [2]float32
	tmp    [][]float32
	inW    int
	inH    int
	rf     int
}

// newMobileNetV2 builds the mobilenetv2 backbone: the model's chosen
// intermediate feature maps, each bilinearly resized to a Grid×Grid grid,
// concatenated along channels, averaged over each cell's 3×3 neighbourhood
// (Options.Smooth) and L2-normalised per patch.
func newMobileNetV2(opt Options) (Backbone, error) {
	path, err := FindWeights(MobileNetV2File, opt)
	if err != nil {
		return nil, err
	}
	return NewTFLiteBackbone("mobilenetv2", path, MobileNetV2Layers, DefaultMobileNetV2Layers, DefaultMobileNetV2Grid, opt)
}

// newMobileNetV1 builds the mobilenetv1 backbone: as mobilenetv2, over the
// pointwise convolutions 11 (stride 16) and 13 (stride 32) of MobileNet v1 by
// default, 1,536 channels on a 14×14 grid.
func newMobileNetV1(opt Options) (Backbone, error) {
	path, err := FindWeights(MobileNetV1File, opt)
	if err != nil {
		return nil, err
	}
	return NewTFLiteBackbone("mobilenetv1", path, MobileNetV1Layers, DefaultMobileNetV1Layers, DefaultMobileNetV2Grid, opt)
}

// NewTFLiteBackbone builds a backbone over any uint8 image TFLite model: aliases
// maps layer names to tensor names (a layer may also be given by its full
// tensor name), defLayers and defGrid are used when opt leaves them out.
func NewTFLiteBackbone(name, path string, aliases map[string]string, defLayers []string, defGrid int, opt Options) (Backbone, error) {
	m, err := tflite.Load(path)
	if err != nil {
		return nil, err
	}
	sum, err := FileSHA256(path)
	if err != nil {
		return nil, err
	}
	if opt.Input > 0 && opt.Input < 32 {
		return nil, fmt.Errorf("features: %s: input size %d px: want at least 32 (the deepest maps have stride 32)", name, opt.Input)
	}
	if len(m.Inputs) == 1 && opt.Input > 0 {
		if err := m.Resize(opt.Input, opt.Input); err != nil {
			return nil, fmt.Errorf("features: %s: %w", path, err)
		}
	}
	in := m.Tensors[m.Inputs[0]]
	if len(in.Shape) != 4 || in.Shape[3] != 3 || len(in.Quant.Scale) != 1 {
		return nil, fmt.Errorf("features: %s: input %v of type %s is not a quantized RGB image", path, in.Shape, in.Type)
	}
	b := &mobileNet{opt: opt, inH: in.Shape[1], inW: in.Shape[2]}
	b.inQ[0] = in.Quant.Scale[0]
	if len(in.Quant.ZeroPoint) == 1 {
		b.inQ[1] = float32(in.Quant.ZeroPoint[0])
	}
	layers := opt.Layers
	if len(layers) == 0 {
		layers = defLayers
	}
	grid := opt.Grid
	if grid <= 0 {
		grid = defGrid
	}
	rf := receptiveFields(m)
	maxRF, channels := 0, 0
	for _, l := range layers {
		tn := l
		if a, ok := aliases[l]; ok {
			tn = a
		}
		idx := -1
		for i, t := range m.Tensors {
			// Weights and biases can share an activation's name; only
			// activations (no constant data) are feature maps.
			if first, _, _ := strings.Cut(t.Name, ";"); first == tn && t.Data == nil {
				idx = i
				break
			}
		}
		if idx < 0 {
			return nil, fmt.Errorf("features: %s: no layer %q (tensor %q) in %s", name, l, tn, path)
		}
		if sh := m.Tensors[idx].Shape; len(sh) != 4 {
			return nil, fmt.Errorf("features: %s: layer %q has shape %v, want a 4-D feature map", name, l, sh)
		}
		channels += m.Tensors[idx].Shape[3]
		maxRF = max(maxRF, rf[idx])
		b.layers = append(b.layers, idx)
	}
	workers := opt.Threads
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, opt.batch())
	for range workers {
		it, err := tflite.NewInterpreter(m, tflite.InterpreterOptions{Outputs: b.layers, Threads: opt.Threads})
		if err != nil {
			return nil, fmt.Errorf("features: %s: %w", path, err)
		}
		b.its = append(b.its, it)
	}
	b.inputs = make([][]float32, workers)
	b.tmp = make([][]float32, workers)
	b.info = Info{
		Name: name, WeightsFile: path, WeightsSHA256: sum,
		InputW: b.inW, InputH: b.inH, GridW: grid, GridH: grid, Channels: channels,
		Layers:     append([]string(nil), layers...),
		Preprocess: fmt.Sprintf("stretch to %d×%d (bilinear); x = (p − %g)·%g", b.inW, b.inH, b.inQ[1], b.inQ[0]),
		Smooth:     opt.smooth(),
	}
	b.rf = maxRF
	return b, nil
}

func (b *mobileNet) Info() Info { return b.info }

// Extract implements Backbone.
func (b *mobileNet) Extract(imgs []image.Image, dst []Grid) ([]Grid, error) {
	if err := checkImages(imgs); err != nil {
		return dst, err
	}
	dst = growGrids(dst, len(imgs))
	bs := b.opt.batch()
	for lo := 0; lo < len(imgs); lo += bs {
		hi := min(lo+bs, len(imgs))
		// Worker w takes the images [lo+w·share, lo+(w+1)·share) of the batch.
		share := (hi - lo + len(b.its) - 1) / len(b.its)
		errs := make([]error, len(b.its))
		var wg sync.WaitGroup
		for w := range b.its {
			a, z := lo+w*share, min(lo+(w+1)*share, hi)
			if a >= z {
				break
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[w] = b.run(w, imgs[a:z], dst[a:z])
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// run extracts the grids of imgs into dst with worker w's interpreter.
func (b *mobileNet) run(w int, imgs []image.Image, dst []Grid) error {
	n := len(imgs)
	per := b.inW * b.inH * 3
	if cap(b.inputs[w]) < n*per {
		b.inputs[w] = make([]float32, n*per)
	}
	in := b.inputs[w][:n*per]
	it := b.its[w]
	threads := max(1, b.opt.Threads/len(b.its))
	parallelImages(n, threads, func(k int) {
		toInput(imgs[k], b.inW, b.inH, b.inQ[0], b.inQ[1], in[k*per:(k+1)*per])
	})
	if err := it.Run(in, n); err != nil {
		return fmt.Errorf("features: %s: %w", b.info.Name, err)
	}
	G := b.info.GridW
	C := b.info.Channels
	tmp := b.tmp[w]
	for k := range n {
		g := &dst[k]
		g.reset(G, G, C)
		off := 0
		for _, l := range b.layers {
			buf, sh := it.Output(l)
			h, ww, c := sh[1], sh[2], sh[3]
			bilinear(buf[k*h*ww*c:(k+1)*h*ww*c], h, ww, c, g.Data, G, G, C, off)
			off += c
		}
		if r := b.info.Smooth; r > 0 {
			if cap(tmp) < len(g.Data) {
				tmp = make([]float32, len(g.Data))
			}
			boxSmooth(g, r, tmp[:len(g.Data)])
		}
		normalizePatches(g)
		bnd := imgs[k].Bounds()
		g.Geom = Geometry{ImageW: bnd.Dx(), ImageH: bnd.Dy(), InputW: b.inW, InputH: b.inH, GridW: G, GridH: G, ReceptiveField: b.rf}
	}
	b.tmp[w] = tmp
	return nil
}

// receptiveFields returns, per tensor, the side in input pixels of the input
// region that can influence one of its values, following r_out = r_in + (k−1)·d·j_in
// and j_out = j_in·stride along every operator (the maximum over inputs).
func receptiveFields(m *tflite.Model) []int {
	rf := make([]int, len(m.Tensors))
	jump := make([]int, len(m.Tensors))
	for i := range rf {
		rf[i], jump[i] = 1, 1
	}
	for _, op := range m.Operators {
		r, j := 1, 1
		for _, in := range op.Inputs {
			if in >= 0 && m.Tensors[in].Data == nil {
				r, j = max(r, rf[in]), max(j, jump[in])
			}
		}
		k, s, d := 1, 1, 1
		switch op.Code {
		case tflite.OpConv2D, tflite.OpDepthwiseConv2D:
			if w := m.Tensors[op.Inputs[1]]; len(w.Shape) == 4 {
				k = w.Shape[1]
			}
			s, d = op.Opts.StrideH, op.Opts.DilationH
		case tflite.OpAveragePool2D, tflite.OpMaxPool2D:
			k, s = op.Opts.FilterH, op.Opts.StrideH
		}
		for _, o := range op.Outputs {
			rf[o] = r + (k-1)*d*j
			jump[o] = j * s
		}
	}
	return rf
}
