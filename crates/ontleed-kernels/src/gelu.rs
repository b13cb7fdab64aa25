//! GELU, the scalar reference of the SIMD GELU in [`crate::simd`] (fused into [`crate::int8`]'s
//! products), and the element-wise GELU op of the encoder's f32 path.

use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor};
use rayon::prelude::*;

use crate::contiguous;

/// Element-wise kernels split into chunks of this many values.
const CHUNK: usize = 1 << 14;

/// `erf(x)` for f32 as a rational function of `x` (the approximation of Eigen and XLA: odd
/// degree-13 numerator over even degree-8 denominator, input clamped to ±4), accurate to 1e-6
/// and much faster than libm's `erff`, which dominated GELU. (Plain `*` and `+`: `mul_add`
/// without a `+fma` target feature calls a slow software `fmaf`.)
pub fn fast_erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let p = ERF_P[1..].iter().fold(ERF_P[0], |p, &k| x2 * p + k) * x;
    let q = ERF_Q[1..].iter().fold(ERF_Q[0], |q, &k| x2 * q + k);
    p / q
}

/// Coefficients of [`fast_erf`]: numerator (odd powers, highest first) and denominator (even
/// powers, highest first). The SIMD GELU of [`crate::simd`] uses the same.
pub const ERF_P: [f32; 7] = [
    -2.726_142_3e-10,
    2.770_681_4e-8,
    -2.101_024e-6,
    -5.692_506_4e-5,
    -7.349_906_3e-4,
    -2.954_6e-3,
    -1.609_603_3e-2,
];
pub const ERF_Q: [f32; 5] = [
    -1.456_607_2e-5,
    -2.133_740_6e-4,
    -1.682_827e-3,
    -7.373_329e-3,
    -1.426_474e-2,
];

/// Exact (erf) GELU of one value: `(1 + erf(x / √2)) · x / 2` with [`fast_erf`].
pub fn gelu(x: f32) -> f32 {
    (fast_erf(x * std::f32::consts::FRAC_1_SQRT_2) + 1.0) * 0.5 * x
}

/// Exact (erf) GELU of every value, forward only (inference): [`gelu`] per value on the CPU in
/// parallel chunks; candle's `gelu_erf` on other devices or dtypes.
pub fn gelu_erf(x: &Tensor) -> candle_core::Result<Tensor> {
    if x.device().is_cpu() && x.dtype() == candle_core::DType::F32 {
        x.contiguous()?.apply_op1_no_bwd(&GeluErf)
    } else {
        x.gelu_erf()
    }
}

/// The op of [`gelu_erf`]. A training op with a backward pass reuses [`gelu`] for its forward.
#[derive(Debug, Clone, Copy)]
pub struct GeluErf;

impl CustomOp1 for GeluErf {
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
}
