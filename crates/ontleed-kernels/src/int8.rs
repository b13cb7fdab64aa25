//! Int8 linear layers for inference on x86-64 CPUs with AVX-512 VNNI or AVX2.
//!
//! A weight matrix `[out, in]` is quantized once, at load, to 8-bit integers with one scale
//! per output row, and packed in the order the kernel reads it. At each call the activations
//! are quantized per row (per token) to 8 bits, the product is accumulated exactly in 32-bit
//! integers, and the result is scaled back to f32 and the bias added: the scheme of dynamic
//! int8 quantization in PyTorch and ONNX Runtime. Two kernels compute the same numbers:
//!
//! - [`Kernel::Vnni512`] (AVX-512 VNNI: Zen 4/5, Ice Lake and later Xeons): `vpdpbusd`
//!   multiplies unsigned by signed bytes, so activations are stored as `q + 128` (unsigned) and
//!   `128 · Σₖ w` is subtracted per output column afterwards.
//! - [`Kernel::Avx2`] (Haswell, Zen 1–3 and later): `vpmaddubsw` multiplies unsigned by
//!   signed bytes and adds pairs into 16 bits, with saturation, then `vpmaddwd` by ones adds
//!   pairs of those into 32 bits. Two products of `255 · |w|` fit in 16 bits only for
//!   `|w| ≤ 64`, so the weights are quantized to −64..=64 (7 bits and a sign step: half the
//!   resolution of the VNNI kernel's weights); the activations are `q + 128` as for VNNI.
//!
//! Elsewhere (no AVX2, or a matrix whose sizes the kernel does not take) [`Int8Linear::new`]
//! returns `None` and the layer stays f32.

use std::sync::OnceLock;

use candle_core::{CpuStorage, CustomOp1, Layout, Shape};

/// An int8 matrix-product kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// AVX-512 VNNI (`vpdpbusd`), tiles of 64 columns × 6 rows.
    Vnni512,
    /// AVX2 (`vpmaddubsw` + `vpmaddwd`), tiles of 16 columns × 4 rows.
    Avx2,
}

impl Kernel {
    /// Output columns per tile (`n` must be a multiple).
    const fn tile(self) -> usize {
        match self {
            Kernel::Vnni512 => 64,
            Kernel::Avx2 => 16,
        }
    }

    /// Largest weight magnitude (the weights are `round(w / scale)` in `−max..=max`).
    const fn weight_max(self) -> f32 {
        match self {
            Kernel::Vnni512 => 127.0,
            Kernel::Avx2 => 64.0,
        }
    }

    /// Whether this CPU runs the kernel.
    pub fn available(self) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            match self {
                Kernel::Vnni512 => has!("avx512f") && has!("avx512bw") && has!("avx512vnni"),
                Kernel::Avx2 => has!("avx2") && has!("fma"),
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    }

    /// The fastest kernel this CPU runs, if any.
    pub fn best() -> Option<Kernel> {
        static BEST: OnceLock<Option<Kernel>> = OnceLock::new();
        *BEST.get_or_init(|| {
            [Kernel::Vnni512, Kernel::Avx2]
                .into_iter()
                .find(|k| k.available())
        })
    }
}

/// Inputs per group, both kernels (`k` must be a multiple): the 4 bytes one broadcast 32-bit
/// lane holds.
const GROUP: usize = 4;

/// Rows per call of the VNNI kernel.
const ROWS: usize = 6;

/// Rows per call of the AVX2 kernel (16 registers: 8 sums, 2 weights, a broadcast, ones and
/// the 16-bit products).
const ROWS_AVX2: usize = 4;

/// Whether this CPU runs an int8 kernel.
pub fn supported() -> bool {
    Kernel::best().is_some()
}

