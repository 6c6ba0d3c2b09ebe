//! The tile kernels of the fused path ([`TileKernels`]) written with explicit intrinsics for
//! `f32`, at two widths ([`X86`] over [`Products`]): [`Avx2`] with 8-lane registers, and
//! [`Avx512`] with 16-lane ones (module `zmm`).
//!
//! - **Products** (affine maps and weight gradients). A tile keeps its accumulators and the
//!   row of the shared operand in registers. On AVX2 a tile is 6 rows × 16 columns: per step,
//!   two loads of that operand, six broadcasts and twelve fused multiply-adds. On AVX-512 it
//!   is 6 rows × all 64 columns (24 accumulators, four registers of the shared operand), so
//!   each input is read once. The portable versions left the shared operand in memory (a load
//!   per multiply-add), which made them load-bound. A hidden block's forward tile applies the
//!   ReLU and starts the LayerNorm's sums from the accumulators ([`affine_relu`]). The weight
//!   gradient's last, narrower tile also takes the bias gradient's column sums of `dz` in the
//!   same pass ([`outer`] with `SUMS`).
//! - **The gradient through a hidden block's weights**, `dz · Wᵀ`, row by row over the
//!   non-zero entries of `dz` only ([`affine_sparse`]): the ReLU zeroed about half of them.
//!   `Wᵀ` is built by 8 × 8 register transposes. On AVX-512 a row has only four accumulators,
//!   too few to hide the multiply-adds' latency, so up to three rows take their terms in turn.
//! - **LayerNorm rows**, written once over the register type ([`Reg`]: eight 8-lane or four
//!   16-lane registers per 64-wide row). The reductions keep the exact association of the
//!   portable versions: [`super::tiles::row_sum`] forward (the eight 8-lane columns as a
//!   balanced tree) and [`crate::nn::lane_sum`] backward (eight lanes along the row), each then
//!   `((0+4)+(1+5))+((2+6)+(3+7))` across the lanes; a 16-lane register's halves stand for two
//!   neighbouring 8-lane ones. The last step is done for a tile's rows at once
//!   ([`lane_sums8`]), and so are the forward's square root and division, in one register; the
//!   forward runs two tiles' chains of reductions, square root and division side by side.
//!
//! The rows are read and written on cache lines: `MlpCache`'s buffers are 64-byte aligned
//! (`nn::aligned`), so no access straddles two lines.
//!
//! Each output element sees the same operations in the same order as in the portable versions
//! in [`super::tiles`] (products over `k` from `init`, or over rows from `c`; `max(z, 0)` is
//! `z > 0 ? z : 0`, NaN included); lanes are independent. So the results are bit-identical;
//! `mlp`'s test compares every instruction set the machine has. Other element types (the `f64`
//! of the gradient checks) take [`Portable`].
//!
//! On the Ice Lake machine this was first written on, 512-bit arithmetic lowered the core
//! clock, and an AVX-512 version of the products gained nothing overall (0.645 vs 0.643 µs per
//! row in the `mlp` bench), so it was dropped. On the Emerald Rapids machine of December 2026
//! it does not: the products, LayerNorm rows and all take the actor's forward + backward from
//! 0.40 to 0.24 µs per row (`mlp` bench, alternating in one process).
#![allow(unsafe_code)] // reason: raw-pointer SIMD loads and stores (every extent is asserted first) and calls of `#[target_feature]` functions (guarded by `Avx2::new`, `Avx512::new`)

use std::mem::MaybeUninit;

use std::arch::x86_64::{
    __m256, __m512, _mm256_add_ps, _mm256_and_ps, _mm256_cmp_ps, _mm256_cmpgt_epi32, _mm256_div_ps,
    _mm256_fmadd_ps, _mm256_hadd_ps, _mm256_loadu_ps, _mm256_maskstore_ps, _mm256_max_ps,
    _mm256_movemask_ps, _mm256_mul_ps, _mm256_permute2f128_ps, _mm256_set1_epi32, _mm256_set1_ps,
    _mm256_setr_epi32, _mm256_setzero_ps, _mm256_shuffle_ps, _mm256_sqrt_ps, _mm256_storeu_ps,
    _mm256_sub_ps, _mm256_unpackhi_ps, _mm256_unpacklo_ps, _mm512_add_ps, _mm512_cmp_ps_mask,
    _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_maskz_mov_ps, _mm512_max_ps, _mm512_mul_ps,
    _mm512_set1_ps, _mm512_setzero_ps, _mm512_storeu_ps, _mm512_sub_ps, _CMP_GT_OQ, _CMP_NEQ_UQ,
};

use super::tiles::{BlockIn, BlockOut, Portable, TileKernels, ROWS, WIDTH as H};
use crate::nn::Real;

/// Columns per register tile of the products (two registers).
const NC: usize = 16;
/// Registers per 64-wide row.
const V: usize = H / 8;

/// The kernels with explicit intrinsics for `f32` (see the module docs), their products `P`
/// eight lanes wide ([`Ymm`]) or sixteen ([`Zmm`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct X86<P>(P);

/// The kernels on AVX2 + FMA.
pub(crate) type Avx2 = X86<Ymm>;
/// The kernels with AVX-512 products (the LayerNorm rows as in [`Avx2`]).
pub(crate) type Avx512 = X86<Zmm>;

impl Avx2 {
    /// # Safety
    /// The CPU must support AVX2 and FMA (every method relies on it).
    pub(crate) unsafe fn new() -> Self {
        Self(Ymm(()))
    }
}

impl Avx512 {
    /// # Safety
    /// The CPU must support AVX-512F, AVX2 and FMA (every method relies on it).
    pub(crate) unsafe fn new() -> Self {
        Self(Zmm(()))
    }
}

