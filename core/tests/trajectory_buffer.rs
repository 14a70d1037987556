//! The contract of the trajectory buffer: a fixed ring, statistics over every record since the
//! last reset checked against a straightforward computation, refused input.

use microlora_core::{improvement, quality, OperatorScope, TrajectoryBuffer};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Execution {
    scope: OperatorScope,
    attention_type: u32,
    execution_ms: f64,
    baseline_ms: f64,
}

fn execution() -> impl Strategy<Value = Execution> {
    (0usize..17, 0u32..4, prop_oneof![Just(0.0), 0.0f64..500.0], 0.0f64..500.0).prop_map(
        |(scope, attention_type, execution_ms, baseline_ms)| Execution {
            scope: OperatorScope::from_id(scope).unwrap(),
            attention_type,
            execution_ms,
            baseline_ms,
        },
    )
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn statistics_match_a_straightforward_computation(
        capacity in 1usize..20,
        executions in proptest::collection::vec(execution(), 0..60),
        threshold in 0.0f64..1.0,
    ) {
        let dim = 3;
        let mut buffer = TrajectoryBuffer::new(capacity, dim).unwrap();
        for (i, e) in executions.iter().enumerate() {
            let embedding = [i as f32, 1.0, -1.0];
            buffer.record(&embedding, e.scope, e.attention_type, e.execution_ms, e.baseline_ms).unwrap();
        }
        let improvements: Vec<f64> = executions.iter()
            .map(|e| if e.execution_ms == 0.0 { 0.0 } else { e.baseline_ms / e.execution_ms - 1.0 })
            .collect();
        let n = improvements.len();
        let mean = if n == 0 { 0.0 } else { improvements.iter().sum::<f64>() / n as f64 };
        let variance = if n < 2 { 0.0 } else {
            improvements.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64
        };
        let successes = improvements.iter().filter(|v| **v > 0.0).count();
        let stats = buffer.stats();
        prop_assert_eq!(stats.count(), n as u64);
        prop_assert!(close(stats.mean_improvement(), mean), "{} vs {}", stats.mean_improvement(), mean);
        prop_assert!(close(stats.variance(), variance), "{} vs {}", stats.variance(), variance);
        prop_assert_eq!(stats.success_rate(), if n == 0 { 0.0 } else { successes as f64 / n as f64 });
        let best = improvements.iter().enumerate()
            .fold(None, |best: Option<(usize, f64)>, (i, &v)| match best {
                Some((_, b)) if b >= v => best,
                _ => Some((i, v)),
            });
        match best {
            Some((i, v)) => {
                prop_assert_eq!(stats.best_improvement(), v);
                prop_assert_eq!(stats.best_attention(), executions[i].attention_type);
            }
            None => prop_assert_eq!((stats.best_improvement(), stats.best_attention()), (0.0, 0)),
        }

        // Buffer-local counts cover only the latest `capacity` records, oldest first.
        let kept = &executions[n.saturating_sub(capacity)..];
        prop_assert_eq!(buffer.len(), kept.len());
        prop_assert_eq!(buffer.is_empty(), kept.is_empty());
        let kept_improvements = &improvements[n.saturating_sub(capacity)..];
        let high = kept_improvements.iter().filter(|v| ((**v + 1.0) / 2.0).clamp(0.0, 1.0) > threshold).count();
        prop_assert_eq!(buffer.high_quality_count(threshold).unwrap(), high);
        for scope in OperatorScope::ALL {
            prop_assert_eq!(buffer.count_by_operator(scope), kept.iter().filter(|e| e.scope == scope).count());
        }
        let order: Vec<f32> = buffer.iter().map(|(_, embedding)| embedding[0]).collect();
        let expected: Vec<f32> = (n.saturating_sub(capacity)..n).map(|i| i as f32).collect();
        prop_assert_eq!(order, expected);
    }
}

#[test]
fn improvement_and_quality_follow_the_published_definitions() {
    assert_eq!(improvement(100.0, 150.0), 0.5);
    assert_eq!(improvement(0.0, 150.0), 0.0);
    assert_eq!(improvement(200.0, 100.0), -0.5);
    assert_eq!(quality(0.5), 0.75);
    assert_eq!(quality(-3.0), 0.0);
    assert_eq!(quality(5.0), 1.0);
}

