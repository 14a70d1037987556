//! A [`ScopedLoRA`] saved and loaded (kind `ScopedLoRA`), and built or loaded in place.

use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::adapter::{write_adapter, AdapterSnapshot, SavedAdapter};
use super::codec::{load_vector, skim, Checked, Reader, WritePayload, UNDECODABLE};
use super::envelope::{seal, serde_payload, Persistent, StateKind};
use super::in_place::InPlace;
use crate::error::{LearningError, Result};
use crate::lora::adapter::{check_dim, Adapter};
use crate::lora::micro::{DEFAULT_ALPHA, DEFAULT_DIM, DEFAULT_LEARNING_RATE};
use crate::lora::scoped::ScopedLoRA;
use crate::scope::{OperatorCategory, OperatorScope};

/// The serde form of a [`ScopedLoRA`].
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct ScopedLoRASnapshot {
    operators: Vec<AdapterSnapshot>,
    references: Vec<Vec<f32>>,
    categories: Vec<AdapterSnapshot>,
    category_fallback: bool,
    total_forward_count: u64,
    total_adapt_count: u64,
}

serde_payload!(ScopedLoRASnapshot);

impl Persistent for ScopedLoRA {
    const KIND: StateKind = StateKind::ScopedLoRA;
    type Snapshot = ScopedLoRASnapshot;

    fn snapshot(&self) -> ScopedLoRASnapshot {
        let dim = self.dim();
        ScopedLoRASnapshot {
            operators: self.operators.iter().map(AdapterSnapshot::of).collect(),
            references: self.references.iter().map(|r| r[..dim].to_vec()).collect(),
            categories: self.categories.iter().map(AdapterSnapshot::of).collect(),
            category_fallback: self.category_fallback,
            total_forward_count: self.total_forward_count,
            total_adapt_count: self.total_adapt_count,
        }
    }

    fn restore(snapshot: ScopedLoRASnapshot) -> Result<Self> {
        let mut scoped = ScopedLoRA::new(DEFAULT_DIM, DEFAULT_ALPHA, DEFAULT_LEARNING_RATE)?;
        scoped.restore_into(&snapshot)?;
        Ok(scoped)
    }

    fn to_bytes(&self) -> Vec<u8> {
        seal(Self::KIND, |out| {
            out.varint(OperatorScope::COUNT as u64);
            self.operators.iter().for_each(|adapter| write_adapter(out, adapter));
            out.varint(OperatorScope::COUNT as u64);
            self.references.iter().for_each(|values| out.floats(&values[..self.dim()]));
            out.varint(OperatorCategory::COUNT as u64);
            self.categories.iter().for_each(|adapter| write_adapter(out, adapter));
            out.byte(self.category_fallback.into());
            out.varint(self.total_forward_count);
            out.varint(self.total_adapt_count);
        })
    }

    /// Loaded on the heap, as [`InPlace::from_bytes_boxed`] loads it, and moved out.
    fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Self::from_bytes_boxed(bytes).map(|scoped| *scoped)
    }
}

/// Overwrites `target` with the scoped learner that `payload` holds, in place: decoded whole
/// first (each sequence skimmed, counted and set aside), then checked while it is restored, the
/// sequences read a second time.
fn load_scoped(target: &mut ScopedLoRA, payload: &[u8]) -> Result<()> {
    scoped_from(target, payload).map_err(LearningError::CorruptState)
}

fn scoped_from(target: &mut ScopedLoRA, payload: &[u8]) -> Checked<()> {
    let mut reader = Reader::new(payload);
    let adapter = |reader: &mut Reader| {
        SavedAdapter::read(reader);
    };
    let (operators, operator_count) = skim(&mut reader, adapter);
    let (references, reference_count) = skim(&mut reader, |reader| {
        reader.floats();
    });
    let (categories, category_count) = skim(&mut reader, adapter);
    let (fallback, forwards, adaptations) = (reader.bool(), reader.u64(), reader.u64());
    if !reader.decoded() {
        return Err(UNDECODABLE);
    }
    if [operator_count, reference_count, category_count]
        != [OperatorScope::COUNT, OperatorScope::COUNT, OperatorCategory::COUNT]
    {
        return Err("it does not hold 17 scope and 7 category adapters");
    }
    let dim = usize::from(Reader::new(operators).u16());
    check_dim("dim", dim).map_err(|_| "the dimension is out of range")?;
    restore_adapters(&mut target.operators, operators, dim)?;
    restore_adapters(&mut target.categories, categories, dim)?;
    let mut references = Reader::new(references);
    for reference in &mut target.references {
        load_vector(reference, references.floats(), dim)?;
    }
    target.category_fallback = fallback;
    target.total_forward_count = forwards;
    target.total_adapt_count = adaptations;
    Ok(())
}

/// Overwrites `targets` with the adapters that `bytes` begin with, each checked, and checked to
/// have dimension `dim`.
#[inline(never)]
fn restore_adapters(targets: &mut [Adapter], adapters: &[u8], dim: usize) -> Checked<()> {
    let mut adapters = Reader::new(adapters);
    for target in targets {
        SavedAdapter::read(&mut adapters).restore_into(target)?;
        if target.dim != dim {
            return Err("its adapters differ in dimension");
        }
    }
    Ok(())
}

impl InPlace for ScopedLoRA {
    fn start(&mut self, dim: usize, alpha: f32, learning_rate: f32) -> Result<()> {
        self.start_fresh(dim, alpha, learning_rate)
    }

    fn load(&mut self, payload: &[u8]) -> Result<()> {
        load_scoped(self, payload)
    }
}