/// The kernels at one vector width: its three matrix products, and the register type its
/// LayerNorm rows run on (the rows themselves are written once, [`relu_norm_rows`] and
/// [`norm_relu_backward_rows`]). Each output element sees the same operations in the same
/// order at every width.
pub(crate) trait Products: Copy {
    /// The register of the LayerNorm rows at this width.
    type Reg: Reg;
    /// [`affine_relu`].
    ///
    /// # Safety
    /// The CPU has the width's instruction set.
    unsafe fn affine_relu(
        x: &[f32],
        k: usize,
        r0: usize,
        w: &[f32],
        init: &[f32],
        a: &mut [f32],
    ) -> [__m256; 8];
    /// [`outer`], with `SUMS` also `sums[j] += b[r][j]` over the rows in order.
    ///
    /// # Safety
    /// As [`Products::affine_relu`].
    unsafe fn outer<const R: usize, const SUMS: bool>(
        a: &[f32],
        m: usize,
        i0: usize,
        b: &[f32],
        rows: usize,
        c: &mut [f32],
        sums: &mut [f32],
    );
    /// [`affine_sparse`].
    ///
    /// # Safety
    /// As [`Products::affine_relu`].
    unsafe fn affine_sparse(x: &[f32], r0: usize, n: usize, w: &[f32], out: &mut [f32]);
    /// [`relu_norm_rows`] for one tile.
    ///
    /// # Safety
    /// As [`Products::affine_relu`].
    #[inline(always)]
    unsafe fn relu_norm(
        z: &[f32],
        n: usize,
        gamma: &[f32],
        beta: &[f32],
        eps: f32,
        out: RowsOut<'_>,
        summed: Option<[__m256; 8]>,
    ) {
        relu_norm_rows::<Self::Reg, 1>(z, n, gamma, beta, eps, out, summed.map(|s| [s]))
    }
    /// Two tiles of [`Products::affine_relu`] then [`relu_norm_rows`], their LayerNorms side
    /// by side: rows `r0..r0 + 2·ROWS` into `out` (those rows).
    ///
    /// # Safety
    /// As [`Products::affine_relu`].
    #[allow(clippy::too_many_arguments)] // reason: a row kernel
    #[inline(always)]
    unsafe fn affine_relu_norm_pair(
        x: &[f32],
        k: usize,
        r0: usize,
        w: &[f32],
        init: &[f32],
        gamma: &[f32],
        beta: &[f32],
        eps: f32,
        out: RowsOut<'_>,
    ) {
        let (a0, a1) = out.a.split_at_mut(ROWS * H);
        let sums = [
            Self::affine_relu(x, k, r0, w, init, a0),
            Self::affine_relu(x, k, r0 + ROWS, w, init, a1),
        ];
        relu_norm_rows::<Self::Reg, 2>(&[], 2 * ROWS, gamma, beta, eps, out, Some(sums))
    }
    /// [`norm_relu_backward_rows`].
    ///
    /// # Safety
    /// As [`Products::affine_relu`].
    #[allow(clippy::too_many_arguments)] // reason: a row kernel
    #[inline(always)]
    unsafe fn norm_relu_backward(
        g: &mut [f32],
        n: usize,
        xhat: &[f32],
        a: &[f32],
        rstd: &[f32],
        gamma: &[f32],
        dgamma: &mut [f32],
        dbeta: &mut [f32],
        dz: &mut [f32],
    ) {
        norm_relu_backward_rows::<Self::Reg>(g, n, xhat, a, rstd, gamma, dgamma, dbeta, dz)
    }
}

/// Products in 8-lane AVX2 registers (`__m256`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ymm(());

/// Products in 16-lane AVX-512 registers (`__m512`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Zmm(());

impl Products for Ymm {
    type Reg = __m256;
    #[inline(always)]
    unsafe fn affine_relu(
        x: &[f32],
        k: usize,
        r0: usize,
        w: &[f32],
        init: &[f32],
        a: &mut [f32],
    ) -> [__m256; 8] {
        affine_relu(x, k, r0, w, init, a)
    }
    #[inline(always)]
    unsafe fn outer<const R: usize, const SUMS: bool>(
        a: &[f32],
        m: usize,
        i0: usize,
        b: &[f32],
        rows: usize,
        c: &mut [f32],
        sums: &mut [f32],
    ) {
        outer::<R, SUMS>(a, m, i0, b, rows, c, sums)
    }
    #[inline(always)]
    unsafe fn affine_sparse(x: &[f32], r0: usize, n: usize, w: &[f32], out: &mut [f32]) {
        affine_sparse(x, r0, n, w, out)
    }
}

impl Products for Zmm {
    type Reg = __m512;
    #[inline(always)]
    unsafe fn affine_relu(
        x: &[f32],
        k: usize,
        r0: usize,
        w: &[f32],
        init: &[f32],
        a: &mut [f32],
    ) -> [__m256; 8] {
        zmm::affine_relu(x, k, r0, w, init, a)
    }
    #[inline(always)]
    unsafe fn outer<const R: usize, const SUMS: bool>(
        a: &[f32],
        m: usize,
        i0: usize,
        b: &[f32],
        rows: usize,
        c: &mut [f32],
        sums: &mut [f32],
    ) {
        zmm::outer::<R, SUMS>(a, m, i0, b, rows, c, sums)
    }
    #[inline(always)]
    unsafe fn affine_sparse(x: &[f32], r0: usize, n: usize, w: &[f32], out: &mut [f32]) {
        zmm::affine_sparse(x, r0, n, w, out)
    }
}

/// The products with 16-lane AVX-512 registers: a row of 64 columns is four registers, so a
/// 6-row tile holds all 64 columns (24 accumulators and the four registers of the shared
/// operand's row) and reads each input once.
mod zmm {
    use std::arch::x86_64::{
        __m256, __m512, _mm256_add_ps, _mm256_castpd_ps, _mm512_add_ps, _mm512_castpd512_pd256,
        _mm512_castps_pd, _mm512_cmp_ps_mask, _mm512_extractf64x4_pd, _mm512_fmadd_ps,
        _mm512_loadu_ps, _mm512_max_ps, _mm512_set1_ps, _mm512_setzero_ps, _mm512_storeu_ps,
        _CMP_NEQ_UQ,
    };

    use super::{H, ROWS};

    /// Registers per 64-wide row.
    const Z: usize = H / 16;

