//! The statement lifecycle of a server's learner, without a server: predict, score, learn and
//! record each executed node; reset; save and load, part by part.

use microlora_core::{
    corrected_rows, q_error, ObservedNode, OperatorScope, Persistent, PlanLearner, PlanLearnerSnapshot,
    StatementRecord, TimePredictor, IMPROVEMENT_LIMIT, TRAJECTORY_CAPACITY,
};

/// Kinds of node of an imaginary server.
const NODE_KINDS: usize = 4;

/// A PlanLearner is hundreds of KiB: tests run on a thread with room for a few of them.
fn with_stack(test: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new().stack_size(64 << 20).spawn(test).unwrap().join().unwrap();
}

/// Node `i` of a statement: a scope, plan features, estimated work and an actual time that
/// grows with the work, as a real operator's does.
fn node(i: usize, work: f64) -> ObservedNode {
    ObservedNode {
        node_kind: (i % NODE_KINDS) as u8,
        scope: OperatorScope::ALL[i % 5],
        embedding: std::array::from_fn(|k| {
            if k == 15 {
                1.0
            } else {
                (((i + 1) * (k + 2)) as f32 * 0.37).sin().abs()
            }
        }),
        work,
        signature: i as u64,
        exclusive_ms: 0.002 * work * (1.0 + (i % 3) as f64),
        rows: 10.0 * i as f64,
        loops: 1.0,
        rows_key: 1000 + i as u64,
        estimated_rows: 10.0,
    }
}

fn statement(seed: usize) -> Vec<ObservedNode> {
    (0..6).map(|i| node(i + seed, 50.0 + 10.0 * ((i + seed) % 7) as f64)).collect()
}

#[test]
fn a_statement_is_predicted_scored_learned_and_recorded() {
    with_stack(|| {
        let mut learner = PlanLearner::new(16).unwrap();
        let nodes = statement(0);
        // Each node is predicted with what the nodes before it taught: replay them one by one.
        let mut replay = learner.clone();
        let expected: Vec<_> = nodes
            .iter()
            .map(|n| {
                let prediction = replay.predictor().predict(n.scope, &n.embedding, n.work, Some(n.signature));
                replay.record_statement(0, 0, std::slice::from_ref(n), true);
                prediction.unwrap()
            })
            .collect();
        learner.record_statement(42, 1_000, &nodes, true);
        assert_eq!(learner.observed_statements(), 1);
        assert_eq!(learner.observed_nodes(), 6);
        assert_eq!(learner.summary().count(), 6);
        // Trajectories are the nodes, newest first, with the predictions made before learning.
        let recorded: Vec<_> = learner.trajectories().newest_first().copied().collect();
        assert_eq!(recorded.len(), 6);
        for (trajectory, (node, prediction)) in recorded.iter().rev().zip(nodes.iter().zip(&expected)) {
            assert_eq!(trajectory.query_id, 42);
            assert_eq!(trajectory.time, 1_000);
            assert_eq!(trajectory.node_kind, node.node_kind);
            assert_eq!(usize::from(trajectory.scope), node.scope.id());
            assert_eq!(trajectory.execution_ms, node.exclusive_ms);
            assert_eq!(trajectory.predicted_ms, prediction.predicted_ms);
            assert_eq!(trajectory.baseline_ms, prediction.baseline_ms);
        }
        for scope in &OperatorScope::ALL[..5] {
            let expected_nodes = nodes.iter().filter(|n| n.scope == *scope).count() as u64;
            assert_eq!(learner.scope_stats(*scope).nodes, expected_nodes);
            assert_eq!(learner.predictor().learner().adapt_count(*scope), expected_nodes);
            assert_eq!(learner.predictor().baseline_q_error(*scope).count(), expected_nodes);
        }
    });
}

