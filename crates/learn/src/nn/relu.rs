//! Branchless ReLU, applied in place.

use super::Real;

/// `y = max(x, 0)`; the backward pass masks `dy` with `y > 0`.
///
/// Both passes are a select per element (`maxps` / a blend), no branches, so they vectorise.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Relu;

impl Relu {
    /// `x ← max(x, 0)`.
    #[inline]
    pub fn forward<T: Real>(x: &mut [T]) {
        for v in x.iter_mut() {
            *v = v.max(T::ZERO);
        }
    }

    /// `dy ← dy ⊙ [y > 0]`, given the forward output `y`.
    #[inline]
    pub fn backward<T: Real>(y: &[T], dy: &mut [T]) {
        for (d, &v) in dy.iter_mut().zip(y) {
            *d = if v > T::ZERO { *d } else { T::ZERO };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::check;
    use super::*;

    #[test]
    fn forward_and_backward() {
        let mut x = [-1.0f32, 0.0, 2.5, -0.0];
        Relu::forward(&mut x);
        assert_eq!(x, [0.0, 0.0, 2.5, 0.0]);
        let mut dy = [1.0f32, 1.0, 3.0, 1.0];
        Relu::backward(&x, &mut dy);
        assert_eq!(dy, [0.0, 0.0, 3.0, 0.0]);
    }

    #[test]
    fn backward_matches_finite_differences() {
        // Values away from the kink at 0.
        let x: Vec<f64> = check::random(20, 7)
            .iter()
            .map(|v| if v.abs() < 0.05 { v + 0.1 } else { *v })
            .collect();
        let c = check::random(20, 8);
        let loss = |x: &[f64]| {
            let mut y = x.to_vec();
            Relu::forward(&mut y);
            check::dot(&c, &y)
        };
        let mut y = x.clone();
        Relu::forward(&mut y);
        let mut dx = c.clone();
        Relu::backward(&y, &mut dx);
        check::grad(loss, &x, &dx, 1e-8);
    }
}