    /// The two 8-lane halves of `v`.
    #[target_feature(enable = "avx512f")]
    #[inline]
    pub(super) fn halves(v: __m512) -> (__m256, __m256) {
        let d = _mm512_castps_pd(v);
        (
            _mm256_castpd_ps(_mm512_castpd512_pd256(d)),
            _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(d)),
        )
    }

    /// [`super::affine_relu`] with the whole 64-column row of the tile in registers.
    #[target_feature(enable = "avx512f")]
    #[inline]
    pub(super) unsafe fn affine_relu(
        x: &[f32],
        k: usize,
        r0: usize,
        w: &[f32],
        init: &[f32],
        a: &mut [f32],
    ) -> [__m256; 8] {
        assert!(x.len() >= (r0 + ROWS) * k && w.len() >= k * H);
        assert!(init.len() >= H && a.len() >= ROWS * H);
        let (xp, wp, ap) = (x.as_ptr().add(r0 * k), w.as_ptr(), a.as_mut_ptr());
        let b: [__m512; Z] = std::array::from_fn(|c| _mm512_loadu_ps(init.as_ptr().add(16 * c)));
        let mut acc = [b; ROWS];
        for kk in 0..k {
            let wk = wp.add(kk * H);
            let wv: [__m512; Z] = std::array::from_fn(|c| _mm512_loadu_ps(wk.add(16 * c)));
            for (i, ci) in acc.iter_mut().enumerate() {
                let xv = _mm512_set1_ps(*xp.add(i * k + kk));
                for (a, &wc) in ci.iter_mut().zip(&wv) {
                    *a = _mm512_fmadd_ps(xv, wc, *a);
                }
            }
        }
        let zero = _mm512_setzero_ps();
        let mut sums: [__m256; 8] = std::array::from_fn(|_| halves(zero).0);
        for (i, (ci, s)) in acc.iter().zip(&mut sums).enumerate() {
            // The AVX2 tile's pairs: columns j0..j0 + 8 plus j0 + 8..j0 + 16.
            let p: [__m256; Z] = std::array::from_fn(|c| {
                let v = _mm512_max_ps(ci[c], zero);
                _mm512_storeu_ps(ap.add(i * H + 16 * c), v);
                let (lo, hi) = halves(v);
                _mm256_add_ps(lo, hi)
            });
            *s = _mm256_add_ps(_mm256_add_ps(p[0], p[1]), _mm256_add_ps(p[2], p[3]));
        }
        sums
    }

    /// [`super::outer`] with a tile of `R` rows × 64 columns (and the column sums).
    #[target_feature(enable = "avx512f")]
    #[inline]
    pub(super) unsafe fn outer<const R: usize, const SUMS: bool>(
        a: &[f32],
        m: usize,
        i0: usize,
        b: &[f32],
        rows: usize,
        c: &mut [f32],
        sums: &mut [f32],
    ) {
        assert!(i0 + R <= m && a.len() >= rows * m && b.len() >= rows * H);
        assert!(c.len() >= m * H && (!SUMS || sums.len() >= H));
        let (ap, bp, cp) = (a.as_ptr().add(i0), b.as_ptr(), c.as_mut_ptr().add(i0 * H));
        let sp = sums.as_mut_ptr();
        let mut t: [[__m512; Z]; R] = std::array::from_fn(|i| {
            std::array::from_fn(|q| _mm512_loadu_ps(cp.add(i * H + 16 * q)))
        });
        let mut sv = [_mm512_setzero_ps(); Z];
        if SUMS {
            sv = std::array::from_fn(|q| _mm512_loadu_ps(sp.add(16 * q)));
        }
        for r in 0..rows {
            let br = bp.add(r * H);
            let bv: [__m512; Z] = std::array::from_fn(|q| _mm512_loadu_ps(br.add(16 * q)));
            let ar = ap.add(r * m);
            for (i, ti) in t.iter_mut().enumerate() {
                let av = _mm512_set1_ps(*ar.add(i));
                for (tq, &bq) in ti.iter_mut().zip(&bv) {
                    *tq = _mm512_fmadd_ps(av, bq, *tq);
                }
            }
            if SUMS {
                for (s, &bq) in sv.iter_mut().zip(&bv) {
                    *s = _mm512_add_ps(*s, bq);
                }
            }
        }
        for (i, ti) in t.iter().enumerate() {
            for (q, &tq) in ti.iter().enumerate() {
                _mm512_storeu_ps(cp.add(i * H + 16 * q), tq);
            }
        }
        if SUMS {
            for (q, &v) in sv.iter().enumerate() {
                _mm512_storeu_ps(sp.add(16 * q), v);
            }
        }
    }

    /// [`super::affine_sparse`] with four accumulators per row, over up to three rows at once:
    /// one row's four chains of fused multiply-adds would wait on the adds' latency, so the
    /// rows take their non-zero terms in turn while each has some left (each row still adds
    /// its terms in order of `k`).
    #[target_feature(enable = "avx512f")]
    #[inline]
    pub(super) unsafe fn affine_sparse(x: &[f32], r0: usize, n: usize, w: &[f32], out: &mut [f32]) {
        assert!(x.len() >= (r0 + n) * H && w.len() >= H * H && out.len() >= n * H);
        let mut i = 0;
        while i < n {
            let (xr, or) = (x.as_ptr().add((r0 + i) * H), out.as_mut_ptr().add(i * H));
            match n - i {
                1 => sparse_rows::<1>(xr, w.as_ptr(), or),
                2 => sparse_rows::<2>(xr, w.as_ptr(), or),
                _ => sparse_rows::<3>(xr, w.as_ptr(), or),
            }
            i += 3;
        }
    }

    /// `R` consecutive rows of [`affine_sparse`] from `xp` into `op` (`R × H` each).
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn sparse_rows<const R: usize>(xp: *const f32, wp: *const f32, op: *mut f32) {
        let zero = _mm512_setzero_ps();
        // Bit k set where x[k] is not zero (NaN included, so it still propagates).
        let mut live = [0u64; R];
        for (r, l) in live.iter_mut().enumerate() {
            for c in 0..Z {
                let v = _mm512_loadu_ps(xp.add(r * H + 16 * c));
                *l |= u64::from(_mm512_cmp_ps_mask::<_CMP_NEQ_UQ>(v, zero)) << (16 * c);
            }
        }
        let mut acc = [[zero; Z]; R];
        let step = |acc: &mut [__m512; Z], live: &mut u64, xr: *const f32| {
            let k = live.trailing_zeros() as usize;
            *live &= *live - 1;
            let (xv, wk) = (_mm512_set1_ps(*xr.add(k)), wp.add(k * H));
            for (c, a) in acc.iter_mut().enumerate() {
                *a = _mm512_fmadd_ps(xv, _mm512_loadu_ps(wk.add(16 * c)), *a);
            }
        };
        while live.iter().all(|&l| l != 0) {
            for r in 0..R {
                step(&mut acc[r], &mut live[r], xp.add(r * H));
            }
        }
        for r in 0..R {
            while live[r] != 0 {
                step(&mut acc[r], &mut live[r], xp.add(r * H));
            }
        }
        for (r, ar) in acc.iter().enumerate() {
            for (c, a) in ar.iter().enumerate() {
                _mm512_storeu_ps(op.add(r * H + 16 * c), *a);
            }
        }
    }
}

/// The register tile of columns `j0..j0 + 16` of `init + x · w` for the [`ROWS`] rows at `xp`
/// (`ROWS × k`, `w: k × H`), accumulated over `k` in order; the caller has asserted the extents.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn product_tile(
    xp: *const f32,
    k: usize,
    wp: *const f32,
    init: *const f32,
    j0: usize,
) -> [[__m256; 2]; ROWS] {
    let b = [
        _mm256_loadu_ps(init.add(j0)),
        _mm256_loadu_ps(init.add(j0 + 8)),
    ];
    let mut c: [[__m256; 2]; ROWS] = [b; ROWS];
    for kk in 0..k {
        let wk = wp.add(kk * H + j0);
        let (w0, w1) = (_mm256_loadu_ps(wk), _mm256_loadu_ps(wk.add(8)));
        for (i, ci) in c.iter_mut().enumerate() {
            let xv = _mm256_set1_ps(*xp.add(i * k + kk));
            ci[0] = _mm256_fmadd_ps(xv, w0, ci[0]);
            ci[1] = _mm256_fmadd_ps(xv, w1, ci[1]);
        }
    }
    c
}