#[test]
fn with_learning_off_statements_are_scored_and_recorded_but_teach_nothing() {
    with_stack(|| {
        let mut learner = PlanLearner::new(16).unwrap();
        learner.record_statement(1, 1, &statement(0), true);
        let adapters = learner.predictor().learner().to_bytes();
        learner.record_statement(2, 2, &statement(3), false);
        assert_eq!(learner.predictor().learner().adapt_count(OperatorScope::ALL[0]), 2);
        assert_eq!(learner.observed_nodes(), 12);
        assert_eq!(learner.predictor().learner().to_bytes().len(), adapters.len());
        let adapted: u64 =
            OperatorScope::ALL.iter().map(|s| learner.predictor().learner().adapt_count(*s)).sum();
        assert_eq!(adapted, 6, "only the first statement taught the adapters");
        let scored: u64 =
            OperatorScope::ALL.iter().map(|s| learner.predictor().learned_q_error(*s).count()).sum();
        assert_eq!(scored, 12, "both statements were scored");
    });
}

#[test]
fn learning_reduces_the_error_on_a_recurring_workload() {
    with_stack(|| {
        let mut learner = PlanLearner::new(16).unwrap();
        for round in 0..200 {
            learner.record_statement(round, round, &statement(round as usize % 5), true);
        }
        // The same statements again: predicted without learning.
        let (mut baseline, mut learned) = (0.0, 0.0);
        for round in 0..5 {
            for n in statement(round) {
                let p =
                    learner.predictor().predict(n.scope, &n.embedding, n.work, Some(n.signature)).unwrap();
                baseline += q_error(p.baseline_ms, n.exclusive_ms).unwrap();
                learned += q_error(p.predicted_ms, n.exclusive_ms).unwrap();
            }
        }
        assert!(learned < baseline, "learned {learned} vs baseline {baseline}");
    });
}

#[test]
fn row_counts_are_learned_per_rows_key_whatever_the_node() {
    with_stack(|| {
        let mut learner = PlanLearner::new(16).unwrap();
        // A filter the planner expects 1 row from returns 5,000 per loop, under a nested loop's
        // index scan in one plan and a sequential scan in another: both have the same rows key.
        let mut scan = node(0, 100.0);
        scan.rows_key = 4242;
        scan.estimated_rows = 1.0;
        scan.rows = 20_000.0;
        scan.loops = 4.0;
        assert_eq!(learner.rows_factor(4242), 1.0, "nothing known yet");
        learner.record_statement(1, 1, &[scan], true);
        let once = corrected_rows(1.0, learner.rows_factor(4242));
        assert!(once > 50.0 && once < 5000.0, "one run counts half (in e-folds): {once}");
        let mut other_node = node(3, 40.0);
        other_node.rows_key = 4242;
        other_node.estimated_rows = 1.0;
        other_node.rows = 5000.0;
        for run in 0..20 {
            learner.record_statement(2 + run, 2 + run, &[other_node], true);
        }
        let learned = corrected_rows(1.0, learner.rows_factor(4242));
        assert!(learned > 1000.0 && learned <= 5000.0, "{learned}");
        assert_eq!(learner.rows_factor(99), 1.0, "other keys are untouched");
        assert_eq!(learner.row_keys(), 1);
        // Scored per scope: the planner was 2,500x off every time, the learned estimate less.
        let errors = learner.row_errors(other_node.scope);
        assert_eq!(errors.planner.count(), 20);
        assert!((errors.planner.median() - 5001.0 / 2.0).abs() < 1.0);
        assert!(errors.learned.median() < 10.0, "{}", errors.learned.median());
        // Learning off: scored, nothing learned. A key of 0 is neither.
        let factor = learner.rows_factor(4242);
        other_node.rows = 1.0;
        learner.record_statement(30, 30, &[other_node], false);
        assert_eq!(learner.rows_factor(4242), factor);
        other_node.rows_key = 0;
        learner.record_statement(31, 31, &[other_node], true);
        assert_eq!(learner.row_errors(other_node.scope).planner.count(), 21);
        learner.reset_scope(other_node.scope);
        assert_eq!(learner.rows_factor(4242), factor, "the key was learned under the first scope");
        learner.reset();
        assert_eq!(learner.rows_factor(4242), 1.0);
    });
}

