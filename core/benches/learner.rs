//! Hot-path timings at dim 16, 64 and 256: forward, adapt, scoped forward and adapt, record; and
//! the time predictor's per-node work at the Postgres extension's dim 16 (predict, and observe:
//! predict, score and the least-squares step). Run with `cargo bench -p microlora-core`.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use microlora_core::{MicroLoRA, OperatorScope, ScopedLoRA, TimePredictor, TrajectoryBuffer};

const DIMS: [usize; 3] = [16, 64, 256];

fn input(dim: usize) -> Vec<f32> {
    (0..dim).map(|i| (i as f32 * 0.37).sin()).collect()
}

fn single_adapter(c: &mut Criterion) {
    let mut group = c.benchmark_group("MicroLoRA");
    for dim in DIMS {
        let x = input(dim);
        let mut out = vec![0.0; dim];
        let mut lora = MicroLoRA::new(dim, 0.1, 0.01).unwrap();
        lora.forward_into(&x, &mut out).unwrap();
        lora.adapt(&x).unwrap();
        group.bench_with_input(BenchmarkId::new("forward", dim), &dim, |b, _| {
            b.iter(|| lora.forward_into(black_box(&x), black_box(&mut out)).unwrap())
        });
        group.bench_with_input(BenchmarkId::new("adapt", dim), &dim, |b, _| {
            b.iter(|| lora.adapt(black_box(&x)).unwrap())
        });
        group.bench_with_input(BenchmarkId::new("adapt_with_reward", dim), &dim, |b, _| {
            b.iter(|| lora.adapt_with_reward(black_box(0.5)).unwrap())
        });
    }
    group.finish();
}

fn scoped_adapters(c: &mut Criterion) {
    let mut group = c.benchmark_group("ScopedLoRA");
    for dim in DIMS {
        let x = input(dim);
        let mut out = vec![0.0; dim];
        let mut lora = ScopedLoRA::new(dim, 0.1, 0.01).unwrap();
        // HashJoin is young (blends with its category); Sort is mature (its own adapter only).
        for _ in 0..12 {
            lora.forward_into(OperatorScope::Sort, &x, &mut out).unwrap();
            lora.adapt(OperatorScope::Sort, &x).unwrap();
        }
        for (label, scope) in
            [("forward_blended", OperatorScope::HashJoin), ("forward_mature", OperatorScope::Sort)]
        {
            group.bench_with_input(BenchmarkId::new(label, dim), &dim, |b, _| {
                b.iter(|| lora.forward_into(black_box(scope), black_box(&x), black_box(&mut out)).unwrap())
            });
        }
        group.bench_with_input(BenchmarkId::new("adapt", dim), &dim, |b, _| {
            b.iter(|| lora.adapt(black_box(OperatorScope::HashJoin), black_box(&x)).unwrap())
        });
    }
    group.finish();
}

fn trajectory_buffer(c: &mut Criterion) {
    let mut group = c.benchmark_group("TrajectoryBuffer");
    for dim in DIMS {
        let x = input(dim);
        let mut buffer = TrajectoryBuffer::new(1000, dim).unwrap();
        group.bench_with_input(BenchmarkId::new("record", dim), &dim, |b, _| {
            b.iter(|| buffer.record(black_box(&x), OperatorScope::HnswScan, 0, 100.0, 150.0).unwrap())
        });
    }
    group.finish();
}

fn time_predictor(c: &mut Criterion) {
    let mut group = c.benchmark_group("TimePredictor");
    let mut x = input(16);
    x[15] = 1.0;
    let mut predictor = TimePredictor::new(16).unwrap();
    for i in 0..100 {
        predictor.observe(OperatorScope::HashJoin, &x, 100.0, None, 1.0 + f64::from(i % 7)).unwrap();
    }
    group.bench_function("predict/16", |b| {
        b.iter(|| predictor.predict(OperatorScope::HashJoin, black_box(&x), 100.0, None).unwrap())
    });
    group.bench_function("observe/16", |b| {
        b.iter(|| predictor.observe(OperatorScope::HashJoin, black_box(&x), 100.0, None, 3.0).unwrap())
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = single_adapter, scoped_adapters, trajectory_buffer, time_predictor
}
criterion_main!(benches);
