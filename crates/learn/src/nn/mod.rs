//! Small, exact neural-network pieces for MAPPO: layers, the bid distributions, Adam and
//! gradient clipping.
//!
//! Every layer is a plain description (sizes and the offset of its parameters in one flat
//! parameter vector) with a `forward` and a `backward` over row-major `[rows × features]` slices.
//! Parameters and gradients of a whole network live in two flat vectors, so the optimiser and the
//! gradient-norm clip are single loops and a checkpoint is two slices. Layers are generic over
//! [`Real`] (`f32` for training, `f64` for the finite-difference checks in the tests).
//!
//! A new layer is one file: a struct with `len`, `forward`, `backward` and its gradient check at
//! the bottom (the shared helpers live in the test-only `nn::check` module).
//!
//! ## Invariants
//! - `backward` *accumulates* parameter gradients (`+=`), so a batch can be processed in chunks
//!   whose gradients add up exactly as one pass over the whole batch would, in a fixed order.
//! - Nothing here reads a clock, a thread id or a global RNG: results depend only on inputs.
//!
//! ## Performance
//! ReLU MLPs whose hidden layers are all [`FUSED_WIDTH`] wide (the MAPPO networks) run on the
//! fused path (`fused.rs`): each hidden block's `Linear → ReLU → LayerNorm` is one pass per row
//! in registers, forward and backward, on small register-tiled kernels that [`simd`] compiles
//! for AVX2/FMA and AVX-512 and picks at run time (bit-identical on every path). Their activation buffers
//! start on cache lines (`aligned.rs`). Other shapes
//! take the layered path: matrix products through one function, [`Real::gemm`], backed by
//! `matrixmultiply` (or by the `gemm` crate with the `gemm-backend` feature; see
//! `benches/mlp.rs` for the comparison), and single passes over contiguous rows.

mod adam;
mod aligned;
mod beta;
mod clip;
mod fused;
mod gaussian;
mod init;
mod layer_norm;
mod linear;
mod mlp;
mod relu;
pub mod simd;
mod softplus;
pub mod special;
mod tanh;

pub use adam::Adam;
pub use beta::Beta;
pub use clip::{clip_grad_norm, grad_norm};
pub use fused::WIDTH as FUSED_WIDTH;
pub use gaussian::SquashedGaussian;
pub use init::orthogonal;
pub use layer_norm::LayerNorm;
pub use linear::Linear;
pub use mlp::{Activation, Mlp, MlpCache};
pub use relu::Relu;
pub use softplus::{exp_neg, softplus_neg};
pub use tanh::{fast_sigmoid, fast_tanh, Tanh};

use std::fmt::Debug;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

/// The floating-point types the layers run on (`f32` and `f64`).
pub trait Real:
    Copy
    + Default
    + Debug
    + PartialOrd
    + Send
    + Sync
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Sum
{
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// Conversion from `f64` (rounding for `f32`).
    fn from_f64(x: f64) -> Self;
    /// Conversion to `f64` (exact).
    fn to_f64(self) -> f64;
    /// `eˣ`.
    fn exp(self) -> Self;
    /// Natural logarithm.
    fn ln(self) -> Self;
    /// `ln(1 + x)`.
    fn ln_1p(self) -> Self;
    /// Square root.
    fn sqrt(self) -> Self;
    /// Absolute value.
    fn abs(self) -> Self;
    /// The larger of two values (the other if one is NaN).
    fn max(self, other: Self) -> Self;
    /// The smaller of two values (the other if one is NaN).
    fn min(self, other: Self) -> Self;
    /// `self · a + b` with one rounding (a fused multiply-add on every path, so results do not
    /// depend on which instruction set runs them).
    fn mul_add(self, a: Self, b: Self) -> Self;
    /// `x` as `f32` values if `Self` is `f32` (the type the explicit SIMD kernels are written
    /// for), else `None`.
    fn as_f32(x: &[Self]) -> Option<&[f32]>;
    /// [`Real::as_f32`] for a mutable slice.
    fn as_f32_mut(x: &mut [Self]) -> Option<&mut [f32]>;
    /// `C ← α·A·B + β·C` for an `m × k` matrix A and a `k × n` matrix B, each given as a slice
    /// with a row stride and a column stride (so transposes are free).
    ///
    /// # Panics
    /// If a slice is too short for its dimensions and strides (checked before any access).
    #[allow(clippy::too_many_arguments)] // reason: the BLAS signature, kept flat on purpose
    fn gemm(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: (&[Self], usize, usize),
        b: (&[Self], usize, usize),
        beta: Self,
        c: (&mut [Self], usize, usize),
    );
}

