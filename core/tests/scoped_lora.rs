//! The contract of the scoped adapters: category fallback blending, adapting a scope teaches
//! its category, per-scope and total counts, resets, refused input.

mod common;

use common::*;
use microlora_core::{OperatorCategory, OperatorScope, ScopedLoRA, FALLBACK_ADAPTATIONS};
use proptest::prelude::*;

fn forward(lora: &mut ScopedLoRA, scope: OperatorScope, x: &[f32]) -> Vec<f32> {
    let mut out = vec![0.0; x.len()];
    lora.forward_into(scope, x, &mut out).unwrap();
    out
}

fn scope() -> impl Strategy<Value = OperatorScope> {
    (0usize..17).prop_map(|id| OperatorScope::from_id(id).unwrap())
}

/// `x + w·Δ_op(x) + (1−w)·Δ_cat(x)`, from the adapters' parameters.
fn expected_blend(lora: &ScopedLoRA, scope: OperatorScope, x: &[f32], w: f64) -> Vec<f64> {
    let op = naive_delta(lora.operator(scope), x, w);
    let cat = naive_delta(lora.category(scope.category()), x, 1.0 - w);
    x.iter().zip(op.iter().zip(&cat)).map(|(&x, (o, c))| f64::from(x) + o + c).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    #[test]
    fn output_blends_operator_and_category_by_experience(
        scope in scope(),
        (dim, x) in (1usize..=64).prop_flat_map(|d| (Just(d), vector(d))),
        sibling_steps in 1usize..4,
        own_steps in 0u64..14,
        fallback in any::<bool>(),
    ) {
        let mut lora = ScopedLoRA::new(dim, 0.5, 0.1).unwrap();
        lora.set_category_fallback(fallback);
        // A sibling in the same category teaches the category first.
        let sibling = OperatorScope::ALL.into_iter()
            .find(|s| s.category() == scope.category() && *s != scope).unwrap_or(scope);
        for k in 0..sibling_steps {
            forward(&mut lora, sibling, &x);
            let g: Vec<f32> = (0..dim).map(|i| ((i + k) as f32).cos()).collect();
            lora.adapt(sibling, &g).unwrap();
        }
        let own_before = lora.adapt_count(scope);
        for k in 0..own_steps {
            forward(&mut lora, scope, &x);
            let g: Vec<f32> = (0..dim).map(|i| ((2 * i + k as usize) as f32).sin()).collect();
            lora.adapt(scope, &g).unwrap();
        }
        let adapted = own_before + own_steps;
        let w = if fallback { (adapted as f32 / FALLBACK_ADAPTATIONS as f32).min(1.0) } else { 1.0 };
        prop_assert_eq!(lora.operator_weight(scope), w);
        let w = f64::from(w);
        let out = forward(&mut lora, scope, &x);
        let expected = expected_blend(&lora, scope, &x, w);
        for (o, e) in out.iter().zip(&expected) {
            prop_assert!((f64::from(*o) - e).abs() <= 1e-4 * (1.0 + e.abs()), "{} vs {}", o, e);
        }
    }

    #[test]
    fn every_scoped_adapt_moves_the_scope_output_along_the_direction(
        scope in scope(),
        (dim, x) in (1usize..=64).prop_flat_map(|d| (Just(d), vector(d))),
        warmup in 0u64..12,
    ) {
        let mut lora = ScopedLoRA::new(dim, 1.0, 0.1).unwrap();
        for k in 0..warmup {
            forward(&mut lora, scope, &x);
            let g: Vec<f32> = (0..dim).map(|i| ((i as u64 + k) as f32).cos()).collect();
            lora.adapt(scope, &g).unwrap();
        }
        let before = forward(&mut lora, scope, &x);
        let w = f64::from(lora.operator_weight(scope));
        let g: Vec<f32> = (0..dim).map(|i| (i as f32 * 0.9 + 0.3).sin()).collect();
        lora.adapt(scope, &g).unwrap();
        // Evaluate with the weight the forward used, so only the step itself is measured.
        let after = expected_blend(&lora, scope, &x, w);
        prop_assert!(dot64(&after, &g) - dot(&before, &g) > 0.0);
    }
}