/// `out[i] = x[r0 + i] · w` for the `n` rows `r0..r0 + n` of `x` (`· × H`, `w: H × H`,
/// `out: n × H`), accumulated over `k` in order from `+0` and skipping the zero `x[r0 + i][k]`
/// (see [`TileKernels::affine_rows_sparse`]). Row by row: the row's eight accumulators stay in
/// registers while its non-zero entries, found with one comparison per register, each add a
/// row of `w`. About half the work of the dense tile on ReLU gradients, at one load of `w` per
/// multiply-add register instead of a sixth of one.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn affine_sparse(x: &[f32], r0: usize, n: usize, w: &[f32], out: &mut [f32]) {
    assert!(x.len() >= (r0 + n) * H && w.len() >= H * H && out.len() >= n * H);
    let zero = _mm256_setzero_ps();
    let (wp, op) = (w.as_ptr(), out.as_mut_ptr());
    for i in 0..n {
        let xr = x.as_ptr().add((r0 + i) * H);
        // Bit k set where x[k] is not zero (NaN included, so it still propagates).
        let mut live = 0u64;
        for c in 0..V {
            let nz = _mm256_cmp_ps::<_CMP_NEQ_UQ>(_mm256_loadu_ps(xr.add(8 * c)), zero);
            live |= u64::from(_mm256_movemask_ps(nz) as u32) << (8 * c);
        }
        let mut acc = [zero; V];
        while live != 0 {
            let k = live.trailing_zeros() as usize;
            live &= live - 1;
            let (xv, wk) = (_mm256_set1_ps(*xr.add(k)), wp.add(k * H));
            for (c, a) in acc.iter_mut().enumerate() {
                *a = _mm256_fmadd_ps(xv, _mm256_loadu_ps(wk.add(8 * c)), *a);
            }
        }
        for (c, a) in acc.iter().enumerate() {
            _mm256_storeu_ps(op.add(i * H + 8 * c), *a);
        }
    }
}

/// `wt = wᵀ` for `w: H × H`, in 8 × 8 blocks of registers (unpack, shuffle, swap halves).
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn transpose(w: &[f32], wt: &mut [f32]) {
    assert!(w.len() >= H * H && wt.len() >= H * H);
    let (wp, tp) = (w.as_ptr(), wt.as_mut_ptr());
    for bi in 0..V {
        for bj in 0..V {
            let r: [__m256; 8] =
                std::array::from_fn(|i| _mm256_loadu_ps(wp.add((8 * bi + i) * H + 8 * bj)));
            let t: [__m256; 8] = std::array::from_fn(|i| {
                let (a, b) = (r[i & !1], r[i | 1]);
                if i % 2 == 0 {
                    _mm256_unpacklo_ps(a, b)
                } else {
                    _mm256_unpackhi_ps(a, b)
                }
            });
            // Columns c and c + 4 of rows 0–3 (s[0..4]) and of rows 4–7 (s[4..8]).
            let s: [__m256; 8] = std::array::from_fn(|i| {
                let (q, h) = (4 * (i / 4), (i % 4) / 2);
                let (a, b) = (t[q + h], t[q + h + 2]);
                if i % 2 == 0 {
                    _mm256_shuffle_ps::<0x44>(a, b)
                } else {
                    _mm256_shuffle_ps::<0xEE>(a, b)
                }
            });
            for c in 0..4 {
                let lo = _mm256_permute2f128_ps::<0x20>(s[c], s[c + 4]);
                let hi = _mm256_permute2f128_ps::<0x31>(s[c], s[c + 4]);
                _mm256_storeu_ps(tp.add((8 * bj + c) * H + 8 * bi), lo);
                _mm256_storeu_ps(tp.add((8 * bj + c + 4) * H + 8 * bi), hi);
            }
        }
    }
}

/// The product `init + x[r0..r0 + ROWS] · w` ([`product_tile`]) followed by the first stage
/// of [`relu_norm_rows`], from the accumulators while they are in registers:
/// `a[i] = max(init + x[r0 + i] · w, 0)` (`a`:
/// `ROWS × H`), and each row's lane-wise column tree `((c0 + c1) + (c2 + c3)) + ((c4 + c5) +
/// (c6 + c7))` of [`Reg::row_tree`] (a 16-column step holds the pair `c2j`, `c2j+1`), in the
/// first `ROWS` of the returned registers. The output tile never goes through memory before
/// the LayerNorm reads it back.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn affine_relu(
    x: &[f32],
    k: usize,
    r0: usize,
    w: &[f32],
    init: &[f32],
    a: &mut [f32],
) -> [__m256; 8] {
    assert!(x.len() >= (r0 + ROWS) * k && w.len() >= k * H);
    assert!(init.len() >= H && a.len() >= ROWS * H);
    let zero = _mm256_setzero_ps();
    let (xp, ap) = (x.as_ptr().add(r0 * k), a.as_mut_ptr());
    // Every pair is written before it is read; zeroing the 768 bytes first was a `memset`
    // call per tile.
    let mut pairs = [[MaybeUninit::<__m256>::uninit(); 4]; ROWS];
    for j0 in (0..H).step_by(NC) {
        let c = product_tile(xp, k, w.as_ptr(), init.as_ptr(), j0);
        for (i, ci) in c.iter().enumerate() {
            let (v0, v1) = (_mm256_max_ps(ci[0], zero), _mm256_max_ps(ci[1], zero));
            let o = ap.add(i * H + j0);
            _mm256_storeu_ps(o, v0);
            _mm256_storeu_ps(o.add(8), v1);
            pairs[i][j0 / NC].write(_mm256_add_ps(v0, v1));
        }
    }
    let mut sums = [zero; 8];
    for (s, p) in sums.iter_mut().zip(&pairs) {
        // SAFETY: the loop over `j0` wrote all four pairs of every row.
        let p = p.map(|v| v.assume_init());
        *s = _mm256_add_ps(_mm256_add_ps(p[0], p[1]), _mm256_add_ps(p[2], p[3]));
    }
    sums
}

/// `c[i0 + i][·] += Σ_rows a[r][i0 + i] · b[r][·]` for the `R` rows `i0..i0 + R` of `c`
/// (`m × H`), with `a: rows × m` and `b: rows × H`, accumulated over the rows in order; with
/// `SUMS`, also the column sums `sums[·] += Σ_rows b[r][·]` (`sums`: `H`), in the same pass
/// over `b` (a loop of their own waited on the adds' latency).
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn outer<const R: usize, const SUMS: bool>(
    a: &[f32],
    m: usize,
    i0: usize,
    b: &[f32],
    rows: usize,
    c: &mut [f32],
    sums: &mut [f32],
) {
    assert!(i0 + R <= m && a.len() >= rows * m && b.len() >= rows * H);
    assert!(c.len() >= m * H && (!SUMS || sums.len() >= H));
    let (ap, bp, cp) = (a.as_ptr().add(i0), b.as_ptr(), c.as_mut_ptr().add(i0 * H));
    let sp = sums.as_mut_ptr();
    for j0 in (0..H).step_by(NC) {
        let mut t: [[__m256; 2]; R] = [[_mm256_setzero_ps(); 2]; R];
        for (i, ti) in t.iter_mut().enumerate() {
            let at = cp.add(i * H + j0);
            *ti = [_mm256_loadu_ps(at), _mm256_loadu_ps(at.add(8))];
        }
        let mut sv = [_mm256_setzero_ps(); 2];
        if SUMS {
            sv = [_mm256_loadu_ps(sp.add(j0)), _mm256_loadu_ps(sp.add(j0 + 8))];
        }
        for r in 0..rows {
            let br = bp.add(r * H + j0);
            let (b0, b1) = (_mm256_loadu_ps(br), _mm256_loadu_ps(br.add(8)));
            let ar = ap.add(r * m);
            for (i, ti) in t.iter_mut().enumerate() {
                let av = _mm256_set1_ps(*ar.add(i));
                ti[0] = _mm256_fmadd_ps(av, b0, ti[0]);
                ti[1] = _mm256_fmadd_ps(av, b1, ti[1]);
            }
            if SUMS {
                sv = [_mm256_add_ps(sv[0], b0), _mm256_add_ps(sv[1], b1)];
            }
        }
        for (i, ti) in t.iter().enumerate() {
            let at = cp.add(i * H + j0);
            _mm256_storeu_ps(at, ti[0]);
            _mm256_storeu_ps(at.add(8), ti[1]);
        }
        if SUMS {
            _mm256_storeu_ps(sp.add(j0), sv[0]);
            _mm256_storeu_ps(sp.add(j0 + 8), sv[1]);
        }
    }
}

