//! Generalised advantage estimation (Schulman et al. 2016).

/// Writes GAE(γ, λ) advantages and returns `Â_t + V_t` for one episode of `rewards` with value
/// estimates `values` (raw scale).
///
/// The episode ends by truncation at T, treated as terminal (no bootstrap after the last slot),
/// as the reference implementation does; the critic sees the slot fraction t/T, so the values
/// can learn the horizon.
///
/// # Panics
/// If the slices differ in length.
pub fn gae(
    rewards: &[f64],
    values: &[f64],
    gamma: f64,
    lambda: f64,
    advantages: &mut [f64],
    returns: &mut [f64],
) {
    let n = rewards.len();
    assert!(values.len() == n && advantages.len() == n && returns.len() == n);
    let mut next_value = 0.0;
    let mut acc = 0.0;
    for t in (0..n).rev() {
        let delta = rewards[t] + gamma * next_value - values[t];
        acc = delta + gamma * lambda * acc;
        advantages[t] = acc;
        returns[t] = acc + values[t];
        next_value = values[t];
    }
}

/// Mean and standard deviation (population, as numpy's `nanstd`) of `xs`, summed in order.
pub fn mean_std(xs: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let (mut n, mut s) = (0usize, 0.0);
    for x in xs.clone() {
        n += 1;
        s += x;
    }
    if n == 0 {
        return (0.0, 0.0);
    }
    let mean = s / n as f64;
    let var = xs.map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
    (mean, var.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_three_slot_episode() {
        // γ = 0.9, λ = 0.8, r = [1, 0, 2], V = [0.5, 0.2, 1.0], terminal after slot 3:
        // δ₂ = 2 − 1 = 1,            Â₂ = 1
        // δ₁ = 0 + 0.9·1 − 0.2 = 0.7, Â₁ = 0.7 + 0.72·1 = 1.42
        // δ₀ = 1 + 0.9·0.2 − 0.5 = 0.68, Â₀ = 0.68 + 0.72·1.42 = 1.7024
        let (mut a, mut r) = ([0.0; 3], [0.0; 3]);
        gae(&[1.0, 0.0, 2.0], &[0.5, 0.2, 1.0], 0.9, 0.8, &mut a, &mut r);
        for (x, y) in a.iter().zip([1.7024, 1.42, 1.0]) {
            assert!((x - y).abs() < 1e-12, "{a:?}");
        }
        for (x, y) in r.iter().zip([2.2024, 1.62, 2.0]) {
            assert!((x - y).abs() < 1e-12, "{r:?}");
        }
    }

    #[test]
    fn lambda_one_gives_discounted_returns_and_zero_gives_td() {
        let rew = [1.0, 2.0, 3.0];
        let val = [0.3, -0.1, 0.7];
        let (mut a, mut r) = ([0.0; 3], [0.0; 3]);
        gae(&rew, &val, 0.5, 1.0, &mut a, &mut r);
        assert!((r[0] - (1.0 + 0.5 * 2.0 + 0.25 * 3.0)).abs() < 1e-12);
        gae(&rew, &val, 0.5, 0.0, &mut a, &mut r);
        assert!((a[0] - (1.0 + 0.5 * -0.1 - 0.3)).abs() < 1e-12);
        assert!((a[2] - (3.0 - 0.7)).abs() < 1e-12);
    }

    #[test]
    fn mean_std_is_population() {
        let (m, s) = mean_std([1.0, 3.0].into_iter());
        assert_eq!((m, s), (2.0, 1.0));
    }
}
