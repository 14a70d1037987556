//! Learners built and loaded in place on the heap: a zeroed block is allocated and then filled,
//! so that the value never passes through the stack. WebAssembly's stack is a fixed block of
//! linear memory, and the npm package keeps it small (a scoped learner is 120 KiB).

use alloc::boxed::Box;
use alloc::vec::Vec;

use super::envelope::{open, Payload, Persistent};
use crate::error::Result;
use crate::lora::micro::{DEFAULT_ALPHA, DEFAULT_DIM, DEFAULT_LEARNING_RATE};
use crate::numeric::zeroed::zeroed_box;

/// A learner whose every field is valid as zero bytes (checked by `derive(Zeroable)`), and that
/// can be started and restored where it lies.
pub trait InPlace: Persistent + bytemuck::Zeroable {
    /// Makes every field the fresh state that `new(dim, alpha, learning_rate)` returns, or
    /// refuses the arguments as `new` does and changes nothing.
    fn start(&mut self, dim: usize, alpha: f32, learning_rate: f32) -> Result<()>;

    /// Overwrites `self` with the state that `payload` (an envelope's payload) holds, after
    /// decoding it whole and checking it.
    fn load(&mut self, payload: &[u8]) -> Result<()>;

    /// Overwrites `self` with the state of `snapshot`, after checking it as loading checks its
    /// bytes (by encoding it and loading that, so that the checks are written once).
    fn restore_into(&mut self, snapshot: &Self::Snapshot) -> Result<()> {
        let mut payload = Vec::new();
        snapshot.encode(&mut payload);
        self.load(&payload)
    }

    /// `new(dim, alpha, learning_rate)`, built on the heap.
    fn new_boxed(dim: usize, alpha: f32, learning_rate: f32) -> Result<Box<Self>> {
        let mut learner: Box<Self> = zeroed_box();
        learner.start(dim, alpha, learning_rate)?;
        Ok(learner)
    }

    /// [`Persistent::from_bytes`], loaded on the heap, with the same checks and errors.
    fn from_bytes_boxed(bytes: &[u8]) -> Result<Box<Self>> {
        let payload = open(Self::KIND, bytes)?;
        let mut learner = Self::new_boxed(DEFAULT_DIM, DEFAULT_ALPHA, DEFAULT_LEARNING_RATE)?;
        learner.load(payload)?;
        Ok(learner)
    }
}
