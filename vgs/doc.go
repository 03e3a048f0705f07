// Package vgs is the Value Gradient Sampler (Yoon et al., arXiv 2502.13280): sampling
// from p(x) ∝ exp(−E(x)/τ) as a T-step controlled Markov chain
//
//	x_0 ~ N(0, σ0² I),   x_{t+1} = α_t·x_t − (s2_t·α_t²/τ)·∇V(α_t·x_t, t+1) + σ_t·ε
//
// whose drift is the gradient of a value function V learned by temporal-difference
// dynamic programming on the control cost, an upper bound of KL(sampler ‖ target).
// The last transition uses ∇E itself. The package follows ../shared/spec/VGS.md
// section A exactly: the five variance schedules, VP and VE scaling, off-policy
// exploration noise, the shuffled replay of every (x_t, t, μ_t) with resampled next
// states, the TD target with the running cost τ·(½‖μ‖²/(s2·α²) − D·ln α), l2/l1/
// smooth-l1 losses, scale_with_D and D_effective, the EMA target network, the learned
// initial std, clip_energy and clip_grad, and the unit-sphere variant used by the
// image EBM.
//
// A sampler works on any Energy (a batched energy with its input gradient) and keeps
// no global state: every random draw comes from the *rand.Rand passed in.
package vgs
