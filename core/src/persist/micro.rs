//! A [`MicroLoRA`] saved and loaded (kind `MicroLoRA`), and built or loaded in place.

use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::adapter::{write_adapter, AdapterSnapshot, SavedAdapter};
use super::codec::{load_vector, Checked, Reader, WritePayload, UNDECODABLE};
use super::envelope::{seal, serde_payload, Persistent, StateKind};
use super::in_place::InPlace;
use crate::error::{LearningError, Result};
use crate::lora::micro::{MicroLoRA, DEFAULT_ALPHA, DEFAULT_DIM, DEFAULT_LEARNING_RATE};

/// The serde form of a [`MicroLoRA`].
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct MicroLoRASnapshot {
    adapter: AdapterSnapshot,
    reference: Vec<f32>,
}

serde_payload!(MicroLoRASnapshot);

impl Persistent for MicroLoRA {
    const KIND: StateKind = StateKind::MicroLoRA;
    type Snapshot = MicroLoRASnapshot;

    fn snapshot(&self) -> MicroLoRASnapshot {
        MicroLoRASnapshot {
            adapter: AdapterSnapshot::of(&self.adapter),
            reference: self.reference_input().to_vec(),
        }
    }

    fn restore(snapshot: MicroLoRASnapshot) -> Result<Self> {
        // `new` rather than `default`: the latter's `expect` would link Rust's float formatting
        // (tens of kilobytes) into the WebAssembly package for an error that cannot happen.
        let mut lora = MicroLoRA::new(DEFAULT_DIM, DEFAULT_ALPHA, DEFAULT_LEARNING_RATE)?;
        lora.restore_into(&snapshot)?;
        Ok(lora)
    }

    fn to_bytes(&self) -> Vec<u8> {
        seal(Self::KIND, |out| {
            write_adapter(out, &self.adapter);
            out.floats(self.reference_input());
        })
    }

    /// Loaded on the heap, as [`InPlace::from_bytes_boxed`] loads it, and moved out.
    fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Self::from_bytes_boxed(bytes).map(|lora| *lora)
    }
}

/// Overwrites `target` with the adapter that `payload` holds: decoded whole, then checked.
fn load_micro(target: &mut MicroLoRA, payload: &[u8]) -> Result<()> {
    micro_from(target, payload).map_err(LearningError::CorruptState)
}

fn micro_from(target: &mut MicroLoRA, payload: &[u8]) -> Checked<()> {
    let mut reader = Reader::new(payload);
    let adapter = SavedAdapter::read(&mut reader);
    let reference = reader.floats();
    if !reader.decoded() {
        return Err(UNDECODABLE);
    }
    adapter.restore_into(&mut target.adapter)?;
    load_vector(&mut target.reference, reference, target.adapter.dim)
}

impl InPlace for MicroLoRA {
    fn start(&mut self, dim: usize, alpha: f32, learning_rate: f32) -> Result<()> {
        self.start_fresh(dim, alpha, learning_rate)
    }

    fn load(&mut self, payload: &[u8]) -> Result<()> {
        load_micro(self, payload)
    }
}
