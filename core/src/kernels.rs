//! The vector loops of the hot paths. Each loop keeps `LANES` independent accumulators so that
//! the compiler can turn it into SIMD code (SSE/AVX on x86, simd128 on WebAssembly) without
//! `unsafe` and without reassociating floating-point sums behind our back.
//!
//! Callers pass slices of equal length; the loops index only within the shortest of them.

const LANES: usize = 8;

/// `[x·u₀, x·u₁, x·x]` in one pass over `x`.
#[inline]
pub(crate) fn dot2_and_norm_sq(x: &[f32], u0: &[f32], u1: &[f32]) -> [f32; 3] {
    let n = x.len();
    let (u0, u1) = (&u0[..n], &u1[..n]);
    let (mut s0, mut s1, mut s2) = ([0f32; LANES], [0f32; LANES], [0f32; LANES]);
    let chunks = n / LANES * LANES;
    for ((xc, ac), bc) in x[..chunks]
        .chunks_exact(LANES)
        .zip(u0[..chunks].chunks_exact(LANES))
        .zip(u1[..chunks].chunks_exact(LANES))
    {
        for l in 0..LANES {
            s0[l] += xc[l] * ac[l];
            s1[l] += xc[l] * bc[l];
            s2[l] += xc[l] * xc[l];
        }
    }
    let mut total = [s0.iter().sum::<f32>(), s1.iter().sum::<f32>(), s2.iter().sum::<f32>()];
    for i in chunks..n {
        total[0] += x[i] * u0[i];
        total[1] += x[i] * u1[i];
        total[2] += x[i] * x[i];
    }
    total
}

/// `[x·u₀, x·u₁]` in one pass over `x`.
#[inline]
pub(crate) fn dot2(x: &[f32], u0: &[f32], u1: &[f32]) -> [f32; 2] {
    let n = x.len();
    let (u0, u1) = (&u0[..n], &u1[..n]);
    let (mut s0, mut s1) = ([0f32; LANES], [0f32; LANES]);
    let chunks = n / LANES * LANES;
    for ((xc, ac), bc) in x[..chunks]
        .chunks_exact(LANES)
        .zip(u0[..chunks].chunks_exact(LANES))
        .zip(u1[..chunks].chunks_exact(LANES))
    {
        for l in 0..LANES {
            s0[l] += xc[l] * ac[l];
            s1[l] += xc[l] * bc[l];
        }
    }
    let mut total = [s0.iter().sum::<f32>(), s1.iter().sum::<f32>()];
    for i in chunks..n {
        total[0] += x[i] * u0[i];
        total[1] += x[i] * u1[i];
    }
    total
}

/// `Σ vᵢ²`. Overflows to infinity for huge finite values and is NaN when `v` holds a NaN;
/// see [`norm`] for the robust version.
#[inline]
pub(crate) fn sum_squares(v: &[f32]) -> f32 {
    let mut s = [0f32; LANES];
    let chunks = v.len() / LANES * LANES;
    for c in v[..chunks].chunks_exact(LANES) {
        for l in 0..LANES {
            s[l] += c[l] * c[l];
        }
    }
    s.iter().sum::<f32>() + v[chunks..].iter().map(|x| x * x).sum::<f32>()
}

/// The Euclidean norm of `v`, or `None` when `v` holds NaN or an infinity. Finite vectors whose
/// squares overflow `f32` take a slower path in `f64` instead of being rejected.
#[inline]
pub(crate) fn norm(v: &[f32]) -> Option<f32> {
    let fast = sum_squares(v);
    if fast.is_finite() {
        return Some(fast.sqrt());
    }
    if v.iter().all(|x| x.is_finite()) {
        Some(v.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>().sqrt() as f32)
    } else {
        None
    }
}

/// `out = x + Σₖ coeffₖ·rowₖ`: the output of a low-rank update for `N` rank-one terms.
#[inline]
pub(crate) fn add_rank_terms<const N: usize>(out: &mut [f32], x: &[f32], coeff: [f32; N], rows: [&[f32]; N]) {
    let n = out.len();
    let x = &x[..n];
    let rows = rows.map(|row| &row[..n]);
    for j in 0..n {
        let mut value = x[j];
        for k in 0..N {
            value += coeff[k] * rows[k][j];
        }
        out[j] = value;
    }
}

