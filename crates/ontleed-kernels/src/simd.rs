//! SIMD versions of the element-wise parts of the encoder at inference: GELU (AVX-512 and AVX2,
//! fused into [`crate::int8`]'s matrix products) and the attention softmax with the mask and
//! scale fused in (AVX-512, where [`avx512`] holds; elsewhere candle's ops run).

use candle_core::{CpuStorage, CustomOp2, Layout, Shape};
use rayon::prelude::*;

use crate::gelu::{ERF_P, ERF_Q};

/// GELU `(1 + erf(x / √2)) · x / 2` of one register, erf with [`ERF_P`] / [`ERF_Q`] (input
/// clamped to ±4), written once for both register widths.
macro_rules! gelu_lanes {
    ($x:expr, $set1:ident, $mul:ident, $add:ident, $fmadd:ident, $min:ident, $max:ident, $div:ident) => {{
        let x = $x;
        let z = $mul(x, $set1(std::f32::consts::FRAC_1_SQRT_2));
        let z = $min($max(z, $set1(-4.0)), $set1(4.0));
        let z2 = $mul(z, z);
        let mut p = $set1(ERF_P[0]);
        for &k in &ERF_P[1..] {
            p = $fmadd(z2, p, $set1(k));
        }
        p = $mul(p, z);
        let mut q = $set1(ERF_Q[0]);
        for &k in &ERF_Q[1..] {
            q = $fmadd(z2, q, $set1(k));
        }
        $mul($add($div(p, q), $set1(1.0)), $mul(x, $set1(0.5)))
    }};
}

/// GELU of 16 values (see [`gelu_lanes`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
pub(crate) fn gelu512(x: std::arch::x86_64::__m512) -> std::arch::x86_64::__m512 {
    use std::arch::x86_64::*;
    gelu_lanes!(
        x,
        _mm512_set1_ps,
        _mm512_mul_ps,
        _mm512_add_ps,
        _mm512_fmadd_ps,
        _mm512_min_ps,
        _mm512_max_ps,
        _mm512_div_ps
    )
}

/// GELU of 8 values (see [`gelu_lanes`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub(crate) fn gelu256(x: std::arch::x86_64::__m256) -> std::arch::x86_64::__m256 {
    use std::arch::x86_64::*;
    gelu_lanes!(
        x,
        _mm256_set1_ps,
        _mm256_mul_ps,
        _mm256_add_ps,
        _mm256_fmadd_ps,
        _mm256_min_ps,
        _mm256_max_ps,
        _mm256_div_ps
    )
}

/// Cephes' `exp` polynomial: coefficients of `p(r)` (highest first) in
/// `exp(r) ≈ 1 + r + r² · p(r)` for `|r| ≤ ln 2 / 2`.
const EXP_P: [f32; 6] = [
    1.987_569_1e-4,
    1.398_199_9e-3,
    8.333_452e-3,
    4.166_579_6e-2,
    1.666_666_5e-1,
    5e-1,
];

/// `exp(x)` of one register as `(2ⁿ factor n, mantissa part y)`, `exp(x) = y · 2ⁿ`, with `x`
/// clamped to −87..=88 and `n` rounded to nearest; written once for both register widths.
macro_rules! exp_lanes {
    ($x:expr, $set1:ident, $mul:ident, $add:ident, $fmadd:ident, $fnmadd:ident, $min:ident, $max:ident, $round:expr) => {{
        let x = $min($max($x, $set1(-87.0)), $set1(88.0));
        let n = $round($mul(x, $set1(std::f32::consts::LOG2_E)));
        let r = $fnmadd(n, $set1(0.693_359_4), x);
        let r = $fnmadd(n, $set1(-2.121_944_4e-4), r);
        let mut p = $set1(EXP_P[0]);
        for &k in &EXP_P[1..] {
            p = $fmadd(p, r, $set1(k));
        }
        (n, $fmadd(p, $mul(r, r), $add(r, $set1(1.0))))
    }};
}

/// `exp(x)` of 16 values (Cephes' polynomial, relative error about 1e-7; inputs below −87
/// give about 1e-38, above 88 give about 1.6e38).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
pub(crate) fn exp512(x: std::arch::x86_64::__m512) -> std::arch::x86_64::__m512 {
    use std::arch::x86_64::*;
    let (n, y) = exp_lanes!(
        x,
        _mm512_set1_ps,
        _mm512_mul_ps,
        _mm512_add_ps,
        _mm512_fmadd_ps,
        _mm512_fnmadd_ps,
        _mm512_min_ps,
        _mm512_max_ps,
        _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>
    );
    _mm512_scalef_ps(y, n)
}

/// `exp(x)` of 8 values, as [`exp512`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub(crate) fn exp256(x: std::arch::x86_64::__m256) -> std::arch::x86_64::__m256 {
    use std::arch::x86_64::*;
    let (n, y) = exp_lanes!(
        x,
        _mm256_set1_ps,
        _mm256_mul_ps,
        _mm256_add_ps,
        _mm256_fmadd_ps,
        _mm256_fnmadd_ps,
        _mm256_min_ps,
        _mm256_max_ps,
        _mm256_round_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>
    );
    // 2ⁿ from its exponent bits: n is in −126..=127 after the clamp.
    let pow2 = _mm256_slli_epi32::<23>(_mm256_add_epi32(
        _mm256_cvtps_epi32(n),
        _mm256_set1_epi32(127),
    ));
    _mm256_mul_ps(y, _mm256_castsi256_ps(pow2))
}

