//! Register-tiled products of the fused path: rows of [`WIDTH`] values held as arrays, affine
//! maps `x·W + b` a few rows at a time, and the outer-product accumulations of the weight
//! gradients. Each is written once over [`Real`] and compiled per instruction set by
//! [`crate::nn::simd`].
//!
//! Every output element is computed by the same sequence of fused multiply-adds, whatever the
//! tile shape, so the results do not depend on the tile or the instruction set.

use crate::nn::{lane_sum, Real};

/// Hidden width of the fused path.
pub const WIDTH: usize = 64;
pub(super) const H: usize = WIDTH;

/// Rows of a row tile of [`TileKernels`].
pub(super) const ROWS: usize = 6;

/// The row-tile kernels the blocks are made of: two products and the LayerNorm rows, forward
/// and backward. The provided methods are the portable versions, written once over [`Real`]
/// ([`Portable`] takes them all); `Avx2` overrides them with explicit intrinsics for `f32`
/// (see `super::x86`). Every implementation gives the same bits.
pub(crate) trait TileKernels: Copy {
    /// Rows `r0..r0 + ROWS` of `init + x · w` (`x: · × k`, `w: k × H`) into `out`.
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

    /// Rows `r0..r0 + out.len()` of `x · w` (`x: · × H`, `w: H × H`) for an `x` with many
    /// zeros: the gradient behind a ReLU, zero wherever the unit was off. The same as
    /// [`Self::affine_rows`] from zero, bit for bit, for finite `w`: the sum starts at `+0` and
    /// so is never `-0`, and a zero term leaves it as it is. An implementation may skip them.
    #[inline(always)]
    fn affine_rows_sparse<T: Real>(self, x: &[T], r0: usize, w: &[T], out: &mut [[T; H]]) {
        for (i, o) in out.iter_mut().enumerate() {
            *o = affine1(x, H, r0 + i, w, &[T::ZERO; H]);
        }
    }

    /// `wt = wᵀ` for `w: H × H`.
    #[inline(always)]
    fn transpose<T: Real>(self, w: &[T], wt: &mut [T]) {
        for i in 0..H {
            for j in 0..H {
                wt[j * H + i] = w[i * H + j];
            }
        }
    }

    /// `c[m × H] += aᵀ · b` for `a: rows × m` and `b: rows × H`; each element accumulates over
    /// the rows in order.
    #[inline(always)]
    fn outer_acc<T: Real>(self, a: &[T], m: usize, b: &[T], rows: usize, c: &mut [T]) {
        outer_acc::<T, 16>(a, m, b, rows, c);
    }

    /// [`Self::outer_acc`] and the column sums `sums[j] = Σ_rows b[r][j]` (from `+0`, the rows
    /// in order), which an implementation may take in the same pass over `b`.
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
        self.outer_acc(a, m, b, rows, c);
        *sums = [T::ZERO; H];
        for r in 0..rows {
            let br = row(b, r);
            for j in 0..H {
                sums[j] += br[j];
            }
        }
    }

    /// Rows `r0..r0 + ROWS` of a hidden block: [`Self::affine_rows`] then [`Self::relu_norm`]
    /// (an implementation may fuse them).
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
        let mut z = [[T::ZERO; H]; ROWS];
        self.affine_rows(x, k, r0, w, init, &mut z);
        self.relu_norm(&mut z, gamma, beta, eps, out, r0);
    }

    /// Rows `r0..r0 + 2·ROWS`: [`Self::affine_relu_norm`] of two tiles (an implementation may
    /// run their LayerNorms side by side).
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
        self.affine_relu_norm(x, k, r0, w, init, gamma, beta, eps, out);
        self.affine_relu_norm(x, k, r0 + ROWS, w, init, gamma, beta, eps, out);
    }

    /// [`relu_norm_rows`].
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
        relu_norm_rows(z, gamma, beta, eps, out, r0);
    }

    /// [`norm_relu_backward_rows`].
    #[inline(always)]
    #[allow(clippy::too_many_arguments)] // reason: a row kernel
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
        norm_relu_backward_rows(dh, saved, r0, gamma, dgamma, dbeta, dz);
    }
}

/// The portable tile kernels, vectorised by the compiler for the enclosing function's
/// instruction set.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Portable;

impl TileKernels for Portable {}

/// Activations of one hidden block (as in `MlpCache`): ReLU output, normalised, `1/σ`, output;
/// for the last block of a one-output network, also the head's output.
pub(crate) struct BlockOut<'a, T> {
    pub a: &'a mut [T],
    pub xhat: &'a mut [T],
    pub rstd: &'a mut [T],
    pub h: &'a mut [T],
    pub head: Option<HeadOut<'a, T>>,
}

/// A one-output head computed with the last block's rows, while they are at hand:
/// `y[r] = dot(h[r], w) + b` (the same operations as the separate head pass).
pub(crate) struct HeadOut<'a, T> {
    pub w: &'a [T; H],
    pub b: T,
    pub y: &'a mut [T],
}

