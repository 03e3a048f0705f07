package ebm

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/advgs/advgs/features"
	"github.com/advgs/advgs/internal/ckpt"
)

// ModelFormat names the model-file layout; FormatVersion is its number. Load
// refuses files with another name or a newer version.
const (
	ModelFormat   = "advgs-ebm-model"
	FormatVersion = 1
)

// Meta is the JSON metadata of a model file (safetensors header key "advgs").
type Meta struct {
	Format        string `json:"format"`
	FormatVersion int    `json:"format_version"`
	// Backbone identifies the features: name, weights file and SHA-256, input and
	// grid sizes, channels, layers, preprocessing, smoothing.
	Backbone features.Info `json:"backbone"`
	// Dim is the patch-vector length (= Backbone.Channels).
	Dim int `json:"dim"`
	// Energy is the autoencoder's architecture.
	Energy AEConfig `json:"energy"`
	// Sampler is the negative sampler used in training (vgs or langevin).
	Sampler string `json:"sampler"`
	// Categories are the training categories (one for a per-category model).
	Categories []string `json:"categories"`
	// Steps is the number of CD steps trained.
	Steps int `json:"steps"`
	// ScoreMean, ScoreStd normalise raw image scores: z = (s − mean)/std, from the
	// training images' scores.
	ScoreMean float64 `json:"score_mean"`
	ScoreStd  float64 `json:"score_std"`
	// Threshold is the decision threshold on z (anomalous when z > Threshold).
	Threshold float64 `json:"threshold"`
	// ThresholdFrom says how the threshold was chosen.
	ThresholdFrom string `json:"threshold_from"`
	// MapLow, MapHigh are the patch energies drawn as the bottom and top of heat-map
	// colour scales (median training patch energy and the raw-score threshold).
	MapLow  float64 `json:"map_low"`
	MapHigh float64 `json:"map_high"`
	// Config is the full training config.
	Config Config `json:"config"`
}

// Model is a trained detector: the energy plus everything needed to score.
type Model struct {
	Meta Meta
	AE   *AE
	// Value holds the sampler's value networks (vgs.Sampler.Tensors), kept so a model
	// file documents and can resume its sampler; scoring does not use them.
	Value map[string]ckpt.Tensor
}

// NewModel wraps a trained energy.
func NewModel(t *Trainer, info features.Info, categories []string) *Model {
	m := &Model{AE: t.AE, Value: t.Sampler.Tensors()}
	m.Meta = Meta{Format: ModelFormat, FormatVersion: FormatVersion, Backbone: info, Dim: t.D,
		Energy: t.AE.Config, Sampler: t.Kind, Categories: categories, Steps: t.Step, Config: t.Cfg,
		ScoreStd: 1}
	return m
}

// ScoreGrid writes the patch energies of g into patch (reused when large enough) and
// returns them with the raw image score, the largest patch energy (VGS.md E.6).
func (m *Model) ScoreGrid(g features.Grid, patch []float32) ([]float32, float64, error) {
	if g.C != m.Meta.Dim {
		return nil, 0, fmt.Errorf("ebm: grid has %d channels, model expects %d", g.C, m.Meta.Dim)
	}
	n := g.H * g.W
	if cap(patch) < n {
		patch = make([]float32, n)
	}
	patch = patch[:n]
	m.AE.Energy(patch, g.Data[:n*g.C])
	s := math.Inf(-1)
	for _, v := range patch {
		s = math.Max(s, float64(v))
	}
	return patch, s, nil
}

// Normalize maps a raw image score to z = (s − mean)/std.
func (m *Model) Normalize(raw float64) float64 {
	return (raw - m.Meta.ScoreMean) / m.Meta.ScoreStd
}

// Anomalous reports whether a raw image score is above the threshold.
func (m *Model) Anomalous(raw float64) bool { return m.Normalize(raw) > m.Meta.Threshold }

// Quantile returns the q-quantile of v by linear interpolation (numpy's default).
func Quantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	p := q * float64(len(s)-1)
	i := int(math.Floor(p))
	if i >= len(s)-1 {
		return s[len(s)-1]
	}
	f := p - float64(i)
	return s[i]*(1-f) + s[i+1]*f
}

