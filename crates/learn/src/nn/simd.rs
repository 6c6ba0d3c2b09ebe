//! Run-time choice of the instruction set for the fused kernels of the `nn` module (`fused.rs`).
//!
//! The kernels are written once, in portable Rust, with every product a fused multiply-add
//! ([`super::Real::mul_add`]); their matrix products and LayerNorm rows also have
//! explicit-intrinsic versions (`fused::x86`), 8 lanes wide for AVX2 + FMA and 16 for AVX-512.
//! This module instantiates the kernels inside functions compiled for those instruction sets
//! and calls the widest the CPU has ([`Isa::detected`]).
//! Because each output element
//! sees the same operations in the same order on every path (vector lanes are independent and
//! reductions have a fixed shape), the paths give **bit-identical** results; the portable path
//! (used elsewhere) computes `mul_add` in software where the CPU has no FMA and is slow there,
//! but exact. The tests compare every path available on the machine bit for bit.
//!
//! `IOVMARKET_ISA=portable` or `IOVMARKET_ISA=avx2` caps the choice (to measure a path; it
//! cannot change a result). It is read once per process.
#![allow(unsafe_code)] // reason: calling `#[target_feature]` functions needs `unsafe`; each call is guarded by the CPU feature check below

use std::sync::OnceLock;

use super::{fused, Mlp, MlpCache, Real};

/// An instruction set the fused kernels are compiled for, in increasing order of width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Isa {
    /// Plain Rust for the build target.
    Portable,
    /// x86-64 AVX2 with FMA.
    Avx2,
    /// x86-64 AVX-512F (with AVX2 and FMA): the products and LayerNorm rows in 16-lane
    /// registers.
    Avx512,
}

impl Isa {
    /// The widest instruction set this CPU supports.
    pub fn detected() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                if std::arch::is_x86_feature_detected!("avx512f") {
                    return Self::Avx512;
                }
                return Self::Avx2;
            }
        }
        Self::Portable
    }

    /// The instruction set in use: [`Isa::detected`], capped by `IOVMARKET_ISA` if set.
    pub fn current() -> Self {
        static ISA: OnceLock<Isa> = OnceLock::new();
        *ISA.get_or_init(|| {
            let cap = match std::env::var("IOVMARKET_ISA").as_deref() {
                Ok("portable") => Self::Portable,
                Ok("avx2") => Self::Avx2,
                _ => Self::Avx512,
            };
            Self::detected().min(cap)
        })
    }

    /// Every instruction set this CPU can run, narrowest first.
    pub fn available() -> Vec<Self> {
        [Self::Portable, Self::Avx2, Self::Avx512]
            .into_iter()
            .filter(|&i| i <= Self::detected())
            .collect()
    }
}

use super::fused::{BlockIn, BlockOut, Kernels};
use super::{LayerNorm, Linear};