#[test]
fn the_ring_wraps_around_and_reset_forgets_everything() {
    let mut buffer = TrajectoryBuffer::new(3, 2).unwrap();
    for i in 0..5 {
        buffer.record(&[i as f32, 0.0], OperatorScope::Sort, i, 10.0, 10.0 + i as f64).unwrap();
    }
    assert_eq!((buffer.len(), buffer.capacity(), buffer.stats().count()), (3, 3, 5));
    let kept: Vec<u32> = buffer.iter().map(|(r, _)| r.attention_type).collect();
    assert_eq!(kept, [2, 3, 4]);
    buffer.reset();
    assert!(buffer.is_empty());
    assert_eq!(buffer.stats().count(), 0);
    assert_eq!(buffer, TrajectoryBuffer::new(3, 2).unwrap());
}

#[test]
fn the_published_defaults() {
    let buffer = TrajectoryBuffer::default();
    assert_eq!((buffer.capacity(), buffer.embedding_dim()), (1000, 256));
}

#[test]
fn bad_input_is_refused_and_leaves_state_unchanged() {
    assert!(TrajectoryBuffer::new(0, 4).unwrap_err().to_string().contains("capacity"));
    assert!(TrajectoryBuffer::new(4, 0).is_err());
    assert!(TrajectoryBuffer::new(4, 257).is_err());
    assert!(TrajectoryBuffer::new(usize::MAX / 2, 256).unwrap_err().to_string().contains("memory"));

    let mut buffer = TrajectoryBuffer::new(4, 2).unwrap();
    buffer.record(&[1.0, 2.0], OperatorScope::Limit, 1, 5.0, 6.0).unwrap();
    let before = buffer.clone();
    let s = OperatorScope::Limit;
    let messages: Vec<String> = [
        buffer.record(&[1.0], s, 0, 1.0, 1.0),
        buffer.record(&[f32::NAN, 0.0], s, 0, 1.0, 1.0),
        buffer.record(&[1.0, 2.0], s, 0, -1.0, 1.0),
        buffer.record(&[1.0, 2.0], s, 0, 1.0, f64::INFINITY),
        buffer.record(&[1.0, 2.0], s, 0, f64::NAN, 1.0),
    ]
    .into_iter()
    .map(|r| r.unwrap_err().to_string())
    .collect();
    assert_eq!(buffer, before);
    assert!(messages[0].contains("embedding"), "{}", messages[0]);
    assert!(messages[2].contains("execution_ms") && messages[2].contains(">= 0"), "{}", messages[2]);
    assert!(messages[3].contains("baseline_ms"), "{}", messages[3]);
    assert!(buffer.high_quality_count(f64::NAN).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    /// Recording through the staged embedding (as the JavaScript package does) is recording: the
    /// same buffer as `record` with the same embeddings, over wrap-arounds and resets, while refused
    /// staged records (a NaN, a negative time) change nothing a reader sees.
    #[test]
    fn staged_records_are_records_and_refusals_leave_the_ring_alone(
        capacity in 1usize..6,
        steps in proptest::collection::vec((execution(), 0u8..8), 0..40),
    ) {
        let dim = 3;
        let mut direct = TrajectoryBuffer::new(capacity, dim).unwrap();
        let mut staged = TrajectoryBuffer::new(capacity, dim).unwrap();
        for (i, (e, action)) in steps.iter().enumerate() {
            let embedding = [i as f32, -(i as f32), 0.5];
            if *action == 0 {
                direct.reset();
                staged.reset();
                continue;
            }
            let at = staged.staged_embedding_mut().as_ptr();
            if *action == 1 {
                let before = staged.clone();
                staged.staged_embedding_mut().copy_from_slice(&[1.0, f32::NAN, 2.0]);
                prop_assert!(staged.record_staged(e.scope, e.attention_type, e.execution_ms, e.baseline_ms).is_err());
                staged.staged_embedding_mut().copy_from_slice(&embedding);
                prop_assert!(staged.record_staged(e.scope, e.attention_type, -1.0, e.baseline_ms).is_err());
                prop_assert_eq!(&staged, &before);
                prop_assert_eq!(staged.staged_embedding_mut().as_ptr(), at, "a refusal keeps the spare block");
                continue;
            }
            direct.record(&embedding, e.scope, e.attention_type, e.execution_ms, e.baseline_ms).unwrap();
            staged.staged_embedding_mut().copy_from_slice(&embedding);
            staged.record_staged(e.scope, e.attention_type, e.execution_ms, e.baseline_ms).unwrap();
            prop_assert_ne!(staged.staged_embedding_mut().as_ptr(), at, "each record takes the spare block");
            prop_assert_eq!(&staged, &direct);
        }
        // Every buffered embedding is the one recorded, newest last, and none is the spare block.
        let spare = staged.staged_embedding_mut().as_ptr();
        prop_assert!(staged.iter().all(|(_, saved)| saved.as_ptr() != spare));
        prop_assert_eq!(staged.iter().count(), direct.iter().count());
    }
}
