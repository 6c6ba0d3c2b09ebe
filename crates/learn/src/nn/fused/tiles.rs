//! Register-tiled products of the fused path: rows of [`WIDTH`] values held as arrays, affine
//! maps `x·W + b` a few rows at a time, and the outer-product accumulations of the weight
//! gradients. Each is written once over [`Real`] and compiled per instruction set by
//! [`crate::nn::simd`].
//!
//! Every output element is computed by the same sequence of fused multiply-adds, whatever the
//! tile shape, so the results do not depend on the tile or the instruction set.

use crate::nn::Real;

/// Hidden width of the fused path.
pub const WIDTH: usize = 64;
pub(super) const H: usize = WIDTH;

/// Rows of a row tile of [`Products::affine_rows`] and [`Products::outer_acc`].
pub(super) const ROWS: usize = 6;

/// The two products the blocks are made of, per instruction set: [`Portable`] written once
/// over [`Real`]; `Avx2` with explicit intrinsics for `f32` (see `super::x86`). Both give
/// the same bits.
pub(crate) trait Products: Copy {
    /// Rows `r0..r0 + ROWS` of `init + x · w` (`x: · × k`, `w: k × H`) into `out`.
    fn affine_rows<T: Real>(
        self,
        x: &[T],
        k: usize,
        r0: usize,
        w: &[T],
        init: &[T; H],
        out: &mut [[T; H]; ROWS],
    );
    /// `c[m × H] += aᵀ · b` for `a: rows × m` and `b: rows × H`; each element accumulates over
    /// the rows in order.
    fn outer_acc<T: Real>(self, a: &[T], m: usize, b: &[T], rows: usize, c: &mut [T]);
}

/// The products in portable Rust, vectorised by the compiler for the enclosing function's
/// instruction set.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Portable;

impl Products for Portable {
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
        for (i, o) in out.iter_mut().enumerate() {
            *o = affine1(x, k, r0 + i, w, init);
        }
    }

    #[inline(always)]
    fn outer_acc<T: Real>(self, a: &[T], m: usize, b: &[T], rows: usize, c: &mut [T]) {
        outer_acc::<T, 16>(a, m, b, rows, c);
    }
}

#[inline(always)]
pub(super) fn row<T>(x: &[T], r: usize) -> &[T; H] {
    x[r * H..(r + 1) * H].try_into().expect("a row of H values")
}

#[inline(always)]
pub(super) fn row_mut<T>(x: &mut [T], r: usize) -> &mut [T; H] {
    (&mut x[r * H..(r + 1) * H])
        .try_into()
        .expect("a row of H values")
}

/// `Σ xⱼ·yⱼ` with eight fused-multiply-add lanes combined in a fixed order.
#[inline(always)]
pub(super) fn dot<T: Real>(x: &[T; H], y: &[T; H]) -> T {
    let mut acc = [T::ZERO; 8];
    for c in 0..H / 8 {
        for l in 0..8 {
            acc[l] = x[8 * c + l].mul_add(y[8 * c + l], acc[l]);
        }
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))
}

/// Row `r` of `init + x · w` (`x: · × k`, `w: k × H`), accumulating over `k` in order.
#[inline(always)]
pub(super) fn affine1<T: Real>(x: &[T], k: usize, r: usize, w: &[T], init: &[T; H]) -> [T; H] {
    let mut acc = *init;
    for (kk, &xv) in x[r * k..(r + 1) * k].iter().enumerate() {
        let wk: &[T; H] = w[kk * H..(kk + 1) * H].try_into().expect("a row of W");
        for j in 0..H {
            acc[j] = xv.mul_add(wk[j], acc[j]);
        }
    }
    acc
}

/// `c[m × H] += aᵀ · b` for `a: rows × m` and `b: rows × H`, in `4 × NJ` register tiles (then
/// `1 × NJ` for the last `m mod 4` rows of `c`); each element accumulates over the rows in
/// order.
#[inline(always)]
pub(super) fn outer_acc<T: Real, const NJ: usize>(
    a: &[T],
    m: usize,
    b: &[T],
    rows: usize,
    c: &mut [T],
) {
    outer_acc_from::<T, NJ>(a, m, b, rows, c, 0);
}

/// [`outer_acc`] for the rows `i0..m` of `c` only.
#[inline(always)]
pub(super) fn outer_acc_from<T: Real, const NJ: usize>(
    a: &[T],
    m: usize,
    b: &[T],
    rows: usize,
    c: &mut [T],
    mut i0: usize,
) {
    let (a, b, c) = (&a[..rows * m], &b[..rows * H], &mut c[..m * H]);
    while i0 + 4 <= m {
        for j0 in (0..H).step_by(NJ) {
            tile4::<T, NJ>(a, m, b, rows, c, i0, j0);
        }
        i0 += 4;
    }
    while i0 < m {
        for j0 in (0..H).step_by(NJ) {
            tile1::<T, NJ>(a, m, b, rows, c, i0, j0);
        }
        i0 += 1;
    }
}

#[inline(always)]
pub(super) fn load<T: Real, const NJ: usize>(c: &[T], at: usize) -> [T; NJ] {
    c[at..at + NJ].try_into().expect("NJ values")
}

#[inline(always)]
pub(super) fn fma_row<T: Real, const NJ: usize>(acc: &mut [T; NJ], a: T, b: &[T; NJ]) {
    for j in 0..NJ {
        acc[j] = a.mul_add(b[j], acc[j]);
    }
}

#[inline(always)]
pub(super) fn tile4<T: Real, const NJ: usize>(
    a: &[T],
    m: usize,
    b: &[T],
    rows: usize,
    c: &mut [T],
    i0: usize,
    j0: usize,
) {
    let at = |ii: usize| (i0 + ii) * H + j0;
    let (mut c0, mut c1, mut c2, mut c3) = (
        load::<T, NJ>(c, at(0)),
        load::<T, NJ>(c, at(1)),
        load::<T, NJ>(c, at(2)),
        load::<T, NJ>(c, at(3)),
    );
    for r in 0..rows {
        let br: &[T; NJ] = b[r * H + j0..r * H + j0 + NJ]
            .try_into()
            .expect("NJ values");
        let ar: &[T; 4] = a[r * m + i0..r * m + i0 + 4].try_into().expect("4 values");
        fma_row(&mut c0, ar[0], br);
        fma_row(&mut c1, ar[1], br);
        fma_row(&mut c2, ar[2], br);
        fma_row(&mut c3, ar[3], br);
    }
    for (ii, t) in [c0, c1, c2, c3].iter().enumerate() {
        c[at(ii)..at(ii) + NJ].copy_from_slice(t);
    }
}

#[inline(always)]
pub(super) fn tile1<T: Real, const NJ: usize>(
    a: &[T],
    m: usize,
    b: &[T],
    rows: usize,
    c: &mut [T],
    i0: usize,
    j0: usize,
) {
    let at = i0 * H + j0;
    let mut c0 = load::<T, NJ>(c, at);
    for r in 0..rows {
        let br: &[T; NJ] = b[r * H + j0..r * H + j0 + NJ]
            .try_into()
            .expect("NJ values");
        fma_row(&mut c0, a[r * m + i0], br);
    }
    c[at..at + NJ].copy_from_slice(&c0);
}
