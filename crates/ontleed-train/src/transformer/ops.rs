//! Training-time operations for the encoder: seeded dropout, and LayerNorm, softmax and GELU with
//! a backward pass.
//!
//! candle's fused `layer_norm` and `softmax_last_dim` have no backward pass, and its composite
//! forms cost many intermediate tensors. On the CPU the ops here are fused custom ops whose
//! backward passes are fused custom ops too (one pass over the data each, parallel over rows
//! with rayon); on other devices they fall back to candle's composite, differentiable forms.
//!
//! Dropout masks come from a seeded ChaCha8 generator owned by the caller rather than from
//! candle's device RNG (which cannot be seeded on the CPU), so a run is reproducible and its
//! state can be checkpointed ([`Dropout::state`], [`Dropout::restore`]).

use anyhow::Result;
use candle_core::{CpuStorage, CustomOp1, CustomOp2, CustomOp3, D, Layout, Shape, Tensor};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use ontleed::ner::transformer::model::Train;
use ontleed_kernels::contiguous;
use ontleed_kernels::gelu::{fast_erf, gelu};

/// Rows per rayon task in the row-wise kernels.
const ROWS_PER_TASK: usize = 64;

/// Elementwise kernels split into chunks of this many values.
const CHUNK: usize = 1 << 14;

/// Dropout with masks drawn from a seeded generator.
#[derive(Debug, Clone)]
pub struct Dropout {
    rng: ChaCha8Rng,
    /// Drop probability of hidden states (embeddings, sub-layer outputs, classifier input).
    pub hidden: f32,
    /// Drop probability of attention probabilities.
    pub attention: f32,
}

/// The state of a [`Dropout`] generator, for checkpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DropoutState {
    /// Seed the generator was created with.
    pub seed: u64,
    /// Position in the key stream, in 32-bit words (as a decimal string in JSON: it is a u128).
    #[serde(with = "u128_string")]
    pub word_pos: u128,
}

mod u128_string {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl Dropout {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64, hidden: f32, attention: f32) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
            hidden,
            attention,
        }
    }

    /// The generator's state.
    pub fn state(&self, seed: u64) -> DropoutState {
        DropoutState {
            seed,
            word_pos: self.rng.get_word_pos(),
        }
    }

    /// Sets the generator to a saved state.
    pub fn restore(&mut self, state: DropoutState) {
        self.rng = ChaCha8Rng::seed_from_u64(state.seed);
        self.rng.set_word_pos(state.word_pos);
    }

    /// Zeroes each value of `x` with probability `p` and scales the others by `1 / (1 − p)`.
    /// Probabilities are resolved to 1/65536 (four draws per 64-bit random word).
    pub fn apply(&mut self, x: &Tensor, p: f32) -> Result<Tensor> {
        if p <= 0.0 {
            return Ok(x.clone());
        }
        anyhow::ensure!(p < 1.0, "dropout probability {p} is not below 1");
        let n = x.elem_count();
        let threshold = (p * 65536.0).round() as u32;
        let scale = 1.0 / (1.0 - p);
        let mut mask = vec![0f32; n];
        for chunk in mask.chunks_mut(4) {
            let mut r = self.rng.next_u64();
            for m in chunk {
                let lane = (r & 0xffff) as u32;
                r >>= 16;
                *m = if lane >= threshold { scale } else { 0.0 };
            }
        }
        let mask = Tensor::from_vec(mask, x.shape(), x.device())?;
        Ok(x.mul(&mask.to_dtype(x.dtype())?)?)
    }
}

fn last_dim(l: &Layout) -> candle_core::Result<usize> {
    match l.dims().last() {
        Some(&d) if d > 0 => Ok(d),
        _ => candle_core::bail!("expected a non-empty last dimension"),
    }
}

/// `(x − mean) / sqrt(var + ε)` over the last dimension (LayerNorm without the affine part).
struct Normalize {
    eps: f32,
}