#[test]
fn a_fresh_scope_answers_with_its_category_which_its_siblings_trained() {
    let dim = 16;
    let x: Vec<f32> = (0..dim).map(|i| (i as f32 * 0.4).sin() + 0.5).collect();
    let mut lora = ScopedLoRA::new(dim, 0.5, 0.1).unwrap();
    for _ in 0..5 {
        forward(&mut lora, OperatorScope::HashJoin, &x);
        lora.adapt(OperatorScope::HashJoin, &[1.0; 16]).unwrap();
    }
    assert_eq!(lora.category(OperatorCategory::Join).adapt_count(), 5);
    assert_eq!(lora.adapt_count(OperatorScope::MergeJoin), 0);
    // MergeJoin has never adapted: its output is the Join category's, which moved toward +1.
    let merge = forward(&mut lora, OperatorScope::MergeJoin, &x);
    let gain: f32 = merge.iter().zip(&x).map(|(o, x)| o - x).sum();
    assert!(gain > 0.0, "no transfer from HashJoin to MergeJoin: {gain}");
    // Another category learned nothing.
    assert_eq!(forward(&mut lora, OperatorScope::Sort, &x), x);
    // With fallback off, MergeJoin is its own fresh adapter: the identity.
    lora.set_category_fallback(false);
    assert_eq!(forward(&mut lora, OperatorScope::MergeJoin, &x), x);
}

#[test]
fn counts_per_scope_and_in_total() {
    let mut lora = ScopedLoRA::new(8, 0.1, 0.01).unwrap();
    let x = [0.5f32; 8];
    for scope in [OperatorScope::Filter, OperatorScope::Filter, OperatorScope::HnswScan] {
        forward(&mut lora, scope, &x);
    }
    lora.adapt(OperatorScope::Filter, &x).unwrap();
    lora.adapt_with_reward(OperatorScope::HnswScan, 0.5).unwrap();
    assert_eq!(lora.forward_count(OperatorScope::Filter), 2);
    assert_eq!(lora.forward_count(OperatorScope::HnswScan), 1);
    assert_eq!(lora.adapt_count(OperatorScope::Filter), 1);
    assert_eq!(lora.adapt_count(OperatorScope::HnswScan), 1);
    assert_eq!((lora.total_forward_count(), lora.total_adapt_count()), (3, 2));
    assert!(lora.delta_norm(OperatorScope::Filter) > 0.0);
    assert_eq!(lora.delta_norm(OperatorScope::Sort), 0.0);
}

#[test]
fn reset_scope_and_reset_all() {
    let fresh = ScopedLoRA::new(8, 0.1, 0.01).unwrap();
    let mut lora = fresh.clone();
    let x = [0.25f32; 8];
    for scope in [OperatorScope::Filter, OperatorScope::Sort] {
        forward(&mut lora, scope, &x);
        lora.adapt(scope, &x).unwrap();
    }
    lora.reset_scope(OperatorScope::Filter);
    assert_eq!(lora.operator(OperatorScope::Filter), fresh.operator(OperatorScope::Filter));
    assert_eq!(lora.adapt_count(OperatorScope::Sort), 1, "reset_scope touched another scope");
    assert_eq!(lora.category(OperatorCategory::Transform).adapt_count(), 1, "category forgot");
    lora.set_category_fallback(false);
    lora.reset_all();
    assert!(!lora.category_fallback(), "reset_all changed the fallback setting");
    lora.set_category_fallback(true);
    assert_eq!(lora, fresh);
}

#[test]
fn bad_input_is_refused_and_leaves_state_unchanged() {
    assert!(ScopedLoRA::new(0, 0.1, 0.01).is_err());
    assert!(ScopedLoRA::new(300, 0.1, 0.01).is_err());
    let mut lora = ScopedLoRA::new(4, 0.1, 0.01).unwrap();
    forward(&mut lora, OperatorScope::Limit, &[1.0, 2.0, 3.0, 4.0]);
    let before = lora.clone();
    let mut out = [0.0; 4];
    assert!(lora.forward_into(OperatorScope::Limit, &[1.0; 3], &mut out).is_err());
    assert!(lora.forward_into(OperatorScope::Limit, &[1.0, f32::NAN, 0.0, 0.0], &mut out).is_err());
    assert!(lora.adapt(OperatorScope::Limit, &[1.0; 5]).is_err());
    assert!(lora.adapt(OperatorScope::Limit, &[f32::INFINITY, 0.0, 0.0, 0.0]).is_err());
    assert!(lora.adapt_with_reward(OperatorScope::Limit, f64::NAN).is_err());
    assert_eq!(lora, before);
    assert_eq!(out, [0.0; 4]);
}
