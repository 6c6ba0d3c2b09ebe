//! The fused path of [`Mlp`]: ReLU networks whose hidden layers are all [`WIDTH`] wide (the
//! MAPPO actor and critic, DESIGN.md §2.2).
//!
//! Instead of one pass over memory per layer (a GEMM, then ReLU, then a two-pass LayerNorm), each
//! row of a hidden block is computed in registers: `Linear → ReLU → LayerNorm` forward, and
//! `LayerNorm backward → ReLU mask` backward, with the row's 64 values never leaving the
//! register file between the steps. The products are small register-tiled kernels written once
//! in portable Rust; [`super::simd`] compiles them for AVX2/FMA and AVX-512 and picks a path at
//! run time.
//!
//! ## Invariants
//! - Every output element is computed by the same sequence of operations, whatever the tile
//!   shape and instruction set: products accumulate over `k` (or over rows)
//!   in order with a fused multiply-add ([`Real::mul_add`]), and reductions use eight lanes
//!   combined in a fixed order. So every [`super::simd::Isa`] gives bit-identical results, and
//!   a row's result does not depend on its position in a batch.
//! - `backward` accumulates into `grads`, like the layered path.
//!
//! ## The input LayerNorm's gradient without `dx`
//! The first block's input is `h₀ = γ₀ ⊙ x̂₀ + β₀`. With `M = x̂₀ᵀ · dz₀` and `S = Σ_rows dz₀`,
//! `∂W₀ = γ₀ ⊙ M + β₀ ⊗ S`, `∂γ₀[i] = Σ_j W₀[i,j]·M[i,j]` and `∂β₀[i] = Σ_j W₀[i,j]·S[j]`, so the
//! `rows × inputs` product `dz₀ · W₀ᵀ` is never formed.
mod blocks;
mod tiles;
#[cfg(target_arch = "x86_64")]
mod x86;

pub(super) use blocks::{
    block_backward, block_forward, first_backward, head_backward, head_forward,
};
use tiles::HeadOut;
use tiles::H;
pub use tiles::WIDTH;
pub(super) use tiles::{BlockIn, BlockOut, Portable};
#[cfg(target_arch = "x86_64")]
pub(super) use x86::{Avx2, Avx512};

use super::{LayerNorm, Linear, Mlp, MlpCache, Real};

/// Whether `mlp` runs on the fused path.
pub(crate) fn eligible(mlp: &Mlp) -> bool {
    mlp.activation == super::Activation::Relu
        && !mlp.hidden.is_empty()
        && mlp.hidden.iter().all(|(l, n)| l.outputs == H && n.dim == H)
}

/// The kernels of the fused path, compiled once per instruction set (see [`super::simd`]):
/// each is one of the functions of `blocks`, over a whole chunk of rows.
#[allow(clippy::too_many_arguments)] // reason: the signatures of the kernels above
pub(super) trait Kernels: Copy {
    /// [`LayerNorm::scale_shift`] of the normalised inputs (compiled for the kernels'
    /// instruction set).
    fn scale_shift<T: Real>(
        self,
        norm: &LayerNorm,
        params: &[T],
        xhat: &[T],
        rows: usize,
        y: &mut [T],
    );
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

/// The whole forward pass of an eligible [`Mlp`] from its normalised inputs (see
/// [`Mlp::forward_normalized`]) on kernels `k`.
pub(super) fn forward<T: Real, K: Kernels>(
    k: K,
    mlp: &Mlp,
    params: &[T],
    rows: usize,
    cache: &mut MlpCache<T>,
) {
    k.scale_shift(&mlp.input_norm, params, &cache.xhat0, rows, &mut cache.h0);
    let MlpCache {
        h0,
        blocks,
        out,
        wt,
        ..
    } = cache;
    // A one-output head is computed with the last block's rows (see `HeadOut`).
    let fuse_head = mlp.outputs() == 1;
    let nb = mlp.hidden.len();
    for (i, (lin, norm)) in mlp.hidden.iter().enumerate() {
        let (before, rest) = blocks.split_at_mut(i);
        let input: &[T] = before.last().map_or(&*h0, |b| &b.h);
        let b = &mut rest[0];
        let head = (fuse_head && i + 1 == nb).then(|| {
            let at = mlp.head.offset;
            HeadOut {
                w: params[at..at + H]
                    .try_into()
                    .expect("a column of H weights"),
                b: params[at + H],
                y: &mut out[..],
            }
        });
        let out = BlockOut {
            a: &mut b.a,
            xhat: &mut b.xhat,
            rstd: &mut b.rstd,
            h: &mut b.h,
            head,
        };
        k.block_forward(lin, norm, params, input, rows, out);
    }
    if !fuse_head {
        let last = &blocks[nb - 1].h;
        k.head_forward(&mlp.head, params, last, rows, wt, out);
    }
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