/// Smallest slice length that holds an `rows × cols` matrix with strides `(rs, cs)`.
#[inline]
fn extent(rows: usize, cols: usize, rs: usize, cs: usize) -> usize {
    if rows == 0 || cols == 0 {
        0
    } else {
        (rows - 1) * rs + (cols - 1) * cs + 1
    }
}

/// Checks the operand extents of a product (the only guard before the raw-pointer call).
#[inline]
fn check_gemm<T>(m: usize, k: usize, n: usize, a: (&[T], usize, usize), b: (&[T], usize, usize)) {
    assert!(a.0.len() >= extent(m, k, a.1, a.2), "gemm: A too short");
    assert!(b.0.len() >= extent(k, n, b.1, b.2), "gemm: B too short");
}

macro_rules! impl_real {
    ($t:ty, $mm:ident, $as_f32:expr, $as_f32_mut:expr) => {
        impl Real for $t {
            #[inline(always)]
            fn as_f32(x: &[Self]) -> Option<&[f32]> {
                $as_f32(x)
            }
            #[inline(always)]
            fn as_f32_mut(x: &mut [Self]) -> Option<&mut [f32]> {
                $as_f32_mut(x)
            }
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            #[inline]
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            #[inline]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline]
            fn exp(self) -> Self {
                <$t>::exp(self)
            }
            #[inline]
            fn ln(self) -> Self {
                <$t>::ln(self)
            }
            #[inline]
            fn ln_1p(self) -> Self {
                <$t>::ln_1p(self)
            }
            #[inline]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            #[inline]
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            #[inline]
            fn max(self, other: Self) -> Self {
                <$t>::max(self, other)
            }
            #[inline]
            fn min(self, other: Self) -> Self {
                <$t>::min(self, other)
            }
            #[inline(always)]
            fn mul_add(self, a: Self, b: Self) -> Self {
                <$t>::mul_add(self, a, b)
            }
            #[inline]
            fn gemm(
                m: usize,
                k: usize,
                n: usize,
                alpha: Self,
                a: (&[Self], usize, usize),
                b: (&[Self], usize, usize),
                beta: Self,
                c: (&mut [Self], usize, usize),
            ) {
                check_gemm(m, k, n, a, b);
                assert!(c.0.len() >= extent(m, n, c.1, c.2), "gemm: C too short");
                if m == 0 || n == 0 {
                    return;
                }
                backend::$mm(m, k, n, alpha, a, b, beta, c);
            }
        }
    };
}

impl_real!(f32, gemm_f32, Some, Some);
impl_real!(f64, gemm_f64, |_| None, |_| None);

