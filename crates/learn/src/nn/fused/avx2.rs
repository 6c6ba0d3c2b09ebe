//! The two products of the fused path written with explicit AVX2/FMA intrinsics for `f32`, in
//! 6-row × 16-column register tiles: 12 accumulators, two loads of the shared operand per step,
//! six broadcasts. The portable versions in [`super::tiles`] express the same arithmetic, but
//! the compiler left the shared operand in memory there (a load per multiply-add), which made
//! them load-bound at about half of these kernels' speed.
//!
//! Each output element sees the same fused multiply-adds in the same order as in the portable
//! versions (over `k` from `init`, or over rows from `c`), so the results are bit-identical;
//! `simd`'s test compares them on every instruction set the machine has.
#![allow(unsafe_code)] // reason: raw-pointer SIMD loads and stores; every extent is asserted first

use std::arch::x86_64::{
    __m256, _mm256_broadcast_ss, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_storeu_ps,
};

use super::tiles::{ROWS, WIDTH as H};

/// Columns per register tile (two 8-lane registers).
const NC: usize = 16;

/// `out[i] = init + x[r0 + i] · w` for the [`ROWS`] rows `r0..r0 + ROWS` of `x` (`· × k`),
/// with `w: k × H` and `out: ROWS × H`, every element accumulated over `k` in order.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
#[inline]
pub(super) unsafe fn affine_rows(
    x: &[f32],
    k: usize,
    r0: usize,
    w: &[f32],
    init: &[f32],
    out: &mut [f32],
) {
    assert!(x.len() >= (r0 + ROWS) * k && w.len() >= k * H);
    assert!(init.len() >= H && out.len() >= ROWS * H);
    let (xp, wp, op) = (x.as_ptr().add(r0 * k), w.as_ptr(), out.as_mut_ptr());
    for j0 in (0..H).step_by(NC) {
        let (b0, b1) = (
            _mm256_loadu_ps(init.as_ptr().add(j0)),
            _mm256_loadu_ps(init.as_ptr().add(j0 + 8)),
        );
        let mut c: [[__m256; 2]; ROWS] = [[b0, b1]; ROWS];
        for kk in 0..k {
            let wk = wp.add(kk * H + j0);
            let (w0, w1) = (_mm256_loadu_ps(wk), _mm256_loadu_ps(wk.add(8)));
            for (i, ci) in c.iter_mut().enumerate() {
                let xv = _mm256_broadcast_ss(&*xp.add(i * k + kk));
                ci[0] = _mm256_fmadd_ps(xv, w0, ci[0]);
                ci[1] = _mm256_fmadd_ps(xv, w1, ci[1]);
            }
        }
        for (i, ci) in c.iter().enumerate() {
            let o = op.add(i * H + j0);
            _mm256_storeu_ps(o, ci[0]);
            _mm256_storeu_ps(o.add(8), ci[1]);
        }
    }
}

/// `c[i0 + i][·] += Σ_rows a[r][i0 + i] · b[r][·]` for the [`ROWS`] rows `i0..i0 + ROWS` of
/// `c` (`m × H`), with `a: rows × m` and `b: rows × H`, every element accumulated over the rows
/// in order.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
#[inline]
pub(super) unsafe fn outer_rows(
    a: &[f32],
    m: usize,
    i0: usize,
    b: &[f32],
    rows: usize,
    c: &mut [f32],
) {
    assert!(i0 + ROWS <= m && a.len() >= rows * m && b.len() >= rows * H);
    assert!(c.len() >= m * H);
    let (ap, bp, cp) = (a.as_ptr().add(i0), b.as_ptr(), c.as_mut_ptr().add(i0 * H));
    for j0 in (0..H).step_by(NC) {
        let mut t: [[__m256; 2]; ROWS] = [[_mm256_loadu_ps(cp); 2]; ROWS];
        for (i, ti) in t.iter_mut().enumerate() {
            let at = cp.add(i * H + j0);
            *ti = [_mm256_loadu_ps(at), _mm256_loadu_ps(at.add(8))];
        }
        for r in 0..rows {
            let br = bp.add(r * H + j0);
            let (b0, b1) = (_mm256_loadu_ps(br), _mm256_loadu_ps(br.add(8)));
            let ar = ap.add(r * m);
            for (i, ti) in t.iter_mut().enumerate() {
                let av = _mm256_broadcast_ss(&*ar.add(i));
                ti[0] = _mm256_fmadd_ps(av, b0, ti[0]);
                ti[1] = _mm256_fmadd_ps(av, b1, ti[1]);
            }
        }
        for (i, ti) in t.iter().enumerate() {
            let at = cp.add(i * H + j0);
            _mm256_storeu_ps(at, ti[0]);
            _mm256_storeu_ps(at.add(8), ti[1]);
        }
    }
}
