//! Saved state: the round trip is exact, and damaged, truncated or foreign bytes are refused.

#[path = "common/envelope.rs"]
mod envelope;

use envelope::{crc32, envelope, payload};
use microlora_core::{
    InPlace, LearningError, MicroLoRA, OperatorScope, Persistent, ScopedLoRA, TimePredictor, TrajectoryBuffer,
};

fn trained_lora() -> MicroLoRA {
    let mut lora = MicroLoRA::new(12, 0.2, 0.05).unwrap();
    let x: Vec<f32> = (0..12).map(|i| (i as f32).sin()).collect();
    let mut out = vec![0.0; 12];
    for k in 0..4 {
        lora.forward_into(&x, &mut out).unwrap();
        lora.adapt(&x.iter().map(|v| v * k as f32 - 0.3).collect::<Vec<_>>()).unwrap();
    }
    lora
}

fn trained_scoped() -> ScopedLoRA {
    let mut lora = ScopedLoRA::new(6, 0.1, 0.05).unwrap();
    let x = [0.1, 0.2, 0.3, -0.4, 0.5, 0.6];
    let mut out = [0.0; 6];
    for scope in [OperatorScope::HashJoin, OperatorScope::Sort, OperatorScope::HashJoin] {
        lora.forward_into(scope, &x, &mut out).unwrap();
        lora.adapt(scope, &x).unwrap();
        lora.adapt_with_reward(scope, -0.25).unwrap();
    }
    lora.set_category_fallback(false);
    lora
}

fn filled_buffer() -> TrajectoryBuffer {
    let mut buffer = TrajectoryBuffer::new(3, 2).unwrap();
    for i in 0..5u32 {
        let scope = OperatorScope::from_id(i as usize * 3).unwrap();
        buffer.record(&[i as f32, 0.5], scope, i % 2, 10.0 + f64::from(i), 12.0).unwrap();
    }
    buffer
}

/// On the heap: a predictor is about 190 KiB, and a test thread's stack 2 MiB.
fn trained_predictor() -> Box<TimePredictor> {
    let mut predictor = TimePredictor::new_boxed(4).unwrap();
    for i in 0..40 {
        let scope = OperatorScope::ALL[i % 5];
        let x = [0.1 * (i % 7) as f32, 0.5, -0.2, 1.0];
        // Half of the nodes recur, so the plan memory is saved and loaded too.
        let signature = (i % 2 == 0).then_some(i as u64 % 6);
        predictor.observe(scope, &x, 10.0 + i as f64, signature, 0.05 * (1 + i % 4) as f64).unwrap();
    }
    predictor
}

fn round_trip<T: Persistent + PartialEq + std::fmt::Debug>(state: T) {
    let bytes = state.to_bytes();
    assert_eq!(&bytes[..4], b"MLRA");
    assert_eq!(T::from_bytes(&bytes).unwrap(), state);
    assert_eq!(T::from_bytes(&bytes).unwrap().to_bytes(), bytes, "saving is not deterministic");
}

/// [`round_trip`] for a time predictor, loaded on the heap as it is kept.
fn round_trip_predictor(predictor: &TimePredictor) {
    let bytes = predictor.to_bytes();
    assert_eq!(&bytes[..4], b"MLRA");
    let loaded = TimePredictor::from_bytes_boxed(&bytes).unwrap();
    assert_eq!(*loaded, *predictor);
    assert_eq!(loaded.to_bytes(), bytes, "saving is not deterministic");
}

// One test per kind: a debug build gives every temporary of a function its own stack slot, and
// a scoped learner is over 100 KiB.
#[test]
fn an_adapter_round_trips_exactly() {
    round_trip(trained_lora());
    round_trip(MicroLoRA::default());
}

#[test]
fn scoped_adapters_round_trip_exactly() {
    round_trip(trained_scoped());
}

#[test]
fn a_trajectory_buffer_round_trips_exactly() {
    round_trip(filled_buffer());
    round_trip(TrajectoryBuffer::new(5, 256).unwrap());
}

#[test]
fn a_time_predictor_round_trips_exactly() {
    round_trip_predictor(&trained_predictor());
}

