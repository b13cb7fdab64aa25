//! Int8 linear layers for inference on CPUs with AVX-512 VNNI.
//!
//! A weight matrix `[out, in]` is quantized once, at load, to 8-bit integers with one scale
//! per output row, and packed in the order the kernel reads it. At each call the activations
//! are quantized per row (per token) to 8 bits, the product is accumulated exactly in 32-bit
//! integers with `vpdpbusd`, and the result is scaled back to f32 and the bias added: the
//! scheme of dynamic int8 quantization in PyTorch and ONNX Runtime.
//!
//! `vpdpbusd` multiplies unsigned by signed bytes, so activations are stored as `q + 128`
//! (unsigned) and `128 · Σₖ w` is subtracted per output column afterwards.
//!
//! Elsewhere (no VNNI, or a matrix whose sizes the kernel does not take) [`Int8Linear::new`]
//! returns `None` and the layer stays f32.

use candle_core::{CpuStorage, CustomOp1, Layout, Shape};

/// Output columns per kernel tile (four 16-lane registers).
const TILE: usize = 64;

/// Rows per kernel call.
const ROWS: usize = 6;

/// Whether this CPU runs the int8 kernel.
pub fn supported() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512vnni")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// A linear layer `x · Wᵀ + b` with `W` in int8.
#[derive(Debug, Clone)]
pub struct Int8Linear {
    /// Output size.
    n: usize,
    /// Input size.
    k: usize,
    /// Weights by tile of [`TILE`] output columns, then by group of 4 inputs, then column,
    /// then the 4 inputs: `[n / TILE][k / 4][TILE][4]`.
    packed: Vec<i8>,
    /// Per output column: the weight scale.
    scale: Vec<f32>,
    /// Per output column: `128 · Σₖ w`.
    offset: Vec<i32>,
    /// Per output column.
    bias: Vec<f32>,
    /// Whether the exact (erf) GELU is applied to the output.
    gelu: bool,
}

impl Int8Linear {
    /// Quantizes `weight` (`[n, k]`, row-major) and `bias` (`[n]`), or `None` where the CPU
    /// lacks AVX-512 VNNI or the shape does not suit the kernel (`n` a multiple of 64, `k` of
    /// 4).
    pub fn new(weight: &[f32], bias: &[f32], n: usize, k: usize) -> Option<Self> {
        if !supported() || n == 0 || k == 0 || !n.is_multiple_of(TILE) || !k.is_multiple_of(4) {
            return None;
        }
        if weight.len() != n * k || bias.len() != n {
            return None;
        }
        Some(Self::quantize(weight, bias, n, k))
    }

    fn quantize(weight: &[f32], bias: &[f32], n: usize, k: usize) -> Self {
        let mut scale = vec![0f32; n];
        let mut offset = vec![0i32; n];
        let mut q = vec![0i8; n * k];
        for (j, row) in weight.chunks_exact(k).enumerate() {
            let amax = row.iter().fold(0f32, |a, &v| a.max(v.abs()));
            let s = if amax > 0.0 { amax / 127.0 } else { 1.0 };
            scale[j] = s;
            let mut sum = 0i32;
            for (d, &v) in q[j * k..(j + 1) * k].iter_mut().zip(row) {
                let x = (v / s).round().clamp(-127.0, 127.0) as i8;
                *d = x;
                sum += i32::from(x);
            }
            offset[j] = 128 * sum;
        }
        let mut packed = vec![0i8; n * k];
        let mut at = 0;
        for t in 0..n / TILE {
            for g in 0..k / 4 {
                for c in 0..TILE {
                    let j = t * TILE + c;
                    packed[at..at + 4].copy_from_slice(&q[j * k + 4 * g..j * k + 4 * g + 4]);
                    at += 4;
                }
            }
        }
        Self {
            n,
            k,
            packed,
            scale,
            offset,
            bias: bias.to_vec(),
            gelu: false,
        }
    }

    /// The same layer followed by the exact GELU, `x · Φ(x)` (erf approximated as in
    /// [`super::ops`], to about 1e-6).
    pub fn with_gelu(mut self) -> Self {
        self.gelu = true;
        self
    }

    /// Whether the output goes through GELU.
    pub fn has_gelu(&self) -> bool {
        self.gelu
    }

    /// Output size.
    pub fn out_features(&self) -> usize {
        self.n
    }