impl CustomOp1 for Normalize {
    fn name(&self) -> &'static str {
        "ontleed-normalize"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let x = contiguous(s, l)?;
        let h = last_dim(l)?;
        let mut out = vec![0f32; x.len()];
        out.par_chunks_mut(h * ROWS_PER_TASK)
            .zip(x.par_chunks(h * ROWS_PER_TASK))
            .for_each(|(o, x)| {
                for (o, x) in o.chunks_mut(h).zip(x.chunks(h)) {
                    let mean = x.iter().sum::<f32>() / h as f32;
                    let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / h as f32;
                    let inv = 1.0 / (var + self.eps).sqrt();
                    for (o, v) in o.iter_mut().zip(x) {
                        *o = (v - mean) * inv;
                    }
                }
            });
        Ok((CpuStorage::F32(out), l.shape().clone()))
    }

    fn bwd(
        &self,
        arg: &Tensor,
        res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<Option<Tensor>> {
        let grad = grad.contiguous()?;
        let res = res.contiguous()?;
        let arg = arg.contiguous()?;
        let dx = arg.apply_op3_no_bwd(&res, &grad, &NormalizeBackward { eps: self.eps })?;
        Ok(Some(dx))
    }
}

/// Backward of [`Normalize`] on `(x, x̂, g)`: `dx = (g − mean(g) − x̂ · mean(g · x̂)) / σ`.
struct NormalizeBackward {
    eps: f32,
}

impl CustomOp3 for NormalizeBackward {
    fn name(&self) -> &'static str {
        "ontleed-normalize-bwd"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let x = contiguous(s1, l1)?;
        let xhat = contiguous(s2, l2)?;
        let g = contiguous(s3, l3)?;
        let h = last_dim(l1)?;
        let mut out = vec![0f32; x.len()];
        let w = h * ROWS_PER_TASK;
        out.par_chunks_mut(w)
            .zip(x.par_chunks(w))
            .zip(xhat.par_chunks(w).zip(g.par_chunks(w)))
            .for_each(|((o, x), (xh, g))| {
                for (((o, x), xh), g) in o
                    .chunks_mut(h)
                    .zip(x.chunks(h))
                    .zip(xh.chunks(h))
                    .zip(g.chunks(h))
                {
                    let mean = x.iter().sum::<f32>() / h as f32;
                    let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / h as f32;
                    let inv = 1.0 / (var + self.eps).sqrt();
                    let mg = g.iter().sum::<f32>() / h as f32;
                    let mgx = g.iter().zip(xh).map(|(a, b)| a * b).sum::<f32>() / h as f32;
                    for ((o, g), xh) in o.iter_mut().zip(g).zip(xh) {
                        *o = (g - mg - xh * mgx) * inv;
                    }
                }
            });
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }
}

/// Softmax over the last dimension.
struct Softmax;

impl CustomOp1 for Softmax {
    fn name(&self) -> &'static str {
        "ontleed-softmax"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let x = contiguous(s, l)?;
        let h = last_dim(l)?;
        let mut out = vec![0f32; x.len()];
        out.par_chunks_mut(h * ROWS_PER_TASK)
            .zip(x.par_chunks(h * ROWS_PER_TASK))
            .for_each(|(o, x)| {
                for (o, x) in o.chunks_mut(h).zip(x.chunks(h)) {
                    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                    let mut sum = 0.0;
                    for (o, v) in o.iter_mut().zip(x) {
                        *o = (v - max).exp();
                        sum += *o;
                    }
                    let inv = 1.0 / sum;
                    o.iter_mut().for_each(|v| *v *= inv);
                }
            });
        Ok((CpuStorage::F32(out), l.shape().clone()))
    }

    fn bwd(
        &self,
        _arg: &Tensor,
        res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<Option<Tensor>> {
        let dx = res
            .contiguous()?
            .apply_op2_no_bwd(&grad.contiguous()?, &SoftmaxBackward)?;
        Ok(Some(dx))
    }
}

/// Backward of [`Softmax`]: `dx = y · (g − Σ g·y)`.
struct SoftmaxBackward;

impl CustomOp2 for SoftmaxBackward {
    fn name(&self) -> &'static str {
        "ontleed-softmax-bwd"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let y = contiguous(s1, l1)?;
        let g = contiguous(s2, l2)?;
        let h = last_dim(l1)?;
        let mut out = vec![0f32; y.len()];
        let w = h * ROWS_PER_TASK;
        out.par_chunks_mut(w)
            .zip(y.par_chunks(w).zip(g.par_chunks(w)))
            .for_each(|(o, (y, g))| {
                for ((o, y), g) in o.chunks_mut(h).zip(y.chunks(h)).zip(g.chunks(h)) {
                    let dot = y.iter().zip(g).map(|(a, b)| a * b).sum::<f32>();
                    for ((o, y), g) in o.iter_mut().zip(y).zip(g) {
                        *o = y * (g - dot);
                    }
                }
            });
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }
}

