//! CPU kernels of ontleed's transformer encoder, as candle custom ops: int8 matrix products
//! ([`int8`]: AVX-512 VNNI and AVX2, GELU optionally fused in), the attention softmax with mask
//! and scale fused in ([`simd`]: AVX-512 and AVX2), and GELU ([`gelu`]: the scalar reference the
//! SIMD versions are tested against, and the f32 path's op).
//!
//! Each kernel is chosen at run time from the CPU's features; where none applies, the callers
//! keep candle's own ops. The tests here compare every SIMD kernel with its scalar reference on
//! the CPU that runs them.

pub mod gelu;
pub mod int8;
pub mod simd;

use candle_core::{CpuStorage, Layout};

/// The f32 values of a contiguous CPU tensor's storage (an error for any other layout).
pub fn contiguous<'a>(s: &'a CpuStorage, l: &Layout) -> candle_core::Result<&'a [f32]> {
    let data = s.as_slice::<f32>()?;
    match l.contiguous_offsets() {
        Some((a, b)) => Ok(&data[a..b]),
        None => candle_core::bail!("expected a contiguous tensor"),
    }
}