/// A linear layer `x · Wᵀ + b` with `W` in int8.
#[derive(Debug, Clone)]
pub struct Int8Linear {
    /// Output size.
    n: usize,
    /// Input size.
    k: usize,
    kernel: Kernel,
    /// Weights by tile of output columns, then group of 4 inputs, then column, then the 4
    /// inputs: `[n / tile][k / 4][tile][4]`.
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
    /// Quantizes `weight` (`[n, k]`, row-major) and `bias` (`[n]`) for the fastest kernel of
    /// this CPU, or `None` where there is none or the shape does not suit it.
    pub fn new(weight: &[f32], bias: &[f32], n: usize, k: usize) -> Option<Self> {
        Self::for_kernel(Kernel::best()?, weight, bias, n, k)
    }

    /// The same for a given kernel: `None` where this CPU does not run it or the shape does
    /// not suit it (`n` a multiple of its tile width, `k` of its group size).
    pub fn for_kernel(
        kernel: Kernel,
        weight: &[f32],
        bias: &[f32],
        n: usize,
        k: usize,
    ) -> Option<Self> {
        if !kernel.available()
            || n == 0
            || k == 0
            || !n.is_multiple_of(kernel.tile())
            || !k.is_multiple_of(GROUP)
            || weight.len() != n * k
            || bias.len() != n
        {
            return None;
        }
        Some(Self::quantize(kernel, weight, bias, n, k))
    }

    fn quantize(kernel: Kernel, weight: &[f32], bias: &[f32], n: usize, k: usize) -> Self {
        let mut scale = vec![0f32; n];
        let mut offset = vec![0i32; n];
        let mut q = vec![0i8; n * k];
        let max = kernel.weight_max();
        for (j, row) in weight.chunks_exact(k).enumerate() {
            let s = row_scale(row.iter().fold(0f32, |a, &v| a.max(v.abs())), max);
            scale[j] = s;
            let mut sum = 0i32;
            for (d, &v) in q[j * k..(j + 1) * k].iter_mut().zip(row) {
                let x = (v / s).round().clamp(-max, max) as i8;
                *d = x;
                sum += i32::from(x);
            }
            offset[j] = 128 * sum;
        }
        // Tile, group of inputs, column, input.
        let tile = kernel.tile();
        let mut packed = Vec::with_capacity(n * k);
        for t in 0..n / tile {
            for g in 0..k / GROUP {
                for c in 0..tile {
                    let at = (t * tile + c) * k + g * GROUP;
                    packed.extend_from_slice(&q[at..at + GROUP]);
                }
            }
        }
        Self {
            n,
            k,
            kernel,
            packed,
            scale,
            offset,
            bias: bias.to_vec(),
            gelu: false,
        }
    }

    /// The same layer followed by the exact GELU, `x · Φ(x)` (erf approximated as in
    /// [`crate::gelu`], to about 1e-6).
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

    /// The kernel the layer runs on.
    pub fn kernel(&self) -> Kernel {
        self.kernel
    }

    /// `x · Wᵀ + b` for `x` of `m` rows of `k` values; `m · n` values.
    pub fn forward_slice(&self, x: &[f32]) -> Vec<f32> {
        let m = x.len() / self.k;
        let mut a = vec![0u8; m * self.k];
        let mut sa = vec![0f32; m];
        let mut out = vec![0f32; m * self.n];
        #[cfg(target_arch = "x86_64")]
        // SAFETY: a layer for a kernel exists only where the CPU runs it.
        unsafe {
            match self.kernel {
                Kernel::Vnni512 => {
                    quantize_rows_avx512(x, self.k, &mut a, &mut sa);
                    self.matmul_vnni(&a, &sa, m, &mut out);
                }
                Kernel::Avx2 => {
                    quantize_rows_avx2(x, self.k, &mut a, &mut sa);
                    self.matmul_avx2(&a, &sa, m, &mut out);
                }
            }
        }
        out
    }

