//! The fused path of [`Mlp`]: ReLU networks whose hidden layers are all [`WIDTH`] wide (the
//! MAPPO actor and critic, DESIGN.md §2.2).
//!
//! Instead of one pass over memory per layer (a GEMM, then ReLU, then a two-pass LayerNorm), each
//! row of a hidden block is computed in registers: `Linear → ReLU → LayerNorm` forward, and
//! `LayerNorm backward → ReLU mask` backward, with the row's 64 values never leaving the
//! register file between the steps. The products are small register-tiled kernels written once
//! in portable Rust; [`super::simd`] compiles them for AVX2/FMA and picks a path at run time.
//!
//! ## Invariants
//! - Every output element is computed by the same sequence of operations, whatever the tile
//!   shape (`MR`, `NJ`) and instruction set: products accumulate over `k` (or over rows)
//!   in order with a fused multiply-add ([`Real::mul_add`]), and reductions use eight lanes
//!   combined in a fixed order. So every [`super::simd::Isa`] gives bit-identical results, and
//!   a row's result does not depend on its position in a batch.
//! - `backward` accumulates into `grads`, like the layered path.
//!
//! ## The input LayerNorm's gradient without `dx`
//! The first block's input is `h₀ = γ₀ ⊙ x̂₀ + β₀`. With `M = x̂₀ᵀ · dz₀` and `S = Σ_rows dz₀`,
//! `∂W₀ = γ₀ ⊙ M + β₀ ⊗ S`, `∂γ₀[i] = Σ_j W₀[i,j]·M[i,j]` and `∂β₀[i] = Σ_j W₀[i,j]·S[j]`, so the
//! `rows × inputs` product `dz₀ · W₀ᵀ` is never formed.

use super::{lane_sum, LayerNorm, Linear, Mlp, MlpCache, Real};

/// Hidden width of the fused path.
pub const WIDTH: usize = 64;
const H: usize = WIDTH;

/// Whether `mlp` runs on the fused path.
pub(crate) fn eligible(mlp: &Mlp) -> bool {
    mlp.activation == super::Activation::Relu
        && !mlp.hidden.is_empty()
        && mlp.hidden.iter().all(|(l, n)| l.outputs == H && n.dim == H)
}

#[inline(always)]
fn row<T>(x: &[T], r: usize) -> &[T; H] {
    x[r * H..(r + 1) * H].try_into().expect("a row of H values")
}

#[inline(always)]
fn row_mut<T>(x: &mut [T], r: usize) -> &mut [T; H] {
    (&mut x[r * H..(r + 1) * H])
        .try_into()
        .expect("a row of H values")
}

