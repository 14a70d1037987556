//! The float functions the learner needs that `core` lacks on stable Rust (they come with `std`):
//! std's methods with the `std` feature; without it (the npm package), the `libm` crate, whose
//! results are the ones std gives on wasm32 too (std computes them there with compiler-builtins'
//! copy of libm). Square roots and truncation are exact operations, the same bits everywhere: on
//! wasm32 with SIMD128 they are its `sqrt`/`trunc` instructions (the scalar ones are unstable in
//! `core::arch`), since libm's software square root is slower and larger. Elsewhere without `std`,
//! libm's `exp`, `ln` and `cos` may differ from the platform's in the last bit.

pub(crate) use imp::{cos, exp, fract, ln, sqrt, sqrt_f32};

/// x², as std's `x.powi(2)` computes it: one rounded multiplication.
#[inline]
pub(crate) fn square(x: f64) -> f64 {
    x * x
}

#[cfg(feature = "std")]
mod imp {
    /// √x, correctly rounded.
    #[inline]
    pub(crate) fn sqrt_f32(x: f32) -> f32 {
        x.sqrt()
    }

    /// √x, correctly rounded.
    #[inline]
    pub(crate) fn sqrt(x: f64) -> f64 {
        x.sqrt()
    }

    /// The fractional part of x, `x - trunc(x)` (NaN for infinities).
    #[inline]
    pub(crate) fn fract(x: f64) -> f64 {
        x.fract()
    }

    /// eˣ.
    #[inline]
    pub(crate) fn exp(x: f64) -> f64 {
        x.exp()
    }

    /// The natural logarithm of x.
    #[inline]
    pub(crate) fn ln(x: f64) -> f64 {
        x.ln()
    }

    /// The cosine of x (radians).
    #[inline]
    pub(crate) fn cos(x: f64) -> f64 {
        x.cos()
    }
}

#[cfg(not(feature = "std"))]
mod imp {
    pub(crate) use libm::{cos, exp, log as ln};

    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    use core::arch::wasm32::{f32x4_extract_lane, f32x4_splat, f32x4_sqrt};
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    use core::arch::wasm32::{f64x2_extract_lane, f64x2_splat, f64x2_sqrt, f64x2_trunc};

    /// √x, correctly rounded.
    #[inline]
    pub(crate) fn sqrt_f32(x: f32) -> f32 {
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        return f32x4_extract_lane::<0>(f32x4_sqrt(f32x4_splat(x)));
        #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
        return libm::sqrtf(x);
    }

    /// √x, correctly rounded.
    #[inline]
    pub(crate) fn sqrt(x: f64) -> f64 {
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        return f64x2_extract_lane::<0>(f64x2_sqrt(f64x2_splat(x)));
        #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
        return libm::sqrt(x);
    }

    /// The fractional part of x, `x - trunc(x)` as std defines it (NaN for infinities).
    #[inline]
    pub(crate) fn fract(x: f64) -> f64 {
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        return x - f64x2_extract_lane::<0>(f64x2_trunc(f64x2_splat(x)));
        #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
        return x - libm::trunc(x);
    }
}
