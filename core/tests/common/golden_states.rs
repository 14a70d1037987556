//! The states whose saved bytes are kept in tests/golden/ (written by the serde + postcard
//! encoder the format was defined with): deterministic, trained, and small.

use microlora_core::{MicroLoRA, OperatorScope, ScopedLoRA, TrajectoryBuffer};

/// An adapter of dim 5 after forwards, gradient steps and a reward.
pub fn micro_lora() -> MicroLoRA {
    let mut lora = MicroLoRA::new(5, 0.25, 0.05).unwrap();
    let mut out = [0.0; 5];
    for k in 0..3 {
        let x = [0.5, -1.0, 0.25 * k as f32, 2.0, -0.125];
        lora.forward_into(&x, &mut out).unwrap();
        lora.adapt(&[0.1, 0.0, -0.2, 0.05 * k as f32, 0.3]).unwrap();
    }
    lora.adapt_with_reward(-0.4).unwrap();
    lora
}

/// Scoped adapters of dim 3, some scopes trained, fallback off.
pub fn scoped_lora() -> ScopedLoRA {
    let mut scoped = ScopedLoRA::new(3, 0.5, 0.1).unwrap();
    let mut out = [0.0; 3];
    for (i, scope) in
        [OperatorScope::HashJoin, OperatorScope::SeqScan, OperatorScope::HashJoin].into_iter().enumerate()
    {
        scoped.forward_into(scope, &[1.0, -0.5, i as f32], &mut out).unwrap();
        scoped.adapt(scope, &[0.2, 0.1, -0.3]).unwrap();
    }
    scoped.set_category_fallback(false);
    scoped
}

/// A ring of 3 records of dim 2 that has wrapped, with statistics over 5.
pub fn trajectory_buffer() -> TrajectoryBuffer {
    let mut buffer = TrajectoryBuffer::new(3, 2).unwrap();
    for i in 0..5u32 {
        let scope = OperatorScope::from_id(i as usize * 4).unwrap();
        buffer.record(&[i as f32 * 0.5, -1.5], scope, i * 1000, 10.0 + f64::from(i), 12.5).unwrap();
    }
    buffer
}