/// The one place that calls a GEMM crate through raw pointers.
#[allow(unsafe_code)] // reason: GEMM crates take raw pointers; extents are checked by the caller
#[allow(clippy::too_many_arguments)] // reason: the BLAS signature
mod backend {
    #[cfg(not(feature = "gemm-backend"))]
    macro_rules! mm {
        ($name:ident, $t:ty, $f:path) => {
            /// `C ← α·A·B + β·C` via `matrixmultiply`.
            #[inline]
            pub(super) fn $name(
                m: usize,
                k: usize,
                n: usize,
                alpha: $t,
                a: (&[$t], usize, usize),
                b: (&[$t], usize, usize),
                beta: $t,
                c: (&mut [$t], usize, usize),
            ) {
                // SAFETY: `Real::gemm` checked that every operand slice covers its
                // `rows × cols` extent under the given strides, and C is uniquely borrowed.
                unsafe {
                    $f(
                        m,
                        k,
                        n,
                        alpha,
                        a.0.as_ptr(),
                        a.1 as isize,
                        a.2 as isize,
                        b.0.as_ptr(),
                        b.1 as isize,
                        b.2 as isize,
                        beta,
                        c.0.as_mut_ptr(),
                        c.1 as isize,
                        c.2 as isize,
                    )
                }
            }
        };
    }
    #[cfg(not(feature = "gemm-backend"))]
    mm!(gemm_f32, f32, matrixmultiply::sgemm);
    #[cfg(not(feature = "gemm-backend"))]
    mm!(gemm_f64, f64, matrixmultiply::dgemm);

    #[cfg(feature = "gemm-backend")]
    macro_rules! mm {
        ($name:ident, $t:ty) => {
            /// `C ← α·A·B + β·C` via the `gemm` crate (single-threaded).
            #[inline]
            pub(super) fn $name(
                m: usize,
                k: usize,
                n: usize,
                alpha: $t,
                a: (&[$t], usize, usize),
                b: (&[$t], usize, usize),
                beta: $t,
                c: (&mut [$t], usize, usize),
            ) {
                // SAFETY: as above. Note the crate's convention: dst ← α·dst + β·lhs·rhs.
                unsafe {
                    gemm::gemm(
                        m,
                        n,
                        k,
                        c.0.as_mut_ptr(),
                        c.2 as isize,
                        c.1 as isize,
                        beta != 0.0,
                        a.0.as_ptr(),
                        a.2 as isize,
                        a.1 as isize,
                        b.0.as_ptr(),
                        b.2 as isize,
                        b.1 as isize,
                        beta,
                        alpha,
                        false,
                        false,
                        false,
                        gemm::Parallelism::None,
                    )
                }
            }
        };
    }
    #[cfg(feature = "gemm-backend")]
    mm!(gemm_f32, f32);
    #[cfg(feature = "gemm-backend")]
    mm!(gemm_f64, f64);
}

/// Row-wise helpers shared by the layers.
#[inline]
pub(crate) fn rows_of<T>(x: &[T], cols: usize) -> std::slice::ChunksExact<'_, T> {
    x.chunks_exact(cols.max(1))
}

/// `Σ f(xᵢ, yᵢ)` over two equally long slices with 8 interleaved accumulators, combined
/// pairwise.
///
/// A plain left-to-right float sum is one long dependency chain that cannot vectorise; eight
/// lanes can, and the order is still fixed (so results stay deterministic).
#[inline(always)]
pub(crate) fn lane_sum<T: Real>(x: &[T], y: &[T], f: impl Fn(T, T) -> T) -> T {
    let n = x.len().min(y.len());
    let (x, y) = (&x[..n], &y[..n]);
    let mut acc = [T::ZERO; 8];
    let (xc, yc) = (x.chunks_exact(8), y.chunks_exact(8));
    let (xr, yr) = (xc.remainder(), yc.remainder());
    for (a, b) in xc.zip(yc) {
        for l in 0..8 {
            acc[l] += f(a[l], b[l]);
        }
    }
    let mut s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (&a, &b) in xr.iter().zip(yr) {
        s += f(a, b);
    }
    s
}

/// Serde helpers that store `f32` vectors as their bit patterns (`u32`), so a checkpoint
/// round-trips every weight exactly (decimal text would go through `f64` and could round twice).
pub mod bits {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Serialises `v` as `u32` bit patterns.
    pub fn serialize<S: Serializer>(v: &[f32], s: S) -> Result<S::Ok, S::Error> {
        v.iter()
            .map(|x| x.to_bits())
            .collect::<Vec<u32>>()
            .serialize(s)
    }

