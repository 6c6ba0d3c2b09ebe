//! `ln(1 + e^{−a})` for `a ≥ 0` (the softplus of `−a`) from arithmetic alone.
//!
//! The squashed Gaussian's entropy needs it at eight quadrature nodes per sample; as two libm
//! calls per node (`exp`, then `log1p`) it cost more than the rest of the PPO loss, and the calls
//! do not vectorise. Here `e^{−a}` is `2^{−k} · e^{−r}` (`|r| ≤ ln 2 / 2`, a Taylor polynomial)
//! and `ln(1 + t) = 2·atanh(t / (2 + t))` (an odd series in `s = t / (2 + t) ≤ 1/3`): multiply-adds,
//! one division and integer bit operations, branch-free, so loops over it vectorise. Within 1e-11
//! of libm's `ln_1p(exp(−a))` relative to `max(1, a)` on the whole half-line (tested): far below
//! the `f32` rounding of the network outputs it is evaluated at, with half the terms of a
//! full-precision series.

/// `a` beyond which `e^{−a}` is below the smallest normal `f64` (the scale `2^{−k}` needs
/// `k ≤ 1022`); there `ln(1 + e^{−a})` is below 1e-300 anyway.
const A_MAX: f64 = 708.0;
/// `1.5 · 2^52`: adding it rounds to an integer held in the low bits of the mantissa.
const ROUND: f64 = 6_755_399_441_055_744.0;
/// ln 2 split so that `k · LN2_HI` is exact for `k < 2^11`.
const LN2_HI: f64 = 6.931_471_803_691_238e-1;
const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
/// Terms of `e^{−r}` (degree 9: the error is below 1e-11 for `|r| ≤ ln 2 / 2`).
const EXP_TERMS: usize = 10;
/// `1/i!` for `i < EXP_TERMS`: the Taylor coefficients of `e^r`.
const INV_FACT: [f64; EXP_TERMS] = {
    let mut f = [1.0; EXP_TERMS];
    let mut i = 1;
    while i < EXP_TERMS {
        f[i] = f[i - 1] / i as f64;
        i += 1;
    }
    f
};
/// Terms of `atanh(s)/s = Σ s^{2i}/(2i + 1)` (the first left out is below 2e-12 for `s ≤ 1/3`).
const ATANH_TERMS: usize = 11;

/// `e^{−a}` for `a ≥ 0` (0 beyond `a = 708`, where it would leave the normal range).
#[inline(always)]
pub fn exp_neg(a: f64) -> f64 {
    let a = a.min(A_MAX);
    // k = round(a / ln 2), as a float and as the integer in the mantissa's low bits.
    let kr = a * std::f64::consts::LOG2_E + ROUND;
    let k_bits = kr.to_bits().wrapping_sub(ROUND.to_bits());
    let k = kr - ROUND;
    let r = (k * LN2_HI - a) + k * LN2_LO;
    let mut p = INV_FACT[EXP_TERMS - 1];
    for &c in INV_FACT[..EXP_TERMS - 1].iter().rev() {
        p = p * r + c;
    }
    let scale = f64::from_bits(1023u64.wrapping_sub(k_bits) << 52);
    let e = p * scale;
    if a >= A_MAX {
        0.0
    } else {
        e
    }
}

/// `ln(1 + e^{−a})` for `a ≥ 0`.
#[inline(always)]
pub fn softplus_neg(a: f64) -> f64 {
    let t = exp_neg(a);
    let s = t / (2.0 + t);
    let w = s * s;
    let mut p = 1.0 / (2 * ATANH_TERMS - 1) as f64;
    for i in (0..ATANH_TERMS - 1).rev() {
        p = p * w + 1.0 / (2 * i + 1) as f64;
    }
    2.0 * s * p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> impl Iterator<Item = f64> {
        (0..20_000)
            .map(|i| i as f64 * 1e-3)
            .chain((0..2000).map(|i| 20.0 + i as f64 * 0.37))
            .chain([
                0.0,
                1e-300,
                1e-17,
                1e-9,
                0.5 * std::f64::consts::LN_2,
                707.9,
                708.0,
                1e4,
            ])
    }

    #[test]
    fn exp_neg_matches_libm() {
        for a in grid() {
            let (got, want) = (exp_neg(a), (-a).exp());
            let tol = 1e-11 * want + 1e-300;
            assert!((got - want).abs() <= tol, "e^-{a}: {got} vs {want}");
        }
        assert_eq!(exp_neg(0.0), 1.0);
        assert_eq!(exp_neg(1e4), 0.0);
    }

    #[test]
    fn softplus_matches_libm() {
        for a in grid() {
            let (got, want) = (softplus_neg(a), (-a).exp().ln_1p());
            let tol = 1e-11 * a.max(1.0);
            assert!((got - want).abs() <= tol, "ln(1 + e^-{a}): {got} vs {want}");
        }
        assert!((softplus_neg(0.0) - std::f64::consts::LN_2).abs() < 1e-11);
    }
}