/// Saved activations of one hidden block, read by the backward pass.
pub(crate) struct BlockIn<'a, T> {
    pub a: &'a [T],
    pub xhat: &'a [T],
    pub rstd: &'a [T],
    pub h: &'a [T],
}

/// ReLU, then LayerNorm, of the pre-activation rows `z` (rows `r0..` of the block; `z` is
/// overwritten). Each step runs over all the rows before the next step, so the rows' reductions
/// and square roots overlap instead of waiting on each other; each row's own arithmetic is the
/// same as one row at a time.
#[inline(always)]
pub(super) fn relu_norm_rows<T: Real>(
    z: &mut [[T; H]],
    gamma: &[T; H],
    beta: &[T; H],
    eps: T,
    out: &mut BlockOut<'_, T>,
    r0: usize,
) {
    let inv = T::from_f64(1.0 / H as f64);
    let mut mean = [T::ZERO; ROWS];
    for (i, zi) in z.iter_mut().enumerate() {
        for v in zi.iter_mut() {
            *v = if *v > T::ZERO { *v } else { T::ZERO };
        }
        *row_mut(out.a, r0 + i) = *zi;
        mean[i] = row_sum(zi, zi, |v, _| v) * inv;
    }
    let mut rstd = [T::ZERO; ROWS];
    for (i, zi) in z.iter_mut().enumerate() {
        for v in zi.iter_mut() {
            *v -= mean[i];
        }
        let var = row_sum(zi, zi, |v, _| v * v) * inv;
        rstd[i] = T::ONE / (var + eps).sqrt();
    }
    for (i, d) in z.iter().enumerate() {
        let (r, s) = (r0 + i, rstd[i]);
        let (xh, h) = (row_mut(out.xhat, r), &mut out.h[r * H..(r + 1) * H]);
        for j in 0..H {
            let n = d[j] * s;
            xh[j] = n;
            h[j] = gamma[j].mul_add(n, beta[j]);
        }
        out.rstd[r] = s;
        if let Some(head) = &mut out.head {
            head.y[r] = dot(row(out.h, r), head.w) + head.b;
        }
    }
}

/// LayerNorm backward then the ReLU mask, for the rows `dh` (rows `r0..` of the block whose
/// activations are `saved`; `dh` is overwritten): accumulates `∂γ`, `∂β` in row order and writes
/// `dz = ∂/∂(pre-activation)` into rows `r0..` of `dz`. Staged over the rows like
/// [`relu_norm_rows`].
#[inline(always)]
#[allow(clippy::too_many_arguments)] // reason: a row kernel
pub(super) fn norm_relu_backward_rows<T: Real>(
    dh: &mut [[T; H]],
    saved: &BlockIn<'_, T>,
    r0: usize,
    gamma: &[T; H],
    dgamma: &mut [T; H],
    dbeta: &mut [T; H],
    dz: &mut [T],
) {
    let inv = T::from_f64(1.0 / H as f64);
    let mut moments = [(T::ZERO, T::ZERO); ROWS];
    for (i, g) in dh.iter_mut().enumerate() {
        let xhat = row(saved.xhat, r0 + i);
        for j in 0..H {
            dgamma[j] = g[j].mul_add(xhat[j], dgamma[j]);
            dbeta[j] += g[j];
            g[j] *= gamma[j];
        }
        moments[i] = (
            lane_sum(g, g, |v, _| v) * inv,
            lane_sum(g, xhat, |v, x| v * x) * inv,
        );
    }
    for (i, g) in dh.iter().enumerate() {
        let r = r0 + i;
        let (xhat, a, s) = (row(saved.xhat, r), row(saved.a, r), saved.rstd[r]);
        let (m1, m2) = moments[i];
        let dzr = row_mut(dz, r);
        for j in 0..H {
            let v = s * xhat[j].mul_add(-m2, g[j] - m1);
            dzr[j] = if a[j] > T::ZERO { v } else { T::ZERO };
        }
    }
}

/// `Σⱼ f(xⱼ, yⱼ)` over a row, in a fixed shape: the row's eight columns of eight lanes summed
/// lane-wise as a balanced tree, `((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7))`, then the
/// lanes as `((l0 + l4) + (l1 + l5)) + ((l2 + l6) + (l3 + l7))`. The tree keeps the LayerNorm
/// forward's two reductions three additions deep instead of eight: done row by row, its chain
/// of dependent additions was the critical path. (The backward pass reduces several rows at
/// once, so it keeps [`lane_sum`]'s shape.)
#[inline(always)]
pub(super) fn row_sum<T: Real>(x: &[T; H], y: &[T; H], f: impl Fn(T, T) -> T) -> T {
    let col = |c: usize| -> [T; 8] { std::array::from_fn(|l| f(x[8 * c + l], y[8 * c + l])) };
    let add = |a: [T; 8], b: [T; 8]| -> [T; 8] { std::array::from_fn(|l| a[l] + b[l]) };
    let s = add(
        add(add(col(0), col(1)), add(col(2), col(3))),
        add(add(col(4), col(5)), add(col(6), col(7))),
    );
    ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]))
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
fn outer_acc_from<T: Real, const NJ: usize>(
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