/// The sums of the eight lanes of each of `v[0..8]`, in one register (lane `i` for `v[i]`),
/// associated as in [`crate::nn::lane_sum`] and [`super::tiles::row_sum`]:
/// `((l0 + l4) + (l1 + l5)) + ((l2 + l6) + (l3 + l7))`. Registers `i` and `i + 4` fold their
/// halves together, then two rounds of horizontal adds finish all eight sums at once.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn lane_sums8(v: [__m256; 8]) -> __m256 {
    let fold = |a, b| {
        _mm256_add_ps(
            _mm256_permute2f128_ps::<0x20>(a, b),
            _mm256_permute2f128_ps::<0x31>(a, b),
        )
    };
    let (f0, f1, f2, f3) = (
        fold(v[0], v[4]),
        fold(v[1], v[5]),
        fold(v[2], v[6]),
        fold(v[3], v[7]),
    );
    _mm256_hadd_ps(_mm256_hadd_ps(f0, f1), _mm256_hadd_ps(f2, f3))
}

/// One register of a 64-wide row in the LayerNorm rows: 8 lanes (`__m256`, AVX2) or 16
/// (`__m512`, AVX-512). The row kernels below are written once over it; each method is the one
/// instruction (or fixed pair) it names, and every sum goes through [`Reg::row_tree`],
/// [`Reg::add_to`] or [`Reg::fma_to`], which keep the 8-lane association (a 16-lane register's
/// halves are two neighbouring 8-lane registers), so both widths give the same bits.
///
/// The methods have no target features of their own: they are inlined into the kernels, which
/// are inlined into functions compiled for the width's instruction set.
pub(crate) trait Reg: Copy {
    /// Registers per 64-wide row.
    const REGS: usize;
    /// Lanes per register.
    const LANES: usize;
    unsafe fn load(p: *const f32) -> Self;
    unsafe fn store(self, p: *mut f32);
    unsafe fn splat(v: f32) -> Self;
    unsafe fn add(self, o: Self) -> Self;
    unsafe fn sub(self, o: Self) -> Self;
    unsafe fn mul(self, o: Self) -> Self;
    /// `self · b + c`, rounded once.
    unsafe fn fma(self, b: Self, c: Self) -> Self;
    /// `max(self, 0)` lane by lane (`self > 0 ? self : 0`, NaN included).
    unsafe fn relu(self) -> Self;
    /// `self` where `a > 0`, `+0` elsewhere (NaN in `a` included).
    unsafe fn where_positive(self, a: Self) -> Self;
    /// `acc + self`, 8 lanes at a time in column order.
    unsafe fn add_to(self, acc: __m256) -> __m256;
    /// `acc + self · w` (fused), 8 lanes at a time in column order.
    unsafe fn fma_to(self, w: Self, acc: __m256) -> __m256;
    /// The lane-wise column tree of a row's registers `r[..REGS]` as eight 8-lane columns
    /// `((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7))` ([`super::tiles::row_sum`]).
    unsafe fn row_tree(r: &[Self; 8]) -> __m256;
}

impl Reg for __m256 {
    const REGS: usize = 8;
    const LANES: usize = 8;
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        _mm256_loadu_ps(p)
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        _mm256_storeu_ps(p, self)
    }
    #[inline(always)]
    unsafe fn splat(v: f32) -> Self {
        _mm256_set1_ps(v)
    }
    #[inline(always)]
    unsafe fn add(self, o: Self) -> Self {
        _mm256_add_ps(self, o)
    }
    #[inline(always)]
    unsafe fn sub(self, o: Self) -> Self {
        _mm256_sub_ps(self, o)
    }
    #[inline(always)]
    unsafe fn mul(self, o: Self) -> Self {
        _mm256_mul_ps(self, o)
    }
    #[inline(always)]
    unsafe fn fma(self, b: Self, c: Self) -> Self {
        _mm256_fmadd_ps(self, b, c)
    }
    #[inline(always)]
    unsafe fn relu(self) -> Self {
        _mm256_max_ps(self, _mm256_setzero_ps())
    }
    #[inline(always)]
    unsafe fn where_positive(self, a: Self) -> Self {
        _mm256_and_ps(self, _mm256_cmp_ps::<_CMP_GT_OQ>(a, _mm256_setzero_ps()))
    }
    #[inline(always)]
    unsafe fn add_to(self, acc: __m256) -> __m256 {
        _mm256_add_ps(acc, self)
    }
    #[inline(always)]
    unsafe fn fma_to(self, w: Self, acc: __m256) -> __m256 {
        _mm256_fmadd_ps(self, w, acc)
    }
    #[inline(always)]
    unsafe fn row_tree(c: &[Self; 8]) -> __m256 {
        let add = |a, b| _mm256_add_ps(a, b);
        add(
            add(add(c[0], c[1]), add(c[2], c[3])),
            add(add(c[4], c[5]), add(c[6], c[7])),
        )
    }
}

