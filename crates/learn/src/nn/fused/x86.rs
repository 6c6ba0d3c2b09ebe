//! The two products of the fused path ([`Products`]) written with explicit x86-64 intrinsics
//! for `f32`: [`Avx2`], 8 lanes, 6 rows × 16 columns per register tile. A tile keeps its
//! accumulators and the row of the shared operand in registers: per step, `V` loads of that
//! operand, six broadcasts and `6·V` fused multiply-adds. The portable versions in
//! [`super::tiles`] express the same arithmetic, but the compiler left the shared operand in
//! memory there (a load per multiply-add), which made them load-bound.
//!
//! The macro takes the vector width as a parameter: `x86_products!(Avx512, "avx512f,avx2,fma",
//! __m512, 16, 4, _mm512_loadu_ps, …)` gives 6 × 64 tiles of 16-lane registers. On the Ice Lake
//! machine this was measured on, those products ran 1.3–2.8× faster but everything around them
//! slower (512-bit arithmetic lowers the core clock), for no net gain in the `mlp` bench's
//! alternating summary (0.69 vs 0.65 µs per row with the whole kernel compiled for AVX-512;
//! 0.645 vs 0.643 with only the products), so it is not instantiated.
//!
//! Each output element sees the same fused multiply-adds in the same order as in the portable
//! versions (over `k` from `init`, or over rows from `c`); lanes are independent. So the
//! results are bit-identical on every path; `mlp`'s test compares every instruction set the
//! machine has. Other element types (the `f64` of the gradient checks) take [`Portable`].
#![allow(unsafe_code)] // reason: raw-pointer SIMD loads and stores (every extent is asserted first) and calls of `#[target_feature]` functions (guarded by the constructors)

use std::arch::x86_64::{
    __m256, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_set1_ps, _mm256_storeu_ps,
};

use super::tiles::{outer_acc_from, Portable, Products, ROWS, WIDTH as H};
use crate::nn::Real;

/// Generates the [`Products`] implementation `$name` for one vector type: `$lanes` lanes,
/// `$v` vectors per tile row, its kernels compiled for `$features`.
macro_rules! x86_products {
    (
        $name:ident, $features:literal, $vec:ty, $lanes:literal, $v:literal,
        $load:ident, $store:ident, $set1:ident, $fmadd:ident
    ) => {
        /// The products with explicit intrinsics for `f32` (see the module docs).
        #[derive(Debug, Clone, Copy)]
        pub(crate) struct $name(());

        impl $name {
            /// # Safety
            /// The CPU must support the features the kernels are compiled for (every method
            /// relies on it).
            pub(crate) unsafe fn new() -> Self {
                Self(())
            }

            /// Columns per register tile.
            const NC: usize = $lanes * $v;

            /// `out[i] = init + x[r0 + i] · w` for the [`ROWS`] rows `r0..r0 + ROWS` of `x`
            /// (`· × k`), with `w: k × H` and `out: ROWS × H`, accumulated over `k` in order.
            ///
            /// # Safety
            /// As for [`Self::new`].
            #[target_feature(enable = $features)]
            #[inline]
            unsafe fn affine_f32(
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
                for j0 in (0..H).step_by(Self::NC) {
                    let mut b: [$vec; $v] = [$set1(0.0); $v];
                    for (q, bq) in b.iter_mut().enumerate() {
                        *bq = $load(init.as_ptr().add(j0 + q * $lanes));
                    }
                    let mut c: [[$vec; $v]; ROWS] = [b; ROWS];
                    for kk in 0..k {
                        let wk = wp.add(kk * H + j0);
                        let mut wv: [$vec; $v] = [$set1(0.0); $v];
                        for (q, wq) in wv.iter_mut().enumerate() {
                            *wq = $load(wk.add(q * $lanes));
                        }
                        for (i, ci) in c.iter_mut().enumerate() {
                            let xv = $set1(*xp.add(i * k + kk));
                            for q in 0..$v {
                                ci[q] = $fmadd(xv, wv[q], ci[q]);
                            }
                        }
                    }
                    for (i, ci) in c.iter().enumerate() {
                        for (q, cq) in ci.iter().enumerate() {
                            $store(op.add(i * H + j0 + q * $lanes), *cq);
                        }
                    }
                }
            }

            /// `c[i0 + i][·] += Σ_rows a[r][i0 + i] · b[r][·]` for the [`ROWS`] rows
            /// `i0..i0 + ROWS` of `c` (`m × H`), with `a: rows × m` and `b: rows × H`,
            /// accumulated over the rows in order.
            ///
            /// # Safety
            /// As for [`Self::new`].
            #[target_feature(enable = $features)]
            #[inline]
            unsafe fn outer_f32(
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
                for j0 in (0..H).step_by(Self::NC) {
                    let mut t: [[$vec; $v]; ROWS] = [[$set1(0.0); $v]; ROWS];
                    for (i, ti) in t.iter_mut().enumerate() {
                        for (q, tq) in ti.iter_mut().enumerate() {
                            *tq = $load(cp.add(i * H + j0 + q * $lanes));
                        }
                    }
                    for r in 0..rows {
                        let br = bp.add(r * H + j0);
                        let mut bv: [$vec; $v] = [$set1(0.0); $v];
                        for (q, bq) in bv.iter_mut().enumerate() {
                            *bq = $load(br.add(q * $lanes));
                        }
                        let ar = ap.add(r * m);
                        for (i, ti) in t.iter_mut().enumerate() {
                            let av = $set1(*ar.add(i));
                            for q in 0..$v {
                                ti[q] = $fmadd(av, bv[q], ti[q]);
                            }
                        }
                    }
                    for (i, ti) in t.iter().enumerate() {
                        for (q, tq) in ti.iter().enumerate() {
                            $store(cp.add(i * H + j0 + q * $lanes), *tq);
                        }
                    }
                }
            }
        }

        impl Products for $name {
            #[inline(always)]
            fn affine_rows<T: Real>(
                self,
                x: &[T],
                k: usize,
                r0: usize,
                w: &[T],
                init: &[T; H],
                out: &mut [[T; H]; ROWS],
            ) {
                match (T::as_f32(x), T::as_f32(w), T::as_f32(init)) {
                    (Some(x), Some(w), Some(init)) => {
                        let out = T::as_f32_mut(out.as_flattened_mut()).expect("T is f32");
                        // SAFETY: a `$name` exists only on a CPU with its features (`new`).
                        unsafe { Self::affine_f32(x, k, r0, w, init, out) }
                    }
                    _ => Portable.affine_rows(x, k, r0, w, init, out),
                }
            }

            #[inline(always)]
            fn outer_acc<T: Real>(self, a: &[T], m: usize, b: &[T], rows: usize, c: &mut [T]) {
                let (Some(a32), Some(b32), Some(c32)) =
                    (T::as_f32(a), T::as_f32(b), T::as_f32_mut(c))
                else {
                    return Portable.outer_acc(a, m, b, rows, c);
                };
                let mut i0 = 0;
                while i0 + ROWS <= m {
                    // SAFETY: as above.
                    unsafe { Self::outer_f32(a32, m, i0, b32, rows, c32) };
                    i0 += ROWS;
                }
                outer_acc_from::<f32, 16>(a32, m, b32, rows, c32, i0);
            }
        }
    };
}

x86_products!(
    Avx2,
    "avx2,fma",
    __m256,
    8,
    2,
    _mm256_loadu_ps,
    _mm256_storeu_ps,
    _mm256_set1_ps,
    _mm256_fmadd_ps
);
