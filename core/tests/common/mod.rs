//! Straightforward reference computations the optimised learner is checked against.
#![allow(dead_code)] // each test file uses a different part

use microlora_core::Adapter;
use proptest::prelude::*;

/// `x + weight·α·(x·A)·B`, computed naively in f64.
pub fn naive_delta(adapter: &Adapter, x: &[f32], weight: f64) -> Vec<f64> {
    let [a0, a1] = adapter.a_columns();
    let [b0, b1] = adapter.b_rows();
    let h0: f64 = x.iter().zip(a0).map(|(&x, &a)| f64::from(x) * f64::from(a)).sum();
    let h1: f64 = x.iter().zip(a1).map(|(&x, &a)| f64::from(x) * f64::from(a)).sum();
    let alpha = f64::from(adapter.alpha()) * weight;
    (0..x.len()).map(|j| alpha * (h0 * f64::from(b0[j]) + h1 * f64::from(b1[j]))).collect()
}

/// The full output `x + α·(x·A)·B` in f64.
pub fn naive_output(adapter: &Adapter, x: &[f32]) -> Vec<f64> {
    naive_delta(adapter, x, 1.0).iter().zip(x).map(|(d, &x)| d + f64::from(x)).collect()
}

pub fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(&x, &y)| f64::from(x) * f64::from(y)).sum()
}

pub fn dot64(a: &[f64], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(&x, &y)| x * f64::from(y)).sum()
}

/// A dimension and a vector of that dimension with entries in [-1, 1] and norm at least 0.1.
pub fn dim_and_vector() -> impl Strategy<Value = (usize, Vec<f32>)> {
    (1usize..=256).prop_flat_map(|d| (Just(d), vector(d)))
}

/// A vector of dimension `d` with entries in [-1, 1] and norm at least 0.1.
pub fn vector(d: usize) -> impl Strategy<Value = Vec<f32>> {
    proptest::collection::vec(-1.0f32..1.0, d).prop_filter("norm >= 0.1", |v| dot(v, v) >= 0.01)
}

/// Frobenius distance between two sets of equally shaped rows.
pub fn distance(before: [&[f32]; 2], after: [&[f32]; 2]) -> f64 {
    before
        .iter()
        .zip(after.iter())
        .flat_map(|(u, v)| u.iter().zip(v.iter()).map(|(&p, &q)| (f64::from(p) - f64::from(q)).powi(2)))
        .sum::<f64>()
        .sqrt()
}
