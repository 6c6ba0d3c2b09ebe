//! The per-block kernels of the fused path: `Linear → ReLU → LayerNorm` forward of a hidden
//! block row by row in registers, the head, and their backward passes, each over a chunk of rows.

use super::tiles::{
    affine1, dot, outer_acc, row, row_mut, BlockIn, BlockOut, TileKernels, H, ROWS,
};
use crate::nn::{LayerNorm, Linear, Real};

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

/// `Linear → ReLU → LayerNorm` over `rows` rows of `x` (`rows × lin.inputs`), [`ROWS`] rows at
/// a time.
#[inline(always)]
pub(crate) fn block_forward<T: Real, P: TileKernels>(
    p: P,
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
    while r + 2 * ROWS <= rows {
        p.affine_relu_norm_pair(x, k, r, w, b, gamma, beta, eps, &mut out);
        r += 2 * ROWS;
    }
    while r + ROWS <= rows {
        p.affine_relu_norm(x, k, r, w, b, gamma, beta, eps, &mut out);
        r += ROWS;
    }
    while r < rows {
        let mut z = [affine1(x, k, r, w, b)];
        p.relu_norm(&mut z, gamma, beta, eps, &mut out, r);
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
pub(crate) fn head_backward<T: Real, P: TileKernels>(
    p: P,
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
    // ∂Wᵀ += doutᵀ · h and ∂b += Σ_rows dout, each over the rows in order. With one output
    // the whole row of ∂Wᵀ stays in registers (eight independent chains; a 16-column tile would
    // wait on two) with ∂b's chain beside it, and both run in the loop over the rows' tiles
    // below, so their latency hides behind the LayerNorm's backward pass.
    let single = o == 1;
    if !single {
        outer_acc::<T, 16>(dout, o, last.h, rows, dwt);
        for (c, db) in dbias.iter_mut().enumerate() {
            for r in 0..rows {
                *db += dout[r * o + c];
            }
        }
    }
    let (mut acc, mut dbias0): ([T; H], T) = if single {
        (dwt[..H].try_into().expect("a row of H values"), dbias[0])
    } else {
        ([T::ZERO; H], T::ZERO)
    };
    let (gamma, _) = gamma_beta(norm, params);
    let (mut dg, mut db) = load_norm_grads(norm, grads);
    let mut dh = [[T::ZERO; H]; ROWS];
    for r0 in (0..rows).step_by(ROWS) {
        let n = ROWS.min(rows - r0);
        for (i, dhi) in dh.iter_mut().take(n).enumerate() {
            let r = r0 + i;
            let d0 = dout[r * o];
            if single {
                let hr = row(last.h, r);
                for j in 0..H {
                    acc[j] = d0.mul_add(hr[j], acc[j]);
                }
                dbias0 += d0;
            }
            let w0 = row(wt, 0);
            for j in 0..H {
                dhi[j] = d0 * w0[j];
            }
            for c in 1..o {
                let (dc, wc) = (dout[r * o + c], row(wt, c));
                for j in 0..H {
                    dhi[j] = dc.mul_add(wc[j], dhi[j]);
                }
            }
        }
        p.norm_relu_backward(&mut dh[..n], &last, r0, gamma, &mut dg, &mut db, dz);
    }
    if single {
        dwt[..H].copy_from_slice(&acc);
        dbias[0] = dbias0;
    }
    store_norm_grads(norm, grads, &dg, &db);
    for (i, wr) in head.weights_mut(grads).chunks_exact_mut(o).enumerate() {
        for (c, v) in wr.iter_mut().enumerate() {
            *v = dwt[c * H + i];
        }
    }
    grads[bias_at..bias_at + o].copy_from_slice(dbias);
}

/// Backward through block `i ≥ 1` (`H → H`): accumulates `∂W`, `∂b` from `dz` and the previous
/// block's output, then writes the previous block's `dz` into `dz_prev` (through its norm and
/// ReLU). `wt` is `H × H` scratch.
#[inline(always)]
#[allow(clippy::too_many_arguments)] // reason: the backward pass of a block and the norm below
pub(crate) fn block_backward<T: Real, P: TileKernels>(
    p: P,
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
    let mut s = [T::ZERO; H];
    p.outer_acc_sums(prev.h, H, dz, rows, lin.weights_mut(grads), &mut s);
    let at = lin.offset + H * H;
    for (g, v) in grads[at..at + H].iter_mut().zip(s) {
        *g += v;
    }
    p.transpose(lin.weights(params), wt);
    let (gamma, _) = gamma_beta(prev_norm, params);
    let (mut dg, mut db) = load_norm_grads(prev_norm, grads);
    let mut dh = [[T::ZERO; H]; ROWS];
    for r in (0..rows).step_by(ROWS) {
        let step = ROWS.min(rows - r);
        // `dz` is zero wherever this block's ReLU was off (about half the units).
        p.affine_rows_sparse(dz, r, wt, &mut dh[..step]);
        p.norm_relu_backward(&mut dh[..step], &prev, r, gamma, &mut dg, &mut db, dz_prev);
    }
    store_norm_grads(prev_norm, grads, &dg, &db);
}

/// Backward through the first block and the input LayerNorm (see the module docs): `m` is
/// `inputs × H` scratch.
#[inline(always)]
#[allow(clippy::too_many_arguments)] // reason: the backward pass of a block and the input norm
pub(crate) fn first_backward<T: Real, P: TileKernels>(
    p: P,
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
    let mut s = [T::ZERO; H];
    p.outer_acc_sums(xhat0, d, dz, rows, m, &mut s);
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