/// Generates a [`Kernels`] implementation `$name` whose methods call the fused kernels with the
/// products `$products` (evaluated inside the `unsafe` kernel functions), each kernel compiled
/// for `$features` (none: the build target). Each kernel is its own function, so the compiler
/// vectorises it on its own.
macro_rules! kernels {
    ($name:ident, $products:expr $(, $features:literal)?) => {
        #[derive(Debug, Clone, Copy)]
        pub(super) struct $name(());

        #[allow(clippy::too_many_arguments)] // reason: the kernels' signatures
        impl $name {
            $(#[target_feature(enable = $features)])?
            unsafe fn scale_shift_tf<T: Real>(
                norm: &LayerNorm, params: &[T], xhat: &[T], rows: usize, y: &mut [T],
            ) {
                norm.scale_shift(params, xhat, rows, y)
            }
            $(#[target_feature(enable = $features)])?
            unsafe fn block_forward_tf<T: Real>(
                lin: &Linear, norm: &LayerNorm, params: &[T], x: &[T], rows: usize,
                out: BlockOut<'_, T>,
            ) {
                fused::block_forward($products, lin, norm, params, x, rows, out)
            }
            $(#[target_feature(enable = $features)])?
            unsafe fn head_forward_tf<T: Real>(
                head: &Linear, params: &[T], h: &[T], rows: usize, wt: &mut [T], y: &mut [T],
            ) {
                fused::head_forward(head, params, h, rows, wt, y)
            }
            $(#[target_feature(enable = $features)])?
            unsafe fn head_backward_tf<T: Real>(
                head: &Linear, norm: &LayerNorm, params: &[T], last: BlockIn<'_, T>,
                dout: &[T], rows: usize, scratch: &mut [T], dz: &mut [T], grads: &mut [T],
            ) {
                fused::head_backward(
                    $products, head, norm, params, last, dout, rows, scratch, dz, grads,
                )
            }
            $(#[target_feature(enable = $features)])?
            unsafe fn block_backward_tf<T: Real>(
                lin: &Linear, prev_norm: &LayerNorm, params: &[T], prev: BlockIn<'_, T>,
                dz: &[T], rows: usize, wt: &mut [T], dz_prev: &mut [T], grads: &mut [T],
            ) {
                fused::block_backward(
                    $products, lin, prev_norm, params, prev, dz, rows, wt, dz_prev, grads,
                )
            }
            $(#[target_feature(enable = $features)])?
            unsafe fn first_backward_tf<T: Real>(
                input_norm: &LayerNorm, lin: &Linear, params: &[T], xhat0: &[T], dz: &[T],
                rows: usize, m: &mut [T], grads: &mut [T],
            ) {
                fused::first_backward(
                    $products, input_norm, lin, params, xhat0, dz, rows, m, grads,
                )
            }
        }

        // SAFETY (every call below): a `$name` exists only once `Isa::detected` found the
        // features its kernels were compiled for (see `forward`, `backward`).
        #[allow(clippy::too_many_arguments)] // reason: the kernels' signatures
        impl Kernels for $name {
            fn scale_shift<T: Real>(
                self, norm: &LayerNorm, params: &[T], xhat: &[T], rows: usize, y: &mut [T],
            ) {
                unsafe { Self::scale_shift_tf(norm, params, xhat, rows, y) }
            }
            fn block_forward<T: Real>(
                self, lin: &Linear, norm: &LayerNorm, params: &[T], x: &[T], rows: usize,
                out: BlockOut<'_, T>,
            ) {
                unsafe { Self::block_forward_tf(lin, norm, params, x, rows, out) }
            }
            fn head_forward<T: Real>(
                self, head: &Linear, params: &[T], h: &[T], rows: usize, wt: &mut [T],
                y: &mut [T],
            ) {
                unsafe { Self::head_forward_tf(head, params, h, rows, wt, y) }
            }
            fn head_backward<T: Real>(
                self, head: &Linear, norm: &LayerNorm, params: &[T], last: BlockIn<'_, T>,
                dout: &[T], rows: usize, scratch: &mut [T], dz: &mut [T], grads: &mut [T],
            ) {
                unsafe {
                    Self::head_backward_tf(head, norm, params, last, dout, rows, scratch, dz, grads)
                }
            }
            fn block_backward<T: Real>(
                self, lin: &Linear, prev_norm: &LayerNorm, params: &[T], prev: BlockIn<'_, T>,
                dz: &[T], rows: usize, wt: &mut [T], dz_prev: &mut [T], grads: &mut [T],
            ) {
                unsafe {
                    Self::block_backward_tf(
                        lin, prev_norm, params, prev, dz, rows, wt, dz_prev, grads,
                    )
                }
            }
            fn first_backward<T: Real>(
                self, input_norm: &LayerNorm, lin: &Linear, params: &[T], xhat0: &[T],
                dz: &[T], rows: usize, m: &mut [T], grads: &mut [T],
            ) {
                unsafe {
                    Self::first_backward_tf(input_norm, lin, params, xhat0, dz, rows, m, grads)
                }
            }
        }
    };
}

kernels!(Portable, fused::Portable);
// `fused::Avx2::new` needs AVX2 and FMA: every kernel of `Avx2` is compiled for them and is
// called only once `Isa::detected` found them (see `forward`, `backward`).
#[cfg(target_arch = "x86_64")]
kernels!(Avx2, fused::Avx2::new(), "avx2,fma");
// `fused::Avx512::new` needs AVX-512F as well: likewise, once `Isa::detected` found it.
#[cfg(target_arch = "x86_64")]
kernels!(Avx512, fused::Avx512::new(), "avx512f,avx2,fma");

/// Work that [`run_on`] compiles for an instruction set: a short per-row loop around the
/// kernels, such as the PPO loss. `run` must be `#[inline(always)]`, so that it is compiled
/// inside the instruction set's function.
pub trait RowLoop {
    /// What the loop returns.
    type Output;
    /// The loop.
    fn run(self) -> Self::Output;
}

/// Runs `job` compiled for `isa` (AVX2 for [`Isa::Avx512`] too; the baseline target runs such loops four lanes wide). The
/// bits are the same on every path: Rust never contracts `a * b + c` into a fused
/// multiply-add, `mul_add` is exactly rounded either way, and the library calls are the same
/// functions.
#[inline(always)]
pub fn run_on<J: RowLoop>(isa: Isa, job: J) -> J::Output {
    assert!(isa <= Isa::detected(), "{isa:?} is not available here");
    match isa {
        // SAFETY: the CPU has AVX2 and FMA (checked above).
        #[cfg(target_arch = "x86_64")]
        // The row loops stay on AVX2 under AVX-512: compiled for AVX-512 they were no faster.
        Isa::Avx2 | Isa::Avx512 => unsafe { run_avx2(job) },
        _ => job.run(),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn run_avx2<J: RowLoop>(job: J) -> J::Output {
    job.run()
}

/// The fused forward pass of `mlp` (a fused-path network: 64-wide hidden layers with ReLU) from
/// the inputs normalised into `cache` (see [`Mlp::forward_normalized`]) on `isa`, whatever
/// [`Isa::current`] says: to compare instruction sets.
///
/// # Panics
/// If `isa` is wider than [`Isa::detected`], or `mlp` is not a fused-path network.
pub fn forward<T: Real>(isa: Isa, mlp: &Mlp, params: &[T], rows: usize, cache: &mut MlpCache<T>) {
    assert!(isa <= Isa::detected(), "{isa:?} is not available here");
    assert!(fused::eligible(mlp), "not a fused-path network");
    match isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => fused::forward(Avx2(()), mlp, params, rows, cache),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => fused::forward(Avx512(()), mlp, params, rows, cache),
        _ => fused::forward(Portable(()), mlp, params, rows, cache),
    }
}

/// The fused backward pass on `isa` after [`forward`] on the same rows (see there).
///
/// # Panics
/// If `isa` is wider than [`Isa::detected`].
pub fn backward<T: Real>(
    isa: Isa,
    mlp: &Mlp,
    params: &[T],
    cache: &mut MlpCache<T>,
    dout: &[T],
    rows: usize,
    grads: &mut [T],
) {
    assert!(isa <= Isa::detected(), "{isa:?} is not available here");
    match isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => fused::backward(Avx2(()), mlp, params, cache, dout, rows, grads),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => fused::backward(Avx512(()), mlp, params, cache, dout, rows, grads),
        _ => fused::backward(Portable(()), mlp, params, cache, dout, rows, grads),
    }
}
