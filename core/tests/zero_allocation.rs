//! The hot paths allocate nothing: counted with a global allocator that tallies every call made
//! by the thread under test (the test harness's other threads allocate as they please).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use microlora_core::{MicroLoRA, ObservedNode, OperatorScope, PlanLearner, ScopedLoRA, TrajectoryBuffer};

struct CountingAllocator;

thread_local! {
    /// This thread's allocations so far.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    ALLOCATIONS.with(|n| n.set(n.get() + 1));
}

/// Allocations made by the current thread so far.
fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

#[test]
fn forward_adapt_and_record_allocate_nothing() {
    let dim = 256;
    let mut lora = MicroLoRA::new(dim, 0.1, 0.01).unwrap();
    let mut scoped = ScopedLoRA::new(dim, 0.1, 0.01).unwrap();
    let mut buffer = TrajectoryBuffer::new(64, dim).unwrap();
    let x: Vec<f32> = (0..dim).map(|i| (i as f32).sin()).collect();
    let mut out = vec![0.0; dim];

    let before = allocations();
    for i in 0..200 {
        let scope = OperatorScope::ALL[i % 17];
        lora.forward_into(&x, &mut out).unwrap();
        lora.adapt(&out).unwrap();
        lora.adapt_with_reward(0.3).unwrap();
        scoped.forward_into(scope, &x, &mut out).unwrap();
        scoped.adapt(scope, &x).unwrap();
        scoped.adapt_with_reward(scope, -0.2).unwrap();
        buffer.record(&x, scope, 0, 1.0 + i as f64, 2.0).unwrap();
    }
    let allocated = allocations() - before;
    assert_eq!(allocated, 0, "the hot paths allocated {allocated} times");
    assert_eq!(buffer.stats().count(), 200);
}

#[test]
fn learning_from_a_statement_and_its_row_counts_allocates_nothing() {
    // A PlanLearner is hundreds of KiB: build it on a thread with room for it (before counting).
    std::thread::Builder::new().stack_size(64 << 20).spawn(learn_from_statements).unwrap().join().unwrap();
}

fn learn_from_statements() {
    let mut learner = PlanLearner::new(16).unwrap();
    let nodes: Vec<ObservedNode> = (0..8)
        .map(|i| ObservedNode {
            node_kind: i as u8,
            scope: OperatorScope::ALL[i * 2],
            embedding: std::array::from_fn(|k| ((i + k) as f32).cos().abs()),
            work: 10.0 + i as f64,
            signature: i as u64,
            exclusive_ms: 0.5 + i as f64,
            rows: 100.0,
            loops: 1.0,
            rows_key: 77 + i as u64,
            estimated_rows: 3.0,
        })
        .collect();
    let before = allocations();
    for statement in 0..50 {
        learner.record_statement(statement, statement * 1000, &nodes, statement % 5 != 0);
        learner.record_rows(&nodes, true);
    }
    let allocated = allocations() - before;
    assert_eq!(allocated, 0, "learning from statements allocated {allocated} times");
    assert_eq!(learner.observed_nodes(), 400);
}
