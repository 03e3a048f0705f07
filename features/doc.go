// Package features turns images into grids of patch-feature vectors, the input
// of advgs's energy model and of its nearest-neighbour baseline (package
// features/knn).
//
// A Backbone (looked up by name in a registry, as image decoders are: New,
// Register, Names) maps every image, stretched to its input size, to a Grid of
// H×W patch vectors of C float32 values, each L2-normalised, plus the Geometry
// that maps cells back to the image's pixels (Geometry.Upsample turns patch
// scores into a heat map). Three backbones are built in:
//
//   - "mobilenetv2" (DefaultBackbone): the ImageNet-trained, uint8-quantized
//     mobilenet_v2_1.0_224_quant.tflite run by the pure-Go interpreter of
//     features/tflite in float32 on dequantized weights. Inputs are stretched to
//     224×224 and mapped with the model's input quantization, x = (p − 128)/128.
//     The outputs of inverted-residual blocks 5 (stride 8, 28×28×32), 12
//     (stride 16, 14×14×96) and 15 (stride 32, 7×7×160) are resized bilinearly
//     to one 14×14 grid, concatenated (288 channels), averaged over each cell's
//     3×3 neighbourhood and L2-normalised, as the paper does with EfficientNet
//     stages (../shared/spec/VGS.md E.2–E.3: 272 channels from four stages).
//     Only the graph up to block 15 is run. Options.Input runs it at another
//     input size (tflite.Model.Resize); the grid keeps its side.
//   - "mobilenetv1": the same pipeline over
//     mobilenet_v1_1.0_224_quant_embedding_extractor.tflite (MobileNet v1
//     without its classifier), pointwise convolutions 11 (stride 16,
//     14×14×512) and 13 (stride 32, 7×7×1024) on a 14×14 grid, 1,536 channels:
//     the pair that localised magnetic-tile defects best in
//     ../shared/spec/FEATURES-NOTES.md, at five times the channels of the default.
//   - "filterbank": weight-free; colour mean and spread and oriented first- and
//     second-derivative energies over a three-level pyramid (31 channels, 28×28),
//     so that advgs runs with no download. It is much weaker (table below).
//
// Weights are found by FindWeights: an explicit file (Options.Weights, the
// --weights flag), $ADVGS_WEIGHTS, or the cache os.UserCacheDir()/advgs, filled
// on first use from DefaultBaseURL with a progress bar and a SHA-256 check.
//
// # Layer choice
//
// Image AUROC of the nearest-neighbour scorer (knn: image score = largest
// distance of a test patch to its nearest training patch; no map blurring) on
// the shared data. mvtec-mini: all 50 training images per category, all 10 test
// images (2 good, so the AUROC moves in steps of 1/16 and is a weak signal).
// magnetic-tile: 200 of the 634 training images (seeded random choice), a bank
// of at most 40,000 random training patches, all 710 test images. Reproduce with
//
//	ADVGS_LONG=1 go test -tags openblas -run TestLayerChoice -v -timeout 60m ./features/
//
// (about 12 minutes on 2 cores; ADVGS_LAYERS=<substring> picks rows).
//
//	| features (grid)                              | dims | hazelnut | transistor | magnetic-tile |
//	|----------------------------------------------|------|----------|------------|---------------|
//	| v2 block5+block12 (28×28)                    |  128 |    0.938 |      0.875 |         0.852 |
//	| v2 block2+block5+block12 (28×28)             |  152 |    0.938 |      1.000 |         0.836 |
//	| v2 block5+block12 (14×14)                    |  128 |    0.875 |      1.000 |         0.863 |
//	| v2 block5+block12+block15 (14×14)  ← default |  288 |    0.750 |      1.000 |         0.868 |
//	| v2 expand6+expand13 (14×14)                  |  768 |    1.000 |      0.375 |         0.840 |
//	| v2 block5+block12 (28×28), no 3×3 averaging  |  128 |    1.000 |      1.000 |         0.792 |
//	| filterbank (28×28)                           |   31 |    0.812 |      0.562 |         0.423 |
//
// The default is block5+block12+block15 on a 14×14 grid. For knn it ties with
// block5+block12 on magnetic tile, the only set here with enough test images to
// rank choices (710; standard error ≈ 0.014), and on all 571 training images
// (40,000-patch bank) it gave 0.918 image / 0.828 pixel AUROC against 0.890 /
// 0.817, and blocks 5+9+12 0.900 / 0.827 (ADVGS_LONG=1 ADVGS_COMPARE_BANK=40000
// [ADVGS_COMPARE_LAYERS=block5,block12] ADVGS_COMPARE_DATA=DIR go test -tags
// openblas -run TestCompareKNN ./cmd/advgs/). It was chosen for the energy model,
// which gains more from the stride-32 block: 0.855 → 0.876 image AUROC on
// magnetic tile against 0.815 → 0.827 with block5+block12 (README, "Detect
// anomalies"). On the mini sets the knn numbers move by one or two of 16 pairs.
// A 14×14 grid has a quarter of the patches of 28×28, which makes
// nearest-neighbour scoring and the energy model 4× cheaper, and matches the
// paper's 14×14 grid. The 3×3 averaging is worth +0.06 on magnetic tile. The expansion layers (768 dims) fail on transistor.
// The filter bank is no better than chance on magnetic tile (its colour and
// edge statistics vary more between good tiles than defects change them);
// use it for offline runs and tests only.
//
// # Speed
//
// BenchmarkMobileNetV2Features (224×224 inputs, batches of 8, 2 cores):
//
//	go test -run '^$' -bench Features -benchtime 20x ./features/                # pure Go
//	go test -tags openblas -run '^$' -bench Features -benchtime 20x ./features/ # OpenBLAS
//
//	| build                             | mobilenetv2 ms/image | filterbank ms/image |
//	|-----------------------------------|----------------------|---------------------|
//	| pure Go (gonum)                   | 48–49 (was 60–62)    | 1.6 quiet, 3 loaded |
//	| -tags openblas                    | 17.5–19 (was 27–29)  | 1.8–3               |
//
// ("was": the same machine and hour, before session 11 gave every worker its own
// interpreter and fused the 3×3 depthwise kernel; see the mobileNet type and
// tflite's depthwise3x3 for the profiles behind both.)
// Targets: ≤ 120 pure Go, ≤ 40 OpenBLAS, ≤ 15 filterbank. The profile lesson is
// in the tflite.Interpreter documentation.
package features
