//! Fully connected layer `y = x·W + b`.

use serde::{Deserialize, Serialize};

use super::{rows_of, Real};

/// A dense layer with `W: [inputs × outputs]` (row-major) followed by `b: [outputs]` in the
/// flat parameter vector, starting at `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Linear {
    /// Input features.
    pub inputs: usize,
    /// Output features.
    pub outputs: usize,
    /// Offset of `W` in the parameter vector; `b` follows it.
    pub offset: usize,
}

impl Linear {
    /// A layer whose parameters start at `offset`.
    pub fn new(inputs: usize, outputs: usize, offset: usize) -> Self {
        Self {
            inputs,
            outputs,
            offset,
        }
    }

    /// Number of parameters (`inputs · outputs + outputs`).
    pub fn len(&self) -> usize {
        self.inputs * self.outputs + self.outputs
    }

    /// Whether the layer has no parameters (never, for a real layer).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The weight block of `params`.
    pub fn weights<'a, T>(&self, params: &'a [T]) -> &'a [T] {
        &params[self.offset..self.offset + self.inputs * self.outputs]
    }

    /// The weight block of `params`, mutable.
    pub fn weights_mut<'a, T>(&self, params: &'a mut [T]) -> &'a mut [T] {
        &mut params[self.offset..self.offset + self.inputs * self.outputs]
    }

    fn bias_range(&self) -> std::ops::Range<usize> {
        let start = self.offset + self.inputs * self.outputs;
        start..start + self.outputs
    }

    /// `y[rows × outputs] = x[rows × inputs] · W + b`.
    pub fn forward<T: Real>(&self, params: &[T], x: &[T], rows: usize, y: &mut [T]) {
        let (i, o) = (self.inputs, self.outputs);
        let b = &params[self.bias_range()];
        let y = &mut y[..rows * o];
        for row in y.chunks_exact_mut(o) {
            row.copy_from_slice(b);
        }
        T::gemm(
            rows,
            i,
            o,
            T::ONE,
            (&x[..rows * i], i, 1),
            (self.weights(params), o, 1),
            T::ONE,
            (y, o, 1),
        );
    }

    /// Accumulates `∂W += xᵀ·dy`, `∂b += Σ_rows dy` into `grads` and, if asked, writes
    /// `dx = dy · Wᵀ`.
    pub fn backward<T: Real>(
        &self,
        params: &[T],
        x: &[T],
        dy: &[T],
        rows: usize,
        dx: Option<&mut [T]>,
        grads: &mut [T],
    ) {
        let (i, o) = (self.inputs, self.outputs);
        let dy = &dy[..rows * o];
        T::gemm(
            i,
            rows,
            o,
            T::ONE,
            (&x[..rows * i], 1, i),
            (dy, o, 1),
            T::ONE,
            (self.weights_mut(grads), o, 1),
        );
        let gb = &mut grads[self.bias_range()];
        for row in rows_of(dy, o) {
            for (g, &d) in gb.iter_mut().zip(row) {
                *g += d;
            }
        }
        if let Some(dx) = dx {
            T::gemm(
                rows,
                o,
                i,
                T::ONE,
                (dy, o, 1),
                (self.weights(params), 1, o),
                T::ZERO,
                (&mut dx[..rows * i], i, 1),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::check;
    use super::*;

    #[test]
    fn forward_matches_hand_computation() {
        // W = [[1, 2], [3, 4], [5, 6]], b = [0.5, -1]; x = [1, 0, -1].
        let l = Linear::new(3, 2, 1);
        let p = [9.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 0.5, -1.0];
        let mut y = [0.0; 2];
        l.forward(&p, &[1.0, 0.0, -1.0], 1, &mut y);
        assert_eq!(y, [1.0 - 5.0 + 0.5, 2.0 - 6.0 - 1.0]);
        assert_eq!(l.len(), 8);
    }

    #[test]
    fn backward_matches_finite_differences() {
        let (rows, i, o) = (5, 4, 3);
        let l = Linear::new(i, o, 2);
        let p = check::random(2 + l.len(), 1);
        let x = check::random(rows * i, 2);
        let c = check::random(rows * o, 3);
        let loss = |p: &[f64], x: &[f64]| {
            let mut y = vec![0.0; rows * o];
            l.forward(p, x, rows, &mut y);
            check::dot(&c, &y)
        };
        let mut grads = vec![0.0; p.len()];
        let mut dx = vec![0.0; rows * i];
        l.backward(&p, &x, &c, rows, Some(&mut dx), &mut grads);
        check::grad(|q| loss(q, &x), &p, &grads, 1e-7);
        check::grad(|q| loss(&p, q), &x, &dx, 1e-7);
        // Gradients accumulate.
        l.backward(&p, &x, &c, rows, None, &mut grads);
        let mut once = vec![0.0; p.len()];
        l.backward(&p, &x, &c, rows, None, &mut once);
        for (a, b) in grads.iter().zip(&once) {
            assert!((a - 2.0 * b).abs() < 1e-12);
        }
    }
}