/// `uₖ += cₖ·v` for both rows, returning the new `[u₀·v, u₁·v]` from the same pass.
#[inline]
pub(crate) fn axpy2_then_dot2(u0: &mut [f32], u1: &mut [f32], c: [f32; 2], v: &[f32]) -> [f32; 2] {
    let n = v.len();
    let (u0, u1) = (&mut u0[..n], &mut u1[..n]);
    let (mut s0, mut s1) = ([0f32; LANES], [0f32; LANES]);
    let chunks = n / LANES * LANES;
    for ((vc, ac), bc) in v[..chunks]
        .chunks_exact(LANES)
        .zip(u0[..chunks].chunks_exact_mut(LANES))
        .zip(u1[..chunks].chunks_exact_mut(LANES))
    {
        for l in 0..LANES {
            ac[l] += c[0] * vc[l];
            bc[l] += c[1] * vc[l];
            s0[l] += ac[l] * vc[l];
            s1[l] += bc[l] * vc[l];
        }
    }
    let mut total = [s0.iter().sum::<f32>(), s1.iter().sum::<f32>()];
    for i in chunks..n {
        u0[i] += c[0] * v[i];
        u1[i] += c[1] * v[i];
        total[0] += u0[i] * v[i];
        total[1] += u1[i] * v[i];
    }
    total
}

/// `uₖ += cₖ·v` for both rows.
#[inline]
pub(crate) fn axpy2(u0: &mut [f32], u1: &mut [f32], c: [f32; 2], v: &[f32]) {
    let n = v.len();
    let (u0, u1) = (&mut u0[..n], &mut u1[..n]);
    for j in 0..n {
        u0[j] += c[0] * v[j];
        u1[j] += c[1] * v[j];
    }
}

/// The Gram matrix of two rows, `[u₀·u₀, u₀·u₁, u₁·u₁]`.
#[inline]
pub(crate) fn gram2(u0: &[f32], u1: &[f32]) -> [f32; 3] {
    let [sq0, cross] = dot2(u0, u0, u1);
    [sq0, cross, sum_squares(u1)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference_dot(a: &[f32], b: &[f32]) -> f64 {
        a.iter().zip(b).map(|(&x, &y)| f64::from(x) * f64::from(y)).sum()
    }

    #[test]
    fn kernels_agree_with_plain_loops_for_every_remainder() {
        for n in 1..=40 {
            let x: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
            let u: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
            let w: Vec<f32> = (0..n).map(|i| 0.5 - i as f32 * 0.01).collect();
            let [d0, d1, nn] = dot2_and_norm_sq(&x, &u, &w);
            assert!((f64::from(d0) - reference_dot(&x, &u)).abs() < 1e-4);
            assert!((f64::from(d1) - reference_dot(&x, &w)).abs() < 1e-4);
            assert!((f64::from(nn) - reference_dot(&x, &x)).abs() < 1e-4);
            assert_eq!(dot2(&x, &u, &w), [d0, d1]);

            let mut out = vec![0.0; n];
            add_rank_terms(&mut out, &x, [2.0, -1.0], [&u, &w]);
            for j in 0..n {
                assert!((out[j] - (x[j] + 2.0 * u[j] - w[j])).abs() < 1e-6);
            }

            let (mut a, mut b) = (u.clone(), w.clone());
            let dots = axpy2_then_dot2(&mut a, &mut b, [0.5, -2.0], &x);
            for j in 0..n {
                assert!((a[j] - (u[j] + 0.5 * x[j])).abs() < 1e-6);
                assert!((b[j] - (w[j] - 2.0 * x[j])).abs() < 1e-6);
            }
            assert!((f64::from(dots[0]) - reference_dot(&a, &x)).abs() < 1e-4);
            assert!((f64::from(dots[1]) - reference_dot(&b, &x)).abs() < 1e-4);

            let g = gram2(&u, &w);
            assert!((f64::from(g[0]) - reference_dot(&u, &u)).abs() < 1e-4);
            assert!((f64::from(g[1]) - reference_dot(&u, &w)).abs() < 1e-4);
            assert!((f64::from(g[2]) - reference_dot(&w, &w)).abs() < 1e-4);
        }
    }

    #[test]
    fn norm_survives_overflowing_squares_and_rejects_non_finite_values() {
        let huge = [3e30f32; 4];
        assert!((norm(&huge).unwrap() - 6e30).abs() / 6e30 < 1e-6);
        assert_eq!(norm(&[3.0, 4.0]), Some(5.0));
        assert_eq!(norm(&[1.0, f32::NAN]), None);
        assert_eq!(norm(&[f32::INFINITY, 1.0]), None);
    }
}