/// Exact (erf) GELU.
struct Gelu;

fn gelu_grad(x: f32) -> f32 {
    let cdf = 0.5 * (1.0 + fast_erf(x * std::f32::consts::FRAC_1_SQRT_2));
    let pdf = (-0.5 * x * x).exp()
        * (0.5 * std::f32::consts::FRAC_2_SQRT_PI * std::f32::consts::FRAC_1_SQRT_2);
    cdf + x * pdf
}

impl CustomOp1 for Gelu {
    fn name(&self) -> &'static str {
        "ontleed-gelu"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let x = contiguous(s, l)?;
        let mut out = vec![0f32; x.len()];
        out.par_chunks_mut(CHUNK)
            .zip(x.par_chunks(CHUNK))
            .for_each(|(o, x)| o.iter_mut().zip(x).for_each(|(o, &v)| *o = gelu(v)));
        Ok((CpuStorage::F32(out), l.shape().clone()))
    }

    fn bwd(
        &self,
        arg: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<Option<Tensor>> {
        let dx = arg
            .contiguous()?
            .apply_op2_no_bwd(&grad.contiguous()?, &GeluBackward)?;
        Ok(Some(dx))
    }
}

/// Backward of [`Gelu`]: `dx = g · (Φ(x) + x φ(x))`.
struct GeluBackward;

impl CustomOp2 for GeluBackward {
    fn name(&self) -> &'static str {
        "ontleed-gelu-bwd"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let x = contiguous(s1, l1)?;
        let g = contiguous(s2, l2)?;
        let mut out = vec![0f32; x.len()];
        out.par_chunks_mut(CHUNK)
            .zip(x.par_chunks(CHUNK).zip(g.par_chunks(CHUNK)))
            .for_each(|(o, (x, g))| {
                for ((o, &x), &g) in o.iter_mut().zip(x).zip(g) {
                    *o = g * gelu_grad(x);
                }
            });
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }
}

fn cpu_f32(x: &Tensor) -> bool {
    x.device().is_cpu() && x.dtype() == candle_core::DType::F32
}

/// LayerNorm over the last dimension, differentiable in `x`, `weight` and `bias`.
pub fn layer_norm(x: &Tensor, weight: &Tensor, bias: &Tensor, eps: f64) -> Result<Tensor> {
    let normed = if cpu_f32(x) {
        x.contiguous()?.apply_op1(Normalize { eps: eps as f32 })?
    } else {
        let mean = x.mean_keepdim(D::Minus1)?;
        let centred = x.broadcast_sub(&mean)?;
        let var = centred.sqr()?.mean_keepdim(D::Minus1)?;
        centred.broadcast_div(&(var + eps)?.sqrt()?)?
    };
    Ok(normed.broadcast_mul(weight)?.broadcast_add(bias)?)
}

/// Softmax over the last dimension, differentiable.
pub fn softmax(x: &Tensor) -> Result<Tensor> {
    if cpu_f32(x) {
        Ok(x.contiguous()?.apply_op1(Softmax)?)
    } else {
        Ok(candle_nn::ops::softmax(x, D::Minus1)?)
    }
}

/// Exact (erf) GELU, differentiable.
pub fn gelu_erf(x: &Tensor) -> Result<Tensor> {
    if cpu_f32(x) {
        Ok(x.contiguous()?.apply_op1(Gelu)?)
    } else {
        Ok(x.gelu_erf()?)
    }
}

/// The training forward pass of the encoder: [`Dropout`]'s masks, and the ops above.
impl Train for Dropout {
    fn drop_hidden(&mut self, x: &Tensor) -> Result<Tensor> {
        let p = self.hidden;
        self.apply(x, p)
    }

    fn attention_probs(&mut self, scores: &Tensor) -> Result<Tensor> {
        let p = self.attention;
        self.apply(&softmax(scores)?, p)
    }

    fn layer_norm(&self, x: &Tensor, weight: &Tensor, bias: &Tensor, eps: f64) -> Result<Tensor> {
        layer_norm(x, weight, bias, eps)
    }