#[test]
fn the_ring_keeps_the_latest_trajectories() {
    with_stack(|| {
        let mut learner = PlanLearner::new(16).unwrap();
        let statements = TRAJECTORY_CAPACITY / 6 + 3;
        for s in 0..statements {
            learner.record_statement(s as i64, s as i64, &statement(s), true);
        }
        assert_eq!(learner.trajectories().len(), TRAJECTORY_CAPACITY);
        assert_eq!(learner.summary().count(), 6 * statements as u64);
        assert_eq!(learner.trajectories().newest_first().next().unwrap().query_id, statements as i64 - 1);
    });
}

#[test]
fn reset_and_reset_scope() {
    with_stack(|| {
        let mut learner = PlanLearner::new(16).unwrap();
        learner.record_statement(1, 1, &statement(0), true);
        let hash = OperatorScope::ALL[1];
        learner.reset_scope(hash);
        assert_eq!(learner.scope_stats(hash).nodes, 0);
        assert_eq!(learner.predictor().learner().adapt_count(hash), 0);
        assert!(learner.scope_stats(OperatorScope::ALL[0]).nodes > 0);
        assert_eq!(learner.trajectories().len(), 6, "trajectories stay");
        learner.reset();
        assert_eq!(learner, PlanLearner::new(16).unwrap());
    });
}

#[test]
fn the_whole_learner_round_trips_through_bytes() {
    with_stack(|| {
        let mut learner = PlanLearner::new(16).unwrap();
        for s in 0..40 {
            learner.record_statement(s, s, &statement(s as usize), s % 3 != 0);
        }
        let bytes = PlanLearnerSnapshot::of(&learner).to_bytes();
        let mut loaded = PlanLearner::new(16).unwrap();
        let ignored = PlanLearnerSnapshot::from_bytes(&bytes).unwrap().load_into(&mut loaded, NODE_KINDS);
        assert!(ignored.is_empty(), "{ignored:?}");
        assert_eq!(loaded, learner);
        // And both go on alike.
        learner.record_statement(99, 99, &statement(7), true);
        loaded.record_statement(99, 99, &statement(7), true);
        assert_eq!(loaded, learner);
        // Bytes of another kind are refused with a reason.
        let other = TimePredictor::new(16).unwrap().to_bytes();
        assert!(PlanLearnerSnapshot::from_bytes(&other).unwrap_err().to_string().contains("TimePredictor"));
    });
}

#[test]
fn a_bad_part_is_not_loaded_and_the_others_are() {
    with_stack(|| {
        let mut learner = PlanLearner::new(16).unwrap();
        for s in 0..10 {
            learner.record_statement(s, s, &statement(s as usize), true);
        }
        let mut snapshot = PlanLearnerSnapshot::of(&learner);
        snapshot.scopes[OperatorScope::ALL[2].id()].total_ms = f64::INFINITY;
        snapshot.trajectories[3].node_kind = NODE_KINDS as u8; // a kind this server does not have
        snapshot.trajectories[5].execution_ms = -1.0;
        let mut loaded = PlanLearner::new(16).unwrap();
        let ignored = snapshot.load_into(&mut loaded, NODE_KINDS);
        assert_eq!(
            ignored,
            [
                format!("the statistics of scope {} (inconsistent)", OperatorScope::ALL[2].name()),
                "2 of 60 trajectories (invalid)".to_string()
            ]
        );
        assert_eq!(loaded.predictor(), learner.predictor());
        assert_eq!(loaded.scope_stats(OperatorScope::ALL[2]).nodes, 0);
        assert_eq!(loaded.scope_stats(OperatorScope::ALL[1]), learner.scope_stats(OperatorScope::ALL[1]));
        assert_eq!(loaded.trajectories().len(), 58);
        assert_eq!(loaded.summary(), learner.summary());
    });
}