impl Reg for __m512 {
    const REGS: usize = 4;
    const LANES: usize = 16;
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        _mm512_loadu_ps(p)
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        _mm512_storeu_ps(p, self)
    }
    #[inline(always)]
    unsafe fn splat(v: f32) -> Self {
        _mm512_set1_ps(v)
    }
    #[inline(always)]
    unsafe fn add(self, o: Self) -> Self {
        _mm512_add_ps(self, o)
    }
    #[inline(always)]
    unsafe fn sub(self, o: Self) -> Self {
        _mm512_sub_ps(self, o)
    }
    #[inline(always)]
    unsafe fn mul(self, o: Self) -> Self {
        _mm512_mul_ps(self, o)
    }
    #[inline(always)]
    unsafe fn fma(self, b: Self, c: Self) -> Self {
        _mm512_fmadd_ps(self, b, c)
    }
    #[inline(always)]
    unsafe fn relu(self) -> Self {
        _mm512_max_ps(self, _mm512_setzero_ps())
    }
    #[inline(always)]
    unsafe fn where_positive(self, a: Self) -> Self {
        let alive = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(a, _mm512_setzero_ps());
        _mm512_maskz_mov_ps(alive, self)
    }
    #[inline(always)]
    unsafe fn add_to(self, acc: __m256) -> __m256 {
        let (lo, hi) = zmm::halves(self);
        _mm256_add_ps(_mm256_add_ps(acc, lo), hi)
    }
    #[inline(always)]
    unsafe fn fma_to(self, w: Self, acc: __m256) -> __m256 {
        let ((h0, h1), (w0, w1)) = (zmm::halves(self), zmm::halves(w));
        _mm256_fmadd_ps(h1, w1, _mm256_fmadd_ps(h0, w0, acc))
    }
    #[inline(always)]
    unsafe fn row_tree(c: &[Self; 8]) -> __m256 {
        let p: [__m256; 4] = std::array::from_fn(|i| {
            let (lo, hi) = zmm::halves(c[i]);
            _mm256_add_ps(lo, hi)
        });
        _mm256_add_ps(_mm256_add_ps(p[0], p[1]), _mm256_add_ps(p[2], p[3]))
    }
}

/// [`super::tiles::relu_norm_rows`] for `n ≤ G·ROWS` rows in `G` tiles of up to [`ROWS`] rows
/// (tile `g` holds rows `g·ROWS..`): `z` (`n × H`) in, or with `summed` the rows already in
/// `a` and each row's first-stage tree in lane `i % ROWS` of its tile's register; `a`, `xhat`,
/// `h` (`n × H`) and `rstd` (`n`) out; with `head = (w, b, y)`, also `y[i] = dot(h[i], w) + b`.
///
/// Staged over the rows like the portable version, and each stage's per-row scalars (mean,
/// variance, `1/σ`, head output) are computed for a tile's rows in one register: one square
/// root and one division per tile instead of one per row, and the tiles' chains of reductions,
/// square root and division run side by side. The third stage centres the rows again rather
/// than reloading them (fewer stores).
#[inline(always)]
#[allow(clippy::too_many_arguments)] // reason: a row kernel
unsafe fn relu_norm_rows<R: Reg, const G: usize>(
    z: &[f32],
    n: usize,
    gamma: &[f32],
    beta: &[f32],
    eps: f32,
    out: RowsOut<'_>,
    summed: Option<[[__m256; 8]; G]>,
) {
    let RowsOut {
        a,
        xhat,
        rstd,
        h,
        head,
    } = out;
    assert!(summed.is_some() || z.len() >= n * H);
    assert!(n <= G * ROWS && gamma.len() >= H && beta.len() >= H);
    assert!(a.len() >= n * H && xhat.len() >= n * H && h.len() >= n * H && rstd.len() >= n);
    assert!(head
        .as_ref()
        .is_none_or(|(w, _, y)| w.len() >= H && y.len() >= n));
    let inv = _mm256_set1_ps((1.0 / H as f64) as f32);
    let (zp, ap, xp, hp) = (
        z.as_ptr(),
        a.as_mut_ptr(),
        xhat.as_mut_ptr(),
        h.as_mut_ptr(),
    );
    let at = |i: usize, c: usize| i * H + c * R::LANES;
    // Row `i` is lane `i % ROWS` of tile `i / ROWS`; rows past `n` stay zero: their lanes are
    // computed and dropped.
    let mut sums = summed.unwrap_or([[_mm256_setzero_ps(); 8]; G]);
    for i in 0..if summed.is_some() { 0 } else { n } {
        let mut v = [R::splat(0.0); 8];
        for (c, vc) in v.iter_mut().enumerate().take(R::REGS) {
            *vc = R::load(zp.add(at(i, c))).relu();
            vc.store(ap.add(at(i, c)));
        }
        sums[i / ROWS][i % ROWS] = R::row_tree(&v);
    }
    let mut mean = [[0.0f32; 8]; G];
    for (m, s) in mean.iter_mut().zip(&sums) {
        _mm256_storeu_ps(m.as_mut_ptr(), _mm256_mul_ps(lane_sums8(*s), inv));
    }
    for i in 0..n {
        let m = R::splat(mean[i / ROWS][i % ROWS]);
        let mut sq = [R::splat(0.0); 8];
        for (c, q) in sq.iter_mut().enumerate().take(R::REGS) {
            let d = R::load(ap.add(at(i, c))).sub(m);
            *q = d.mul(d);
        }
        sums[i / ROWS][i % ROWS] = R::row_tree(&sq);
    }
    let mut s = [[0.0f32; 8]; G];
    for (g, (sg, sums)) in s.iter_mut().zip(&sums).enumerate() {
        let var = _mm256_mul_ps(lane_sums8(*sums), inv);
        let si = _mm256_div_ps(
            _mm256_set1_ps(1.0),
            _mm256_sqrt_ps(_mm256_add_ps(var, _mm256_set1_ps(eps))),
        );
        _mm256_storeu_ps(sg.as_mut_ptr(), si);
        let rows = n.saturating_sub(g * ROWS).min(ROWS);
        if rows == 0 {
            continue;
        }
        // This tile's rows of `rstd` (a masked store: a copy would be a `memcpy` call).
        let first = _mm256_cmpgt_epi32(
            _mm256_set1_epi32(rows as i32),
            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
        );
        _mm256_maskstore_ps(rstd.as_mut_ptr().add(g * ROWS), first, si);
    }
    let mut dots = [[_mm256_setzero_ps(); 8]; G];
    for i in 0..n {
        let (g, l) = (i / ROWS, i % ROWS);
        let (m, sv) = (R::splat(mean[g][l]), R::splat(s[g][l]));
        let acc = &mut dots[g][l];
        for c in 0..R::REGS {
            let nv = R::load(ap.add(at(i, c))).sub(m).mul(sv);
            nv.store(xp.add(at(i, c)));
            let (gm, b) = (
                R::load(gamma.as_ptr().add(c * R::LANES)),
                R::load(beta.as_ptr().add(c * R::LANES)),
            );
            let hv = gm.fma(nv, b);
            hv.store(hp.add(at(i, c)));
            if let Some((w, _, _)) = &head {
                // `dot`'s operations: eight lanes of fused multiply-adds over the columns in order.
                *acc = hv.fma_to(R::load(w.as_ptr().add(c * R::LANES)), *acc);
            }
        }
    }
    if let Some((_, b, y)) = head {
        for (g, dg) in dots.iter().enumerate() {
            let mut d = [0.0f32; 8];
            _mm256_storeu_ps(d.as_mut_ptr(), lane_sums8(*dg));
            for (yi, di) in y.iter_mut().skip(g * ROWS).zip(d).take(ROWS) {
                *yi = di + b;
            }
        }
    }
}

