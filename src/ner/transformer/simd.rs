//! AVX-512 versions of the element-wise parts of the encoder at inference: GELU (fused into
//! [`super::int8`]'s matrix product) and the attention softmax, with the mask and scale fused
//! in. Used where [`super::int8::supported`] holds; elsewhere the candle ops run.

use candle_core::{CpuStorage, CustomOp2, Layout, Shape};
use rayon::prelude::*;

/// GELU of 16 values: `(1 + erf(x / √2)) · x / 2`, with the rational erf of
/// [`super::ops`] (input clamped to ±4; same coefficients, evaluated with FMA).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
pub(super) fn gelu512(x: std::arch::x86_64::__m512) -> std::arch::x86_64::__m512 {
    use std::arch::x86_64::*;
    let c = |v: f32| _mm512_set1_ps(v);
    let z = _mm512_mul_ps(x, c(std::f32::consts::FRAC_1_SQRT_2));
    let z = _mm512_min_ps(_mm512_max_ps(z, c(-4.0)), c(4.0));
    let z2 = _mm512_mul_ps(z, z);
    let mut p = _mm512_fmadd_ps(z2, c(-2.726_142_3e-10), c(2.770_681_4e-8));
    for k in [
        -2.101_024e-6,
        -5.692_506_4e-5,
        -7.349_906_3e-4,
        -2.954_6e-3,
        -1.609_603_3e-2,
    ] {
        p = _mm512_fmadd_ps(z2, p, c(k));
    }
    p = _mm512_mul_ps(p, z);
    let mut q = _mm512_fmadd_ps(z2, c(-1.456_607_2e-5), c(-2.133_740_6e-4));
    for k in [-1.682_827e-3, -7.373_329e-3, -1.426_474e-2] {
        q = _mm512_fmadd_ps(z2, q, c(k));
    }
    let erf = _mm512_div_ps(p, q);
    _mm512_mul_ps(_mm512_add_ps(erf, c(1.0)), _mm512_mul_ps(x, c(0.5)))
}

/// `exp(x)` of 16 values (Cephes' polynomial, relative error about 1e-7; inputs below −87
/// give about 1e-38, above 88 give about 1.6e38).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
pub(super) fn exp512(x: std::arch::x86_64::__m512) -> std::arch::x86_64::__m512 {
    use std::arch::x86_64::*;
    let c = |v: f32| _mm512_set1_ps(v);
    let x = _mm512_min_ps(_mm512_max_ps(x, c(-87.0)), c(88.0));
    let n = _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(
        _mm512_mul_ps(x, c(std::f32::consts::LOG2_E)),
    );
    let r = _mm512_fnmadd_ps(n, c(0.693_359_4), x);
    let r = _mm512_fnmadd_ps(n, c(-2.121_944_4e-4), r);
    let mut p = c(1.987_569_1e-4);
    for k in [
        1.398_199_9e-3,
        8.333_452e-3,
        4.166_579_6e-2,
        1.666_666_5e-1,
        5e-1,
    ] {
        p = _mm512_fmadd_ps(p, r, c(k));
    }
    let y = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, c(1.0)));
    _mm512_scalef_ps(y, n)
}

/// `softmax(scores · scale + mask)` over the last dimension, for attention scores
/// `[batch, heads, queries, keys]` and an additive mask `[batch, 1, 1, keys]`.
pub(super) struct MaskedSoftmax {
    /// Multiplies the scores.
    pub scale: f32,
}

impl CustomOp2 for MaskedSoftmax {
    fn name(&self) -> &'static str {
        "ontleed-masked-softmax"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let x = super::ops::contiguous(s1, l1)?;
        let mask = super::ops::contiguous(s2, l2)?;
        let &[b, h, q, k] = l1.dims() else {
            candle_core::bail!("masked softmax: scores {:?} are not 4-D", l1.dims());
        };
        if mask.len() != b * k {
            candle_core::bail!(
                "masked softmax: mask {:?} for scores {:?}",
                l2.dims(),
                l1.dims()
            );
        }
        if !super::int8::supported() {
            candle_core::bail!("masked softmax: this CPU has no AVX-512");
        }
        let mut out = vec![0f32; x.len()];
        out.par_chunks_mut(h * q * k)
            .zip(x.par_chunks(h * q * k))
            .zip(mask.par_chunks(k))
            .for_each(|((o, x), m)| {
                for (o, x) in o.chunks_exact_mut(k).zip(x.chunks_exact(k)) {
                    // SAFETY: checked above that the CPU has AVX-512.
                    #[cfg(target_arch = "x86_64")]
                    unsafe {
                        softmax_row(x, m, self.scale, o)
                    };
                }
            });
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }
}

