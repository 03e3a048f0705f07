package features

import (
	"fmt"
	"image"
	"io"
	"sort"
	"sync"
)

// Backbone turns images into patch-feature grids.
//
// Extract computes one Grid per image, reusing the buffers of dst (which may be
// nil or shorter than imgs) and returning the slice of grids. Images of any size
// are stretched to the backbone input size; Grid.Geom maps cells back to each
// image's own pixels. Implementations batch the images internally; a Backbone is
// not safe for concurrent use (make one per goroutine).
type Backbone interface {
	Info() Info
	Extract(imgs []image.Image, dst []Grid) ([]Grid, error)
}

// Info describes a backbone's output, everything a model file must record to
// check that scoring uses the same features as training.
type Info struct {
	// Name is the registry name, e.g. "mobilenetv2".
	Name string
	// WeightsFile and WeightsSHA256 identify the weights ("" for weight-free backbones).
	WeightsFile   string
	WeightsSHA256 string
	// InputW, InputH are the size every image is stretched to.
	InputW, InputH int
	// GridW, GridH, Channels are the grid layout of Extract's output.
	GridW, GridH, Channels int
	// Layers lists the feature maps concatenated, in channel order.
	Layers []string
	// Preprocess describes the pixel mapping, e.g. "bilinear resize; (p-128)*0.0078125".
	Preprocess string
	// Smooth is the radius of the neighbourhood averaging (0: none).
	Smooth int
}

// Options configure a backbone. The zero value asks for the defaults.
type Options struct {
	// Weights is an explicit weights file (the --weights flag). When empty the
	// file is looked up as described in FindWeights.
	Weights string
	// Layers selects feature maps by backbone-specific name; nil means the default.
	Layers []string
	// Grid is the side of the output grid in cells; 0 means the backbone default.
	Grid int
	// Input is the side in pixels of the square input every image is stretched
	// to; 0 means the backbone default (224 for mobilenetv2, whose convolutions
	// run at any size: a larger input gives each patch a smaller share of the
	// image, at a cost that grows with the pixel count).
	Input int
	// Smooth is the radius r of the (2r+1)×(2r+1) neighbourhood averaging of patch
	// vectors before normalisation; 0 means the default (1), −1 turns it off.
	Smooth int
	// Batch is the number of images run through the network together; 0 means 8.
	Batch int
	// Threads bounds the goroutines of Go-side loops; 0 means GOMAXPROCS. The
	// mobilenetv2 backbone also runs up to Threads images of a batch at once,
	// each on its own interpreter.
	Threads int
	// Progress receives the download progress bar when weights are fetched; nil
	// means os.Stderr.
	Progress io.Writer
	// BaseURL overrides the download location of weights (tests use a loopback
	// server); "" means DefaultBaseURL.
	BaseURL string
	// CacheDir overrides the weights cache folder; "" means
	// os.UserCacheDir()/advgs.
	CacheDir string
	// Offline forbids downloads.
	Offline bool
}

func (o Options) smooth() int {
	switch {
	case o.Smooth < 0:
		return 0
	case o.Smooth == 0:
		return 1
	}
	return o.Smooth
}

func (o Options) batch() int {
	if o.Batch <= 0 {
		return 8
	}
	return o.Batch
}

// Factory builds a backbone from options.
type Factory func(Options) (Backbone, error)

var (
	regMu    sync.RWMutex
	registry = map[string]Factory{}
)

// DefaultBackbone is the name of the backbone used when none is chosen.
const DefaultBackbone = "mobilenetv2"

// Register makes a backbone available by name, as image.RegisterFormat does for
// decoders. It panics if the name is taken (a programming error).
func Register(name string, f Factory) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := registry[name]; dup {
		panic("features: backbone " + name + " registered twice")
	}
	registry[name] = f
}

// Names lists the registered backbones, sorted.
func Names() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	var n []string
	for k := range registry {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// New builds the backbone registered under name ("" means DefaultBackbone).
func New(name string, opt Options) (Backbone, error) {
	if name == "" {
		name = DefaultBackbone
	}
	regMu.RLock()
	f := registry[name]
	regMu.RUnlock()
	if f == nil {
		return nil, fmt.Errorf("features: unknown backbone %q (have %v)", name, Names())
	}
	return f(opt)
}

func init() {
	Register("mobilenetv2", newMobileNetV2)
	Register("mobilenetv1", newMobileNetV1)
	Register("filterbank", newFilterBank)
}