    /// Calls `block(w, a, r, t, rows)` for every tile `t` of `tile` columns (`w`, its packed
    /// weights) and every block of at most `max_rows` rows from row `r` (`a`, their values).
    fn each_block(
        &self,
        tile: usize,
        max_rows: usize,
        a: &[u8],
        m: usize,
        mut block: impl FnMut(&[i8], &[u8], usize, usize, usize),
    ) {
        let k = self.k;
        for t in 0..self.n / tile {
            let w = &self.packed[t * k * tile..(t + 1) * k * tile];
            let mut r = 0;
            while r < m {
                let rows = (m - r).min(max_rows);
                block(w, &a[r * k..(r + rows) * k], r, t, rows);
                r += rows;
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    unsafe fn matmul_vnni(&self, a: &[u8], sa: &[f32], m: usize, out: &mut [f32]) {
        let tile = Kernel::Vnni512.tile();
        self.each_block(tile, ROWS, a, m, |w, a, r, t, rows| {
            // SAFETY: the slices hold `rows` rows of `k` and `k * tile` weights, and the CPU
            // runs the kernel (the caller's contract).
            unsafe {
                match rows {
                    6 => self.tile_vnni::<6>(w, a, sa, r, t, out),
                    5 => self.tile_vnni::<5>(w, a, sa, r, t, out),
                    4 => self.tile_vnni::<4>(w, a, sa, r, t, out),
                    3 => self.tile_vnni::<3>(w, a, sa, r, t, out),
                    2 => self.tile_vnni::<2>(w, a, sa, r, t, out),
                    _ => self.tile_vnni::<1>(w, a, sa, r, t, out),
                }
            }
        });
    }

    /// Rows `r..r + R` × columns of tile `t`.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    #[inline]
    unsafe fn tile_vnni<const R: usize>(
        &self,
        w: &[i8],
        a: &[u8],
        sa: &[f32],
        r: usize,
        t: usize,
        out: &mut [f32],
    ) {
        use std::arch::x86_64::*;
        const TILE: usize = Kernel::Vnni512.tile();
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
                        y = crate::simd::gelu512(y);
                    }
                    _mm512_storeu_ps(out.as_mut_ptr().add((r + i) * self.n + j), y);
                }
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn matmul_avx2(&self, a: &[u8], sa: &[f32], m: usize, out: &mut [f32]) {
        let tile = Kernel::Avx2.tile();
        self.each_block(tile, ROWS_AVX2, a, m, |w, a, r, t, rows| {
            // SAFETY: as in `matmul_vnni`.
            unsafe {
                match rows {
                    4 => self.tile_avx2::<4>(w, a, sa, r, t, out),
                    3 => self.tile_avx2::<3>(w, a, sa, r, t, out),
                    2 => self.tile_avx2::<2>(w, a, sa, r, t, out),
                    _ => self.tile_avx2::<1>(w, a, sa, r, t, out),
                }
            }
        });
    }

    /// Rows `r..r + R` × columns of tile `t`.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn tile_avx2<const R: usize>(
        &self,
        w: &[i8],
        a: &[u8],
        sa: &[f32],
        r: usize,
        t: usize,
        out: &mut [f32],
    ) {
        use std::arch::x86_64::*;
        const TILE: usize = Kernel::Avx2.tile();
        let k = self.k;
        let ones = _mm256_set1_epi16(1);
        let mut acc = [[_mm256_setzero_si256(); 2]; R];
        let wp = w.as_ptr();
        let ap = a.as_ptr();
        for g in 0..k / 4 {
            // SAFETY: group g of the tile is 64 bytes at g * 64; row i's 4 bytes at i*k + 4g.
            unsafe {
                let wg = wp.add(g * 4 * TILE);
                let w0 = _mm256_loadu_si256(wg as *const _);
                let w1 = _mm256_loadu_si256(wg.add(32) as *const _);
                for (i, acc) in acc.iter_mut().enumerate() {
                    let v =
                        _mm256_set1_epi32((ap.add(i * k + 4 * g) as *const i32).read_unaligned());
                    // |a·w + a·w| ≤ 2 · 255 · 64 < 2¹⁵: vpmaddubsw never saturates.
                    let p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(v, w0), ones);
                    let p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(v, w1), ones);
                    acc[0] = _mm256_add_epi32(acc[0], p0);
                    acc[1] = _mm256_add_epi32(acc[1], p1);
                }
            }
        }
        let col = t * TILE;
        for (i, acc) in acc.iter().enumerate() {
            let s = _mm256_set1_ps(sa[r + i]);
            for (c, &v) in acc.iter().enumerate() {
                let j = col + 8 * c;
                // SAFETY: columns j..j + 8 exist in the per-column tables and in row r + i.
                unsafe {
                    let off = _mm256_loadu_si256(self.offset.as_ptr().add(j) as *const _);
                    let sw = _mm256_loadu_ps(self.scale.as_ptr().add(j));
                    let b = _mm256_loadu_ps(self.bias.as_ptr().add(j));
                    let y = _mm256_cvtepi32_ps(_mm256_sub_epi32(v, off));
                    let mut y = _mm256_fmadd_ps(y, _mm256_mul_ps(sw, s), b);
                    if self.gelu {
                        y = crate::simd::gelu256(y);
                    }
                    _mm256_storeu_ps(out.as_mut_ptr().add((r + i) * self.n + j), y);
                }
            }
        }
    }
}