#[test]
fn absurd_plan_costs_keep_the_learner_savable() {
    with_stack(|| {
        // ~1e198 cost units that run in a microsecond, as a few cross joins of generate_series
        // make the planner estimate.
        let mut learner = PlanLearner::new(16).unwrap();
        for s in 0..30 {
            let mut nodes = statement(s);
            nodes.iter_mut().for_each(|n| {
                n.work = 1e198;
                n.exclusive_ms = 0.001;
            });
            learner.record_statement(s as i64, 0, &nodes, true);
        }
        assert!(learner.summary().mean_improvement() <= IMPROVEMENT_LIMIT);
        assert!(learner.summary().variance().is_finite());
        let bytes = PlanLearnerSnapshot::of(&learner).to_bytes();
        let mut loaded = PlanLearner::new(16).unwrap();
        let ignored = PlanLearnerSnapshot::from_bytes(&bytes).unwrap().load_into(&mut loaded, NODE_KINDS);
        assert!(ignored.is_empty(), "{ignored:?}");
        assert_eq!(loaded, learner);
    });
}

#[test]
fn the_readmes_scope_tables_match_the_code() {
    // Rows of the form `| id | name | category |`, two to a line in the root README.
    for (readme, what) in [
        (include_str!("../../README.md"), "README.md"),
        (include_str!("../../wasm/pkg/README.md"), "wasm/pkg/README.md"),
    ] {
        let mut seen = 0;
        for line in readme.lines().filter(|l| l.starts_with("| ")) {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            for triple in cells.chunks(4) {
                let Ok(id) = triple[0].parse::<usize>() else { continue };
                if triple.len() < 3 || triple[1].is_empty() {
                    continue;
                }
                let scope = OperatorScope::from_id(id).unwrap_or_else(|_| panic!("{what}: no scope {id}"));
                assert_eq!(
                    (triple[1], triple[2]),
                    (scope.name(), scope.category().name()),
                    "{what}: scope {id}"
                );
                seen += 1;
            }
        }
        assert_eq!(seen, OperatorScope::COUNT, "{what} lists every scope once");
    }
}

/// Runs `test` on a thread with a 256 KiB stack: a `PlanLearner` (about 1.1 MiB) or a
/// `TimePredictor` (about 190 KiB) that passed through it whole would overflow it.
fn with_small_stack(test: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new().stack_size(256 * 1024).spawn(test).unwrap().join().unwrap();
}

#[test]
fn large_learners_are_built_learn_and_load_on_the_heap_on_a_small_stack() {
    with_small_stack(|| {
        let mut learner = PlanLearner::new_boxed(16).unwrap();
        assert_eq!(learner.predictor().dim(), 16);
        assert_eq!(learner.observed_statements(), 0);
        for s in 0..40 {
            learner.record_statement(s, s, &statement(s as usize), s % 3 != 0);
        }
        assert_eq!(learner.observed_statements(), 40);
        assert_eq!(learner.trajectories().len(), 240);
        assert!(learner.predictor().learner().adapt_count(OperatorScope::ALL[0]) > 0);
        learner.steering_mut().entry(42).unwrap().set_advised(3);
        let bytes = PlanLearnerSnapshot::of(&learner).to_bytes();
        let mut loaded = PlanLearner::new_boxed(16).unwrap();
        let ignored = PlanLearnerSnapshot::from_bytes(&bytes).unwrap().load_into(&mut loaded, NODE_KINDS);
        assert!(ignored.is_empty(), "{ignored:?}");
        // Everything is saved, steering's records included.
        assert_eq!(loaded.steering().get(42).and_then(|record| record.advised()), Some(3));
        assert!(*loaded == *learner, "the loaded learner differs");
        assert_eq!(PlanLearnerSnapshot::of(&loaded).to_bytes(), bytes);
        // Both go on alike.
        learner.record_statement(99, 99, &statement(7), true);
        loaded.record_statement(99, 99, &statement(7), true);
        assert!(*loaded == *learner, "the loaded learner learned differently");

        let mut predictor = TimePredictor::new_boxed(16).unwrap();
        let fresh = predictor.to_bytes();
        assert!(*TimePredictor::from_bytes_boxed(&fresh).unwrap() == *predictor);
        for (i, node) in statement(3).iter().enumerate() {
            predictor
                .observe(node.scope, &node.embedding, node.work, Some(i as u64), node.exclusive_ms)
                .unwrap();
        }
        let bytes = predictor.to_bytes();
        assert_ne!(bytes, fresh);
        let loaded = TimePredictor::from_bytes_boxed(&bytes).unwrap();
        assert!(*loaded == *predictor, "the loaded predictor differs");
        assert_eq!(loaded.to_bytes(), bytes);
        assert!(TimePredictor::from_bytes_boxed(&bytes[..bytes.len() - 1]).is_err());
    });
}

