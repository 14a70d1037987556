//! The contract of a single adapter: identity before adaptation, every step moves the output
//! for the reference input along the given direction, steps are bounded, bad input is refused
//! without touching state.

mod common;

use common::*;
use microlora_core::{LearningError, MicroLoRA};
use proptest::prelude::*;

fn forward(lora: &mut MicroLoRA, x: &[f32]) -> Vec<f32> {
    let mut out = vec![0.0; x.len()];
    lora.forward_into(x, &mut out).unwrap();
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn the_first_forward_is_the_identity((dim, x) in dim_and_vector()) {
        let mut lora = MicroLoRA::new(dim, 0.1, 0.01).unwrap();
        prop_assert_eq!(forward(&mut lora, &x), x);
    }

    #[test]
    fn forward_matches_the_formula_after_training(
        (dim, x) in dim_and_vector(),
        steps in proptest::collection::vec(-1.0f32..1.0, 1..6),
    ) {
        let mut lora = MicroLoRA::new(dim, 0.5, 0.2).unwrap();
        for s in &steps {
            forward(&mut lora, &x);
            let g: Vec<f32> = x.iter().enumerate().map(|(i, v)| v * s + (i as f32 * 0.1).sin()).collect();
            lora.adapt(&g).unwrap();
        }
        let out = forward(&mut lora, &x);
        let expected = naive_output(lora.adapter(), &x);
        for (o, e) in out.iter().zip(&expected) {
            prop_assert!((f64::from(*o) - e).abs() <= 1e-4 * (1.0 + e.abs()), "{o} vs {e}");
        }
    }

    #[test]
    fn every_adapt_moves_the_output_along_the_direction(
        (dim, x) in dim_and_vector(),
        seed_steps in 0usize..4,
        g_scale in prop_oneof![Just(1e-3f32), Just(1.0), Just(1e6)],
        alpha in prop_oneof![Just(0.1f32), Just(1.0), Just(-0.5)],
    ) {
        let mut lora = MicroLoRA::new(dim, alpha, 0.1).unwrap();
        // Start from a trained state, not only from B = 0.
        for k in 0..seed_steps {
            forward(&mut lora, &x);
            let g: Vec<f32> = (0..dim).map(|i| ((i + k) as f32 * 0.7).cos()).collect();
            lora.adapt(&g).unwrap();
        }
        forward(&mut lora, &x); // makes x the reference input
        let before = naive_output(lora.adapter(), &x);
        let g: Vec<f32> = (0..dim).map(|i| g_scale * ((i * 3 + 1) as f32 * 0.37).sin()).collect();
        lora.adapt(&g).unwrap();
        // Compare in f64 from the parameters before and after, free of f32 rounding in the
        // outputs (a forward's f32 output can differ from the exact one by more than a tiny step).
        let after = naive_output(lora.adapter(), &x);
        let gain = dot64(&after, &g) - dot64(&before, &g);
        prop_assert!(gain > 0.0, "g·Δout = {gain}");
        // And by a bounded amount: along the clipped direction ĝ, at most 2η·‖ĝ‖².
        let g_norm = dot(&g, &g).sqrt();
        let clipped = g_norm.min(1.0);
        let gain_along_clipped = gain * clipped / g_norm;
        let bound = 2.0 * 0.1 * clipped * clipped;
        prop_assert!(gain_along_clipped <= bound * (1.0 + 1e-3) + 1e-6, "ĝ·Δout = {gain_along_clipped} > {bound}");
    }

    #[test]
    fn one_step_changes_each_factor_by_at_most_the_learning_rate(
        (dim, x) in dim_and_vector(),
        x_scale in prop_oneof![Just(1.0f32), Just(1e15)],
        g_scale in prop_oneof![Just(1.0f32), Just(1e30)],
    ) {
        let eta = 0.05;
        let mut lora = MicroLoRA::new(dim, 1.0, eta).unwrap();
        let big_x: Vec<f32> = x.iter().map(|v| v * x_scale).collect();
        forward(&mut lora, &big_x);
        for step in 0..3 {
            let g: Vec<f32> = (0..dim).map(|i| g_scale * ((i + step) as f32).cos()).collect();
            let (a, b) = (lora.adapter().clone(), lora.adapter().clone());
            lora.adapt(&g).unwrap();
            let bound = f64::from(eta) * (1.0 + 1e-5);
            prop_assert!(distance(a.a_columns(), lora.adapter().a_columns()) <= bound);
            prop_assert!(distance(b.b_rows(), lora.adapter().b_rows()) <= bound);
            prop_assert!(lora.adapter().a_columns().iter().chain(lora.adapter().b_rows().iter())
                .all(|row| row.iter().all(|v| v.is_finite())));
        }
    }

    #[test]
    fn reward_reinforces_or_pushes_away_from_the_reference((dim, x) in dim_and_vector(), reward in -3.0f64..3.0) {
        prop_assume!(reward.abs() > 1e-3);
        let mut lora = MicroLoRA::new(dim, 1.0, 0.1).unwrap();
        let before = forward(&mut lora, &x);
        lora.adapt_with_reward(reward).unwrap();
        let after = naive_output(lora.adapter(), &x);
        let gain = dot64(&after, &x) - dot(&before, &x);
        prop_assert!(gain * reward > 0.0, "reward {reward} moved x·out by {gain}");
    }
}

#[test]
fn rewards_beyond_one_are_capped() {
    let x: Vec<f32> = (0..32).map(|i| (i as f32).sin()).collect();
    let mut capped = MicroLoRA::new(32, 0.1, 0.01).unwrap();
    let mut huge = capped.clone();
    forward(&mut capped, &x);
    forward(&mut huge, &x);
    capped.adapt_with_reward(1.0).unwrap();
    huge.adapt_with_reward(1e12).unwrap();
    assert_eq!(capped, huge);
}