/// One row's scale: its largest magnitude over the largest quantized value `max` (1 for a row
/// of zeros).
fn row_scale(amax: f32, max: f32) -> f32 {
    if amax > 0.0 { amax / max } else { 1.0 }
}

/// Quantizes each row of `k` values of `x` to `q + 128` with one scale per row (rounding to
/// nearest, ties to even).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn quantize_rows_avx512(x: &[f32], k: usize, a: &mut [u8], sa: &mut [f32]) {
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
        let scale = row_scale(amax, 127.0);
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
            *d = (quantize_one(v, inv) + 128) as u8;
        }
    }
}

/// [`quantize_rows_avx512`] with AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn quantize_rows_avx2(x: &[f32], k: usize, a: &mut [u8], sa: &mut [f32]) {
    use std::arch::x86_64::*;
    let simd = k - k % 8;
    let sign = _mm256_set1_ps(-0.0);
    for ((row, q), s) in x
        .chunks_exact(k)
        .zip(a.chunks_exact_mut(k))
        .zip(sa.iter_mut())
    {
        let mut m = _mm256_setzero_ps();
        for c in row[..simd].chunks_exact(8) {
            // SAFETY: 8 values.
            m = _mm256_max_ps(
                m,
                _mm256_andnot_ps(sign, unsafe { _mm256_loadu_ps(c.as_ptr()) }),
            );
        }
        let mut lanes = [0f32; 8];
        // SAFETY: 8 values.
        unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), m) };
        let amax = lanes
            .iter()
            .chain(&row[simd..])
            .fold(0f32, |m, &v| m.max(v.abs()));
        let scale = row_scale(amax, 127.0);
        *s = scale;
        let inv = 1.0 / scale;
        let vinv = _mm256_set1_ps(inv);
        let bias = _mm256_set1_epi32(128);
        let (lo, hi) = (_mm256_set1_epi32(1), _mm256_set1_epi32(255));
        for (d, c) in q[..simd]
            .chunks_exact_mut(8)
            .zip(row[..simd].chunks_exact(8))
        {
            // SAFETY: 8 values in, 8 bytes out.
            unsafe {
                let v = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(c.as_ptr()), vinv));
                let v = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(v, bias), lo), hi);
                // Narrow 8 × i32 (each 1..=255) to bytes: within 128-bit lanes to 16 bits, then
                // to 8 bits, then gather the two lanes' 4 bytes.
                let w16 = _mm256_packs_epi32(v, v);
                let p = _mm256_packus_epi16(w16, w16);
                let lo4 = _mm256_cvtsi256_si32(p) as u32;
                let hi4 = _mm256_extract_epi32::<4>(p) as u32;
                let bytes = (u64::from(hi4) << 32) | u64::from(lo4);
                (d.as_mut_ptr() as *mut u64).write_unaligned(bytes);
            }
        }
        for (d, &v) in q[simd..].iter_mut().zip(&row[simd..]) {
            *d = (quantize_one(v, inv) + 128) as u8;
        }
    }
}

/// `v · inv` rounded to nearest (ties to even) and clamped to −127..=127.
fn quantize_one(v: f32, inv: f32) -> i32 {
    (v * inv).round_ties_even().clamp(-127.0, 127.0) as i32
}

