//! The learners of the npm package: rank-2 LoRA adapters (one alone, or one per operator scope
//! with category fallback) and the trajectory buffer of execution-versus-baseline timings.

pub(crate) mod adapter;
pub(crate) mod micro;
pub(crate) mod scoped;
pub(crate) mod trajectory;
