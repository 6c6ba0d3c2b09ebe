//! Global gradient-norm clipping (PyTorch's `clip_grad_norm_`).

use super::Real;

/// The Euclidean norm of `grads`, summed in `f64` in index order (deterministic).
pub fn grad_norm<T: Real>(grads: &[T]) -> f64 {
    grads
        .iter()
        .map(|g| {
            let g = g.to_f64();
            g * g
        })
        .sum::<f64>()
        .sqrt()
}

/// Scales `grads` so that their global norm is at most `max_norm` and returns the norm before
/// clipping. Like PyTorch, the scale is `max_norm / (norm + 1e-6)` and is applied only when it
/// is below 1.
pub fn clip_grad_norm<T: Real>(grads: &mut [T], max_norm: f64) -> f64 {
    let norm = grad_norm(grads);
    let scale = max_norm / (norm + 1e-6);
    if scale < 1.0 {
        let s = T::from_f64(scale);
        for g in grads.iter_mut() {
            *g *= s;
        }
    }
    norm
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clips_only_above_the_threshold() {
        let mut g = [3.0f64, 4.0];
        assert_eq!(clip_grad_norm(&mut g, 10.0), 5.0);
        assert_eq!(g, [3.0, 4.0]);
        assert_eq!(clip_grad_norm(&mut g, 1.0), 5.0);
        assert!((grad_norm(&g) - 1.0).abs() < 1e-6);
        assert!((g[0] / g[1] - 0.75).abs() < 1e-12);
    }
}
