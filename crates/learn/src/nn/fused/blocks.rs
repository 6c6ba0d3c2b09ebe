//! The per-block kernels of the fused path: `Linear → ReLU → LayerNorm` forward of a hidden
//! block row by row in registers, the head, and their backward passes, each over a chunk of rows.

use super::tiles::{affine, dot, outer_acc, row, row_mut, H};
use crate::nn::{lane_sum, LayerNorm, Linear, Real};

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
pub(crate) struct BlockOut<'a, T> {
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
pub(crate) fn block_forward<T: Real, const MR: usize>(
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
pub(crate) fn head_forward<T: Real>(
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
pub(crate) struct BlockIn<'a, T> {
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
pub(crate) fn head_backward<T: Real>(
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
pub(crate) fn block_backward<T: Real, const MR: usize, const NJ: usize>(
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
pub(crate) fn first_backward<T: Real, const NJ: usize>(
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