/// `softmax(scores · scale + mask)` over the last dimension, for attention scores
/// `[batch, heads, queries, keys]` and an additive mask `[batch, 1, 1, keys]`.
pub struct MaskedSoftmax {
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
        let x = crate::contiguous(s1, l1)?;
        let mask = crate::contiguous(s2, l2)?;
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
        let wide = avx512();
        if !wide && !avx2() {
            candle_core::bail!("masked softmax: this CPU has neither AVX-512 nor AVX2");
        }
        let mut out = vec![0f32; x.len()];
        out.par_chunks_mut(h * q * k)
            .zip(x.par_chunks(h * q * k))
            .zip(mask.par_chunks(k))
            .for_each(|((o, x), m)| {
                for (o, x) in o.chunks_exact_mut(k).zip(x.chunks_exact(k)) {
                    // SAFETY: checked above that the CPU has AVX-512 or AVX2.
                    #[cfg(target_arch = "x86_64")]
                    unsafe {
                        if wide {
                            softmax_row(x, m, self.scale, o)
                        } else {
                            softmax_row_avx2(x, m, self.scale, o)
                        }
                    };
                }
            });
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }
}

/// Whether this CPU runs the AVX-512 code here.
pub fn avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Whether this CPU runs the AVX2 code here.
pub fn avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Whether [`MaskedSoftmax`] runs on this CPU.
pub fn softmax_supported() -> bool {
    avx512() || avx2()
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

/// [`softmax_row`] with AVX2: whole registers of 8, then the last keys one by one.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn softmax_row_avx2(x: &[f32], mask: &[f32], scale: f32, out: &mut [f32]) {
    use std::arch::x86_64::*;
    let k = x.len();
    let simd = k - k % 8;
    let vs = _mm256_set1_ps(scale);
    let mut vmax = _mm256_set1_ps(f32::NEG_INFINITY);
    for j in (0..simd).step_by(8) {
        // SAFETY: j + 8 ≤ simd ≤ k.
        unsafe {
            let y = _mm256_fmadd_ps(
                _mm256_loadu_ps(x.as_ptr().add(j)),
                vs,
                _mm256_loadu_ps(mask.as_ptr().add(j)),
            );
            _mm256_storeu_ps(out.as_mut_ptr().add(j), y);
            vmax = _mm256_max_ps(vmax, y);
        }
    }
    let mut lanes = [0f32; 8];
    // SAFETY: 8 values.
    unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), vmax) };
    let mut max = lanes.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    for j in simd..k {
        out[j] = x[j].mul_add(scale, mask[j]);
        max = max.max(out[j]);
    }
    let vmax = _mm256_set1_ps(max);
    let mut vsum = _mm256_setzero_ps();
    for j in (0..simd).step_by(8) {
        // SAFETY: as above.
        unsafe {
            let e = exp256(_mm256_sub_ps(_mm256_loadu_ps(out.as_ptr().add(j)), vmax));
            _mm256_storeu_ps(out.as_mut_ptr().add(j), e);
            vsum = _mm256_add_ps(vsum, e);
        }
    }
    // SAFETY: 8 values.
    unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), vsum) };
    let mut sum: f32 = lanes.iter().sum();
    for o in &mut out[simd..] {
        *o = (*o - max).exp();
        sum += *o;
    }
    let inv = 1.0 / sum;
    let vinv = _mm256_set1_ps(inv);
    for j in (0..simd).step_by(8) {
        // SAFETY: as above.
        unsafe {
            let e = _mm256_loadu_ps(out.as_ptr().add(j));
            _mm256_storeu_ps(out.as_mut_ptr().add(j), _mm256_mul_ps(e, vinv));
        }
    }
    for o in &mut out[simd..] {
        *o *= inv;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Tensor};

    #[test]
    fn exp_is_accurate() {
        use std::arch::x86_64::*;
        for i in -900..=880 {
            let x = i as f32 * 0.1;
            let want = x.max(-87.0).exp();
            let mut got = Vec::new();
            if avx512() {
                let mut out = [0f32; 16];
                // SAFETY: AVX-512 checked.
                unsafe { _mm512_storeu_ps(out.as_mut_ptr(), exp512(_mm512_set1_ps(x))) };
                got.push(("avx512", out[0]));
            }
            if avx2() {
                let mut out = [0f32; 8];
                // SAFETY: AVX2 checked.
                unsafe { _mm256_storeu_ps(out.as_mut_ptr(), exp256(_mm256_set1_ps(x))) };
                got.push(("avx2", out[0]));
            }
            for (isa, g) in got {
                assert!(
                    (g - want).abs() <= 2e-7 * want,
                    "{isa}: exp({x}) = {want}, got {g}"
                );
            }
        }
    }

    #[test]
    fn masked_softmax_matches_candle() {
        if !softmax_supported() {
            eprintln!("neither AVX-512 nor AVX2: the masked softmax is not used here");
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
        let flat = |t: &Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let (want, x, m) = (flat(&want), flat(&scores), flat(&mask));
        let worst = |got: &[f32]| {
            want.iter()
                .zip(got)
                .map(|(a, b)| (a - b).abs())
                .fold(0f32, f32::max)
        };
        let diff = worst(&flat(&got));
        assert!(diff < 1e-6, "max difference {diff}");
        // The AVX2 rows also where the op itself takes the AVX-512 path.
        if avx2() {
            let mut out = vec![0f32; x.len()];
            for (r, (o, x)) in out.chunks_exact_mut(k).zip(x.chunks_exact(k)).enumerate() {
                let m = &m[(r / (h * q)) * k..][..k];
                // SAFETY: AVX2 checked.
                unsafe { softmax_row_avx2(x, m, 0.125, o) };
            }
            let diff = worst(&out);
            assert!(diff < 1e-6, "AVX2: max difference {diff}");
        }
    }
}