// Calibrate sets the score normalisation and the threshold from normal images only,
// so it never needs defective ones: mean and std of train (raw scores of training
// images), threshold = q-quantile of the normalised held-out scores (q =
// score.threshold_quantile). Without held-out images it falls back to the training
// scores, which sit lower than unseen normals, and says so in ThresholdFrom.
// medianPatch is the median training patch energy (heat-map floor).
func (m *Model) Calibrate(train, heldout []float64, medianPatch float64) error {
	if len(train) == 0 {
		return fmt.Errorf("ebm: no training scores to calibrate with")
	}
	mean, sd := 0.0, 0.0
	for _, v := range train {
		mean += v
	}
	mean /= float64(len(train))
	for _, v := range train {
		sd += (v - mean) * (v - mean)
	}
	sd = math.Sqrt(sd / float64(len(train)))
	if !(sd > 1e-12) {
		sd = math.Max(math.Abs(mean)*1e-3, 1e-6)
	}
	m.Meta.ScoreMean, m.Meta.ScoreStd = mean, sd
	q := m.Meta.Config.Score.ThresholdQuantile
	if q == 0 {
		q = 0.99
	}
	src, from := heldout, fmt.Sprintf("%.3g quantile of %d held-out normal training images", q, len(heldout))
	if len(heldout) == 0 {
		src, from = train, fmt.Sprintf("%.3g quantile of %d training images (no held-out images; expect more false alarms)", q, len(train))
	}
	z := make([]float64, len(src))
	for i, v := range src {
		z[i] = m.Normalize(v)
	}
	m.Meta.Threshold = Quantile(z, q)
	m.Meta.ThresholdFrom = from
	m.Meta.MapLow = medianPatch
	m.Meta.MapHigh = math.Max(mean+m.Meta.Threshold*sd, medianPatch+1e-6)
	return nil
}

// Save writes the model file atomically: safetensors with the energy's weights
// (energy.*), the value networks (value.*, value_on.*, init_sigma, s2, alpha) and the
// JSON Meta under the metadata key "advgs".
func (m *Model) Save(path string) error {
	meta, err := json.Marshal(m.Meta)
	if err != nil {
		return err
	}
	f := ckpt.File{Tensors: map[string]ckpt.Tensor{}, Metadata: map[string]string{"advgs": string(meta), "format": ModelFormat}}
	for _, p := range m.AE.Params() {
		f.Tensors[p.Name] = ckpt.Tensor{Shape: p.Shape, Data: p.Data}
	}
	for k, v := range m.Value {
		f.Tensors["sampler."+k] = v
	}
	return ckpt.Save(path, f)
}

// Load reads a model file, refusing files that are not advgs models or have a newer
// format, and checking every weight's shape against the recorded architecture.
func Load(path string) (*Model, error) {
	f, err := ckpt.Load(path)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", path, err)
	}
	raw, ok := f.Metadata["advgs"]
	if !ok {
		return nil, fmt.Errorf("model %s: not an advgs model file (no \"advgs\" metadata)", path)
	}
	var meta Meta
	if err := json.Unmarshal([]byte(raw), &meta); err != nil {
		return nil, fmt.Errorf("model %s: bad metadata: %w", path, err)
	}
	if meta.Format != ModelFormat {
		return nil, fmt.Errorf("model %s: format %q, want %q", path, meta.Format, ModelFormat)
	}
	if meta.FormatVersion > FormatVersion {
		return nil, fmt.Errorf("model %s: format version %d is newer than this advgs reads (%d); update advgs", path, meta.FormatVersion, FormatVersion)
	}
	if meta.FormatVersion < 1 {
		return nil, fmt.Errorf("model %s: format version %d is not valid", path, meta.FormatVersion)
	}
	ae, err := NewAE(meta.Energy, meta.Dim, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", path, err)
	}
	for _, p := range ae.Params() {
		t, ok := f.Tensors[p.Name]
		if !ok || len(t.Data) != p.Size() {
			return nil, fmt.Errorf("model %s: tensor %s missing or not of shape %v", path, p.Name, p.Shape)
		}
		copy(p.Data, t.Data)
	}
	m := &Model{Meta: meta, AE: ae, Value: map[string]ckpt.Tensor{}}
	for k, v := range f.Tensors {
		if name, ok := strings.CutPrefix(k, "sampler."); ok {
			m.Value[name] = v
		}
	}
	return m, nil
}

// CheckBackbone refuses to score with features other than the model's: another
// backbone, another weights file (by SHA-256) or another feature layout.
func (m *Model) CheckBackbone(got features.Info) error {
	want := m.Meta.Backbone
	switch {
	case got.Name != want.Name:
		return fmt.Errorf("the model was trained on %q features, not %q (use --backbone %s)", want.Name, got.Name, want.Name)
	case got.WeightsSHA256 != want.WeightsSHA256:
		return fmt.Errorf("the model was trained with weights of SHA-256 %s (%s), these have %s (%s)",
			short(want.WeightsSHA256), want.WeightsFile, short(got.WeightsSHA256), got.WeightsFile)
	case got.Channels != want.Channels || got.GridW != want.GridW || got.GridH != want.GridH ||
		got.InputW != want.InputW || got.InputH != want.InputH || got.Smooth != want.Smooth ||
		!slices.Equal(got.Layers, want.Layers) || got.Preprocess != want.Preprocess:
		return fmt.Errorf("feature layout differs: model %dx%dx%d from %v (%s, smooth %d), backbone gives %dx%dx%d from %v (%s, smooth %d)",
			want.GridH, want.GridW, want.Channels, want.Layers, want.Preprocess, want.Smooth,
			got.GridH, got.GridW, got.Channels, got.Layers, got.Preprocess, got.Smooth)
	}
	return nil
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12] + "…"
	}
	if s == "" {
		return "(none)"
	}
	return s
}