impl CustomOp1 for Int8Linear {
    fn name(&self) -> &'static str {
        "int8-linear"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let x = crate::contiguous(s, l)?;
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

    /// The kernels this CPU runs (a test of a kernel it lacks says so).
    fn kernels() -> Vec<Kernel> {
        let all = [Kernel::Vnni512, Kernel::Avx2];
        for k in all.iter().filter(|k| !k.available()) {
            eprintln!("{k:?}: not on this CPU, not tested here");
        }
        all.into_iter().filter(|k| k.available()).collect()
    }

    #[test]
    fn matches_f32_within_quantization_error() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for kernel in kernels() {
            for (m, n, k) in [
                (1, 64, 4),
                (7, 128, 384),
                (13, 384, 1536),
                (6, 64, 36),
                (5, 192, 13 * 4),
            ] {
                let x: Vec<f32> = (0..m * k).map(|_| rng.random_range(-2.0..2.0)).collect();
                let w: Vec<f32> = (0..n * k).map(|_| rng.random_range(-0.1..0.1)).collect();
                let b: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
                let lin = Int8Linear::for_kernel(kernel, &w, &b, n, k).expect("supported shape");
                assert_eq!(lin.kernel(), kernel);
                let got = lin.forward_slice(&x);
                let want = reference(&x, &w, &b, n, k);
                // Each product is off by at most |x|·δw + |w|·δx + δx·δw, δ being half a step.
                let (dx, dw) = (2.0 / 254.0, 0.1 / (2.0 * kernel.weight_max()));
                let bound = k as f32 * (2.0 * dw + 0.1 * dx + dx * dw);
                let worst = got
                    .iter()
                    .zip(&want)
                    .map(|(g, w)| (g - w).abs())
                    .fold(0f32, f32::max);
                assert!(
                    worst <= bound,
                    "{kernel:?} {m}x{n}x{k}: error {worst} > {bound}"
                );
                // And on average far less: a layout error would be as large as the values.
                let rms = |v: &mut dyn Iterator<Item = f32>| {
                    let (s, c) = v.fold((0f32, 0usize), |(s, c), e| (s + e * e, c + 1));
                    (s / c as f32).sqrt()
                };
                let err = rms(&mut got.iter().zip(&want).map(|(g, w)| g - w));
                let size = rms(&mut want.iter().copied());
                assert!(
                    err < 0.02 * size,
                    "{kernel:?} {m}x{n}x{k}: rms error {err} of {size}"
                );
            }
        }
    }

    #[test]
    fn fused_gelu_matches_the_gelu_op() {
        let (n, k) = (64, 8);
        let w: Vec<f32> = (0..n * k)
            .map(|i| if i % (k + 1) == 0 { 1.0 } else { 0.0 })
            .collect();
        let x: Vec<f32> = (0..k).map(|i| i as f32 - 4.0).collect();
        let b: Vec<f32> = (0..n).map(|j| j as f32 * 0.125 - 4.0).collect();
        for kernel in kernels() {
            let plain = Int8Linear::for_kernel(kernel, &w, &b, n, k)
                .unwrap()
                .forward_slice(&x);
            let fused = Int8Linear::for_kernel(kernel, &w, &b, n, k)
                .unwrap()
                .with_gelu()
                .forward_slice(&x);
            for (p, f) in plain.iter().zip(&fused) {
                let want = crate::gelu::gelu(*p);
                assert!(
                    (f - want).abs() < 1e-5,
                    "{kernel:?}: gelu({p}) = {want}, fused {f}"
                );
            }
        }
    }

    #[test]
    fn declines_shapes_the_kernel_does_not_take() {
        for kernel in [Kernel::Vnni512, Kernel::Avx2] {
            let lin = |n: usize, k: usize| {
                Int8Linear::for_kernel(kernel, &vec![0.0; n * k], &vec![0.0; n], n, k)
            };
            assert!(lin(9, 384).is_none());
            assert!(lin(64, 3).is_none());
            assert!(lin(64, 6).is_none());
            assert!(lin(64, 8).is_some() == kernel.available());
        }
    }
}