    fn gelu_erf(&self, x: &Tensor) -> Result<Tensor> {
        gelu_erf(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    fn close(a: &Tensor, b: &Tensor, tol: f32) {
        let a: Vec<f32> = a.flatten_all().unwrap().to_vec1().unwrap();
        let b: Vec<f32> = b.flatten_all().unwrap().to_vec1().unwrap();
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() <= tol * (1.0 + y.abs()), "{x} vs {y}");
        }
    }

    fn input() -> Tensor {
        let v: Vec<f32> = (0..3 * 5 * 7)
            .map(|i| ((i * 37 % 23) as f32 - 11.0) / 5.0)
            .collect();
        Tensor::from_vec(v, (3, 5, 7), &Device::Cpu).unwrap()
    }

    /// The fused ops and their backward passes agree with candle's composite forms.
    #[test]
    fn fused_ops_match_composites() {
        let x = Var::from_tensor(&input()).unwrap();
        let w = Tensor::from_vec(
            (0..7).map(|i| 0.5 + i as f32 / 7.0).collect(),
            7,
            &Device::Cpu,
        )
        .unwrap();
        let b =
            Tensor::from_vec((0..7).map(|i| i as f32 / 10.0).collect(), 7, &Device::Cpu).unwrap();
        let probe = input().sin().unwrap();
        type Op = fn(&Tensor, &Tensor, &Tensor) -> (Tensor, Tensor);
        let cases: [(Op, Op); 3] = [
            (
                |x, w, b| (layer_norm(x, w, b, 1e-5).unwrap(), x.clone()),
                |x, w, b| {
                    let ln = candle_nn::LayerNorm::new(w.clone(), b.clone(), 1e-5);
                    // Non-contiguous input takes candle's composite (differentiable) path.
                    let xt = x.transpose(0, 1).unwrap();
                    let y = candle_core::Module::forward(&ln, &xt).unwrap();
                    (y.transpose(0, 1).unwrap(), x.clone())
                },
            ),
            (
                |x, _, _| (softmax(x).unwrap(), x.clone()),
                |x, _, _| (candle_nn::ops::softmax(x, D::Minus1).unwrap(), x.clone()),
            ),
            (
                |x, _, _| (gelu_erf(x).unwrap(), x.clone()),
                |x, _, _| (x.gelu_erf().unwrap(), x.clone()),
            ),
        ];
        for (fused, reference) in cases {
            let (y1, _) = fused(x.as_tensor(), &w, &b);
            let (y2, _) = reference(x.as_tensor(), &w, &b);
            close(&y1, &y2, 1e-5);
            let g1 = (y1 * &probe)
                .unwrap()
                .sum_all()
                .unwrap()
                .backward()
                .unwrap();
            let g2 = (y2 * &probe)
                .unwrap()
                .sum_all()
                .unwrap()
                .backward()
                .unwrap();
            close(g1.get(&x).unwrap(), g2.get(&x).unwrap(), 1e-4);
        }
    }

    #[test]
    fn fast_erf_is_accurate() {
        let mut worst = 0f64;
        for i in -60_000..=60_000 {
            let x = i as f32 / 10_000.0;
            let exact = candle_core::cpu::erf::erf_f64(x as f64);
            worst = worst.max((fast_erf(x) as f64 - exact).abs());
        }
        assert!(worst < 1e-6, "max error {worst}");
    }

    #[test]
    fn dropout_is_seeded_and_resumable() {
        let x = Tensor::ones((4, 1000), candle_core::DType::F32, &Device::Cpu).unwrap();
        let mut a = Dropout::new(7, 0.1, 0.1);
        let first = a.apply(&x, 0.1).unwrap();
        let state = a.state(7);
        let second = a.apply(&x, 0.1).unwrap();
        let mut b = Dropout::new(7, 0.1, 0.1);
        b.restore(state);
        let again = b.apply(&x, 0.1).unwrap();
        close(&second, &again, 0.0);
        let kept: f32 = first
            .ge(1.0)
            .unwrap()
            .to_dtype(candle_core::DType::F32)
            .unwrap()
            .sum_all()
            .unwrap()
            .to_scalar()
            .unwrap();
        assert!((3500.0..3700.0).contains(&kept), "{kept} of 4000 kept");
        let mean: f32 = first.mean_all().unwrap().to_scalar().unwrap();
        assert!((mean - 1.0).abs() < 0.05);
    }
}