/// `Σ xⱼ·yⱼ` with eight fused-multiply-add lanes combined in a fixed order.
#[inline(always)]
fn dot<T: Real>(x: &[T; H], y: &[T; H]) -> T {
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
fn affine1<T: Real>(x: &[T], w: &[T], acc: &mut [T; H]) {
    for (kk, &xv) in x.iter().enumerate() {
        let wk: &[T; H] = w[kk * H..(kk + 1) * H].try_into().expect("a row of W");
        for j in 0..H {
            acc[j] = xv.mul_add(wk[j], acc[j]);
        }
    }
}

/// [`affine1`] for two rows at once (each `W` row loaded once for both).
#[inline(always)]
fn affine2<T: Real>(x0: &[T], x1: &[T], w: &[T], acc0: &mut [T; H], acc1: &mut [T; H]) {
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
fn affine<T: Real, const MR: usize>(
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
fn outer_acc<T: Real, const NJ: usize>(a: &[T], m: usize, b: &[T], rows: usize, c: &mut [T]) {
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
fn load<T: Real, const NJ: usize>(c: &[T], at: usize) -> [T; NJ] {
    c[at..at + NJ].try_into().expect("NJ values")
}

#[inline(always)]
fn fma_row<T: Real, const NJ: usize>(acc: &mut [T; NJ], a: T, b: &[T; NJ]) {
    for j in 0..NJ {
        acc[j] = a.mul_add(b[j], acc[j]);
    }
}

#[inline(always)]
fn tile4<T: Real, const NJ: usize>(
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
fn tile1<T: Real, const NJ: usize>(
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

/// `γ`, `β` of a hidden LayerNorm.
#[inline(always)]
fn gamma_beta<'a, T>(norm: &LayerNorm, params: &'a [T]) -> (&'a [T; H], &'a [T; H]) {
    let p = &params[norm.offset..norm.offset + 2 * H];
    (p[..H].try_into().expect("γ"), p[H..].try_into().expect("β"))
}

#[inline(always)]
fn bias<'a, T>(lin: &Linear, params: &'a [T]) -> &'a [T; H] {
    let at = lin.offset + lin.inputs * H;
    params[at..at + H].try_into().expect("b")
}

/// Activations of one hidden block (as in `MlpCache`): ReLU output, normalised, `1/σ`, output.
pub(super) struct BlockOut<'a, T> {
    pub a: &'a mut [T],
    pub xhat: &'a mut [T],
    pub rstd: &'a mut [T],
    pub h: &'a mut [T],
}

/// ReLU, then LayerNorm, of one pre-activation row held in registers.
#[inline(always)]
#[allow(clippy::too_many_arguments)] // reason: a row kernel; the outputs are separate buffers
fn relu_norm_row<T: Real>(
    z: &[T; H],
    gamma: &[T; H],
    beta: &[T; H],
    eps: T,
    out: &mut BlockOut<'_, T>,
    r: usize,
) {
    let mut a = [T::ZERO; H];
    for j in 0..H {
        a[j] = if z[j] > T::ZERO { z[j] } else { T::ZERO };
    }
    let inv = T::from_f64(1.0 / H as f64);
    let mean = lane_sum(&a, &a, |v, _| v) * inv;
    let mut d = [T::ZERO; H];
    for j in 0..H {
        d[j] = a[j] - mean;
    }
    let var = lane_sum(&d, &d, |v, _| v * v) * inv;
    let s = T::ONE / (var + eps).sqrt();
    *row_mut(out.a, r) = a;
    let (xh, h) = (row_mut(out.xhat, r), &mut out.h[r * H..(r + 1) * H]);
    for j in 0..H {
        let n = d[j] * s;
        xh[j] = n;
        h[j] = gamma[j].mul_add(n, beta[j]);
    }
    out.rstd[r] = s;
}

/// `Linear → ReLU → LayerNorm` over `rows` rows of `x` (`rows × lin.inputs`), `MR` rows at a time.
#[inline(always)]
pub(super) fn block_forward<T: Real, const MR: usize>(
    lin: &Linear,
    norm: &LayerNorm,
    params: &[T],
    x: &[T],
    rows: usize,
    mut out: BlockOut<'_, T>,
) {
    let k = lin.inputs;
    let w = lin.weights(params);
    let b = bias(lin, params);
    let (gamma, beta) = gamma_beta(norm, params);
    let eps = T::from_f64(norm.eps);
    let mut r = 0;
    while r + MR <= rows {
        let z = affine::<T, MR>(x, k, r, w, b);
        for (m, zm) in z.iter().enumerate() {
            relu_norm_row(zm, gamma, beta, eps, &mut out, r + m);
        }
        r += MR;
    }
    while r < rows {
        let z = affine::<T, 1>(x, k, r, w, b);
        relu_norm_row(&z[0], gamma, beta, eps, &mut out, r);
        r += 1;
    }
}

/// The head `y = h · W + b` (`W: H × outputs`), with `wt` scratch for `Wᵀ`.
#[inline(always)]
pub(super) fn head_forward<T: Real>(
    head: &Linear,
    params: &[T],
    h: &[T],
    rows: usize,
    wt: &mut [T],
    y: &mut [T],
) {
    let o = head.outputs;
    let w = head.weights(params);
    let b = &params[head.offset + H * o..head.offset + H * o + o];
    for (i, wr) in w.chunks_exact(o).enumerate() {
        for (c, &v) in wr.iter().enumerate() {
            wt[c * H + i] = v;
        }
    }
    for r in 0..rows {
        let hr = row(h, r);
        for c in 0..o {
            y[r * o + c] = dot(hr, row(wt, c)) + b[c];
        }
    }
}

/// LayerNorm backward then the ReLU mask, for one row: accumulates `∂γ`, `∂β` and writes
/// `dz = ∂/∂(pre-activation)`.
#[inline(always)]
#[allow(clippy::too_many_arguments)] // reason: a row kernel
fn norm_relu_backward_row<T: Real>(
    dh: &[T; H],
    xhat: &[T; H],
    a: &[T; H],
    s: T,
    gamma: &[T; H],
    dgamma: &mut [T; H],
    dbeta: &mut [T; H],
    dz: &mut [T; H],
) {
    let mut g = [T::ZERO; H];
    for j in 0..H {
        dgamma[j] = dh[j].mul_add(xhat[j], dgamma[j]);
        dbeta[j] += dh[j];
        g[j] = dh[j] * gamma[j];
    }
    let inv = T::from_f64(1.0 / H as f64);
    let m1 = lane_sum(&g, &g, |v, _| v) * inv;
    let m2 = lane_sum(&g, xhat, |v, x| v * x) * inv;
    for j in 0..H {
        let v = s * xhat[j].mul_add(-m2, g[j] - m1);
        dz[j] = if a[j] > T::ZERO { v } else { T::ZERO };
    }
}

/// Saved activations of one hidden block, read by the backward pass.
pub(super) struct BlockIn<'a, T> {
    pub a: &'a [T],
    pub xhat: &'a [T],
    pub rstd: &'a [T],
    pub h: &'a [T],
}

/// Loads `γ`/`β` gradients of a norm into arrays (accumulated per row, stored back after).
#[inline(always)]
fn load_norm_grads<T: Real>(norm: &LayerNorm, grads: &[T]) -> ([T; H], [T; H]) {
    let p = &grads[norm.offset..norm.offset + 2 * H];
    (
        p[..H].try_into().expect("∂γ"),
        p[H..].try_into().expect("∂β"),
    )
}

#[inline(always)]
fn store_norm_grads<T: Real>(norm: &LayerNorm, grads: &mut [T], dg: &[T; H], db: &[T; H]) {
    let p = &mut grads[norm.offset..norm.offset + 2 * H];
    p[..H].copy_from_slice(dg);
    p[H..].copy_from_slice(db);
}

/// The head's backward pass fused with the last block's LayerNorm and ReLU: accumulates the
/// head's and the norm's parameter gradients and writes `dz` (`rows × H`) of the last block.
/// `scratch` holds at least `2·H·outputs + outputs` values.
#[inline(always)]
#[allow(clippy::too_many_arguments)] // reason: the backward pass of two layers at once
pub(super) fn head_backward<T: Real>(
    head: &Linear,
    norm: &LayerNorm,
    params: &[T],
    last: BlockIn<'_, T>,
    dout: &[T],
    rows: usize,
    scratch: &mut [T],
    dz: &mut [T],
    grads: &mut [T],
) {
    let o = head.outputs;
    let (wt, rest) = scratch.split_at_mut(H * o);
    let (dwt, rest) = rest.split_at_mut(H * o);
    let dbias = &mut rest[..o];
    let transpose = |w: &[T], t: &mut [T]| {
        for (i, wr) in w.chunks_exact(o).enumerate() {
            for (c, &v) in wr.iter().enumerate() {
                t[c * H + i] = v;
            }
        }
    };
    transpose(head.weights(params), wt);
    transpose(head.weights(grads), dwt);
    let bias_at = head.offset + H * o;
    dbias.copy_from_slice(&grads[bias_at..bias_at + o]);
    let (gamma, _) = gamma_beta(norm, params);
    let (mut dg, mut db) = load_norm_grads(norm, grads);
    for r in 0..rows {
        let hr = row(last.h, r);
        let d0 = dout[r * o];
        let mut dh = [T::ZERO; H];
        let w0 = row(wt, 0);
        for j in 0..H {
            dh[j] = d0 * w0[j];
        }
        for c in 1..o {
            let (dc, wc) = (dout[r * o + c], row(wt, c));
            for j in 0..H {
                dh[j] = dc.mul_add(wc[j], dh[j]);
            }
        }
        for c in 0..o {
            let dc = dout[r * o + c];
            let acc = row_mut(dwt, c);
            for j in 0..H {
                acc[j] = hr[j].mul_add(dc, acc[j]);
            }
            dbias[c] += dc;
        }
        norm_relu_backward_row(
            &dh,
            row(last.xhat, r),
            row(last.a, r),
            last.rstd[r],
            gamma,
            &mut dg,
            &mut db,
            row_mut(dz, r),
        );
    }
    store_norm_grads(norm, grads, &dg, &db);
    for (i, wr) in head.weights_mut(grads).chunks_exact_mut(o).enumerate() {
        for (c, v) in wr.iter_mut().enumerate() {
            *v = dwt[c * H + i];
        }
    }
    grads[bias_at..bias_at + o].copy_from_slice(dbias);
}

/// Column sums of `dz` (`rows × H`), rows in order.
#[inline(always)]
fn column_sums<T: Real>(dz: &[T], rows: usize) -> [T; H] {
    let mut s = [T::ZERO; H];
    for r in 0..rows {
        let d = row(dz, r);
        for j in 0..H {
            s[j] += d[j];
        }
    }
    s
}

/// Backward through block `i ≥ 1` (`H → H`): accumulates `∂W`, `∂b` from `dz` and the previous
/// block's output, then writes the previous block's `dz` into `dz_prev` (through its norm and
/// ReLU). `wt` is `H × H` scratch.
#[inline(always)]
#[allow(clippy::too_many_arguments)] // reason: the backward pass of a block and the norm below
pub(super) fn block_backward<T: Real, const MR: usize, const NJ: usize>(
    lin: &Linear,
    prev_norm: &LayerNorm,
    params: &[T],
    prev: BlockIn<'_, T>,
    dz: &[T],
    rows: usize,
    wt: &mut [T],
    dz_prev: &mut [T],
    grads: &mut [T],
) {
    outer_acc::<T, NJ>(prev.h, H, dz, rows, lin.weights_mut(grads));
    let s = column_sums(dz, rows);
    let at = lin.offset + H * H;
    for (g, v) in grads[at..at + H].iter_mut().zip(s) {
        *g += v;
    }
    let w = lin.weights(params);
    for i in 0..H {
        for j in 0..H {
            wt[j * H + i] = w[i * H + j];
        }
    }
    let (gamma, _) = gamma_beta(prev_norm, params);
    let (mut dg, mut db) = load_norm_grads(prev_norm, grads);
    let zero = [T::ZERO; H];
    let mut r = 0;
    while r < rows {
        let step = if r + MR <= rows { MR } else { 1 };
        let mut dh = [[T::ZERO; H]; MR];
        if step == MR {
            dh = affine::<T, MR>(dz, H, r, wt, &zero);
        } else {
            dh[0] = affine::<T, 1>(dz, H, r, wt, &zero)[0];
        }
        for (m, d) in dh.iter().take(step).enumerate() {
            norm_relu_backward_row(
                d,
                row(prev.xhat, r + m),
                row(prev.a, r + m),
                prev.rstd[r + m],
                gamma,
                &mut dg,
                &mut db,
                row_mut(dz_prev, r + m),
            );
        }
        r += step;
    }
    store_norm_grads(prev_norm, grads, &dg, &db);
}

/// Backward through the first block and the input LayerNorm (see the module docs): `m` is
/// `inputs × H` scratch.
#[inline(always)]
#[allow(clippy::too_many_arguments)] // reason: the backward pass of a block and the input norm
pub(super) fn first_backward<T: Real, const NJ: usize>(
    input_norm: &LayerNorm,
    lin: &Linear,
    params: &[T],
    xhat0: &[T],
    dz: &[T],
    rows: usize,
    m: &mut [T],
    grads: &mut [T],
) {
    let d = lin.inputs;
    let m = &mut m[..d * H];
    m.fill(T::ZERO);
    outer_acc::<T, NJ>(xhat0, d, dz, rows, m);
    let s = column_sums(dz, rows);
    let g0 = &params[input_norm.offset..input_norm.offset + d];
    let b0 = &params[input_norm.offset + d..input_norm.offset + 2 * d];
    let gw = lin.weights_mut(grads);
    for i in 0..d {
        let mi = row(m, i);
        let gi = row_mut(gw, i);
        for j in 0..H {
            gi[j] += g0[i].mul_add(mi[j], b0[i] * s[j]);
        }
    }
    let at = lin.offset + d * H;
    for (g, v) in grads[at..at + H].iter_mut().zip(s) {
        *g += v;
    }
    let w = lin.weights(params);
    for i in 0..d {
        let (wi, mi) = (row(w, i), row(m, i));
        grads[input_norm.offset + i] += dot(wi, mi);
        grads[input_norm.offset + d + i] += dot(wi, &s);
    }
}

/// The kernels of the fused path, compiled once per instruction set (see [`super::simd`]):
/// each is one of the functions above, over a whole chunk of rows.
#[allow(clippy::too_many_arguments)] // reason: the signatures of the kernels above
pub(super) trait Kernels: Copy {
    /// [`block_forward`].
    fn block_forward<T: Real>(
        self,
        lin: &Linear,
        norm: &LayerNorm,
        params: &[T],
        x: &[T],
        rows: usize,
        out: BlockOut<'_, T>,
    );
    /// [`head_forward`].
    fn head_forward<T: Real>(
        self,
        head: &Linear,
        params: &[T],
        h: &[T],
        rows: usize,
        wt: &mut [T],
        y: &mut [T],
    );
    /// [`head_backward`].
    fn head_backward<T: Real>(
        self,
        head: &Linear,
        norm: &LayerNorm,
        params: &[T],
        last: BlockIn<'_, T>,
        dout: &[T],
        rows: usize,
        scratch: &mut [T],
        dz: &mut [T],
        grads: &mut [T],
    );
    /// [`block_backward`].
    fn block_backward<T: Real>(
        self,
        lin: &Linear,
        prev_norm: &LayerNorm,
        params: &[T],
        prev: BlockIn<'_, T>,
        dz: &[T],
        rows: usize,
        wt: &mut [T],
        dz_prev: &mut [T],
        grads: &mut [T],
    );
    /// [`first_backward`].
    fn first_backward<T: Real>(
        self,
        input_norm: &LayerNorm,
        lin: &Linear,
        params: &[T],
        xhat0: &[T],
        dz: &[T],
        rows: usize,
        m: &mut [T],
        grads: &mut [T],
    );
}

/// The whole forward pass of an eligible [`Mlp`] (see [`Mlp::forward`]) on kernels `k`.
pub(super) fn forward<T: Real, K: Kernels>(
    k: K,
    mlp: &Mlp,
    params: &[T],
    x: &[T],
    rows: usize,
    cache: &mut MlpCache<T>,
) {
    let d = mlp.inputs();
    mlp.input_norm.forward(
        params,
        &x[..rows * d],
        rows,
        &mut cache.h0,
        &mut cache.xhat0,
        &mut cache.rstd0,
    );
    for (i, (lin, norm)) in mlp.hidden.iter().enumerate() {
        let (before, rest) = cache.blocks.split_at_mut(i);
        let input: &[T] = before.last().map_or(&cache.h0, |b| &b.h);
        let b = &mut rest[0];
        let out = BlockOut {
            a: &mut b.a,
            xhat: &mut b.xhat,
            rstd: &mut b.rstd,
            h: &mut b.h,
        };
        k.block_forward(lin, norm, params, input, rows, out);
    }
    let last = &cache.blocks[cache.blocks.len() - 1].h;
    k.head_forward(&mlp.head, params, last, rows, &mut cache.wt, &mut cache.out);
}

/// The whole backward pass of an eligible [`Mlp`] (see [`Mlp::backward`]) on kernels `k`,
/// after [`forward`] on the same rows.
pub(super) fn backward<T: Real, K: Kernels>(
    k: K,
    mlp: &Mlp,
    params: &[T],
    cache: &mut MlpCache<T>,
    dout: &[T],
    rows: usize,
    grads: &mut [T],
) {
    let MlpCache {
        xhat0,
        blocks,
        d1,
        d2,
        wt,
        scratch,
        ..
    } = cache;
    let blocks_in = |i: usize| {
        let b = &blocks[i];
        BlockIn {
            a: &b.a,
            xhat: &b.xhat,
            rstd: &b.rstd,
            h: &b.h,
        }
    };
    let nb = mlp.hidden.len();
    let o = mlp.outputs();
    let (head_scratch, m) = scratch.split_at_mut(2 * H * o + o);
    k.head_backward(
        &mlp.head,
        &mlp.hidden[nb - 1].1,
        params,
        blocks_in(nb - 1),
        &dout[..rows * o],
        rows,
        head_scratch,
        d1,
        grads,
    );
    let (mut dz, mut dz_prev) = (d1, d2);
    for i in (1..nb).rev() {
        k.block_backward(
            &mlp.hidden[i].0,
            &mlp.hidden[i - 1].1,
            params,
            blocks_in(i - 1),
            dz,
            rows,
            wt,
            dz_prev,
            grads,
        );
        std::mem::swap(&mut dz, &mut dz_prev);
    }
    k.first_backward(
        &mlp.input_norm,
        &mlp.hidden[0].0,
        params,
        xhat0,
        dz,
        rows,
        m,
        grads,
    );
}