#[test]
fn start_makes_any_learner_the_fresh_one_new_returns_or_changes_nothing() {
    with_stack(|| {
        for dim in [1, 7, 16] {
            // All zero bytes, as a zeroed heap block or shared memory holds them.
            let mut zeroed: Box<PlanLearner> = bytemuck::zeroed_box();
            zeroed.start(dim).unwrap();
            assert!(*zeroed == PlanLearner::new(dim).unwrap(), "dim {dim}");
            assert!(*PlanLearner::new_boxed(dim).unwrap() == PlanLearner::new(dim).unwrap(), "dim {dim}");
            let mut zeroed: Box<TimePredictor> = bytemuck::zeroed_box();
            zeroed.start(dim).unwrap();
            assert!(*zeroed == TimePredictor::new(dim).unwrap(), "dim {dim}");
            assert!(*TimePredictor::new_boxed(dim).unwrap() == TimePredictor::new(dim).unwrap(), "dim {dim}");
        }
        // A learner that learned, recorded and steered, restarted at another dimension.
        let mut learner = PlanLearner::new_boxed(16).unwrap();
        for s in 0..30 {
            learner.record_statement(s, s, &statement(s as usize), true);
        }
        learner.steering_mut().entry(7).unwrap().record(1, 5.0);
        assert!(learner.row_keys() > 0 && learner.steering().records().count() == 1);
        let before = learner.clone();
        // Bad dimensions are refused as `new` refuses them, and change nothing.
        for dim in [0, 17, 256] {
            let error = learner.start(dim).unwrap_err();
            assert_eq!(error, PlanLearner::new(dim).unwrap_err());
            assert_eq!(PlanLearner::new_boxed(dim).unwrap_err(), error);
            assert!(learner == before, "a refused start changed the learner");
            let mut predictor = before.predictor().clone();
            assert_eq!(predictor.start(dim).unwrap_err(), TimePredictor::new(dim).unwrap_err());
            assert_eq!(TimePredictor::new_boxed(dim).unwrap_err(), TimePredictor::new(dim).unwrap_err());
            assert!(predictor == *before.predictor(), "a refused start changed the predictor");
        }
        learner.start(8).unwrap();
        assert!(*learner == PlanLearner::new(8).unwrap());
        assert_eq!(learner.steering().records().count(), 0);
        let mut predictor = before.predictor().clone();
        predictor.start(4).unwrap();
        assert!(predictor == TimePredictor::new(4).unwrap());
    });
}

#[test]
fn a_statements_advised_arm_is_none_until_set() {
    let mut record = StatementRecord::default();
    assert_eq!(record.advised(), None);
    record.set_advised(0);
    assert_eq!(record.advised(), Some(0));
    record.set_advised(u8::MAX);
    assert_eq!(record.advised(), Some(u8::MAX));
    let zeroed: StatementRecord = bytemuck::Zeroable::zeroed();
    assert_eq!(zeroed.advised(), None);
}