#[test]
fn a_fresh_time_predictor_round_trips_exactly() {
    round_trip_predictor(&TimePredictor::new_boxed(16).unwrap());
}

#[test]
fn a_loaded_predictor_predicts_and_scores_like_the_original() {
    let original = trained_predictor();
    let loaded = TimePredictor::from_bytes_boxed(&original.to_bytes()).unwrap();
    let x = [0.3, 0.5, -0.2, 1.0];
    for scope in [OperatorScope::SeqScan, OperatorScope::MergeJoin, OperatorScope::Result] {
        assert_eq!(
            original.predict(scope, &x, 25.0, None).unwrap(),
            loaded.predict(scope, &x, 25.0, None).unwrap()
        );
        assert_eq!(original.baseline_q_error(scope), loaded.baseline_q_error(scope));
        assert_eq!(original.learned_q_error(scope), loaded.learned_q_error(scope));
        assert_eq!(original.calibration(scope), loaded.calibration(scope));
    }
    assert!(original.learned_q_error(OperatorScope::SeqScan).count() > 0);
}

#[test]
fn a_loaded_state_behaves_like_the_original() {
    let mut original = trained_scoped();
    let mut loaded = ScopedLoRA::from_bytes(&original.to_bytes()).unwrap();
    let x = [0.3, -0.1, 0.0, 0.7, 0.2, 0.2];
    let (mut a, mut b) = ([0.0; 6], [0.0; 6]);
    original.forward_into(OperatorScope::HashJoin, &x, &mut a).unwrap();
    loaded.forward_into(OperatorScope::HashJoin, &x, &mut b).unwrap();
    assert_eq!(a, b);
    let mut buffer = TrajectoryBuffer::from_bytes(&filled_buffer().to_bytes()).unwrap();
    buffer.record(&[9.0, 9.0], OperatorScope::Result, 7, 1.0, 100.0).unwrap();
    let mut expected = filled_buffer();
    expected.record(&[9.0, 9.0], OperatorScope::Result, 7, 1.0, 100.0).unwrap();
    assert_eq!(buffer, expected);
}

#[test]
fn every_flipped_bit_is_detected() {
    for bytes in [
        trained_lora().to_bytes(),
        trained_scoped().to_bytes(),
        filled_buffer().to_bytes(),
        trained_predictor().to_bytes(),
    ] {
        for index in 0..bytes.len() {
            for bit in [0, 3, 7] {
                let mut damaged = bytes.clone();
                damaged[index] ^= 1 << bit;
                let refused = match bytes[6] {
                    1 => MicroLoRA::from_bytes(&damaged).is_err(),
                    2 => ScopedLoRA::from_bytes(&damaged).is_err(),
                    3 => TrajectoryBuffer::from_bytes(&damaged).is_err(),
                    _ => TimePredictor::from_bytes(&damaged).is_err(),
                };
                assert!(refused, "flipping bit {bit} of byte {index} went unnoticed");
            }
        }
    }
}

#[test]
fn truncated_extended_foreign_and_future_bytes_are_refused_with_a_reason() {
    let bytes = trained_lora().to_bytes();
    for cut in [0, 3, 11, 15, bytes.len() - 1] {
        assert!(MicroLoRA::from_bytes(&bytes[..cut]).is_err(), "cut at {cut} accepted");
    }
    let mut extended = bytes.clone();
    extended.push(0);
    assert!(MicroLoRA::from_bytes(&extended).unwrap_err().to_string().contains("length"));
    assert!(MicroLoRA::from_bytes(b"not a state at all, just text")
        .unwrap_err()
        .to_string()
        .contains("magic"));
    assert_eq!(
        ScopedLoRA::from_bytes(&bytes).unwrap_err(),
        LearningError::WrongStateKind { expected: "ScopedLoRA", found: "MicroLoRA" }
    );
    // A future version with a valid checksum is refused by version, not by checksum.
    let mut future = bytes[..bytes.len() - 4].to_vec();
    future[4] = 2;
    let checksum = crc32(&future);
    future.extend_from_slice(&checksum.to_le_bytes());
    assert_eq!(
        MicroLoRA::from_bytes(&future).unwrap_err(),
        LearningError::UnsupportedStateVersion { found: 2, supported: 1 }
    );
}