    /// `x · Wᵀ + b` for `x` of `m` rows of `k` values; `m · n` values.
    pub fn forward_slice(&self, x: &[f32]) -> Vec<f32> {
        let m = x.len() / self.k;
        let mut a = vec![0u8; m * self.k];
        let mut sa = vec![0f32; m];
        let mut out = vec![0f32; m * self.n];
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `new` returns a layer only where `supported()` holds.
        unsafe {
            quantize_rows(x, self.k, &mut a, &mut sa);
            self.matmul(&a, &sa, m, &mut out);
        }
        out
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    unsafe fn matmul(&self, a: &[u8], sa: &[f32], m: usize, out: &mut [f32]) {
        let k = self.k;
        for t in 0..self.n / TILE {
            let w = &self.packed[t * k * TILE..(t + 1) * k * TILE];
            let mut r = 0;
            while r < m {
                let rows = (m - r).min(ROWS);
                let a = &a[r * k..(r + rows) * k];
                // SAFETY: the slices hold `rows` rows of `k` and `k * TILE` weights.
                unsafe {
                    match rows {
                        6 => self.tile::<6>(w, a, sa, r, t, out),
                        5 => self.tile::<5>(w, a, sa, r, t, out),
                        4 => self.tile::<4>(w, a, sa, r, t, out),
                        3 => self.tile::<3>(w, a, sa, r, t, out),
                        2 => self.tile::<2>(w, a, sa, r, t, out),
                        _ => self.tile::<1>(w, a, sa, r, t, out),
                    }
                }
                r += rows;
            }
        }
    }

    /// Rows `r..r + R` × columns of tile `t`.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    #[inline]
    unsafe fn tile<const R: usize>(
        &self,
        w: &[i8],
        a: &[u8],
        sa: &[f32],
        r: usize,
        t: usize,
        out: &mut [f32],
    ) {
        use std::arch::x86_64::*;
        let k = self.k;
        let mut acc = [[_mm512_setzero_si512(); 4]; R];
        let wp = w.as_ptr();
        let ap = a.as_ptr();
        for g in 0..k / 4 {
            // SAFETY: group g of the tile is 256 bytes at g * 256; row i's 4 bytes at i*k + 4g.
            unsafe {
                let wg = wp.add(g * 4 * TILE);
                let w0 = _mm512_loadu_si512(wg as *const _);
                let w1 = _mm512_loadu_si512(wg.add(64) as *const _);
                let w2 = _mm512_loadu_si512(wg.add(128) as *const _);
                let w3 = _mm512_loadu_si512(wg.add(192) as *const _);
                for (i, acc) in acc.iter_mut().enumerate() {
                    let v =
                        _mm512_set1_epi32((ap.add(i * k + 4 * g) as *const i32).read_unaligned());
                    acc[0] = _mm512_dpbusd_epi32(acc[0], v, w0);
                    acc[1] = _mm512_dpbusd_epi32(acc[1], v, w1);
                    acc[2] = _mm512_dpbusd_epi32(acc[2], v, w2);
                    acc[3] = _mm512_dpbusd_epi32(acc[3], v, w3);
                }
            }
        }
        let col = t * TILE;
        for (i, acc) in acc.iter().enumerate() {
            let s = _mm512_set1_ps(sa[r + i]);
            for (c, &v) in acc.iter().enumerate() {
                let j = col + 16 * c;
                // SAFETY: columns j..j + 16 exist in the per-column tables and in row r + i.
                unsafe {
                    let off = _mm512_loadu_si512(self.offset.as_ptr().add(j) as *const _);
                    let sw = _mm512_loadu_ps(self.scale.as_ptr().add(j));
                    let b = _mm512_loadu_ps(self.bias.as_ptr().add(j));
                    let y = _mm512_cvtepi32_ps(_mm512_sub_epi32(v, off));
                    let mut y = _mm512_fmadd_ps(y, _mm512_mul_ps(sw, s), b);
                    if self.gelu {
                        y = super::simd::gelu512(y);
                    }
                    _mm512_storeu_ps(out.as_mut_ptr().add((r + i) * self.n + j), y);
                }
            }
        }
    }
}

/// Quantizes each row of `k` values of `x` to `q + 128` with one scale per row (rounding to
/// nearest, ties to even).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn quantize_rows(x: &[f32], k: usize, a: &mut [u8], sa: &mut [f32]) {
    use std::arch::x86_64::*;
    let simd = k - k % 16;
    for ((row, q), s) in x
        .chunks_exact(k)
        .zip(a.chunks_exact_mut(k))
        .zip(sa.iter_mut())
    {
        let mut m = _mm512_setzero_ps();
        for c in row[..simd].chunks_exact(16) {
            // SAFETY: 16 values.
            m = _mm512_max_ps(m, _mm512_abs_ps(unsafe { _mm512_loadu_ps(c.as_ptr()) }));
        }
        let amax = row[simd..]
            .iter()
            .fold(_mm512_reduce_max_ps(m), |m, &v| m.max(v.abs()));
        let scale = if amax > 0.0 { amax / 127.0 } else { 1.0 };
        *s = scale;
        let inv = 1.0 / scale;
        let vinv = _mm512_set1_ps(inv);
        let bias = _mm512_set1_epi32(128);
        let (lo, hi) = (_mm512_set1_epi32(1), _mm512_set1_epi32(255));
        for (d, c) in q[..simd]
            .chunks_exact_mut(16)
            .zip(row[..simd].chunks_exact(16))
        {
            // SAFETY: 16 values in, 16 bytes out.
            unsafe {
                let v = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(c.as_ptr()), vinv));
                let v = _mm512_min_epi32(_mm512_max_epi32(_mm512_add_epi32(v, bias), lo), hi);
                _mm_storeu_si128(d.as_mut_ptr() as *mut __m128i, _mm512_cvtepi32_epi8(v));
            }
        }
        for (d, &v) in q[simd..].iter_mut().zip(&row[simd..]) {
            *d = ((v * inv).round_ties_even().clamp(-127.0, 127.0) as i32 + 128) as u8;
        }
    }
}

