//! The hand-written codec of the saved states writes the bytes that serde and postcard wrote (the
//! format was defined with them, and saved files must keep loading), and refuses what they refused
//! with the same errors.

#[path = "common/envelope.rs"]
mod envelope;
#[path = "common/golden_states.rs"]
mod golden_states;

use std::fmt::Debug;

use envelope::{envelope, payload};
use microlora_core::{LearningError, MicroLoRA, OperatorScope, Persistent, ScopedLoRA, TrajectoryBuffer};
use proptest::prelude::*;
use serde::{de::DeserializeOwned, Serialize};

/// The payload serde and postcard write for `state`.
fn postcard_payload<T: Persistent>(state: &T) -> Vec<u8>
where
    T::Snapshot: Serialize,
{
    postcard::to_allocvec(&state.snapshot()).unwrap()
}

/// What loading `bytes` (a valid envelope) gave when serde and postcard decoded the payload,
/// as text (a refused NaN is not equal to itself): the state's bytes, or the error.
fn postcard_load<T: Persistent>(bytes: &[u8]) -> String
where
    T::Snapshot: DeserializeOwned,
{
    let loaded = postcard::from_bytes::<T::Snapshot>(payload(bytes))
        .map_err(|_| LearningError::CorruptState("the payload does not decode"))
        .and_then(T::restore);
    format!("{:?}", loaded.map(|state| state.to_bytes()))
}

fn hand_load<T: Persistent>(bytes: &[u8]) -> String {
    format!("{:?}", T::from_bytes(bytes).map(|state| state.to_bytes()))
}

/// Saving writes postcard's bytes, and loading every variation of them (each payload byte set
/// to values that break lengths, varints, floats and flags; the payload cut short or extended)
/// gives what postcard and serde gave.
fn same_as_postcard<T: Persistent + PartialEq + Debug>(state: &T, stride: usize)
where
    T::Snapshot: Serialize + DeserializeOwned,
{
    let bytes = state.to_bytes();
    assert_eq!(payload(&bytes), postcard_payload(state));
    assert_eq!(&T::from_bytes(&bytes).unwrap(), state);
    let original = payload(&bytes);
    let mut variations = Vec::new();
    for index in (0..original.len()).step_by(stride) {
        for value in [0x00, 0x01, 0x02, 0x7f, 0x80, 0xff] {
            let mut changed = original.to_vec();
            changed[index] = value;
            variations.push(changed);
        }
        variations.push(original[..index].to_vec());
    }
    variations.push([original, &[0xab, 0xcd]].concat());
    for changed in variations {
        let changed = envelope(&bytes, &changed);
        assert_eq!(hand_load::<T>(&changed), postcard_load::<T>(&changed));
    }
}

#[test]
fn golden_states_save_to_the_bytes_the_serde_encoder_wrote_and_load_back() {
    let micro = golden_states::micro_lora();
    let scoped = golden_states::scoped_lora();
    let buffer = golden_states::trajectory_buffer();
    assert_eq!(micro.to_bytes(), include_bytes!("golden/micro_lora.state"));
    assert_eq!(scoped.to_bytes(), include_bytes!("golden/scoped_lora.state"));
    assert_eq!(buffer.to_bytes(), include_bytes!("golden/trajectory_buffer.state"));
    assert_eq!(MicroLoRA::from_bytes(include_bytes!("golden/micro_lora.state")).unwrap(), micro);
    assert_eq!(ScopedLoRA::from_bytes(include_bytes!("golden/scoped_lora.state")).unwrap(), scoped);
    assert_eq!(
        TrajectoryBuffer::from_bytes(include_bytes!("golden/trajectory_buffer.state")).unwrap(),
        buffer
    );
}

#[test]
fn golden_states_refuse_every_variation_as_postcard_did() {
    same_as_postcard(&golden_states::micro_lora(), 1);
    same_as_postcard(&golden_states::scoped_lora(), 5);
    same_as_postcard(&golden_states::trajectory_buffer(), 1);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_adapters_save_and_load_as_postcard_did(
        dim in 1usize..=12, alpha in -2.0f32..2.0, rate in 0.0f32..0.5, seed in any::<u64>(),
        steps in prop::collection::vec((prop::collection::vec(-3.0f32..3.0, 12), -1.5f64..1.5), 0..5),
    ) {
        let mut lora = MicroLoRA::new(dim, alpha, rate).unwrap();
        let mut out = vec![0.0; dim];
        for (x, reward) in &steps {
            lora.forward_into(&x[..dim], &mut out).unwrap();
            lora.adapt(&x[..dim].iter().map(|v| v * (seed % 7) as f32 * 0.1).collect::<Vec<_>>()).unwrap();
            lora.adapt_with_reward(*reward).unwrap();
        }
        same_as_postcard(&lora, 1 + dim);
    }

    #[test]
    fn random_scoped_adapters_save_and_load_as_postcard_did(
        dim in 1usize..=3, fallback in any::<bool>(),
        steps in prop::collection::vec((0usize..17, prop::collection::vec(-2.0f32..2.0, 3)), 0..6),
    ) {
        let mut scoped = ScopedLoRA::new(dim, 0.3, 0.1).unwrap();
        let mut out = vec![0.0; dim];
        for (id, x) in &steps {
            let scope = OperatorScope::from_id(*id).unwrap();
            scoped.forward_into(scope, &x[..dim], &mut out).unwrap();
            scoped.adapt(scope, &x[..dim]).unwrap();
        }
        scoped.set_category_fallback(fallback);
        same_as_postcard(&scoped, 41);
    }

    #[test]
    fn random_trajectory_buffers_save_and_load_as_postcard_did(
        capacity in 1usize..=4, dim in 1usize..=3,
        records in prop::collection::vec(
            (0usize..17, any::<u32>(), 0.0f64..1e6, 0.0f64..1e6, prop::collection::vec(-1e3f32..1e3, 3)), 0..7),
    ) {
        let mut buffer = TrajectoryBuffer::new(capacity, dim).unwrap();
        for (id, attention, execution, baseline, embedding) in &records {
            let scope = OperatorScope::from_id(*id).unwrap();
            buffer.record(&embedding[..dim], scope, *attention, *execution, *baseline).unwrap();
        }
        same_as_postcard(&buffer, 3);
    }
}
