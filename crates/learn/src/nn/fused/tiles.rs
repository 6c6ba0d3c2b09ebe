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

/// `acc ← acc + x · w` for one row (`w`: `x.len() × H`), accumulating over `k` in order.
#[inline(always)]
pub(super) fn affine1<T: Real>(x: &[T], w: &[T], acc: &mut [T; H]) {
    for (kk, &xv) in x.iter().enumerate() {
        let wk: &[T; H] = w[kk * H..(kk + 1) * H].try_into().expect("a row of W");
        for j in 0..H {
            acc[j] = xv.mul_add(wk[j], acc[j]);
        }
    }
}

/// [`affine1`] for two rows at once (each `W` row loaded once for both).
#[inline(always)]
pub(super) fn affine2<T: Real>(x0: &[T], x1: &[T], w: &[T], acc0: &mut [T; H], acc1: &mut [T; H]) {
    for (kk, (&a, &b)) in x0.iter().zip(x1).enumerate() {
        let wk: &[T; H] = w[kk * H..(kk + 1) * H].try_into().expect("a row of W");
        for j in 0..H {
            acc0[j] = a.mul_add(wk[j], acc0[j]);
        }
        for j in 0..H {
            acc1[j] = b.mul_add(wk[j], acc1[j]);
        }
    }
}

/// Rows `r0..r0 + MR` (`MR` ∈ {1, 2}) of `init + x · w`, for `x: · × k` and `w: k × H`.
#[inline(always)]
pub(super) fn affine<T: Real, const MR: usize>(
    x: &[T],
    k: usize,
    r0: usize,
    w: &[T],
    init: &[T; H],
) -> [[T; H]; MR] {
    let mut acc = [*init; MR];
    let w = &w[..k * H];
    match &mut acc[..] {
        [a0] => affine1(&x[r0 * k..(r0 + 1) * k], w, a0),
        [a0, a1] => affine2(
            &x[r0 * k..(r0 + 1) * k],
            &x[(r0 + 1) * k..(r0 + 2) * k],
            w,
            a0,
            a1,
        ),
        _ => unreachable!("MR is 1 or 2"),
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
    let (a, b, c) = (&a[..rows * m], &b[..rows * H], &mut c[..m * H]);
    let mut i0 = 0;
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