#[test]
fn adapt_without_a_forward_uses_an_all_ones_reference() {
    let mut lora = MicroLoRA::new(8, 1.0, 0.1).unwrap();
    assert_eq!(lora.reference_input(), &[1.0; 8]);
    let g = [0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
    lora.adapt(&g).unwrap();
    let out = naive_output(lora.adapter(), &[1.0; 8]);
    assert!(out[1] > 1.0, "output for the all-ones input did not move along e₁: {out:?}");
}

#[test]
fn delta_norm_is_the_frobenius_norm_of_alpha_a_b() {
    let mut lora = MicroLoRA::new(16, 0.3, 0.05).unwrap();
    assert_eq!(lora.delta_norm(), 0.0);
    let x: Vec<f32> = (0..16).map(|i| (i as f32 * 0.5).cos()).collect();
    for k in 0..5 {
        forward(&mut lora, &x);
        let g: Vec<f32> = (0..16).map(|i| ((i * k) as f32).sin() + 0.1).collect();
        lora.adapt(&g).unwrap();
    }
    let [a0, a1] = lora.adapter().a_columns();
    let [b0, b1] = lora.adapter().b_rows();
    let mut sum = 0.0f64;
    for i in 0..16 {
        for j in 0..16 {
            let w = f64::from(a0[i]) * f64::from(b0[j]) + f64::from(a1[i]) * f64::from(b1[j]);
            sum += w * w;
        }
    }
    let expected = 0.3 * sum.sqrt();
    assert!((f64::from(lora.delta_norm()) - expected).abs() < 1e-5 * (1.0 + expected));
    assert!(expected > 0.0);
}

#[test]
fn counts_parameters_and_reset() {
    let mut lora = MicroLoRA::new(64, 0.1, 0.01).unwrap();
    let fresh = lora.clone();
    assert_eq!(lora.param_count(), 4 * 64);
    let x = vec![0.5; 64];
    forward(&mut lora, &x);
    forward(&mut lora, &x);
    lora.adapt(&x).unwrap();
    assert_eq!((lora.forward_count(), lora.adapt_count()), (2, 1));
    assert!(lora.delta_norm() > 0.0);
    lora.reset();
    assert_eq!(lora, fresh);
}

#[test]
fn the_published_defaults() {
    let lora = MicroLoRA::default();
    assert_eq!((lora.dim(), lora.adapter().alpha(), lora.adapter().learning_rate()), (256, 0.1, 0.01));
}

#[test]
fn bad_input_is_refused_and_leaves_state_unchanged() {
    assert_eq!(
        MicroLoRA::new(0, 0.1, 0.01).unwrap_err(),
        LearningError::DimensionOutOfRange { what: "dim", value: 0.0 }
    );
    assert!(MicroLoRA::new(257, 0.1, 0.01).unwrap_err().to_string().contains("1..=256"));
    assert!(MicroLoRA::new(8, f32::NAN, 0.01).unwrap_err().to_string().contains("alpha"));
    assert!(MicroLoRA::new(8, 0.1, -1.0).unwrap_err().to_string().contains("learning_rate"));

    let mut lora = MicroLoRA::new(8, 0.1, 0.01).unwrap();
    let x: Vec<f32> = (0..8).map(|i| i as f32).collect();
    forward(&mut lora, &x);
    lora.adapt(&[0.5; 8]).unwrap();
    let before = lora.clone();
    let mut out = [7.0f32; 8];

    let mut nan = x.clone();
    nan[3] = f32::NAN;
    let mut inf = x.clone();
    inf[0] = f32::NEG_INFINITY;
    let errors = [
        lora.forward_into(&x[..7], &mut out).unwrap_err(),
        lora.forward_into(&x, &mut [0.0; 9]).unwrap_err(),
        lora.forward_into(&nan, &mut out).unwrap_err(),
        lora.forward_into(&inf, &mut out).unwrap_err(),
        lora.adapt(&[1.0; 9]).unwrap_err(),
        lora.adapt(&nan).unwrap_err(),
        lora.adapt(&inf).unwrap_err(),
        lora.adapt_with_reward(f64::NAN).unwrap_err(),
        lora.adapt_with_reward(f64::INFINITY).unwrap_err(),
    ];
    assert_eq!(lora, before);
    assert_eq!(out, [7.0; 8], "a refused forward wrote output");
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert!(messages[0].contains("input") && messages[0].contains("length 8"), "{}", messages[0]);
    assert!(messages[2].contains("NaN"), "{}", messages[2]);
    assert!(messages[4].contains("gradient"), "{}", messages[4]);
    assert!(messages[7].contains("improvement"), "{}", messages[7]);
}

#[test]
fn huge_but_finite_gradients_are_accepted_and_clipped() {
    let mut lora = MicroLoRA::new(4, 1.0, 0.1).unwrap();
    forward(&mut lora, &[1.0, 2.0, 3.0, 4.0]);
    let mut unit = lora.clone();
    lora.adapt(&[3e38, 0.0, 0.0, 0.0]).unwrap();
    unit.adapt(&[1.0, 0.0, 0.0, 0.0]).unwrap();
    let (huge, unit) = (lora.adapter(), unit.adapter());
    assert!(distance(huge.a_columns(), unit.a_columns()) < 1e-6);
    assert!(distance(huge.b_rows(), unit.b_rows()) < 1e-6);
    assert!(huge.delta_norm() > 0.0);
}