/// The lanes of the 16 values from `j` that lie below `k`.
#[cfg(target_arch = "x86_64")]
fn lanes_from(j: usize, k: usize) -> std::arch::x86_64::__mmask16 {
    match k - j {
        n if n >= 16 => 0xffff,
        n => (1u16 << n) - 1,
    }
}

/// One row of [`MaskedSoftmax`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn softmax_row(x: &[f32], mask: &[f32], scale: f32, out: &mut [f32]) {
    use std::arch::x86_64::*;
    let k = x.len();
    let vs = _mm512_set1_ps(scale);
    // Pass 1: y = x · scale + mask into `out`, and the maximum.
    let mut vmax = _mm512_set1_ps(f32::NEG_INFINITY);
    let mut j = 0;
    while j < k {
        let lanes = lanes_from(j, k);
        // SAFETY: the masked loads and stores touch only j..j + n.
        unsafe {
            let v = _mm512_maskz_loadu_ps(lanes, x.as_ptr().add(j));
            let m = _mm512_maskz_loadu_ps(lanes, mask.as_ptr().add(j));
            let y = _mm512_fmadd_ps(v, vs, m);
            _mm512_mask_storeu_ps(out.as_mut_ptr().add(j), lanes, y);
            vmax = _mm512_mask_max_ps(vmax, lanes, vmax, y);
        }
        j += 16;
    }
    let max = _mm512_set1_ps(_mm512_reduce_max_ps(vmax));
    // Pass 2: e = exp(y − max) and the sum.
    let mut vsum = _mm512_setzero_ps();
    j = 0;
    while j < k {
        let lanes = lanes_from(j, k);
        // SAFETY: as above.
        unsafe {
            let y = _mm512_maskz_loadu_ps(lanes, out.as_ptr().add(j));
            let e = exp512(_mm512_sub_ps(y, max));
            _mm512_mask_storeu_ps(out.as_mut_ptr().add(j), lanes, e);
            vsum = _mm512_mask_add_ps(vsum, lanes, vsum, e);
        }
        j += 16;
    }
    let inv = _mm512_set1_ps(1.0 / _mm512_reduce_add_ps(vsum));
    // Pass 3: normalise.
    j = 0;
    while j < k {
        let lanes = lanes_from(j, k);
        // SAFETY: as above.
        unsafe {
            let e = _mm512_maskz_loadu_ps(lanes, out.as_ptr().add(j));
            _mm512_mask_storeu_ps(out.as_mut_ptr().add(j), lanes, _mm512_mul_ps(e, inv));
        }
        j += 16;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Tensor};

    #[test]
    fn exp_is_accurate() {
        if !super::super::int8::supported() {
            return;
        }
        use std::arch::x86_64::*;
        for i in -900..=880 {
            let x = i as f32 * 0.1;
            let mut out = [0f32; 16];
            // SAFETY: AVX-512 checked above.
            unsafe { _mm512_storeu_ps(out.as_mut_ptr(), exp512(_mm512_set1_ps(x))) };
            let want = x.max(-87.0).exp();
            assert!(
                (out[0] - want).abs() <= 2e-7 * want,
                "exp({x}) = {want}, got {}",
                out[0]
            );
        }
    }

    #[test]
    fn masked_softmax_matches_candle() {
        if !super::super::int8::supported() {
            return;
        }
        let dev = Device::Cpu;
        let (b, h, q, k) = (2, 3, 5, 21);
        let scores = Tensor::randn(0f32, 3.0, (b, h, q, k), &dev).unwrap();
        let mut m = vec![0f32; b * k];
        m[k - 4..k].fill(-1e9);
        let mask = Tensor::from_vec(m, (b, 1, 1, k), &dev).unwrap();
        let want = candle_nn::ops::softmax_last_dim(
            &(scores.clone() * 0.125)
                .unwrap()
                .broadcast_add(&mask)
                .unwrap(),
        )
        .unwrap();
        let got = scores
            .apply_op2_no_bwd(&mask, &MaskedSoftmax { scale: 0.125 })
            .unwrap();
        let diff = (want - got)
            .unwrap()
            .abs()
            .unwrap()
            .flatten_all()
            .unwrap()
            .max(0)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!(diff < 1e-6, "max difference {diff}");
    }
}