impl CustomOp1 for Int8Linear {
    fn name(&self) -> &'static str {
        "int8-linear"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let x = super::ops::contiguous(s, l)?;
        let dims = l.dims();
        if dims.last() != Some(&self.k) {
            candle_core::bail!(
                "int8-linear: input {dims:?}, expected last dimension {}",
                self.k
            );
        }
        let mut shape = dims.to_vec();
        if let Some(last) = shape.last_mut() {
            *last = self.n;
        }
        Ok((CpuStorage::F32(self.forward_slice(x)), Shape::from(shape)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn reference(x: &[f32], w: &[f32], b: &[f32], n: usize, k: usize) -> Vec<f32> {
        let m = x.len() / k;
        let mut out = vec![0f32; m * n];
        for i in 0..m {
            for j in 0..n {
                let dot: f32 = (0..k).map(|p| x[i * k + p] * w[j * k + p]).sum();
                out[i * n + j] = dot + b[j];
            }
        }
        out
    }

    #[test]
    fn matches_f32_within_quantization_error() {
        if !supported() {
            eprintln!("no AVX-512 VNNI on this CPU: the int8 kernel is not used here");
            return;
        }
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for (m, n, k) in [(1, 64, 4), (7, 128, 384), (13, 384, 1536), (6, 64, 36)] {
            let x: Vec<f32> = (0..m * k).map(|_| rng.random_range(-2.0..2.0)).collect();
            let w: Vec<f32> = (0..n * k).map(|_| rng.random_range(-0.1..0.1)).collect();
            let b: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
            let lin = Int8Linear::new(&w, &b, n, k).expect("supported shape");
            let got = lin.forward_slice(&x);
            let want = reference(&x, &w, &b, n, k);
            // Each product is off by at most |x|·δw + |w|·δx + δx·δw, δ being half a step.
            let (dx, dw) = (2.0 / 254.0, 0.1 / 254.0);
            let bound = k as f32 * (2.0 * dw + 0.1 * dx + dx * dw);
            let worst = got
                .iter()
                .zip(&want)
                .map(|(g, w)| (g - w).abs())
                .fold(0f32, f32::max);
            assert!(worst <= bound, "{m}x{n}x{k}: error {worst} > {bound}");
            // And on average far less: a layout error would be as large as the values.
            let rms = |v: &mut dyn Iterator<Item = f32>| {
                let (s, c) = v.fold((0f32, 0usize), |(s, c), e| (s + e * e, c + 1));
                (s / c as f32).sqrt()
            };
            let err = rms(&mut got.iter().zip(&want).map(|(g, w)| g - w));
            let size = rms(&mut want.iter().copied());
            assert!(err < 0.02 * size, "{m}x{n}x{k}: rms error {err} of {size}");
        }
    }

    #[test]
    fn fused_gelu_matches_the_gelu_op() {
        if !supported() {
            return;
        }
        let (n, k) = (64, 8);
        let w: Vec<f32> = (0..n * k)
            .map(|i| if i % (k + 1) == 0 { 1.0 } else { 0.0 })
            .collect();
        let x: Vec<f32> = (0..k).map(|i| i as f32 - 4.0).collect();
        let b: Vec<f32> = (0..n).map(|j| j as f32 * 0.125 - 4.0).collect();
        let plain = Int8Linear::new(&w, &b, n, k).unwrap().forward_slice(&x);
        let fused = Int8Linear::new(&w, &b, n, k)
            .unwrap()
            .with_gelu()
            .forward_slice(&x);
        for (p, f) in plain.iter().zip(&fused) {
            let want = super::super::ops::gelu(*p);
            assert!((f - want).abs() < 1e-5, "gelu({p}) = {want}, fused {f}");
        }
    }

    #[test]
    fn declines_shapes_the_kernel_does_not_take() {
        assert!(Int8Linear::new(&[0.0; 9 * 384], &[0.0; 9], 9, 384).is_none());
        assert!(Int8Linear::new(&[0.0; 64 * 6], &[0.0; 64], 64, 6).is_none());
    }
}
