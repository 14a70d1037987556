//! The vector loops of the hot paths, written with `wide`'s portable 8-lane vectors: SSE or AVX
//! on x86, NEON on ARM, simd128 on WebAssembly (when built with `+simd128`), scalar elsewhere.
//! Left to itself the compiler vectorises these loops across the wrong axis (pairing the two
//! accumulators instead of the lanes), which made them several times slower.
//!
//! Callers pass slices of equal length; each loop runs over the shortest of them.

use wide::f32x8;

use crate::numeric::math;

const LANES: usize = 8;

#[inline(always)]
fn lanes(chunk: &[f32; LANES]) -> f32x8 {
    f32x8::from(*chunk)
}

/// `[x·u₀, x·u₁, x·x]` in one pass over `x`.
#[inline]
pub(crate) fn dot2_and_norm_sq(x: &[f32], u0: &[f32], u1: &[f32]) -> [f32; 3] {
    let (xc, xr) = x.as_chunks::<LANES>();
    let (ac, ar) = u0.as_chunks::<LANES>();
    let (bc, br) = u1.as_chunks::<LANES>();
    let mut sum = [f32x8::ZERO; 3];
    for ((x, a), b) in xc.iter().zip(ac).zip(bc) {
        let x = lanes(x);
        sum[0] = x.mul_add(lanes(a), sum[0]);
        sum[1] = x.mul_add(lanes(b), sum[1]);
        sum[2] = x.mul_add(x, sum[2]);
    }
    let mut total = sum.map(f32x8::reduce_add);
    for ((&x, &a), &b) in xr.iter().zip(ar).zip(br) {
        total[0] += x * a;
        total[1] += x * b;
        total[2] += x * x;
    }
    total
}

/// `[x·u₀, x·u₁]` in one pass over `x`.
#[inline]
pub(crate) fn dot2(x: &[f32], u0: &[f32], u1: &[f32]) -> [f32; 2] {
    let (xc, xr) = x.as_chunks::<LANES>();
    let (ac, ar) = u0.as_chunks::<LANES>();
    let (bc, br) = u1.as_chunks::<LANES>();
    let mut sum = [f32x8::ZERO; 2];
    for ((x, a), b) in xc.iter().zip(ac).zip(bc) {
        let x = lanes(x);
        sum[0] = x.mul_add(lanes(a), sum[0]);
        sum[1] = x.mul_add(lanes(b), sum[1]);
    }
    let mut total = sum.map(f32x8::reduce_add);
    for ((&x, &a), &b) in xr.iter().zip(ar).zip(br) {
        total[0] += x * a;
        total[1] += x * b;
    }
    total
}

/// `Σ vᵢ²`. Overflows to infinity for huge finite values and is NaN when `v` holds a NaN;
/// see [`norm`] for the robust version.
#[inline]
pub(crate) fn sum_squares(v: &[f32]) -> f32 {
    let (vc, vr) = v.as_chunks::<LANES>();
    let mut sum = f32x8::ZERO;
    for v in vc {
        let v = lanes(v);
        sum = v.mul_add(v, sum);
    }
    sum.reduce_add() + vr.iter().map(|x| x * x).sum::<f32>()
}

/// Whether every value is finite, without a branch per value: `v·0` is 0 for finite `v` and
/// NaN for NaN or ±∞, and a NaN survives the sum. Two sums, over alternate chunks, so that each
/// addition does not wait for the one before (a latency chain on every `record`).
#[inline]
pub(crate) fn all_finite(v: &[f32]) -> bool {
    let (vc, vr) = v.as_chunks::<LANES>();
    let (pairs, odd) = vc.as_chunks::<2>();
    let mut sum = [f32x8::ZERO; 2];
    for [a, b] in pairs {
        sum[0] += lanes(a) * f32x8::ZERO;
        sum[1] += lanes(b) * f32x8::ZERO;
    }
    for a in odd {
        sum[0] += lanes(a) * f32x8::ZERO;
    }
    ((sum[0] + sum[1]).reduce_add() + vr.iter().map(|x| x * 0.0).sum::<f32>()) == 0.0
}

/// The Euclidean norm of `v`, or `None` when `v` holds NaN or an infinity. Finite vectors whose
/// squares overflow `f32` take a slower path in `f64` instead of being rejected.
#[inline]
pub(crate) fn norm(v: &[f32]) -> Option<f32> {
    let fast = sum_squares(v);
    if fast.is_finite() {
        return Some(math::sqrt_f32(fast));
    }
    if all_finite(v) {
        Some(math::sqrt(v.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>()) as f32)
    } else {
        None
    }
}

