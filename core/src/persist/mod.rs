//! Saved state: how every learner is written to bytes and read back, in one place beside the
//! envelope, so that the learners themselves know nothing of it.
//!
//! - `envelope`: the versioned, checksummed envelope (magic, version, kind, length, CRC) that every
//!   saved state travels in, and the [`Persistent`](crate::Persistent) trait;
//! - `codec`: the hand-written part of postcard's encoding that adapters and trajectory buffers use;
//! - `in_place`: loading into a learner where it lies on the heap ([`InPlace`](crate::InPlace));
//! - one file per saved learner: `adapter` (shared by the next two), `micro`, `scoped`,
//!   `trajectory`, `time_predictor` and `plan_learner`, each with its snapshot type.

pub(crate) mod adapter;
pub(crate) mod codec;
pub(crate) mod envelope;
pub(crate) mod in_place;
pub(crate) mod micro;
pub(crate) mod plan_learner;
pub(crate) mod scoped;
pub(crate) mod time_predictor;
pub(crate) mod trajectory;
