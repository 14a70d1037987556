//! The core learner on a synthetic query workload: per-operator time prediction against a
//! calibrated cost model, learned online, with the trajectory statistics the extension keeps.
//!
//! `cargo run --release -p microlora-core --example demo`

use microlora_core::{
    OperatorCategory, OperatorScope, Persistent, QErrorStats, TimePredictor, TrajectoryBuffer,
};

const DIM: usize = 16;
const TRAINING_PASSES: usize = 5;
const NODES_PER_PASS: usize = 2_000;
const HELD_OUT: usize = 500;

/// A reproducible stream of uniform numbers (xorshift64*), so every run prints the same table.
struct Stream(u64);

impl Stream {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// One executed plan node: its plan-time features, the planner's cost for it, and how long it
/// really took. The hidden truth gives every scope its own speed and its own blind spots of
/// the cost model (row width, row count, cache effects), plus log-normal noise.
struct Node {
    scope: OperatorScope,
    embedding: [f32; DIM],
    cost: f64,
    actual_ms: f64,
}

fn node(stream: &mut Stream, scope: OperatorScope) -> Node {
    let rows = 10f64.powf(1.0 + 5.0 * stream.uniform());
    let width = 8.0 + 300.0 * stream.uniform();
    let cost = 1.0 + rows * (0.01 + 0.02 * stream.uniform());
    let log = |v: f64| ((1.0 + v).ln() / 12.0) as f32;
    let mut embedding = [0f32; DIM];
    embedding[0] = log(rows);
    embedding[1] = log(width);
    embedding[2] = log(cost);
    embedding[3] = stream.uniform() as f32; // carries no signal
    embedding[DIM - 1] = 1.0;
    let s = scope.id() as f64;
    let rate = 0.004 * (1.0 + s % 5.0);
    let row_exponent = 0.3 * ((s * 1.7).sin());
    let width_exponent = 0.5 * ((s * 0.9).cos());
    let noise = (0.15 * (stream.uniform() + stream.uniform() + stream.uniform() - 1.5)).exp();
    let actual_ms = cost * rate * rows.powf(row_exponent) * (width / 64.0).powf(width_exponent) * noise;
    Node { scope, embedding, cost, actual_ms }
}

/// Scores predictions for `HELD_OUT` new nodes of one scope, without learning from them.
fn score_held_out(
    predictor: &mut TimePredictor,
    scope: OperatorScope,
    seed: u64,
    baseline: &mut QErrorStats,
    learned: &mut QErrorStats,
) {
    let mut stream = Stream(seed);
    for _ in 0..HELD_OUT {
        let n = node(&mut stream, scope);
        let p = predictor.predict(scope, &n.embedding, n.cost, None).expect("synthetic nodes are valid");
        baseline.add(p.baseline_ms, n.actual_ms).expect("times are valid");
        learned.add(p.predicted_ms, n.actual_ms).expect("times are valid");
    }
}

fn main() -> Result<(), microlora_core::LearningError> {
    let mut predictor = TimePredictor::new(DIM)?;
    let mut trajectories = TrajectoryBuffer::new(1000, DIM)?;
    let mut stream = Stream(0x5EED);

    println!(
        "microlora core demo: {} scopes, {TRAINING_PASSES} passes of {NODES_PER_PASS} executed nodes\n",
        OperatorScope::COUNT
    );
    println!("{:>5}  {:>24}  {:>24}", "pass", "baseline median q-error", "learned median q-error");
    for pass in 0..=TRAINING_PASSES {
        let (mut baseline, mut learned) = (QErrorStats::default(), QErrorStats::default());
        for scope in OperatorScope::ALL {
            score_held_out(&mut predictor, scope, 1_000 + scope.id() as u64, &mut baseline, &mut learned);
        }
        println!("{pass:>5}  {:>24.3}  {:>24.3}", baseline.median(), learned.median());
        if pass == TRAINING_PASSES {
            break;
        }
        for _ in 0..NODES_PER_PASS {
            let scope = OperatorScope::ALL[(stream.uniform() * OperatorScope::COUNT as f64) as usize];
            let n = node(&mut stream, scope);
            let p = predictor.observe(n.scope, &n.embedding, n.cost, None, n.actual_ms)?;
            // Attention type 0: the planner's default plan, timed against the cost-model baseline.
            trajectories.record(&n.embedding, n.scope, 0, n.actual_ms, p.baseline_ms)?;
        }
    }

    println!("\nheld-out q-error per scope after training ({HELD_OUT} new nodes each):");
    println!(
        "{:<15} {:<12} {:>8} {:>10} {:>10} {:>10}",
        "scope", "category", "adapts", "delta", "baseline", "learned"
    );
    for scope in OperatorScope::ALL {
        let (mut b, mut l) = (QErrorStats::default(), QErrorStats::default());
        score_held_out(&mut predictor, scope, 9_000 + scope.id() as u64, &mut b, &mut l);
        let learner = predictor.learner();
        println!(
            "{:<15} {:<12} {:>8} {:>10.4} {:>10.3} {:>10.3}",
            scope.name(),
            scope.category().name(),
            learner.adapt_count(scope),
            learner.delta_norm(scope),
            b.median(),
            l.median()
        );
    }
    let categories: Vec<String> = OperatorCategory::ALL
        .iter()
        .map(|c| format!("{}={}", c.name(), predictor.learner().category(*c).adapt_count()))
        .collect();
    println!("\ncategory adaptations: {}", categories.join(" "));

    let stats = trajectories.stats();
    println!("\ntrajectories (improvement = baseline/actual − 1 for each executed node):");
    println!(
        "  total {}  buffered {}  mean improvement {:.4}  variance {:.4}  best {:.3}  success rate {:.3}  high quality (>0.5) {}",
        stats.count(),
        trajectories.len(),
        stats.mean_improvement(),
        stats.variance(),
        stats.best_improvement(),
        stats.success_rate(),
        trajectories.high_quality_count(0.5)?
    );
    let state = predictor.learner().to_bytes();
    println!("  learned adapters saved as {} bytes of versioned, checksummed state", state.len());
    Ok(())
}