/// `out = x + c₀·u₀ + c₁·u₁` (the output of a rank-2 update), and `kept = x` in the same pass
/// (the reference input an adapter remembers).
#[inline]
pub(crate) fn add_rank2(out: &mut [f32], kept: &mut [f32], x: &[f32], c: [f32; 2], u: [&[f32]; 2]) {
    let (oc, or) = out.as_chunks_mut::<LANES>();
    let (kc, kr) = kept.as_chunks_mut::<LANES>();
    let (xc, xr) = x.as_chunks::<LANES>();
    let (ac, ar) = u[0].as_chunks::<LANES>();
    let (bc, br) = u[1].as_chunks::<LANES>();
    let (c0, c1) = (f32x8::splat(c[0]), f32x8::splat(c[1]));
    for ((((o, k), x), a), b) in oc.iter_mut().zip(kc).zip(xc).zip(ac).zip(bc) {
        *k = *x;
        *o = c1.mul_add(lanes(b), c0.mul_add(lanes(a), lanes(x))).to_array();
    }
    for ((((o, k), &x), &a), &b) in or.iter_mut().zip(kr).zip(xr).zip(ar).zip(br) {
        *k = x;
        *o = x + c[0] * a + c[1] * b;
    }
}

/// `out = x + Σₖ cₖ·uₖ` for four rank-one terms (an operator's and its category's adapter
/// blended in one pass), and `kept = x`.
#[inline]
pub(crate) fn add_rank4(out: &mut [f32], kept: &mut [f32], x: &[f32], c: [f32; 4], u: [&[f32]; 4]) {
    let (oc, or) = out.as_chunks_mut::<LANES>();
    let (kc, kr) = kept.as_chunks_mut::<LANES>();
    let (xc, xr) = x.as_chunks::<LANES>();
    let [(u0, r0), (u1, r1), (u2, r2), (u3, r3)] = u.map(|row| row.as_chunks::<LANES>());
    let cs = c.map(f32x8::splat);
    for ((((((o, k), x), a), b), d), e) in oc.iter_mut().zip(kc).zip(xc).zip(u0).zip(u1).zip(u2).zip(u3) {
        *k = *x;
        let v = cs[1].mul_add(lanes(b), cs[0].mul_add(lanes(a), lanes(x)));
        *o = cs[3].mul_add(lanes(e), cs[2].mul_add(lanes(d), v)).to_array();
    }
    for (j, ((o, k), &x)) in or.iter_mut().zip(kr).zip(xr).enumerate() {
        *k = x;
        *o = x + c[0] * r0[j] + c[1] * r1[j] + c[2] * r2[j] + c[3] * r3[j];
    }
}

/// `uₖ += cₖ·v` for both rows, returning the new `[u₀·v, u₁·v]` from the same pass.
#[inline]
pub(crate) fn axpy2_then_dot2(u0: &mut [f32], u1: &mut [f32], c: [f32; 2], v: &[f32]) -> [f32; 2] {
    let (vc, vr) = v.as_chunks::<LANES>();
    let (ac, ar) = u0.as_chunks_mut::<LANES>();
    let (bc, br) = u1.as_chunks_mut::<LANES>();
    let (c0, c1) = (f32x8::splat(c[0]), f32x8::splat(c[1]));
    let mut sum = [f32x8::ZERO; 2];
    for ((v, a), b) in vc.iter().zip(ac).zip(bc) {
        let v = lanes(v);
        let new_a = c0.mul_add(v, lanes(a));
        let new_b = c1.mul_add(v, lanes(b));
        *a = new_a.to_array();
        *b = new_b.to_array();
        sum[0] = new_a.mul_add(v, sum[0]);
        sum[1] = new_b.mul_add(v, sum[1]);
    }
    let mut total = sum.map(f32x8::reduce_add);
    for ((&v, a), b) in vr.iter().zip(ar).zip(br) {
        *a += c[0] * v;
        *b += c[1] * v;
        total[0] += *a * v;
        total[1] += *b * v;
    }
    total
}

