// Package ebm is advgs's anomaly detector: an energy-based model on patch-feature
// vectors, trained by contrastive divergence with negatives from the Value Gradient
// Sampler, its scoring, and its model files (VGS.md E, B.6; DESIGN.md).
//
// Energy. Patch vectors x are unit vectors (features.Grid). The energy is the
// autoencoder energy of the paper (AE):
//
//	ẑ = Enc(x)/‖Enc(x)‖,  r̂ = Dec(ẑ)/‖Dec(ẑ)‖,  E(x) = s²·‖x − r̂‖²/τ_E,
//
// with FCNet encoder and decoder, learnable out_scale s and τ_E = 0.1. AE implements
// vgs.Energy (batched energies and input gradients), so VGS samples from
// p(x) ∝ exp(−E(x)/τ) on the sphere, τ being sampler.tau (the paper's 1; the
// default config samples colder, see configs/mvtec.yaml).
//
// Training (Trainer, VGS.md E.5). After a short reconstruction pre-training
// (Pretrain: Adam on mean ‖x − r̂‖², standing in for the paper's unpublished
// pre-trained autoencoder), every step draws B positive patches from a shuffled pass
// over the training pool, B start points by diffusing random training patches on
// the sphere (vgs.InitialSamples), runs the sphere VGS from them (T steps, the last
// on ∇E) to get negatives x⁻, takes an Adam step on
//
//	L = mean(E⁺/D) − mean(E⁻/D) + γ·(mean((E⁺/D)²) + mean((E⁻/D)²)),
//
// with D the feature dimension, and then trains the value network by TD on the
// updated energy (vgs.Sampler.UpdateTD). The alternative negative sampler
// (SamplerLangevin) runs the same number of Riemannian Langevin steps
// (SphereLangevin) from the same start points at the same temperature.
//
// Scoring (Model). A patch's energy is its anomaly score; an image's score is its
// largest patch energy, normalised as z = (s − μ)/σ with the mean and std of the
// training images' scores; the default threshold is a high quantile of held-out
// normal images' z (Calibrate). Heat maps are the patch energies bilinearly
// upsampled to the image (features.Geometry.Upsample).
//
// Model files are safetensors with the energy's weights, the sampler's value
// networks and JSON metadata (Meta: format and version, backbone identity including
// the weights' SHA-256, feature layout, architecture, normalisation, threshold,
// config). Load refuses newer formats; Model.CheckBackbone refuses other features.
package ebm