/// The first stage of [`norm_relu_backward_rows`] for `N` rows (`g`, `xhat`: `N × H`):
/// accumulates `∂γ += g ⊙ x̂`, `∂β += g` in row order, overwrites `g` with `g ⊙ γ`, and returns
/// each row's `(mean(g ⊙ γ), mean(g ⊙ γ ⊙ x̂))` with [`crate::nn::lane_sum`]'s association. It
/// runs column block by column block over the rows, so `∂γ` and `∂β` are loaded and stored once
/// per tile (not once per row) and the rows' sums grow side by side.
#[inline(always)]
unsafe fn backward_moments<R: Reg, const N: usize>(
    gp: *mut f32,
    xp: *const f32,
    gamma: *const f32,
    dgp: *mut f32,
    dbp: *mut f32,
) -> [(f32, f32); ROWS] {
    let inv = (1.0 / H as f64) as f32;
    let zero = _mm256_setzero_ps();
    let (mut acc1, mut acc2) = ([zero; N], [zero; N]);
    for c in 0..R::REGS {
        let at = c * R::LANES;
        let gm = R::load(gamma.add(at));
        let (mut dg, mut db) = (R::load(dgp.add(at)), R::load(dbp.add(at)));
        for (i, (a1, a2)) in acc1.iter_mut().zip(&mut acc2).enumerate() {
            let (gv, xv) = (R::load(gp.add(i * H + at)), R::load(xp.add(i * H + at)));
            dg = gv.fma(xv, dg);
            db = db.add(gv);
            let gg = gv.mul(gm);
            gg.store(gp.add(i * H + at));
            *a1 = gg.add_to(*a1);
            *a2 = gg.mul(xv).add_to(*a2);
        }
        dg.store(dgp.add(at));
        db.store(dbp.add(at));
    }
    let (mut v1, mut v2) = ([zero; 8], [zero; 8]);
    v1[..N].copy_from_slice(&acc1);
    v2[..N].copy_from_slice(&acc2);
    let inv = _mm256_set1_ps(inv);
    let (mut s1, mut s2) = ([0.0f32; 8], [0.0f32; 8]);
    _mm256_storeu_ps(s1.as_mut_ptr(), _mm256_mul_ps(lane_sums8(v1), inv));
    _mm256_storeu_ps(s2.as_mut_ptr(), _mm256_mul_ps(lane_sums8(v2), inv));
    let mut m = [(0.0, 0.0); ROWS];
    for (i, mi) in m.iter_mut().enumerate() {
        *mi = (s1[i], s2[i]);
    }
    m
}

/// [`super::tiles::norm_relu_backward_rows`] for `n ≤ ROWS` rows: `g` (`n × H`, the gradient
/// of the block output, overwritten), the saved `xhat`, `a` (`n × H`) and `rstd` (`n`) in;
/// `dgamma`, `dbeta` accumulated; `dz` (`n × H`) out.
#[inline(always)]
#[allow(clippy::too_many_arguments)] // reason: a row kernel
unsafe fn norm_relu_backward_rows<R: Reg>(
    g: &mut [f32],
    n: usize,
    xhat: &[f32],
    a: &[f32],
    rstd: &[f32],
    gamma: &[f32],
    dgamma: &mut [f32],
    dbeta: &mut [f32],
    dz: &mut [f32],
) {
    assert!(n <= ROWS && g.len() >= n * H && xhat.len() >= n * H && a.len() >= n * H);
    assert!(rstd.len() >= n && dz.len() >= n * H && gamma.len() >= H);
    assert!(dgamma.len() >= H && dbeta.len() >= H);
    let (dgp, dbp) = (dgamma.as_mut_ptr(), dbeta.as_mut_ptr());
    let (gp, xp, gm) = (g.as_mut_ptr(), xhat.as_ptr(), gamma.as_ptr());
    let moments = if n == ROWS {
        backward_moments::<R, ROWS>(gp, xp, gm, dgp, dbp)
    } else {
        let mut m = [(0.0f32, 0.0f32); ROWS];
        for (i, mi) in m.iter_mut().enumerate().take(n) {
            *mi = backward_moments::<R, 1>(gp.add(i * H), xp.add(i * H), gm, dgp, dbp)[0];
        }
        m
    };
    for (i, &(m1, m2)) in moments.iter().enumerate().take(n) {
        let (gp, xp, ap, dp) = (
            g.as_ptr().add(i * H),
            xhat.as_ptr().add(i * H),
            a.as_ptr().add(i * H),
            dz.as_mut_ptr().add(i * H),
        );
        let (s, m1, neg_m2) = (R::splat(rstd[i]), R::splat(m1), R::splat(-m2));
        for c in 0..R::REGS {
            let at = c * R::LANES;
            let inner = R::load(xp.add(at)).fma(neg_m2, R::load(gp.add(at)).sub(m1));
            s.mul(inner)
                .where_positive(R::load(ap.add(at)))
                .store(dp.add(at));
        }
    }
}

/// Rows `r0..r0 + n` of a block's outputs ([`BlockOut`]) as `f32`: `a`, `xhat`, `h`
/// (`n × H`), `rstd` (`n`) and, for a fused head, `(w, b, y)`.
pub(crate) struct RowsOut<'b> {
    a: &'b mut [f32],
    xhat: &'b mut [f32],
    rstd: &'b mut [f32],
    h: &'b mut [f32],
    head: Option<(&'b [f32], f32, &'b mut [f32])>,
}

impl<'b> RowsOut<'b> {
    /// `None` unless `T` is `f32`.
    #[inline(always)]
    fn of<T: Real>(out: &'b mut BlockOut<'_, T>, r0: usize, n: usize) -> Option<Self> {
        let rows = r0 * H..(r0 + n) * H;
        let head = match out.head.as_mut() {
            Some(hd) => Some((
                T::as_f32(hd.w)?,
                T::as_f32(&[hd.b])?[0],
                T::as_f32_mut(&mut hd.y[r0..r0 + n])?,
            )),
            None => None,
        };
        Some(Self {
            a: T::as_f32_mut(&mut out.a[rows.clone()])?,
            xhat: T::as_f32_mut(&mut out.xhat[rows.clone()])?,
            rstd: T::as_f32_mut(&mut out.rstd[r0..r0 + n])?,
            h: T::as_f32_mut(&mut out.h[rows])?,
            head,
        })
    }
}

/// [`TileKernels::outer_acc`] (and, with `sums`, [`TileKernels::outer_acc_sums`]) over blocks
/// of rows small enough to stay in L1 across the tiles of `c` (each element still accumulates
/// the rows in order, through `c`); the column sums ride in the last, narrower tile.
///
/// # Safety
/// The CPU has `P`'s instruction set.
#[inline(always)]
unsafe fn outer_blocks<P: Products>(
    a: &[f32],
    m: usize,
    b: &[f32],
    rows: usize,
    c: &mut [f32],
    mut sums: Option<&mut [f32]>,
) {
    const ROW_BLOCK: usize = 32;
    let full = m - m % ROWS;
    for r0 in (0..rows).step_by(ROW_BLOCK) {
        let n = ROW_BLOCK.min(rows - r0);
        let (ab, bb) = (&a[r0 * m..(r0 + n) * m], &b[r0 * H..(r0 + n) * H]);
        for i0 in (0..full).step_by(ROWS) {
            P::outer::<ROWS, false>(ab, m, i0, bb, n, c, &mut []);
        }
        // The last `m % ROWS` rows of `c` in one narrower tile, with the sums.
        macro_rules! last {
            ($($r:literal)*) => {
                match (m - full, sums.as_deref_mut()) {
                    $(($r, Some(s)) => P::outer::<$r, true>(ab, m, full, bb, n, c, s),
                    ($r, None) => P::outer::<$r, false>(ab, m, full, bb, n, c, &mut []),)*
                    _ => unreachable!("m % ROWS < ROWS"),
                }
            };
        }
        last!(0 1 2 3 4 5);
    }
}