/// `uₖ += cₖ·v` for both rows.
#[inline]
pub(crate) fn axpy2(u0: &mut [f32], u1: &mut [f32], c: [f32; 2], v: &[f32]) {
    let (vc, vr) = v.as_chunks::<LANES>();
    let (ac, ar) = u0.as_chunks_mut::<LANES>();
    let (bc, br) = u1.as_chunks_mut::<LANES>();
    let (c0, c1) = (f32x8::splat(c[0]), f32x8::splat(c[1]));
    for ((v, a), b) in vc.iter().zip(ac).zip(bc) {
        let v = lanes(v);
        *a = c0.mul_add(v, lanes(a)).to_array();
        *b = c1.mul_add(v, lanes(b)).to_array();
    }
    for ((&v, a), b) in vr.iter().zip(ar).zip(br) {
        *a += c[0] * v;
        *b += c[1] * v;
    }
}

/// The Gram matrix of two rows, `[u₀·u₀, u₀·u₁, u₁·u₁]`. Out of line: only `delta_norm`, a
/// statistic, uses it, and its two inlined copies were over a kilobyte of the npm package.
#[inline(never)]
pub(crate) fn gram2(u0: &[f32], u1: &[f32]) -> [f32; 3] {
    let [sq0, cross] = dot2(u0, u0, u1);
    [sq0, cross, sum_squares(u1)]
}

/// The increment of SplitMix64's state: 2⁶⁴ divided by the golden ratio.
pub(crate) const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's output function (Steele, Lea & Flood, 2014): a bijection of 64-bit words that
/// mixes every input bit into every output bit, fixed on every platform and version.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
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
            assert!((f64::from(sum_squares(&u)) - reference_dot(&u, &u)).abs() < 1e-4);

            let (mut out, mut kept) = (vec![0.0; n], vec![0.0; n]);
            add_rank2(&mut out, &mut kept, &x, [2.0, -1.0], [&u, &w]);
            for j in 0..n {
                assert!((out[j] - (x[j] + 2.0 * u[j] - w[j])).abs() < 1e-5);
            }
            assert_eq!(kept, x);
            kept.fill(0.0);
            add_rank4(&mut out, &mut kept, &x, [2.0, -1.0, 0.5, 3.0], [&u, &w, &x, &u]);
            for j in 0..n {
                assert!((out[j] - (x[j] + 2.0 * u[j] - w[j] + 0.5 * x[j] + 3.0 * u[j])).abs() < 1e-5);
            }
            assert_eq!(kept, x);

            let (mut a, mut b) = (u.clone(), w.clone());
            let dots = axpy2_then_dot2(&mut a, &mut b, [0.5, -2.0], &x);
            for j in 0..n {
                assert!((a[j] - (u[j] + 0.5 * x[j])).abs() < 1e-6);
                assert!((b[j] - (w[j] - 2.0 * x[j])).abs() < 1e-6);
            }
            assert!((f64::from(dots[0]) - reference_dot(&a, &x)).abs() < 1e-4);
            assert!((f64::from(dots[1]) - reference_dot(&b, &x)).abs() < 1e-4);
            let (mut a2, mut b2) = (u.clone(), w.clone());
            axpy2(&mut a2, &mut b2, [0.5, -2.0], &x);
            assert_eq!((a2, b2), (a, b));

            let g = gram2(&u, &w);
            assert!((f64::from(g[0]) - reference_dot(&u, &u)).abs() < 1e-4);
            assert!((f64::from(g[1]) - reference_dot(&u, &w)).abs() < 1e-4);
            assert!((f64::from(g[2]) - reference_dot(&w, &w)).abs() < 1e-4);

            assert!(all_finite(&x));
            for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
                let mut y = x.clone();
                y[n - 1] = bad;
                assert!(!all_finite(&y));
                y[n - 1] = 1.0;
                y[0] = bad;
                assert!(!all_finite(&y));
            }
        }
    }

    #[test]
    fn all_finite_finds_a_non_finite_value_wherever_it_is() {
        // Lengths through two pairs of chunks, an odd chunk and a remainder; the largest finite
        // values are finite (their products with 0 are 0, and sums of 0 do not overflow).
        for n in 0..=41 {
            let x = vec![f32::MAX; n];
            assert!(all_finite(&x));
            for at in 0..n {
                for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
                    let mut y = x.clone();
                    y[at] = bad;
                    assert!(!all_finite(&y), "{bad} at {at} of {n}");
                }
            }
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
