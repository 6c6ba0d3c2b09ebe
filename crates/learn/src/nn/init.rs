//! Orthogonal initialisation (Saxe et al.; PyTorch's `nn.init.orthogonal_`).

use rand::Rng;
use rand_distr::StandardNormal;

/// A `rows × cols` row-major matrix with orthonormal rows (if rows ≤ cols) or orthonormal
/// columns (otherwise), times `gain`: a Gaussian matrix orthonormalised by modified
/// Gram–Schmidt in `f64`, with the sign convention of a QR whose R has a positive diagonal.
pub fn orthogonal<R: Rng + ?Sized>(rows: usize, cols: usize, gain: f64, rng: &mut R) -> Vec<f64> {
    if rows < cols {
        let t = orthogonal(cols, rows, gain, rng);
        let mut out = vec![0.0; rows * cols];
        for r in 0..rows {
            for c in 0..cols {
                out[r * cols + c] = t[c * rows + r];
            }
        }
        return out;
    }
    // rows ≥ cols: orthonormalise the columns of a Gaussian matrix, kept column-major.
    let mut q: Vec<Vec<f64>> = (0..cols)
        .map(|_| (0..rows).map(|_| rng.sample(StandardNormal)).collect())
        .collect();
    for j in 0..cols {
        let (done, rest) = q.split_at_mut(j);
        let v = &mut rest[0];
        for u in done.iter() {
            let d: f64 = u.iter().zip(v.iter()).map(|(a, b)| a * b).sum();
            for (x, a) in v.iter_mut().zip(u) {
                *x -= d * a;
            }
        }
        let n = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        for x in v.iter_mut() {
            *x /= n;
        }
    }
    let mut out = vec![0.0; rows * cols];
    for (c, col) in q.iter().enumerate() {
        for (r, &x) in col.iter().enumerate() {
            out[r * cols + c] = gain * x;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn gram(m: &[f64], rows: usize, cols: usize, by_rows: bool) -> Vec<f64> {
        let n = if by_rows { rows } else { cols };
        let at = |i: usize, k: usize| {
            if by_rows {
                m[i * cols + k]
            } else {
                m[k * cols + i]
            }
        };
        let len = if by_rows { cols } else { rows };
        let mut g = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                g[i * n + j] = (0..len).map(|k| at(i, k) * at(j, k)).sum();
            }
        }
        g
    }

    #[test]
    fn rows_or_columns_are_orthonormal_times_gain() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for (r, c, by_rows) in [
            (13, 64, true),
            (64, 64, true),
            (64, 1, false),
            (64, 2, false),
        ] {
            let gain = 2f64.sqrt();
            let m = orthogonal(r, c, gain, &mut rng);
            let n = r.min(c);
            let g = gram(&m, r, c, by_rows);
            for i in 0..n {
                for j in 0..n {
                    let want = if i == j { 2.0 } else { 0.0 };
                    assert!((g[i * n + j] - want).abs() < 1e-10, "{r}×{c} ({i},{j})");
                }
            }
        }
    }
}