// SAFETY (every `unsafe` call below): an `X86<P>` exists only on a CPU with AVX2, FMA and
// `P`'s instruction set (`Avx2::new`, `Avx512::new`); the kernels assert their extents.
impl<P: Products> TileKernels for X86<P> {
    #[inline(always)]
    fn affine_rows_sparse<T: Real>(self, x: &[T], r0: usize, w: &[T], out: &mut [[T; H]]) {
        match (T::as_f32(x), T::as_f32(w)) {
            (Some(x), Some(w)) => {
                let n = out.len();
                let out = T::as_f32_mut(out.as_flattened_mut()).expect("T is f32");
                unsafe { P::affine_sparse(x, r0, n, w, out) }
            }
            _ => Portable.affine_rows_sparse(x, r0, w, out),
        }
    }

    #[inline(always)]
    fn transpose<T: Real>(self, w: &[T], wt: &mut [T]) {
        match (T::as_f32(w), T::as_f32_mut(wt)) {
            (Some(w), Some(wt)) => unsafe { transpose(w, wt) },
            (_, _) => Portable.transpose(w, wt),
        }
    }

    #[inline(always)]
    fn outer_acc<T: Real>(self, a: &[T], m: usize, b: &[T], rows: usize, c: &mut [T]) {
        let (Some(a32), Some(b32), Some(c32)) = (T::as_f32(a), T::as_f32(b), T::as_f32_mut(c))
        else {
            return Portable.outer_acc(a, m, b, rows, c);
        };
        unsafe { outer_blocks::<P>(a32, m, b32, rows, c32, None) }
    }

    #[inline(always)]
    fn outer_acc_sums<T: Real>(
        self,
        a: &[T],
        m: usize,
        b: &[T],
        rows: usize,
        c: &mut [T],
        sums: &mut [T; H],
    ) {
        let (Some(a32), Some(b32)) = (T::as_f32(a), T::as_f32(b)) else {
            return Portable.outer_acc_sums(a, m, b, rows, c, sums);
        };
        let c32 = T::as_f32_mut(c).expect("T is f32");
        let s32 = T::as_f32_mut(sums).expect("T is f32");
        s32.fill(0.0);
        unsafe { outer_blocks::<P>(a32, m, b32, rows, c32, Some(s32)) }
    }

    #[inline(always)]
    #[allow(clippy::too_many_arguments)] // reason: a row kernel
    fn affine_relu_norm<T: Real>(
        self,
        x: &[T],
        k: usize,
        r0: usize,
        w: &[T],
        init: &[T; H],
        gamma: &[T; H],
        beta: &[T; H],
        eps: T,
        out: &mut BlockOut<'_, T>,
    ) {
        if let (Some(x), Some(w), Some(init), Some(g), Some(b), Some(e)) = (
            T::as_f32(x),
            T::as_f32(w),
            T::as_f32(init),
            T::as_f32(gamma),
            T::as_f32(beta),
            T::as_f32(&[eps]),
        ) {
            let rows = RowsOut::of(out, r0, ROWS).expect("T is f32");
            let sums = unsafe { P::affine_relu(x, k, r0, w, init, rows.a) };
            unsafe { P::relu_norm(&[], ROWS, g, b, e[0], rows, Some(sums)) }
        } else {
            Portable.affine_relu_norm(x, k, r0, w, init, gamma, beta, eps, out);
        }
    }

    #[inline(always)]
    #[allow(clippy::too_many_arguments)] // reason: a row kernel
    fn affine_relu_norm_pair<T: Real>(
        self,
        x: &[T],
        k: usize,
        r0: usize,
        w: &[T],
        init: &[T; H],
        gamma: &[T; H],
        beta: &[T; H],
        eps: T,
        out: &mut BlockOut<'_, T>,
    ) {
        if let (Some(x), Some(w), Some(init), Some(g), Some(b), Some(e)) = (
            T::as_f32(x),
            T::as_f32(w),
            T::as_f32(init),
            T::as_f32(gamma),
            T::as_f32(beta),
            T::as_f32(&[eps]),
        ) {
            let rows = RowsOut::of(out, r0, 2 * ROWS).expect("T is f32");
            unsafe { P::affine_relu_norm_pair(x, k, r0, w, init, g, b, e[0], rows) }
        } else {
            Portable.affine_relu_norm_pair(x, k, r0, w, init, gamma, beta, eps, out);
        }
    }

    #[inline(always)]
    fn relu_norm<T: Real>(
        self,
        z: &mut [[T; H]],
        gamma: &[T; H],
        beta: &[T; H],
        eps: T,
        out: &mut BlockOut<'_, T>,
        r0: usize,
    ) {
        let n = z.len();
        if let (Some(g), Some(b), Some(e)) = (T::as_f32(gamma), T::as_f32(beta), T::as_f32(&[eps]))
        {
            let z32 = T::as_f32(z.as_flattened()).expect("T is f32");
            let rows = RowsOut::of(out, r0, n).expect("T is f32");
            unsafe { P::relu_norm(z32, n, g, b, e[0], rows, None) }
        } else {
            Portable.relu_norm(z, gamma, beta, eps, out, r0);
        }
    }

    #[inline(always)]
    fn norm_relu_backward<T: Real>(
        self,
        dh: &mut [[T; H]],
        saved: &BlockIn<'_, T>,
        r0: usize,
        gamma: &[T; H],
        dgamma: &mut [T; H],
        dbeta: &mut [T; H],
        dz: &mut [T],
    ) {
        let n = dh.len();
        let rows = r0 * H..(r0 + n) * H;
        if let (Some(x), Some(a), Some(s), Some(gm)) = (
            T::as_f32(&saved.xhat[rows.clone()]),
            T::as_f32(&saved.a[rows.clone()]),
            T::as_f32(&saved.rstd[r0..r0 + n]),
            T::as_f32(gamma),
        ) {
            let g = T::as_f32_mut(dh.as_flattened_mut()).expect("T is f32");
            let dg = T::as_f32_mut(dgamma).expect("T is f32");
            let db = T::as_f32_mut(dbeta).expect("T is f32");
            let d = T::as_f32_mut(&mut dz[rows]).expect("T is f32");
            unsafe { P::norm_relu_backward(g, n, x, a, s, gm, dg, db, d) }
        } else {
            Portable.norm_relu_backward(dh, saved, r0, gamma, dgamma, dbeta, dz);
        }
    }
}
