//! Saved state: the byte envelope every learner is saved in, its hand-written codec, and the
//! save and load code of each learner.

pub(crate) mod codec;
pub(crate) mod envelope;
pub(crate) mod in_place;
