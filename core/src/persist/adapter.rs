//! An adapter's saved form, shared by the single and the scoped learner: its serde snapshot, and
//! the hand-written encoding and checked decoding of the same bytes.

use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::codec::{load_vector, Checked, Reader, WritePayload};
use crate::lora::adapter::{Adapter, RANK};

/// The serde form of an [`Adapter`].
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct AdapterSnapshot {
    dim: u16,
    alpha: f32,
    learning_rate: f32,
    seed: u64,
    a: [Vec<f32>; 2],
    b: [Vec<f32>; 2],
    forward_count: u64,
    adapt_count: u64,
}

impl AdapterSnapshot {
    pub(super) fn of(adapter: &Adapter) -> Self {
        let d = adapter.dim;
        AdapterSnapshot {
            dim: d as u16,
            alpha: adapter.alpha,
            learning_rate: adapter.learning_rate,
            seed: adapter.seed,
            a: adapter.a.each_ref().map(|column| column[..d].to_vec()),
            b: adapter.b.each_ref().map(|row| row[..d].to_vec()),
            forward_count: adapter.forward_count,
            adapt_count: adapter.adapt_count,
        }
    }
}

/// Appends `adapter` as its [`AdapterSnapshot`] encodes.
#[inline(never)]
pub(super) fn write_adapter(out: &mut Vec<u8>, adapter: &Adapter) {
    let dim = adapter.dim;
    out.varint(dim as u64);
    out.f32(adapter.alpha);
    out.f32(adapter.learning_rate);
    out.varint(adapter.seed);
    adapter.a.iter().chain(&adapter.b).for_each(|values| out.floats(&values[..dim]));
    out.varint(adapter.forward_count);
    out.varint(adapter.adapt_count);
}

/// An [`AdapterSnapshot`] as a payload holds it, its vectors still bytes.
pub(super) struct SavedAdapter<'a> {
    dim: u16,
    alpha: f32,
    learning_rate: f32,
    seed: u64,
    /// The columns of `A`, then the rows of `B`.
    factors: [&'a [u8]; 2 * RANK],
    forward_count: u64,
    adapt_count: u64,
}

impl<'a> SavedAdapter<'a> {
    #[inline(never)]
    pub(super) fn read(reader: &mut Reader<'a>) -> Self {
        SavedAdapter {
            dim: reader.u16(),
            alpha: reader.f32(),
            learning_rate: reader.f32(),
            seed: reader.u64(),
            factors: [reader.floats(), reader.floats(), reader.floats(), reader.floats()],
            forward_count: reader.u64(),
            adapt_count: reader.u64(),
        }
    }

    /// Overwrites `target` with this adapter, after checking it, in place.
    #[inline(never)]
    pub(super) fn restore_into(&self, target: &mut Adapter) -> Checked<()> {
        let dim = usize::from(self.dim);
        target
            .start(dim, self.alpha, self.learning_rate, self.seed)
            .map_err(|_| "an adapter's dim, alpha or learning rate is invalid")?;
        for (row, values) in target.a.iter_mut().chain(target.b.iter_mut()).zip(self.factors) {
            load_vector(row, values, dim)?;
        }
        target.forward_count = self.forward_count;
        target.adapt_count = self.adapt_count;
        Ok(())
    }
}
