//! The extension's settings (`microlora.*`), registered in [`register`]. The README lists them
//! with their defaults and who may change them; a test checks that list against the server.
//!
//! Why `sample_rate = 0.1`: per-node timing (`INSTRUMENT_TIMER`) reads the clock twice per row
//! per node, which can make a row-heavy statement much slower (it is the cost of
//! `EXPLAIN ANALYZE`); instrumenting one statement in ten bounds the average overhead to a tenth
//! of that, and a learner that sees thousands of statements a minute still learns quickly. What
//! it costs is measured by the benchmarks in `bench/` (their results are kept there).

use pgrx::prelude::*;
use pgrx::{GucContext, GucFlags, GucRegistry, GucSetting};

/// Whether statements are observed at all.
pub static ENABLED: GucSetting<bool> = GucSetting::<bool>::new(true);
/// The probability that a statement is instrumented and learned from.
pub static SAMPLE_RATE: GucSetting<f64> = GucSetting::<f64>::new(0.1);
/// Which statements are candidates.
pub static TRACK: GucSetting<Track> = GucSetting::<Track>::new(Track::Top);
/// Whether observed statements teach the learner; when off they are still predicted, scored and
/// recorded, which evaluates a frozen learner on held-out statements.
pub static LEARN: GucSetting<bool> = GucSetting::<bool>::new(true);
/// Whether the state is saved to (and loaded from) the data directory.
pub static SAVE: GucSetting<bool> = GucSetting::<bool>::new(true);
/// Seconds between periodic saves; 0 saves only at shutdown.
pub static SAVE_INTERVAL: GucSetting<i32> = GucSetting::<i32>::new(300);

/// How the planner hook steers (see [`crate::steer`]).
pub static STEER: GucSetting<Steer> = GucSetting::<Steer>::new(Steer::Off);
/// Statements whose default plan takes less than this (measured, or predicted before it ran)
/// are never steered.
pub static STEER_THRESHOLD_MS: GucSetting<f64> = GucSetting::<f64>::new(10.0);
/// The share of a statement's time that steering may spend on it beyond what it won: planning
/// its arms and trying arms not yet proven faster.
pub static STEER_EXPLORE_RATE: GucSetting<f64> = GucSetting::<f64>::new(0.05);
/// A planning round of a statement's alternatives takes at most this share of the default plan's
/// time, and no more than the statement's allowance leaves.
pub static STEER_PLANNING_SHARE: GucSetting<f64> = GucSetting::<f64>::new(0.1);

/// `microlora.steer`.
#[derive(PostgresGucEnum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum Steer {
    /// The planner's own plan always runs.
    #[name = c"off"]
    Off,
    /// Alternatives are planned and judged, and the choice recorded, but the planner's own plan
    /// runs.
    #[name = c"advise"]
    Advise,
    /// The chosen plan runs.
    #[name = c"on"]
    On,
}

/// `microlora.track`.
#[derive(PostgresGucEnum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum Track {
    /// Statements sent by clients (nesting level 0).
    #[name = c"top"]
    Top,
    /// Also statements run inside functions and procedures.
    #[name = c"all"]
    All,
}

/// Registers the settings; called once from `_PG_init`.
pub fn register() {
    GucRegistry::define_bool_guc(
        c"microlora.enabled",
        c"Observe sampled statements and learn their operators' execution times.",
        c"When off, no statement is instrumented and nothing is learned.",
        &ENABLED,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_float_guc(
        c"microlora.sample_rate",
        c"Fraction of statements whose plan nodes are timed and learned from.",
        c"Timing every plan node costs about what EXPLAIN ANALYZE costs; sampling bounds that overhead.",
        &SAMPLE_RATE,
        0.0,
        1.0,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_enum_guc(
        c"microlora.track",
        c"Which statements are observed: top (client statements) or all (nested statements too).",
        c"",
        &TRACK,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_bool_guc(
        c"microlora.learn",
        c"Adapt the learner to observed statements.",
        c"When off, observed statements are still predicted, scored and recorded, but nothing is learned from them.",
        &LEARN,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_enum_guc(
        c"microlora.steer",
        c"Whether the planner hook chooses among alternative plans of slow statements: off, advise or on.",
        c"advise judges and records the choice but runs the planner's own plan.",
        &STEER,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_float_guc(
        c"microlora.steer_threshold_ms",
        c"Statements whose plan takes less than this many milliseconds are not steered.",
        c"",
        &STEER_THRESHOLD_MS,
        0.0,
        1e9,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_float_guc(
        c"microlora.steer_explore_rate",
        c"Share of a statement's time that steering may spend on it beyond what it won: planning alternative plans and trying those not yet proven faster.",
        c"",
        &STEER_EXPLORE_RATE,
        0.0,
        1.0,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_float_guc(
        c"microlora.steer_planning_share",
        c"A planning round of a statement's alternatives takes at most this share of its time (and no more than steer_explore_rate leaves).",
        c"",
        &STEER_PLANNING_SHARE,
        0.0,
        10.0,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_bool_guc(
        c"microlora.save",
        c"Save the learned state across server shutdowns.",
        c"",
        &SAVE,
        GucContext::Sighup,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"microlora.save_interval",
        c"Seconds between periodic saves of the learned state (0: only at shutdown).",
        c"",
        &SAVE_INTERVAL,
        0,
        86_400,
        GucContext::Sighup,
        GucFlags::UNIT_S,
    );
}