#[test]
fn absurd_plan_costs_keep_every_statistic_finite_and_the_state_loads() {
    // A plan of ~1e198 cost units that runs in a microsecond: what any user can make the planner
    // estimate with a few cross joins of generate_series.
    let mut predictor = TimePredictor::new_boxed(4).unwrap();
    let mut stats = microlora_core::TrajectoryStats::default();
    for i in 0..50 {
        let work = if i % 2 == 0 { 1e198 } else { 10.0 };
        let x = [4.5, 0.5, 0.1 * (i % 3) as f32, 1.0];
        let prediction = predictor.observe(OperatorScope::NestedLoopJoin, &x, work, Some(7), 0.001).unwrap();
        let gain = microlora_core::improvement(0.001, prediction.baseline_ms);
        assert!(gain <= microlora_core::IMPROVEMENT_LIMIT);
        stats.add(gain, 0);
    }
    assert!(stats.variance().is_finite() && stats.mean_improvement().is_finite());
    assert!(stats.is_consistent(), "{stats:?}");
    assert!(predictor.baseline_q_error(OperatorScope::NestedLoopJoin).mean().is_finite());
    assert!(
        predictor.baseline_q_error(OperatorScope::NestedLoopJoin).mean() <= microlora_core::Q_ERROR_LIMIT
    );
    round_trip_predictor(&predictor);
}

/// `bytes` with the payload byte at `index` set to `value` and the checksum made valid again, so
/// that the payload's own checks are what refuses it.
fn with_payload_byte(bytes: &[u8], index: usize, value: u8) -> Vec<u8> {
    let mut changed = payload(bytes).to_vec();
    changed[index - 12] = value;
    envelope(bytes, &changed)
}

#[test]
fn boxed_construction_and_loading_match_the_unboxed_ones_value_for_value_and_error_for_error() {
    for (dim, alpha, rate) in
        [(12, 0.2, 0.05), (256, 0.1, 0.01), (0, 0.1, 0.01), (4, f32::NAN, 0.1), (4, 0.1, -1.0)]
    {
        // Compared as text: a refused NaN is not equal to itself.
        assert_eq!(
            format!("{:?}", MicroLoRA::new_boxed(dim, alpha, rate).map(|b| *b)),
            format!("{:?}", MicroLoRA::new(dim, alpha, rate))
        );
        assert_eq!(
            format!("{:?}", ScopedLoRA::new_boxed(dim, alpha, rate).map(|b| b.to_bytes())),
            format!("{:?}", ScopedLoRA::new(dim, alpha, rate).map(|s| s.to_bytes()))
        );
    }
    let lora = trained_lora().to_bytes();
    let scoped = trained_scoped().to_bytes();
    // Every payload byte of the adapter, and a stride through the scoped learner's, each set to
    // values that break lengths, dimensions, floats and flags: same result either way.
    for index in 12..lora.len() - 4 {
        for value in [0, 1, 0x7f, 0xff] {
            let bytes = with_payload_byte(&lora, index, value);
            assert_eq!(
                MicroLoRA::from_bytes_boxed(&bytes).map(|b| *b),
                MicroLoRA::from_bytes(&bytes),
                "byte {index}"
            );
        }
    }
    for index in (12..scoped.len() - 4).step_by(7) {
        for value in [0, 2, 0xff] {
            let bytes = with_payload_byte(&scoped, index, value);
            assert_eq!(
                ScopedLoRA::from_bytes_boxed(&bytes).map(|b| b.to_bytes()),
                ScopedLoRA::from_bytes(&bytes).map(|s| s.to_bytes()),
                "byte {index}"
            );
        }
    }
    assert_eq!(
        ScopedLoRA::from_bytes_boxed(&lora).unwrap_err(),
        LearningError::WrongStateKind { expected: "ScopedLoRA", found: "MicroLoRA" }
    );
}