    /// Reads `u32` bit patterns back into `f32`s.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f32>, D::Error> {
        Ok(Vec::<u32>::deserialize(d)?
            .into_iter()
            .map(f32::from_bits)
            .collect())
    }
}

/// Finite-difference gradient checks in `f64`, shared by every layer's tests.
#[cfg(test)]
pub(crate) mod check {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// A reproducible vector of `n` values in [−1, 1].
    pub fn random(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect()
    }

    /// Magnitude below which a gradient element is compared absolutely (see [`grad`]).
    pub const GRAD_FLOOR: f64 = 1e-3;

    /// Compares `analytic` with the central difference of `f` at `x`, element by element:
    /// |n − a| / max(|n|, |a|, [`GRAD_FLOOR`]) must stay below `tol`.
    ///
    /// # Panics
    /// On the first element whose relative error exceeds `tol`.
    pub fn grad(f: impl Fn(&[f64]) -> f64, x: &[f64], analytic: &[f64], tol: f64) {
        assert_eq!(x.len(), analytic.len());
        let h = 1e-6;
        let mut xp = x.to_vec();
        for i in 0..x.len() {
            xp[i] = x[i] + h;
            let fp = f(&xp);
            xp[i] = x[i] - h;
            let fm = f(&xp);
            xp[i] = x[i];
            let numeric = (fp - fm) / (2.0 * h);
            // Relative error, with a floor so that gradients near 0 (where the central
            // difference is all rounding noise, ~1e-10) are not judged relative to nothing.
            let scale = numeric.abs().max(analytic[i].abs()).max(GRAD_FLOOR);
            let err = (numeric - analytic[i]).abs() / scale;
            assert!(
                err < tol,
                "d/dx[{i}]: numeric {numeric:.9e} vs analytic {:.9e}",
                analytic[i]
            );
        }
    }

    #[test]
    #[should_panic(expected = "d/dx[0]")]
    fn a_small_gradient_off_by_a_factor_2_is_caught() {
        // True gradient 1e-6, claimed 2e-6: the old measure |n − a| / (1 + max) gave 1e-6 and
        // passed at tol 1e-5; relative with the floor it is 1e-3.
        grad(|x| 1e-6 * x[0], &[0.5], &[2e-6], 1e-5);
    }

    /// Σ c·y, the scalar every layer test differentiates.
    pub fn dot(c: &[f64], y: &[f64]) -> f64 {
        c.iter().zip(y).map(|(a, b)| a * b).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gemm_handles_transposed_operands() {
        // A = [[1, 2, 3], [4, 5, 6]] (2×3), B = Aᵀ read from A's storage with swapped strides.
        let a = [1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0];
        let mut c = [1.0f64; 4];
        f64::gemm(2, 3, 2, 1.0, (&a, 3, 1), (&a, 1, 3), 2.0, (&mut c, 2, 1));
        assert_eq!(c, [16.0, 34.0, 34.0, 79.0]);
        let mut c32 = [0.0f32; 4];
        let a32: Vec<f32> = a.iter().map(|&x| x as f32).collect();
        f32::gemm(
            2,
            3,
            2,
            1.0,
            (&a32, 3, 1),
            (&a32, 1, 3),
            0.0,
            (&mut c32, 2, 1),
        );
        assert_eq!(c32, [14.0, 32.0, 32.0, 77.0]);
    }

    #[test]
    #[should_panic(expected = "too short")]
    fn gemm_rejects_short_operands() {
        let a = [1.0f32; 5];
        let mut c = [0.0f32; 4];
        f32::gemm(2, 3, 2, 1.0, (&a, 3, 1), (&a, 1, 3), 0.0, (&mut c, 2, 1));
    }
}
