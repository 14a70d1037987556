//! Steering: choosing, for one statement, among the plans a server made under a few planner
//! settings ("arms"), with the learner's estimates, and never making the statement much slower.
//!
//! The server plans the default arm (its own settings) and, when steering may pay off, a few
//! alternatives; this module
//! - scores a whole plan from the learner's per-node estimates ([`PlanEstimate`]): a predicted
//!   time with an optimistic and a pessimistic bound, wide where the learner knows little
//!   ([`crate::TimePredictor::estimate`]);
//! - decides whether to run an alternative ([`decide`]): a verified winner (one whose lead over
//!   the default plan the runs of both tell from noise, [`StatementRecord::verified`]) is reused,
//!   and replaced only on evidence ([`StatementRecord::challenged`]); otherwise an arm is chosen only
//!   when its pessimistic time beats the default plan's optimistic time by a margin, and within
//!   an exploration budget an arm is tried by Thompson sampling;
//! - remembers per statement how each arm really did ([`StatementRecord`], kept in a fixed-size
//!   [`SteeringMemory`]): an arm that made the statement slower than its default runs is banned
//!   for it, and a statement that collected [`MAX_BANS`] bans is no longer steered.
//!
//! # Instances and templates
//! A run is only ever judged against default runs of the *same* statement text (an instance):
//! instances of one template (the same statement shape with other constants) can differ by
//! orders of magnitude, and an arm that wins on a large instance can lose badly on a small one,
//! so comparing a run with the medians of other instances bans good arms and keeps bad ones.
//! What one instance proves is passed on to its template (told apart by the default plan's
//! shape), and from there to the template's other instances
//! ([`SteeringMemory::record_run`]):
//! - an arm banned on one instance is never tried on the template's other instances by
//!   prediction or exploration (the guard acts on a template's first bad run, not after the
//!   damage is summed), and a template with [`MAX_BANS`] arms banned is no longer steered;
//! - an arm verified faster on one instance is tried first when the others explore (once they
//!   ran their default plan, within their exploration budget), unless the learner predicts it
//!   slower there: it is no proof for them. It is tried even on an instance that verified
//!   another winner (an instance may verify the first arm it found faster, not the fastest).
//!
//! # What steering may cost a statement
//! Planning the alternatives and runs of arms that lost against the default plan are both
//! charged to the statement ([`StatementRecord::overhead_ms`]); what faster runs saved is
//! credited ([`StatementRecord::won_ms`]). Both draw on one allowance: `explore_rate` of the
//! statement's time plus what steering won it ([`StatementRecord::allowance_ms`]); exploring
//! stops once its own losses reach that share ([`StatementRecord::may_explore`]). A planning
//! round may take what is left of it, at most a share of one run, and is not started when not
//! even one arm's planning fits ([`ahead`]): a short statement whose arms take long to plan waits
//! for its allowance to grow before each round, and one whose planning costs more than it can
//! win stops being steered.
//!
//! Everything here is plain arithmetic on fixed-size data, so it can live in shared memory.

use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::error::{LearningError, Result};
use crate::numeric::math;
use crate::plan::q_error::P2Median;

/// Arms a statement can be planned under, the default one included.
pub const MAX_ARMS: usize = 8;

/// An arm: an index into the server's list of planner settings; 0 is the server's own.
pub type ArmId = u8;

/// The arm of the server's own planner settings.
pub const DEFAULT_ARM: ArmId = 0;

/// Bans after which a statement is no longer steered.
pub const MAX_BANS: u8 = 3;
/// After planning rounds in a row that found no arm worth running, the next round waits for the
/// statement's runs to grow by 2 to their number, at most 2 to this many: a round that keeps
/// finding nothing costs planning and wins nothing, while the learner's view of the statement
/// changes only as it learns.
pub const MAX_ROUND_WAIT_LOG2: u8 = 6;

/// The key of one instance of a statement template: its text (with the constants that make it
/// this instance) folded into the template's key (its default plan's fingerprint). Never 0; an
/// empty text gives the template's key itself.
pub fn instance_key(template: u64, text: &[u8]) -> u64 {
    if text.is_empty() {
        return template;
    }
    // FNV-1a over the text, then folded with the template's key.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in text {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    crate::plan::memory::fold_signature(template, hash).max(2) & !1
}

/// The one-sided normal quantile of the bounds of a [`PlanEstimate`]: 95% of plausible times are
/// above its optimistic and below its pessimistic bound.
pub const BOUND_Z: f64 = 1.645;

/// A node's predicted exclusive time and how sure the learner is of it: the natural log of the
/// actual time is taken to spread around `ln(ms)` with standard deviation `sigma`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NodeEstimate {
    pub ms: f64,
    pub sigma: f64,
}

/// A whole plan's predicted time: the sum of its nodes' estimates, and the sums of their
/// optimistic (`low_ms`) and pessimistic (`high_ms`) bounds at [`BOUND_Z`]. Summing bounds node by
/// node treats the nodes' errors as fully correlated, which is the cautious assumption: a learner
/// that misjudges a scope misjudges all of its nodes alike.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PlanEstimate {
    pub ms: f64,
    pub low_ms: f64,
    pub high_ms: f64,
}

impl PlanEstimate {
    /// The estimate of a plan of these nodes.
    pub fn of(nodes: impl IntoIterator<Item = NodeEstimate>) -> Self {
        let mut plan = PlanEstimate::default();
        for node in nodes {
            let spread = math::exp(BOUND_Z * node.sigma);
            plan.ms += node.ms;
            plan.low_ms += node.ms / spread;
            plan.high_ms += node.ms * spread;
        }
        plan
    }

    /// The plan's overall log-space spread, as its bounds imply it.
    pub fn sigma(&self) -> f64 {
        if self.ms > 0.0 && self.high_ms > self.ms {
            math::ln(self.high_ms / self.ms) / BOUND_Z
        } else {
            0.0
        }
    }
}

/// The spread given to a time measured over runs of the same plan: repeated runs vary less than
/// any prediction.
pub const MEASURED_SIGMA: f64 = 0.2;

impl PlanEstimate {
    /// A plan whose time was measured: its median over runs, spread by [`MEASURED_SIGMA`].
    pub fn measured(median_ms: f64) -> Self {
        PlanEstimate::of([NodeEstimate { ms: median_ms, sigma: MEASURED_SIGMA }])
    }

    /// The same estimate, `factor` times as long (its spread unchanged).
    pub fn scaled(self, factor: f64) -> Self {
        PlanEstimate { ms: self.ms * factor, low_ms: self.low_ms * factor, high_ms: self.high_ms * factor }
    }
}

/// One alternative plan of a statement.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Candidate {
    pub arm: ArmId,
    pub estimate: PlanEstimate,
}

/// How each run of a statement under one arm went.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize, bytemuck::Zeroable)]
pub struct ArmRecord {
    /// Statement times in ms (count and running median).
    pub times: P2Median,
    /// Whether the arm made this statement slower than its default plan.
    pub banned: bool,
}

impl ArmRecord {
    /// Runs recorded.
    pub fn runs(&self) -> u64 {
        self.times.count()
    }

    /// The median time, if the arm ran.
    pub fn median_ms(&self) -> Option<f64> {
        (self.runs() > 0).then(|| self.times.median())
    }
}

/// What steering learned about one statement instance (identified by a key the server computes
/// from its text and its default plan), or, for a template's record, what its instances taught
/// ([`StatementRecord::is_template`]; see the module documentation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize, bytemuck::Zeroable)]
pub struct StatementRecord {
    pub fingerprint: u64,
    /// Per arm, [`DEFAULT_ARM`] first. In a template's record, an arm is banned once it was
    /// banned on one of the template's instances, and has no runs.
    pub arms: [ArmRecord; MAX_ARMS],
    /// Arms banned so far (a banned arm stays banned).
    pub bans: u8,
    /// The arm of the latest run.
    pub last_arm: ArmId,
    /// The arm steering chose the last time it decided, whether or not it ran (with steering in
    /// an advising mode, the default plan runs instead), plus 1; 0 before it decided. Not an
    /// `Option`, so that a record is valid as zero bytes (`derive(Zeroable)`); see
    /// [`StatementRecord::advised`].
    advised: u16,
    /// What runs under arms other than the default lost against the default plan: their time
    /// beyond its median then, in ms, summed (exploration's cost, which its budget bounds).
    pub lost_ms: f64,
    /// What runs under arms other than the default won against the default plan: the default
    /// plan's median then minus their time, in ms, summed.
    pub won_ms: f64,
    /// What planning the alternatives of this statement took, in ms, summed.
    pub planning_ms: f64,
    /// Planning rounds in a row that found no arm worth running ([`Choice::Default`]), and the
    /// statement's runs at its last round: see [`StatementRecord::round_due`].
    fruitless_rounds: u8,
    round_at_runs: u64,
    /// A template's record: the arms verified faster on one of its instances, a bit per arm.
    template_wins: u8,
    /// Whether this is a template's record.
    template: bool,
    /// When it was last used, in [`SteeringMemory`]'s clock.
    last_used: u64,
}

impl StatementRecord {
    /// The arm steering chose the last time it decided, whether or not it ran (with steering in
    /// an advising mode, the default plan runs instead); `None` before it decided.
    pub fn advised(&self) -> Option<ArmId> {
        self.advised.checked_sub(1).map(|arm| arm as ArmId)
    }

    /// Notes that steering chose `arm`.
    pub fn set_advised(&mut self, arm: ArmId) {
        self.advised = u16::from(arm) + 1;
    }
}

/// What [`StatementRecord::record`] concluded from one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing new.
    Recorded,
    /// The arm made the statement slower than its default runs and is banned for it.
    Banned(ArmId),
}

/// A steered run this many times slower than the default plan's median bans its arm at once:
/// repeated runs of one plan vary by less (see [`MEASURED_SIGMA`]), so a run this slow is the
/// plan's doing.
pub const BAN_AT_ONCE: f64 = 1.3;
/// An arm whose median over [`BAN_RUNS`] runs or more is this many times the default's is
/// banned: an arm no faster than the default plan has nothing to offer, and one slightly
/// slower must not be kept.
pub const BAN_MEDIAN: f64 = 1.05;
/// Runs after which an arm's median is judged against [`BAN_MEDIAN`].
pub const BAN_RUNS: u64 = 2;
/// Runs after which an arm's median is trusted (to ban it, or to reuse it as a winner).
pub const VERIFY_RUNS: u64 = 3;
/// How much faster than the default plan's median a verified winner's median must be.
pub const WIN_MARGIN: f64 = 1.1;

impl StatementRecord {
    /// Records that the statement took `ms` under `arm` (`< MAX_ARMS`), and bans the arm if it
    /// made the statement slower than its default plan: at once if this run took [`BAN_AT_ONCE`]
    /// times the default median, or once its own median over [`BAN_RUNS`] runs is
    /// [`BAN_MEDIAN`] times the default's. Times that are not finite and non-negative are ignored.
    pub fn record(&mut self, arm: ArmId, ms: f64) -> Verdict {
        let index = usize::from(arm);
        if index >= MAX_ARMS || !ms.is_finite() || ms < 0.0 {
            return Verdict::Recorded;
        }
        self.arms[index].times.add(ms);
        self.last_arm = arm;
        if arm == DEFAULT_ARM || self.arms[index].banned {
            return Verdict::Recorded;
        }
        let Some(default_ms) = self.arms[0].median_ms() else {
            return Verdict::Recorded;
        };
        self.lost_ms += (ms - default_ms).max(0.0);
        self.won_ms += (default_ms - ms).max(0.0);
        let record = &self.arms[index];
        let slower_at_once = ms > BAN_AT_ONCE * default_ms;
        let slower_over_runs = record.runs() >= BAN_RUNS && record.times.median() > BAN_MEDIAN * default_ms;
        if slower_at_once || slower_over_runs {
            self.arms[index].banned = true;
            self.bans = self.bans.saturating_add(1);
            Verdict::Banned(arm)
        } else {
            Verdict::Recorded
        }
    }

    /// Whether steering may still choose for this statement.
    pub fn steerable(&self) -> bool {
        self.bans < MAX_BANS
    }

    /// Whether `arm` and `than` both ran and `arm`'s median beats `than`'s by [`WIN_MARGIN`].
    fn beats(&self, arm: ArmId, than: ArmId) -> bool {
        let median = |arm: ArmId| self.arms.get(usize::from(arm)).and_then(ArmRecord::median_ms);
        matches!((median(arm), median(than)), (Some(ms), Some(than_ms)) if ms * WIN_MARGIN <= than_ms)
    }

    /// Whether `arm` (not the default) ran, is not banned, and its median beats the default
    /// plan's by [`WIN_MARGIN`]: an arm being verified ([`Choice::Verifying`]) until it is
    /// verified ([`Self::verified`]).
    pub fn ran_faster(&self, arm: ArmId) -> bool {
        arm != DEFAULT_ARM && !self.is_banned(arm) && self.beats(arm, DEFAULT_ARM)
    }

    /// Whether `arm` is verified faster than the default plan: it ran faster
    /// ([`Self::ran_faster`]) [`VERIFY_RUNS`] times or more, and by more than the runs of both
    /// can tell from noise: its median is below the default plan's by at least [`BOUND_Z`] times
    /// the spread of the two medians' ratio (in log, [`MEASURED_SIGMA`] ×
    /// √(1/default runs + 1/arm runs); 1.46× after one default run and three of the arm's,
    /// 1.31× after three each). A default plan measured once, on a run 20% slower than its
    /// others, would otherwise make an arm no faster than it a winner.
    pub fn verified(&self, arm: ArmId) -> bool {
        let (Some(default), Some(record)) = (self.arms.first(), self.arms.get(usize::from(arm))) else {
            return false;
        };
        if !self.ran_faster(arm) || record.runs() < VERIFY_RUNS {
            return false;
        }
        let spread = MEASURED_SIGMA * math::sqrt(1.0 / default.runs() as f64 + 1.0 / record.runs() as f64);
        record.times.median() * math::exp(BOUND_Z * spread) <= default.times.median()
    }

    /// Whether the default plan is to run again, to be measured: without a verified winner, an
    /// arm ran faster ([`Self::ran_faster`]) [`VERIFY_RUNS`] times or more, and only the default
    /// plan's fewer runs keep it from being verified ([`Self::verified`]).
    pub fn measuring(&self) -> bool {
        self.verified_winner().is_none() && self.lead_awaits_measurement()
    }

    /// [`Self::measuring`], for a caller that knows there is no verified winner.
    fn lead_awaits_measurement(&self) -> bool {
        let default_runs = self.arms[usize::from(DEFAULT_ARM)].runs();
        (1..MAX_ARMS as ArmId).any(|arm| {
            let runs = self.arms[usize::from(arm)].runs();
            self.ran_faster(arm) && runs >= VERIFY_RUNS && default_runs < runs
        })
    }

    /// The fastest arm verified faster than the default plan ([`Self::verified`]).
    pub fn verified_winner(&self) -> Option<ArmId> {
        (1..MAX_ARMS as ArmId).filter(|&arm| self.verified(arm)).min_by(|&a, &b| {
            self.arms[usize::from(a)].times.median().total_cmp(&self.arms[usize::from(b)].times.median())
        })
    }

    /// Whether a planning round of this instance plans `arm` before the others: an arm that ran
    /// faster on it ([`Self::ran_faster`]), or one its `template` verified faster on another
    /// instance ([`Self::template_won`]); what [`decide`] tries first.
    pub fn favours(&self, template: Option<&StatementRecord>, arm: ArmId) -> bool {
        self.ran_faster(arm) || template.is_some_and(|t| t.template_won(arm))
    }

    /// Whether `arm` may replace `winner`, this instance's verified winner: it is not banned
    /// here, and either it never ran here, its `template` verified it faster on another
    /// instance (and did not ban it) and exploring may still risk a run at `explore_rate`
    /// ([`Self::may_explore`]: [`decide`] tries it only then), or it is being verified here
    /// ([`Self::ran_faster`], not [`Self::verified`]) and beats the winner by [`WIN_MARGIN`]
    /// too.
    fn challenges(
        &self,
        template: Option<&StatementRecord>,
        explore_rate: f64,
        winner: ArmId,
        arm: ArmId,
    ) -> bool {
        let Some(record) = self.arms.get(usize::from(arm)) else { return false };
        if arm == winner || arm == DEFAULT_ARM || record.banned {
            return false;
        }
        match record.runs() {
            0 => {
                template.is_some_and(|t| t.template_won(arm) && !t.is_banned(arm))
                    && self.may_explore(explore_rate)
            }
            _ => self.ran_faster(arm) && !self.verified(arm) && self.beats(arm, winner),
        }
    }

    /// Whether this instance's verified winner has a challenger at `explore_rate`: what another
    /// instance of its `template` proved (and exploring may still risk), or an arm that
    /// beat the winner here and is being verified. Only evidence challenges a winner, never a
    /// prediction alone: a winner's planning rounds cost what planning every arm costs, and
    /// trying arms on a guess would risk what the winner saves. `false` without a verified
    /// winner.
    pub fn challenged(&self, template: Option<&StatementRecord>, explore_rate: f64) -> bool {
        self.verified_winner().is_some_and(|winner| self.winner_challenged(template, explore_rate, winner))
    }

    /// [`Self::challenged`], for the verified winner `winner` the caller holds.
    fn winner_challenged(
        &self,
        template: Option<&StatementRecord>,
        explore_rate: f64,
        winner: ArmId,
    ) -> bool {
        (1..MAX_ARMS as ArmId).any(|arm| self.challenges(template, explore_rate, winner, arm))
    }

    /// Whether exploring may risk another run: what runs under other arms lost against the
    /// default plan ([`StatementRecord::lost_ms`]) is at most `explore_rate` of the time all of
    /// the statement's runs would have taken at the default plan's median. So exploration costs
    /// a statement at most that share of its time, plus one run's loss. Never before the default
    /// plan ran, never with a rate of 0.
    ///
    /// No bound on one run's loss is asked for: the learner's plan estimates spread far too
    /// wide for one (a plan's pessimistic bound sums its nodes', 7 to 10,000 times its predicted
    /// time on TPC-DS after training), and bounding a run's loss by it, or by its expected loss
    /// under that spread, stopped every exploration, the 25× wins included.
    pub fn may_explore(&self, explore_rate: f64) -> bool {
        explore_rate > 0.0
            && self.explore_budget_ms(explore_rate).is_some_and(|budget| self.lost_ms <= budget)
    }

    /// What steering may spend on the statement in all at `explore_rate` ([`Self::allowance_ms`]):
    /// `explore_rate` × the statement's runs × the default plan's median; `None` before the
    /// default plan ran.
    pub fn explore_budget_ms(&self, explore_rate: f64) -> Option<f64> {
        let default_ms = self.arms[0].median_ms()?;
        Some(explore_rate * self.runs() as f64 * default_ms)
    }

    /// Whether `arm` is banned for this statement.
    pub fn is_banned(&self, arm: ArmId) -> bool {
        self.arms.get(usize::from(arm)).is_some_and(|record| record.banned)
    }

    /// What steering has cost this statement so far: planning its alternatives, and the runs
    /// of arms that lost against its default plan, in ms.
    pub fn overhead_ms(&self) -> f64 {
        self.planning_ms + self.lost_ms
    }

    /// What steering may still spend on this statement, in ms (negative once it spent more):
    /// `explore_rate` of its time at the default plan's median ([`Self::explore_budget_ms`]),
    /// plus what steering won it, minus what it cost so far ([`Self::overhead_ms`]: planning and
    /// runs of arms that lost). Planning rounds take only what is left of it
    /// ([`Self::round_budget_ms`]), so that planning a statement that steering never speeds up
    /// stays within `explore_rate` of its time from its first runs on.
    pub fn allowance_ms(&self, explore_rate: f64) -> f64 {
        self.explore_budget_ms(explore_rate).unwrap_or(0.0) + self.won_ms - self.overhead_ms()
    }

    /// What the next planning round of this statement may take, in ms: what one round may take
    /// (`round_ms`, a share of one run) at most, and no more than its allowance
    /// ([`Self::allowance_ms`]); 0 when nothing is left.
    pub fn round_budget_ms(&self, explore_rate: f64, round_ms: f64) -> f64 {
        self.allowance_ms(explore_rate).min(round_ms).max(0.0)
    }

    /// Runs recorded, every arm's.
    pub fn runs(&self) -> u64 {
        self.arms.iter().map(ArmRecord::runs).sum()
    }

    /// Whether a planning round is due: always, unless the last rounds found no arm worth running;
    /// after `k` such rounds in a row, once the statement ran `2^k` times more than at the last
    /// round (`k` at most [`MAX_ROUND_WAIT_LOG2`]).
    pub fn round_due(&self) -> bool {
        self.fruitless_rounds == 0
            || self.runs() >= self.round_at_runs + (1u64 << self.fruitless_rounds.min(MAX_ROUND_WAIT_LOG2))
    }

    /// Planning rounds in a row that found no arm worth running.
    pub fn fruitless_rounds(&self) -> u8 {
        self.fruitless_rounds
    }

    /// Whether this is a template's record: what its instances taught, with no runs of its own.
    pub fn is_template(&self) -> bool {
        self.template
    }

    /// In a template's record: whether `arm` was verified faster on one of its instances.
    pub fn template_won(&self, arm: ArmId) -> bool {
        usize::from(arm) < MAX_ARMS && self.template_wins & (1 << arm) != 0
    }

    /// Whether a loaded record is one steering could have built: a key, consistent medians, no
    /// ban of the default plan and as many bans as banned arms, arm numbers in range, sums that
    /// are finite and not negative, its last round no later than its runs, and no runs of its
    /// own in a template's record.
    fn is_consistent(&self) -> bool {
        let banned = self.arms.iter().filter(|arm| arm.banned).count();
        self.fingerprint != 0
            && self.arms.iter().all(|arm| arm.times.is_consistent())
            && !self.arms[usize::from(DEFAULT_ARM)].banned
            && usize::from(self.bans) == banned
            && usize::from(self.last_arm) < MAX_ARMS
            && usize::from(self.advised) <= MAX_ARMS
            && [self.lost_ms, self.won_ms, self.planning_ms].iter().all(|ms| ms.is_finite() && *ms >= 0.0)
            && self.round_at_runs <= self.runs()
            && (!self.template || self.runs() == 0)
    }

    /// Bans `arm` (not the default, `< MAX_ARMS`) if it is not banned yet.
    fn ban(&mut self, arm: ArmId) {
        let index = usize::from(arm);
        if arm != DEFAULT_ARM && index < MAX_ARMS && !self.arms[index].banned {
            self.arms[index].banned = true;
            self.bans = self.bans.saturating_add(1);
        }
    }
}

/// The last-used statements' records, in `N` fixed slots: a statement's record is looked for in
/// a short window of slots after its fingerprint's home slot, and a new statement takes the
/// least recently used slot of that window.
#[derive(Clone, Debug, PartialEq, bytemuck::Zeroable)]
pub struct SteeringMemory<const N: usize> {
    slots: [StatementRecord; N],
    clock: u64,
}

/// Slots looked at for one fingerprint.
const PROBE_WINDOW: usize = 8;

impl<const N: usize> Default for SteeringMemory<N> {
    fn default() -> Self {
        SteeringMemory { slots: [StatementRecord::default(); N], clock: 0 }
    }
}

impl<const N: usize> SteeringMemory<N> {
    /// An empty memory.
    pub fn new() -> Self {
        Self::default()
    }

    fn window(fingerprint: u64) -> impl Iterator<Item = usize> {
        let home = (fingerprint % N as u64) as usize;
        (0..PROBE_WINDOW.min(N)).map(move |i| (home + i) % N)
    }

    /// The statement's record, if it is remembered. Fingerprint 0 is never remembered.
    pub fn get(&self, fingerprint: u64) -> Option<&StatementRecord> {
        self.slot_of(fingerprint).map(|slot| &self.slots[slot])
    }

    /// Where the statement's record is, if it is remembered (fingerprint 0 never is).
    fn slot_of(&self, fingerprint: u64) -> Option<usize> {
        if fingerprint == 0 {
            return None;
        }
        Self::window(fingerprint).find(|&i| self.slots[i].fingerprint == fingerprint)
    }

    /// The statement's record, created (replacing the least recently used record of its window)
    /// if it is not remembered; `None` for fingerprint 0.
    pub fn entry(&mut self, fingerprint: u64) -> Option<&mut StatementRecord> {
        if fingerprint == 0 {
            return None;
        }
        self.clock += 1;
        let slot = self.slot_of(fingerprint).unwrap_or_else(|| {
            let oldest = Self::window(fingerprint)
                .min_by_key(|&i| if self.slots[i].fingerprint == 0 { 0 } else { self.slots[i].last_used })
                .expect("the window is not empty");
            self.slots[oldest] = StatementRecord { fingerprint, ..StatementRecord::default() };
            oldest
        });
        self.slots[slot].last_used = self.clock;
        Some(&mut self.slots[slot])
    }

    /// The remembered records, of instances and of templates.
    pub fn records(&self) -> impl Iterator<Item = &StatementRecord> {
        self.slots.iter().filter(|r| r.fingerprint != 0)
    }

    /// The remembered statement instances (not their templates' records).
    pub fn statements(&self) -> impl Iterator<Item = &StatementRecord> {
        self.records().filter(|r| !r.template)
    }

    /// Records that the instance `instance` of template `template` took `ms` under `arm` (see
    /// [`StatementRecord::record`]), and passes what it proved on to the template's record: an
    /// arm it banned is banned for the template, an arm it verified faster is the template's
    /// win. Keys of 0, or a template key equal to the instance key, only record the run.
    pub fn record_run(&mut self, template: u64, instance: u64, arm: ArmId, ms: f64) -> Verdict {
        let Some(record) = self.entry(instance) else { return Verdict::Recorded };
        if record.template {
            return Verdict::Recorded;
        }
        let was_winner = record.verified_winner();
        let verdict = record.record(arm, ms);
        let now_winner = record.verified_winner();
        if template == instance {
            return verdict;
        }
        let teaches = match verdict {
            Verdict::Banned(arm) => Some((arm, false)),
            Verdict::Recorded => now_winner.filter(|&arm| was_winner != Some(arm)).map(|arm| (arm, true)),
        };
        if let Some((arm, won)) = teaches {
            if let Some(template) = self.template_entry(template) {
                if won {
                    template.template_wins |= 1 << arm;
                } else {
                    template.ban(arm);
                }
            }
        }
        verdict
    }

    /// Adds `ms` of planning alternatives to the instance's record, if it is remembered.
    pub fn add_planning(&mut self, instance: u64, ms: f64) {
        if !(ms.is_finite() && ms > 0.0) {
            return;
        }
        if let Some(record) = self.get_mut(instance) {
            record.planning_ms += ms;
        }
    }

    /// Notes a planning round of the instance's alternatives that took `ms` and chose `choice`:
    /// its planning is charged to the instance ([`Self::add_planning`]), and a round that found
    /// no arm worth running ([`Choice::Default`]: none predicted faster with confidence, none to
    /// verify, none to explore, whatever the draw) makes the next one wait
    /// ([`StatementRecord::round_due`]). A round whose draw only declined to explore an arm
    /// predicted faster ([`Choice::Undrawn`]) does not: another draw may try it.
    pub fn planned_round(&mut self, instance: u64, ms: f64, choice: Choice) {
        self.add_planning(instance, ms);
        if let Some(record) = self.get_mut(instance) {
            record.fruitless_rounds = if matches!(choice, Choice::Default | Choice::Winner(_)) {
                record.fruitless_rounds.saturating_add(1)
            } else {
                0
            };
            record.round_at_runs = record.runs();
        }
    }

    fn get_mut(&mut self, fingerprint: u64) -> Option<&mut StatementRecord> {
        self.slot_of(fingerprint).map(|slot| &mut self.slots[slot])
    }

    /// The template's record, created as one if it is not remembered; `None` if the key is an
    /// instance's.
    fn template_entry(&mut self, template: u64) -> Option<&mut StatementRecord> {
        let record = self.entry(template)?;
        if record.runs() == 0 && record.bans == 0 {
            record.template = true;
        }
        record.template.then_some(record)
    }

    /// Forgets everything, in place (a memory of 1,024 records is over 1 MiB).
    pub fn clear(&mut self) {
        self.slots.fill(StatementRecord::default());
        self.clock = 0;
    }

    /// The remembered records with their slots, and the clock, for saving.
    pub fn snapshot(&self) -> SteeringSnapshot {
        SteeringSnapshot {
            records: (0..N)
                .filter(|&slot| self.slots[slot].fingerprint != 0)
                .map(|slot| (slot as u32, self.slots[slot]))
                .collect(),
            clock: self.clock,
        }
    }

    /// Replaces what is remembered with a saved snapshot, after checking all of it: each record
    /// consistent, in a slot its key may take and no other record takes, used no later than the
    /// saved clock. A snapshot that fails a check changes nothing.
    pub fn restore(&mut self, snapshot: &SteeringSnapshot) -> Result<()> {
        let mut taken = alloc::vec![false; N];
        for &(slot, record) in &snapshot.records {
            let slot = slot as usize;
            let valid = slot < N
                && !taken[slot]
                && Self::window(record.fingerprint).any(|home| home == slot)
                && record.is_consistent()
                && record.last_used <= snapshot.clock
                && snapshot
                    .records
                    .iter()
                    .filter(|(_, other)| other.fingerprint == record.fingerprint)
                    .count()
                    == 1;
            if !valid {
                return Err(LearningError::CorruptState("a steering record is invalid"));
            }
            taken[slot] = true;
        }
        self.clear();
        for &(slot, record) in &snapshot.records {
            self.slots[slot as usize] = record;
        }
        self.clock = snapshot.clock;
        Ok(())
    }
}

/// A [`SteeringMemory`]'s remembered records, each with its slot, and its clock: what is saved.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct SteeringSnapshot {
    pub records: Vec<(u32, StatementRecord)>,
    pub clock: u64,
}

/// The settings of a steering decision.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SteeringSettings {
    /// An alternative is chosen when its pessimistic time times `1 + margin` is below the
    /// default plan's optimistic time.
    pub margin: f64,
    /// The share of a statement's time that steering may spend on it beyond what it won:
    /// planning its alternatives and trying arms not proven faster (see
    /// [`StatementRecord::allowance_ms`]).
    pub explore_rate: f64,
    /// Default-plan runs of a statement before any alternative runs (they are what a steered
    /// run is judged against).
    pub min_default_runs: u64,
}

impl Default for SteeringSettings {
    fn default() -> Self {
        SteeringSettings { margin: 0.2, explore_rate: 0.05, min_default_runs: 1 }
    }
}

/// What to do before planning the alternatives.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Ahead {
    /// Run the default plan; plan nothing else.
    Default,
    /// Run this arm, verified faster: plan only it.
    Winner(ArmId),
    /// Run the default plan to measure it again ([`StatementRecord::measuring`]): what
    /// [`decide`] would choose ([`Choice::Measuring`]), known without planning the arms.
    Measuring,
    /// Plan the alternatives, within `budget_ms` in all (the statement's round budget,
    /// [`StatementRecord::round_budget_ms`]), and [`decide`]. In a round that may replace the
    /// instance's verified winner (one with a challenger), `defending` is the winner: it runs
    /// unless a challenger beats it, so it is planned first, whatever the budget.
    PlanArms { budget_ms: f64, defending: Option<ArmId> },
}

/// Why an alternative was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    /// The default plan.
    Default,
    /// Predicted faster with confidence.
    Predicted(ArmId),
    /// Ran faster than the default plan on this instance, not yet verified
    /// ([`StatementRecord::verified`]).
    Verifying(ArmId),
    /// The default plan, measured again: an arm ran faster [`VERIFY_RUNS`] times, by less than
    /// the default plan's fewer runs can tell from noise ([`StatementRecord::verified`]).
    Measuring,
    /// Verified faster on another instance of the template.
    Generalised(ArmId),
    /// Tried within the exploration budget.
    Explored(ArmId),
    /// The default plan, though an arm is predicted faster and the exploration budget allows
    /// trying it: no arm's Thompson draw beat the default plan's this time.
    Undrawn,
    /// The arm verified faster on this instance: nothing challenged it with evidence.
    Winner(ArmId),
}

impl Choice {
    /// The arm that runs.
    pub fn arm(self) -> ArmId {
        match self {
            Choice::Default | Choice::Undrawn | Choice::Measuring => DEFAULT_ARM,
            Choice::Predicted(arm)
            | Choice::Verifying(arm)
            | Choice::Generalised(arm)
            | Choice::Explored(arm)
            | Choice::Winner(arm) => arm,
        }
    }
}

/// A standard normal draw from two uniform draws in `[0, 1)` (Box–Muller), for [`decide`]'s
/// Thompson sampling.
pub fn standard_normal(mut uniform: impl FnMut() -> f64) -> f64 {
    let u1 = uniform().max(1e-300);
    let u2 = uniform();
    math::sqrt(-2.0 * math::ln(u1)) * math::cos(2.0 * core::f64::consts::PI * u2)
}

/// What planning a statement's alternatives costs, in ms: `round_ms` is what one round of
/// planning them may take, `arm_ms` what planning one arm is expected to take (the default plan's
/// own planning time is the server's estimate).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PlanningCost {
    pub round_ms: f64,
    pub arm_ms: f64,
}

/// Before planning alternatives: a statement whose default plan takes less than `threshold_ms`
/// (as measured, once it ran; as predicted before), one that steering has given up on (or whose
/// template it has), or one without enough default runs yet runs its default plan. A verified
/// winner is reused while what it saves a run is more than planning it costs; a round plans the
/// arms again only when it has a challenger ([`StatementRecord::challenged`]), the round is due
/// and its budget (scaled to the winner's time) holds the winner's planning and a challenger's.
/// Without a winner, the default plan runs again when an arm's lead awaits its measurement
/// ([`StatementRecord::measuring`]; planning the arms would not change that). Otherwise the arms
/// are planned if the statement's round budget
/// ([`StatementRecord::round_budget_ms`]: a round's share of one run, within what steering may
/// still spend on it) holds at least one arm's planning ([`PlanningCost::arm_ms`]), and its next
/// round is due ([`StatementRecord::round_due`]).
pub fn ahead(
    record: Option<&StatementRecord>,
    template: Option<&StatementRecord>,
    default: &PlanEstimate,
    threshold_ms: f64,
    planning: PlanningCost,
    settings: &SteeringSettings,
) -> Ahead {
    let default_ms = record.and_then(|r| r.arms[0].median_ms()).unwrap_or(default.ms);
    if default_ms < threshold_ms {
        return Ahead::Default;
    }
    let Some(record) = record else {
        return Ahead::Default;
    };
    if !record.steerable() || !template.is_none_or(StatementRecord::steerable) {
        return Ahead::Default;
    }
    if record.arms[0].runs() < settings.min_default_runs {
        return Ahead::Default;
    }
    match record.verified_winner() {
        Some(arm) => {
            let winner_ms = record.arms[usize::from(arm)].median_ms().unwrap_or(default_ms);
            if default_ms - winner_ms <= planning.arm_ms {
                return Ahead::Default;
            }
            // A round that may replace the winner plans it and at least one challenger, within a
            // share of the winner's run (the run it precedes).
            let round_ms = if default_ms > 0.0 { planning.round_ms * winner_ms / default_ms } else { 0.0 };
            let budget = record.round_budget_ms(settings.explore_rate, round_ms);
            if record.winner_challenged(template, settings.explore_rate, arm)
                && record.round_due()
                && 2.0 * planning.arm_ms <= budget
            {
                Ahead::PlanArms { budget_ms: budget, defending: Some(arm) }
            } else {
                Ahead::Winner(arm)
            }
        }
        None if record.lead_awaits_measurement() => Ahead::Measuring,
        None => {
            let budget = record.round_budget_ms(settings.explore_rate, planning.round_ms);
            if budget > 0.0 && planning.arm_ms <= budget && record.round_due() {
                Ahead::PlanArms { budget_ms: budget, defending: None }
            } else {
                Ahead::Default
            }
        }
    }
}

/// After planning the alternatives of an instance (`record`) of a template (`template`), in this
/// order:
/// 1. the arm predicted fastest among those whose pessimistic time times `1 + margin` beats the
///    default plan's optimistic time, where each arm's prediction is first scaled up by how much
///    slower the default plan ran than predicted (never down): a confident choice must hold even
///    if the learner misjudges every plan of this statement alike;
/// 2. an arm that ran faster than the default plan on this instance and is not verified yet
///    ([`Choice::Verifying`]), or, once it ran [`VERIFY_RUNS`] times and only the default
///    plan's fewer runs keep it from being verified, the default plan ([`Choice::Measuring`]);
/// 3. while the statement's exploration budget allows ([`StatementRecord::may_explore`]): an arm
///    verified faster on another instance of the template that has not run on this one, unless
///    the learner predicts it slower than the plan it would replace (the default plan, or a
///    verified winner: the two plans predicted, so that a misjudged scope misjudges both alike)
///    ([`Choice::Generalised`]); else,
///    among the arms predicted faster than the default plan ran by [`WIN_MARGIN`] (what a
///    verified winner must be: an arm predicted less faster could not become one, however its
///    runs went), the one whose Thompson draw is smallest, if it beats the default's draw
///    (`normal` yields standard normal draws). Each
///    arm's prediction is first scaled down by how much faster the default plan ran than
///    predicted (never up): a learner that overestimates one plan of a statement overestimates
///    its other plans alike (a scope's calibration, the machine), so such an overestimate is
///    the learner's, and is taken out before arms are compared with the default plan's measured
///    time; a default plan slower than predicted is taken to have met a misestimate of its own
///    (the bet exploring makes), which says nothing of the arms. It is then scaled up by how much
///    slower than predicted the arms that ran on this instance ran, each against the default
///    plan (the geometric mean of their measured ratio to the default plan over their predicted
///    one; never down): a learner that overrated some arms of a statement overrates its others
///    alike (on TPC-DS, 50 of 61 explored arms ran slower, relative to the default plan, than
///    predicted, by a median 1.6×), and exploring the next arm on the same hopes lost again;
/// 4. else the default plan.
///
/// With an arm verified faster on this instance (a round [`ahead`] plans only for a challenger):
/// the confident choice must beat the winner's measured time, an arm is verified only if it beat
/// the winner by [`WIN_MARGIN`] too, nothing is explored beyond what the template proved, and
/// the winner runs otherwise ([`Choice::Winner`]).
///
/// Without a `record` (a statement never seen), only 1. applies: with nothing measured, only a
/// confident prediction may replace the default plan.
///
/// An arm banned on this instance, or on another instance of its template without having run
/// on this one, is never chosen. What was measured replaces what was predicted: once an arm (the
/// default plan included) ran for the instance, its median time is its estimate
/// ([`PlanEstimate::measured`]).
pub fn decide(
    record: Option<&StatementRecord>,
    template: Option<&StatementRecord>,
    default: &PlanEstimate,
    candidates: &[Candidate],
    settings: &SteeringSettings,
    mut normal: impl FnMut() -> f64,
) -> Choice {
    let runs = |arm: ArmId| record.and_then(|r| r.arms.get(usize::from(arm))).map_or(0, ArmRecord::runs);
    let measured = |arm: ArmId| {
        record
            .and_then(|r| r.arms.get(usize::from(arm)))
            .and_then(ArmRecord::median_ms)
            .map(PlanEstimate::measured)
    };
    let predicted_default = *default;
    let default = measured(DEFAULT_ARM).unwrap_or(predicted_default);
    let measured_over_predicted =
        if predicted_default.ms > 0.0 { default.ms / predicted_default.ms } else { 1.0 };
    let surprise = measured_over_predicted.max(1.0);
    // How much slower than the learner predicted, against the default plan, the arms that ran
    // on this instance ran (the geometric mean over them of their median over the default plan's,
    // over their estimate over the default plan's; never below 1).
    let misjudged = {
        let (sum, count) = candidates
            .iter()
            .filter(|c| c.arm != DEFAULT_ARM && runs(c.arm) > 0)
            .filter_map(|c| {
                let ran = measured(c.arm)?.ms / default.ms;
                let expected = c.estimate.ms / predicted_default.ms;
                Some(math::ln(ran / expected)).filter(|error| error.is_finite())
            })
            .fold((0.0, 0u32), |(sum, count), error| (sum + error, count + 1));
        if count == 0 {
            1.0
        } else {
            math::exp(sum / f64::from(count)).max(1.0)
        }
    };
    let allowed = |c: &Candidate| {
        c.arm != DEFAULT_ARM
            && usize::from(c.arm) < MAX_ARMS
            && !record.is_some_and(|r| r.is_banned(c.arm))
            && (runs(c.arm) > 0 || !template.is_some_and(|t| t.is_banned(c.arm)))
    };
    // With a verified winner, an arm is judged against the winner, which runs if none beats it.
    let winner = record.and_then(StatementRecord::verified_winner);
    // What an arm proved on another instance would replace here, as the learner predicts it:
    // the winner's plan, or the default plan (`None` when the winner was not planned).
    let replaced_ms = match winner {
        Some(winner) => candidates.iter().find(|c| c.arm == winner).map(|c| c.estimate.ms),
        None => Some(predicted_default.ms),
    };
    let candidates = candidates.iter().filter(|c| allowed(c)).map(|c| match measured(c.arm) {
        Some(measured) => (Candidate { arm: c.arm, estimate: measured }, measured),
        None => (Candidate { arm: c.arm, estimate: c.estimate }, c.estimate.scaled(surprise)),
    });
    let reference = winner.and_then(measured).unwrap_or(default);
    let beats_winner = |arm: ArmId| winner.is_none_or(|winner| record.is_some_and(|r| r.beats(arm, winner)));
    let fallback = winner.map_or(Choice::Default, Choice::Winner);
    let confident = candidates
        .clone()
        .filter(|(_, cautious)| cautious.high_ms * (1.0 + settings.margin) < reference.low_ms)
        .min_by(|a, b| a.1.ms.total_cmp(&b.1.ms));
    if let Some((best, _)) = confident {
        return Choice::Predicted(best.arm);
    }
    let verifying = candidates
        .clone()
        .filter(|(c, _)| {
            record.is_some_and(|r| r.ran_faster(c.arm) && !r.verified(c.arm)) && beats_winner(c.arm)
        })
        .min_by(|a, b| a.0.estimate.ms.total_cmp(&b.0.estimate.ms));
    if let Some((arm, _)) = verifying {
        // An arm ran often enough, but its lead is within what the default plan's fewer runs
        // can tell: the default plan runs again, until it ran as often as the arm.
        if winner.is_none() && record.is_some_and(StatementRecord::lead_awaits_measurement) {
            return Choice::Measuring;
        }
        return Choice::Verifying(arm.arm);
    }
    if !record.is_some_and(|r| r.may_explore(settings.explore_rate)) {
        return fallback;
    }
    // Within the exploration budget: what another instance of the template proved is tried
    // first, since it is no proof for this one (an arm that wins on one instance can time out
    // on another).
    let generalised = candidates
        .clone()
        .filter(|(c, _)| runs(c.arm) == 0 && template.is_some_and(|t| t.template_won(c.arm)))
        .filter(|(c, _)| replaced_ms.is_some_and(|replaced| c.estimate.ms <= replaced))
        .min_by(|a, b| a.0.estimate.ms.total_cmp(&b.0.estimate.ms));
    if let Some((arm, _)) = generalised {
        return Choice::Generalised(arm.arm);
    }
    // A winner is challenged with evidence only (see StatementRecord::challenged).
    if winner.is_some() {
        return fallback;
    }
    // Thompson sampling, among the arms predicted faster than the default plan: an arm the
    // learner itself expects to be slower is never tried, however wide its spread.
    let mut draw =
        |estimate: &PlanEstimate| math::ln(estimate.ms.max(f64::MIN_POSITIVE)) + estimate.sigma() * normal();
    let default_draw = draw(&default);
    let overestimate = measured_over_predicted.min(1.0);
    let explored = candidates
        .map(|(c, _)| {
            (c.arm, if runs(c.arm) == 0 { c.estimate.scaled(overestimate * misjudged) } else { c.estimate })
        })
        .filter(|(_, estimate)| estimate.ms * WIN_MARGIN <= default.ms)
        .map(|(arm, estimate)| (arm, draw(&estimate)))
        .min_by(|a, b| a.1.total_cmp(&b.1));
    match explored {
        Some((arm, sampled)) if sampled < default_draw => Choice::Explored(arm),
        Some(_) => Choice::Undrawn,
        None => Choice::Default,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::test_support::TestRng;

    fn plan(ms: f64, sigma: f64) -> PlanEstimate {
        PlanEstimate::of([NodeEstimate { ms, sigma }])
    }

    /// Whether `ahead` plans the arms.
    fn plans(ahead: Ahead) -> bool {
        matches!(ahead, Ahead::PlanArms { .. })
    }

    /// Planning that may take `round_ms` a round, an arm taking nothing.
    fn round(round_ms: f64) -> PlanningCost {
        PlanningCost { round_ms, arm_ms: 0.0 }
    }

    #[test]
    fn a_plan_sums_its_nodes_and_its_bounds_widen_with_uncertainty() {
        let nodes = [NodeEstimate { ms: 10.0, sigma: 0.0 }, NodeEstimate { ms: 5.0, sigma: 1.0 }];
        let estimate = PlanEstimate::of(nodes);
        assert_eq!(estimate.ms, 15.0);
        let spread = (BOUND_Z * 1.0f64).exp();
        assert!((estimate.low_ms - (10.0 + 5.0 / spread)).abs() < 1e-9);
        assert!((estimate.high_ms - (10.0 + 5.0 * spread)).abs() < 1e-9);
        assert!(plan(10.0, 0.5).sigma() > 0.49 && plan(10.0, 0.5).sigma() < 0.51);
    }

    #[test]
    fn an_alternative_is_chosen_only_when_better_with_confidence() {
        let settings = SteeringSettings { explore_rate: 0.0, ..SteeringSettings::default() };
        let default = plan(100.0, 0.1);
        let no_normal = || 0.0;
        // Much faster and well known: chosen.
        let fast = Candidate { arm: 2, estimate: plan(10.0, 0.1) };
        assert_eq!(decide(None, None, &default, &[fast], &settings, no_normal), Choice::Predicted(2));
        // Faster on average but uncertain (its pessimistic bound is above the default's
        // optimistic one): not chosen.
        let unsure = Candidate { arm: 3, estimate: plan(50.0, 1.0) };
        assert_eq!(decide(None, None, &default, &[unsure], &settings, no_normal), Choice::Default);
        // Among the confident ones, the fastest.
        let faster = Candidate { arm: 4, estimate: plan(5.0, 0.1) };
        assert_eq!(
            decide(None, None, &default, &[fast, unsure, faster], &settings, no_normal),
            Choice::Predicted(4)
        );
        // A statement never seen (no record) explores nothing, whatever the exploration rate and
        // the draw: only a confident prediction replaces its default plan.
        let exploring = SteeringSettings::default();
        assert_eq!(decide(None, None, &default, &[unsure], &exploring, || -3.0), Choice::Default);
        assert_eq!(decide(None, None, &default, &[unsure, fast], &exploring, || -3.0), Choice::Predicted(2));
        // A banned arm is never chosen.
        let mut record = StatementRecord { fingerprint: 1, ..Default::default() };
        record.arms[4].banned = true;
        assert_eq!(
            decide(Some(&record), None, &default, &[fast, faster], &settings, no_normal),
            Choice::Predicted(2)
        );
    }

    #[test]
    fn a_default_plan_measured_much_slower_than_predicted_is_worth_exploring_not_a_sure_switch() {
        let settings = SteeringSettings { explore_rate: 0.0, ..SteeringSettings::default() };
        // The model thinks both plans take about 50 ms and knows little.
        let default = plan(50.0, 1.4);
        let alternative = Candidate { arm: 1, estimate: plan(40.0, 1.4) };
        assert_eq!(decide(None, None, &default, &[alternative], &settings, || 0.0), Choice::Default);
        // The default plan was measured at 5 s: the learner may misjudge every plan of this
        // statement alike, so the alternative is no confident choice...
        let mut record = StatementRecord { fingerprint: 3, ..Default::default() };
        record.record(DEFAULT_ARM, 5000.0);
        assert_eq!(decide(Some(&record), None, &default, &[alternative], &settings, || 0.0), Choice::Default);
        // ...but worth trying within the exploration budget, which 2 runs at 5% allow.
        record.record(DEFAULT_ARM, 5000.0);
        let exploring = SteeringSettings { explore_rate: 0.05, ..settings };
        assert_eq!(
            decide(Some(&record), None, &default, &[alternative], &exploring, || 0.0),
            Choice::Explored(1)
        );
        // One predicted faster by far more than the learner's surprise is a confident choice.
        let much_faster = Candidate { arm: 2, estimate: plan(0.5, 0.1) };
        assert_eq!(
            decide(Some(&record), None, &default, &[alternative, much_faster], &settings, || 0.0),
            Choice::Predicted(2)
        );
        // Measured at 60 ms, as predicted: no switch.
        let mut fine = StatementRecord { fingerprint: 4, ..Default::default() };
        fine.record(DEFAULT_ARM, 60.0);
        assert_eq!(decide(Some(&fine), None, &default, &[alternative], &settings, || 0.0), Choice::Default);
    }

    #[test]
    fn arms_that_ran_slower_than_predicted_make_the_others_explored_on_estimates_as_pessimistic() {
        let settings = SteeringSettings { explore_rate: 1.0, ..SteeringSettings::default() };
        let default = plan(100.0, 0.5);
        let mut record = StatementRecord { fingerprint: 9, ..Default::default() };
        record.record(DEFAULT_ARM, 100.0);
        let candidates = [
            Candidate { arm: 1, estimate: plan(50.0, 0.5) },
            Candidate { arm: 2, estimate: plan(70.0, 0.5) },
        ];
        assert_eq!(
            decide(Some(&record), None, &default, &candidates, &settings, || 0.0),
            Choice::Explored(1),
            "nothing but the default plan ran: the arm predicted fastest is explored"
        );
        // Arm 1 ran as long as the default plan, predicted at half of it: misjudged 2×, so arm
        // 2, predicted at 0.7 of the default plan, is expected at 1.4 of it.
        assert_eq!(record.record(1, 100.0), Verdict::Recorded);
        assert_eq!(decide(Some(&record), None, &default, &candidates, &settings, || 0.0), Choice::Default);
        // An arm predicted at 0.3 of the default plan is still expected faster (0.6).
        let far = [candidates[0], Candidate { arm: 3, estimate: plan(30.0, 0.5) }];
        assert_eq!(decide(Some(&record), None, &default, &far, &settings, || 0.0), Choice::Explored(3));
        // An arm that ran faster than predicted scales nothing down.
        let mut lucky = StatementRecord { fingerprint: 10, ..Default::default() };
        lucky.record(DEFAULT_ARM, 100.0);
        lucky.record(1, 95.0);
        let slow_guess = [
            Candidate { arm: 1, estimate: plan(150.0, 0.5) },
            Candidate { arm: 2, estimate: plan(95.0, 0.5) },
        ];
        assert_eq!(decide(Some(&lucky), None, &default, &slow_guess, &settings, || 0.0), Choice::Default);
    }

    #[test]
    fn exploring_compares_arms_with_the_default_plan_as_the_learner_judges_them_against_each_other() {
        let settings = SteeringSettings { explore_rate: 0.05, ..SteeringSettings::default() };
        // The learner predicts 400 s for the default plan and 20 s for an alternative; the default
        // plan ran in 19 s. The learner overestimates this statement's plans some 20 times (as it
        // did TPC-DS Q04's after one pass): the alternative, a twentieth of the default plan, is
        // worth a try, although its prediction is above the default plan's measured time.
        let default = plan(400_000.0, 0.5);
        let alternative = Candidate { arm: 1, estimate: plan(20_000.0, 0.5) };
        let mut record = StatementRecord { fingerprint: 7, ..Default::default() };
        record.record(DEFAULT_ARM, 19_000.0);
        assert_eq!(
            decide(Some(&record), None, &default, &[alternative], &settings, || 0.0),
            Choice::Explored(1)
        );
        // One the learner predicts slower than the default plan stays untried, however fast
        // against the measured time its prediction would look scaled.
        let slower = Candidate { arm: 2, estimate: plan(500_000.0, 0.5) };
        assert_eq!(decide(Some(&record), None, &default, &[slower], &settings, || 0.0), Choice::Default);
        // A default plan slower than predicted scales nothing up: an arm predicted faster than
        // it ran is tried, as predicted.
        let quick = plan(1_000.0, 0.5);
        let mid = Candidate { arm: 3, estimate: plan(5_000.0, 0.5) };
        assert_eq!(decide(Some(&record), None, &quick, &[mid], &settings, || 0.0), Choice::Explored(3));
        // One predicted faster, but by less than a verified winner must be, is not worth a try.
        let barely = Candidate { arm: 4, estimate: plan(400_000.0 / 1.05, 0.5) };
        assert_eq!(decide(Some(&record), None, &default, &[barely], &settings, || 0.0), Choice::Default);
        let enough = Candidate { arm: 4, estimate: plan(400_000.0 / 1.15, 0.5) };
        assert_eq!(decide(Some(&record), None, &default, &[enough], &settings, || 0.0), Choice::Explored(4));
        // The draw still decides: a bad draw for the arm leaves the default plan.
        let mut draws = [0.0, 10.0].into_iter();
        assert_eq!(
            decide(Some(&record), None, &default, &[alternative], &settings, || draws.next().unwrap_or(0.0)),
            Choice::Undrawn
        );
    }

    #[test]
    fn a_confident_choice_holds_when_the_learner_underestimates_every_plan_alike() {
        let settings = SteeringSettings { explore_rate: 0.0, ..SteeringSettings::default() };
        // The learner predicts 10 ms for the default plan and 7 ms for the alternative, but the
        // default plan ran in 100 ms: if it underestimates both alike, the alternative takes 70,
        // not faster by the margin.
        let default = plan(10.0, 0.1);
        let alternative = Candidate { arm: 1, estimate: plan(7.0, 0.1) };
        let mut record = StatementRecord { fingerprint: 5, ..Default::default() };
        record.record(DEFAULT_ARM, 100.0);
        assert_eq!(decide(Some(&record), None, &default, &[alternative], &settings, || 0.0), Choice::Default);
        // Predicted at 2 ms, it would take 20 if misjudged alike: still confident.
        let faster = Candidate { arm: 2, estimate: plan(2.0, 0.1) };
        assert_eq!(decide(Some(&record), None, &default, &[faster], &settings, || 0.0), Choice::Predicted(2));
        // A default plan faster than predicted never makes an alternative look faster than
        // predicted: scaled down by 6/100 it would be confident, as predicted (7 ms against
        // 6 ms measured) it is not.
        let mut quick = StatementRecord { fingerprint: 6, ..Default::default() };
        quick.record(DEFAULT_ARM, 6.0);
        let slow_prediction = plan(100.0, 0.1);
        assert_eq!(
            decide(Some(&quick), None, &slow_prediction, &[alternative], &settings, || 0.0),
            Choice::Default
        );
    }

    #[test]
    fn exploration_stays_within_its_budget_and_prefers_plausibly_faster_arms() {
        let settings = SteeringSettings { explore_rate: 0.05, ..SteeringSettings::default() };
        let default = plan(100.0, 0.5);
        // Arm 1 looks a little faster but takes 150 ms; arm 2 looks 10x slower.
        let candidates = [
            Candidate { arm: 1, estimate: plan(80.0, 0.5) },
            Candidate { arm: 2, estimate: plan(1000.0, 0.5) },
        ];
        let actual = |arm: ArmId| [100.0, 150.0, 20.0][usize::from(arm)];
        let mut rng = TestRng(3);
        let mut record = StatementRecord { fingerprint: 1, ..Default::default() };
        assert_eq!(
            decide(Some(&record), None, &default, &candidates, &settings, || rng.normal()),
            Choice::Default,
            "no exploring before the default plan ran"
        );
        let (mut total, mut explored, mut undrawn, mut worst) = (0.0, 0, 0, 0.0f64);
        for _ in 0..2000 {
            let choice = decide(Some(&record), None, &default, &candidates, &settings, || rng.normal());
            assert_ne!(choice.arm(), 2, "an arm predicted 10x slower is never tried");
            assert!(!matches!(choice, Choice::Predicted(_)), "nothing is better with confidence");
            explored += usize::from(matches!(choice, Choice::Explored(_)));
            // Before arm 1 ran, a draw that declined it says so; once it ran slower, nothing
            // is left to explore.
            undrawn += usize::from(choice == Choice::Undrawn);
            if record.arms[1].runs() > 0 {
                assert!(matches!(choice, Choice::Default), "{choice:?}");
            }
            let ms = actual(choice.arm());
            worst = worst.max(ms - 100.0);
            total += ms;
            record.record(choice.arm(), ms);
        }
        assert_eq!(explored, 1, "the plausible arm was tried, and not again once it ran slower");
        assert!(undrawn > 0, "some draws declined it first");
        // What exploring lost is within its share of the statement's time, plus one run.
        assert!(record.lost_ms <= 0.05 * total + worst, "lost {} of {total}", record.lost_ms);
        // A rate of 0 never explores.
        let mut fresh = StatementRecord { fingerprint: 2, ..Default::default() };
        assert_eq!(fresh.explore_budget_ms(0.05), None, "no budget before the default plan ran");
        fresh.record(DEFAULT_ARM, 100.0);
        fresh.record(DEFAULT_ARM, 100.0);
        assert_eq!(fresh.explore_budget_ms(0.05), Some(10.0), "5% of two runs of 100 ms");
        let none = SteeringSettings { explore_rate: 0.0, ..settings };
        for _ in 0..100 {
            assert_eq!(
                decide(Some(&fresh), None, &default, &candidates[..1], &none, || rng.normal()),
                Choice::Default
            );
        }
    }

    #[test]
    fn an_arm_that_ran_fast_is_judged_on_its_measured_time() {
        let settings = SteeringSettings { explore_rate: 0.0, ..SteeringSettings::default() };
        let default = plan(100.0, 0.5);
        // Predicted no faster, uncertain; but it ran once in 20 ms against a 100 ms default.
        let arm = Candidate { arm: 3, estimate: plan(100.0, 1.4) };
        let mut record = StatementRecord { fingerprint: 7, ..Default::default() };
        record.record(DEFAULT_ARM, 100.0);
        assert_eq!(decide(Some(&record), None, &default, &[arm], &settings, || 0.0), Choice::Default);
        record.record(3, 20.0);
        assert_eq!(decide(Some(&record), None, &default, &[arm], &settings, || 0.0), Choice::Predicted(3));
    }

    #[test]
    fn a_slower_arm_is_banned_and_enough_bans_stop_steering() {
        let mut record = StatementRecord { fingerprint: 9, ..Default::default() };
        // No default run yet: nothing to compare with.
        assert_eq!(record.record(1, 500.0), Verdict::Recorded);
        for ms in [100.0, 110.0, 90.0] {
            record.record(DEFAULT_ARM, ms);
        }
        // Much slower at once: a single run 1.3 times the default's median is enough.
        assert_eq!(record.record(2, 135.0), Verdict::Banned(2));
        assert!(record.is_banned(2));
        // A little slower, on both of its first two runs.
        assert_eq!(record.record(3, 108.0), Verdict::Recorded);
        assert_eq!(record.record(3, 110.0), Verdict::Banned(3));
        // As fast as the default plan, within the noise: kept.
        assert_eq!(record.record(5, 104.0), Verdict::Recorded);
        assert_eq!(record.record(5, 102.0), Verdict::Recorded);
        assert!(!record.is_banned(5));
        assert!(record.steerable());
        assert_eq!(record.record(4, 400.0), Verdict::Banned(4));
        assert!(!record.steerable());
        // What the slower runs lost against the default's median is counted.
        assert!(record.lost_ms > 300.0 + 35.0, "lost {}", record.lost_ms);
        // Bad input changes nothing.
        let before = record;
        assert_eq!(record.record(5, f64::NAN), Verdict::Recorded);
        assert_eq!(record.record(MAX_ARMS as ArmId, 1.0), Verdict::Recorded);
        assert_eq!(record, before);
    }

    #[test]
    fn instances_are_judged_on_their_own_runs_and_teach_their_template() {
        let settings = SteeringSettings { explore_rate: 0.05, ..SteeringSettings::default() };
        let mut memory = SteeringMemory::<64>::new();
        let template = 0x11;
        let (large, small, unseen) = (
            instance_key(template, b"x = 1"),
            instance_key(template, b"x = 2"),
            instance_key(template, b"x = 3"),
        );
        assert!(large != small && small != unseen && large != template);
        // The large instance takes 1 s by default and 300 ms under arm 1: verified faster.
        for _ in 0..2 {
            memory.record_run(template, large, DEFAULT_ARM, 1000.0);
        }
        for _ in 0..VERIFY_RUNS {
            assert_eq!(memory.record_run(template, large, 1, 300.0), Verdict::Recorded);
        }
        assert_eq!(memory.get(large).unwrap().verified_winner(), Some(1));
        let taught = *memory.get(template).unwrap();
        assert!(taught.is_template() && taught.template_won(1) && !taught.template_won(2));
        // The small instance, 20 ms by default, tries it within its exploration budget once it
        // ran its default plan...
        memory.record_run(template, small, DEFAULT_ARM, 20.0);
        let no_budget = SteeringSettings { explore_rate: 0.0, ..settings };
        assert_eq!(
            decide(
                memory.get(small),
                memory.get(template),
                &plan(20.0, 0.5),
                &[Candidate { arm: 1, estimate: plan(15.0, 0.5) }],
                &no_budget,
                || 0.0
            ),
            Choice::Default,
            "what another instance proved is no proof for this one: only within the budget"
        );
        let predicted = plan(20.0, 0.5);
        let arm1 = Candidate { arm: 1, estimate: plan(15.0, 0.5) };
        let arm2 = Candidate { arm: 2, estimate: plan(15.0, 0.5) };
        let choose = |memory: &SteeringMemory<64>, key: u64| {
            decide(memory.get(key), memory.get(template), &predicted, &[arm1, arm2], &settings, || 0.0)
        };
        assert_eq!(choose(&memory, small), Choice::Generalised(1));
        // ...unless the learner predicts it slower there.
        let slower = Candidate { arm: 1, estimate: plan(25.0, 0.5) };
        assert_eq!(
            decide(memory.get(small), memory.get(template), &predicted, &[slower], &settings, || 0.0),
            Choice::Default
        );
        // On the small instance arm 1 takes 3 times its default (not the large one's 1 s median):
        // banned there at once, and for the template.
        assert_eq!(memory.record_run(template, small, 1, 60.0), Verdict::Banned(1));
        assert!(memory.get(template).unwrap().is_banned(1));
        // A third instance never tries it, by prediction or exploration...
        memory.record_run(template, unseen, DEFAULT_ARM, 500.0);
        let much_faster = Candidate { arm: 1, estimate: plan(1.0, 0.1) };
        let exploring = SteeringSettings { explore_rate: 1.0, ..settings };
        for _ in 0..3 {
            memory.record_run(template, unseen, DEFAULT_ARM, 500.0);
        }
        assert_eq!(
            decide(memory.get(unseen), memory.get(template), &predicted, &[much_faster], &exploring, || 0.0),
            Choice::Default
        );
        // ...while the large instance keeps its verified winner.
        assert_eq!(
            ahead(
                memory.get(large),
                memory.get(template),
                &predicted,
                10.0,
                PlanningCost::default(),
                &settings
            ),
            Ahead::Winner(1)
        );
        // The steering view lists instances, not templates.
        assert_eq!(memory.statements().count(), 3);
        assert_eq!(memory.records().count(), 4);
        // A template with MAX_BANS arms banned is not steered any more, on any instance.
        for arm in 2..=MAX_BANS {
            memory.record_run(template, unseen, arm, 5000.0);
        }
        assert!(!memory.get(template).unwrap().steerable());
        assert_eq!(
            ahead(
                memory.get(large),
                memory.get(template),
                &predicted,
                10.0,
                PlanningCost::default(),
                &settings
            ),
            Ahead::Default
        );
    }

    #[test]
    fn an_arm_that_ran_faster_is_verified_before_anything_else_is_tried() {
        let settings = SteeringSettings { explore_rate: 0.0, ..SteeringSettings::default() };
        let default = plan(100.0, 0.5);
        let arms = [
            Candidate { arm: 1, estimate: plan(90.0, 0.5) },
            Candidate { arm: 2, estimate: plan(80.0, 0.5) },
        ];
        let mut record = StatementRecord { fingerprint: 8, ..Default::default() };
        record.record(DEFAULT_ARM, 100.0);
        record.record(1, 60.0);
        assert_eq!(decide(Some(&record), None, &default, &arms, &settings, || 0.0), Choice::Verifying(1));
        record.record(1, 62.0);
        assert_eq!(decide(Some(&record), None, &default, &arms, &settings, || 0.0), Choice::Verifying(1));
        record.record(1, 61.0);
        assert_eq!(record.verified_winner(), Some(1));
        assert_eq!(
            decide(Some(&record), None, &default, &arms, &settings, || 0.0),
            Choice::Winner(1),
            "verified: it runs"
        );
        // One no faster than the default plan by the margin is not pursued.
        let mut close = StatementRecord { fingerprint: 9, ..Default::default() };
        close.record(DEFAULT_ARM, 100.0);
        close.record(1, 95.0);
        assert_eq!(decide(Some(&close), None, &default, &arms, &settings, || 0.0), Choice::Default);
    }

    #[test]
    fn a_lead_within_the_noise_of_the_default_plans_runs_is_verified_only_once_they_tell_it() {
        let settings = SteeringSettings::default();
        let default = plan(100.0, 0.5);
        let arms = [Candidate { arm: 1, estimate: plan(90.0, 0.5) }];
        let choose =
            |record: &StatementRecord| decide(Some(record), None, &default, &arms, &settings, || 0.0);
        // Far faster than one default run can be by chance: verified after three runs.
        let mut clear = StatementRecord { fingerprint: 50, ..Default::default() };
        clear.record(DEFAULT_ARM, 100.0);
        for ms in [60.0, 62.0, 59.0] {
            clear.record(1, ms);
        }
        assert_eq!(clear.verified_winner(), Some(1));
        // 1.25× faster than one default run: the default plan runs again before the arm does,
        // and the two take turns until their runs tell the lead from noise.
        let mut close = StatementRecord { fingerprint: 51, ..Default::default() };
        close.record(DEFAULT_ARM, 100.0);
        for ms in [80.0, 79.0, 81.0] {
            close.record(1, ms);
        }
        assert!(close.ran_faster(1) && !close.verified(1) && close.verified_winner().is_none());
        assert_eq!(choose(&close), Choice::Measuring);
        let planning = PlanningCost { round_ms: 20.0, arm_ms: 1.0 };
        let known = ahead(Some(&close), None, &default, 10.0, planning, &settings);
        assert_eq!(known, Ahead::Measuring, "known without planning the arms");
        let mut turns = Vec::new();
        while close.verified_winner().is_none() && close.runs() < 30 {
            let choice = choose(&close);
            turns.push(choice.arm());
            close.record(choice.arm(), if choice.arm() == DEFAULT_ARM { 100.0 } else { 80.0 });
        }
        assert_eq!(close.verified_winner(), Some(1), "{turns:?}");
        assert!(!close.measuring());
        assert_eq!(turns[..4], [0, 0, 1, 0], "the default plan catches up, then they take turns");
        assert!(close.arms[0].runs() <= close.arms[1].runs() && close.runs() <= 14, "{turns:?}");
        // The lead a slow first default run made disappears as the default plan runs again.
        let mut lucky = StatementRecord { fingerprint: 52, ..Default::default() };
        lucky.record(DEFAULT_ARM, 100.0);
        for ms in [80.0, 79.0, 81.0] {
            lucky.record(1, ms);
        }
        lucky.record(DEFAULT_ARM, 79.0);
        lucky.record(DEFAULT_ARM, 81.0);
        assert!(!lucky.ran_faster(1) && lucky.verified_winner().is_none());
        assert_ne!(choose(&lucky), Choice::Measuring);
        assert_ne!(choose(&lucky), Choice::Verifying(1));
    }

    #[test]
    fn a_verified_winner_is_challenged_by_what_other_instances_proved_and_only_by_that() {
        let settings = SteeringSettings::default();
        let default = plan(20_000.0, 0.5);
        // Instance e of a template: its default plan takes 20 s, arm 2 was verified at 12.6 s,
        // while arm 1, verified on another instance, never ran here.
        let mut template = StatementRecord { fingerprint: 40, template: true, ..Default::default() };
        template.template_wins = (1 << 1) | (1 << 2);
        let mut record = StatementRecord { fingerprint: 41, ..Default::default() };
        record.record(DEFAULT_ARM, 20_000.0);
        for ms in [12_600.0, 13_200.0, 12_500.0] {
            record.record(2, ms);
        }
        assert_eq!(record.verified_winner(), Some(2));
        assert!(record.challenged(Some(&template), 0.05) && !record.challenged(None, 0.05));
        assert!(!record.challenged(Some(&template), 0.0), "trying another instance's winner is exploring");
        let spent = StatementRecord { lost_ms: 10_000.0, ..record };
        assert!(!spent.challenged(Some(&template), 0.05), "beyond what exploring may lose: no round");
        let planning = PlanningCost { round_ms: 4_000.0, arm_ms: 2.0 };
        assert_eq!(ahead(Some(&record), None, &default, 10.0, planning, &settings), Ahead::Winner(2));
        // The round takes a share of the winner's run, not of the default plan's.
        let Ahead::PlanArms { budget_ms, defending: Some(2) } =
            ahead(Some(&record), Some(&template), &default, 10.0, planning, &settings)
        else {
            panic!("a challenger: the arms are planned");
        };
        assert!((budget_ms - 4_000.0 * 12_600.0 / 20_000.0).abs() < 1e-6, "{budget_ms}");
        // No budget for the winner's planning and a challenger's: the winner runs.
        let dear = PlanningCost { round_ms: 4_000.0, arm_ms: budget_ms * 0.6 };
        assert_eq!(ahead(Some(&record), Some(&template), &default, 10.0, dear, &settings), Ahead::Winner(2));
        // Arm 3 is predicted far faster, but a prediction alone never displaces a winner, however
        // the draw goes; arm 1, proved on another instance, is tried.
        let arms = [
            Candidate { arm: 1, estimate: plan(9_000.0, 1.0) },
            Candidate { arm: 2, estimate: plan(15_000.0, 1.0) },
            Candidate { arm: 3, estimate: plan(100.0, 3.0) },
        ];
        assert_eq!(
            decide(Some(&record), Some(&template), &default, &arms, &settings, || -3.0),
            Choice::Generalised(1)
        );
        assert_eq!(decide(Some(&record), None, &default, &arms, &settings, || -3.0), Choice::Winner(2));
        // What another instance proved is no reason to try an arm the learner predicts slower
        // than the winner's plan here (it may have won less there than the winner wins here),
        // nor one it cannot compare with the winner's plan, which was not planned.
        let mut slower = arms;
        slower[0].estimate = plan(16_000.0, 1.0);
        assert_eq!(
            decide(Some(&record), Some(&template), &default, &slower, &settings, || -3.0),
            Choice::Winner(2)
        );
        assert_eq!(
            decide(Some(&record), Some(&template), &default, &[arms[0], arms[2]], &settings, || -3.0),
            Choice::Winner(2)
        );
        // Arm 1 beats the winner: it runs again (measured this much faster, it is a confident
        // choice as well as one being verified), and replaces the winner once verified.
        for ms in [1_770.0, 1_800.0] {
            record.record(1, ms);
            assert!(record.challenged(Some(&template), 0.0), "verifying is not exploring");
            assert_eq!(decide(Some(&record), Some(&template), &default, &arms, &settings, || 0.0).arm(), 1);
        }
        record.record(1, 1_750.0);
        assert_eq!(record.verified_winner(), Some(1));
        assert!(!record.challenged(Some(&template), 0.05), "nothing left to challenge it");
        assert_eq!(
            ahead(Some(&record), Some(&template), &default, 10.0, planning, &settings),
            Ahead::Winner(1)
        );
        // An arm that ran faster than the default plan but not than the winner is not pursued.
        let mut slow = StatementRecord { fingerprint: 42, ..Default::default() };
        slow.record(DEFAULT_ARM, 20_000.0);
        for ms in [2_000.0, 2_000.0, 2_000.0] {
            slow.record(2, ms);
        }
        slow.record(1, 15_000.0);
        assert!(slow.ran_faster(1) && !slow.challenged(Some(&template), 0.05));
        assert_eq!(
            decide(Some(&slow), Some(&template), &default, &arms, &settings, || 0.0),
            Choice::Winner(2)
        );
        // A round that found nothing to beat the winner makes the next one wait.
        let mut memory = SteeringMemory::<8>::new();
        memory.record_run(40, 43, DEFAULT_ARM, 20_000.0);
        memory.planned_round(43, 1.0, Choice::Winner(2));
        assert_eq!(memory.get(43).unwrap().fruitless_rounds(), 1);
    }

    #[test]
    fn a_round_favours_exactly_the_arms_decide_verifies_or_generalises() {
        let mut template = StatementRecord { fingerprint: 30, template: true, ..Default::default() };
        template.template_wins = 1 << 3;
        let mut record = StatementRecord { fingerprint: 31, ..Default::default() };
        assert!(!record.favours(Some(&template), 1), "nothing ran yet");
        record.record(DEFAULT_ARM, 100.0);
        record.record(1, 80.0);
        record.record(2, 95.0);
        record.record(4, 200.0);
        assert!(record.is_banned(4));
        let favoured: Vec<ArmId> =
            (0..MAX_ARMS as ArmId).filter(|&arm| record.favours(Some(&template), arm)).collect();
        // Arm 2 ran faster, but not by WIN_MARGIN: decide would not verify it, so a round does
        // not spend its first turns on it.
        assert_eq!(favoured, [1, 3]);
        assert!(!record.favours(None, 3), "won on another instance only");
        let settings = SteeringSettings { explore_rate: 0.0, ..SteeringSettings::default() };
        let arms = [1, 2, 3].map(|arm| Candidate { arm, estimate: plan(90.0, 0.5) });
        assert_eq!(
            decide(Some(&record), Some(&template), &plan(100.0, 0.5), &arms, &settings, || 0.0),
            Choice::Verifying(1)
        );
        assert!(!record.favours(None, 1 + MAX_ARMS as ArmId), "past the arms");
    }

    #[test]
    fn a_statement_whose_steering_costs_more_than_it_wins_is_left_alone() {
        let settings = SteeringSettings::default();
        let default = plan(20.0, 0.2);
        let mut record = StatementRecord { fingerprint: 12, ..Default::default() };
        for _ in 0..4 {
            record.record(DEFAULT_ARM, 20.0);
        }
        // 4 runs of 20 ms at 5%: an allowance of 4 ms, which planning spends.
        assert_eq!(record.allowance_ms(0.05), 4.0);
        assert_eq!(
            ahead(Some(&record), None, &default, 10.0, round(4.0), &settings),
            Ahead::PlanArms { budget_ms: 4.0, defending: None }
        );
        record.planning_ms = 3.9;
        assert!((record.round_budget_ms(0.05, 4.0) - 0.1).abs() < 1e-9, "a round takes what is left");
        assert_eq!(
            ahead(Some(&record), None, &default, 10.0, round(4.0), &settings),
            Ahead::PlanArms { budget_ms: record.round_budget_ms(0.05, 4.0), defending: None }
        );
        record.planning_ms = 4.1;
        assert_eq!(record.round_budget_ms(0.05, 4.0), 0.0);
        assert_eq!(ahead(Some(&record), None, &default, 10.0, round(4.0), &settings), Ahead::Default);
        // What steering won pays for more planning, a round's share of one run at most.
        record.record(1, 10.0);
        assert_eq!(record.won_ms, 10.0);
        assert_eq!(record.round_budget_ms(0.05, 4.0), 4.0);
        assert!(plans(ahead(Some(&record), None, &default, 10.0, round(4.0), &settings)));
        // Runs of arms that lost spend the same allowance.
        record.record(2, 25.0);
        assert_eq!(record.lost_ms, 5.0);
        assert!((record.allowance_ms(0.05) - (0.05 * 6.0 * 20.0 + 10.0 - 4.1 - 5.0)).abs() < 1e-9);
        // Planning is added to the statement's record through the memory.
        let mut memory = SteeringMemory::<8>::new();
        memory.add_planning(14, 3.0);
        assert!(memory.get(14).is_none(), "a statement not remembered is not created by planning");
        memory.record_run(13, 14, DEFAULT_ARM, 20.0);
        memory.add_planning(14, 3.0);
        memory.add_planning(14, f64::NAN);
        assert_eq!(memory.get(14).unwrap().planning_ms, 3.0);
    }

    #[test]
    fn rounds_that_find_nothing_wait_twice_as_long_each_time() {
        let settings = SteeringSettings { explore_rate: 1.0, ..SteeringSettings::default() };
        let default = plan(50.0, 0.2);
        let mut memory = SteeringMemory::<8>::new();
        let due = |memory: &SteeringMemory<8>| {
            plans(ahead(memory.get(14), None, &default, 10.0, round(1.0), &settings))
        };
        memory.record_run(13, 14, DEFAULT_ARM, 50.0);
        let mut rounds = Vec::new();
        for run in 1..=40 {
            if due(&memory) {
                rounds.push(run);
                memory.planned_round(14, 0.1, Choice::Default);
            }
            memory.record_run(13, 14, DEFAULT_ARM, 50.0);
        }
        // After the first round, waits of 2, 4, 8 and 16 runs.
        assert_eq!(rounds, [1, 3, 7, 15, 31]);
        assert_eq!(memory.get(14).unwrap().fruitless_rounds(), 5);
        // A round whose draw only declined an arm predicted faster does not wait.
        memory.planned_round(14, 0.1, Choice::Undrawn);
        assert_eq!(memory.get(14).unwrap().fruitless_rounds(), 0);
        assert!(due(&memory));
        for _ in 0..5 {
            memory.planned_round(14, 0.1, Choice::Default);
        }
        // A round that finds an arm worth running ends the waiting.
        memory.planned_round(14, 0.1, Choice::Explored(2));
        assert_eq!(memory.get(14).unwrap().fruitless_rounds(), 0);
        assert!(due(&memory));
        // The wait is bounded.
        for _ in 0..20 {
            memory.planned_round(14, 0.1, Choice::Default);
        }
        let record = memory.get(14).unwrap();
        assert_eq!(record.fruitless_rounds(), 20);
        for _ in 0..(1u64 << MAX_ROUND_WAIT_LOG2) {
            memory.record_run(13, 14, DEFAULT_ARM, 50.0);
        }
        assert!(due(&memory));
    }

    #[test]
    fn planning_that_costs_more_than_it_can_win_is_never_started() {
        let settings = SteeringSettings::default();
        let default = plan(50.0, 0.2);
        let mut record = StatementRecord { fingerprint: 20, ..Default::default() };
        // One arm takes 8 ms to plan and a round may take 10 (20% of 50 ms), but the allowance
        // after one run is 2.5 ms (5% of 50 ms): the statement waits until it holds an arm.
        let cheap = PlanningCost { round_ms: 10.0, arm_ms: 8.0 };
        let first_round = (1..=10).find(|_| {
            record.record(DEFAULT_ARM, 50.0);
            plans(ahead(Some(&record), None, &default, 10.0, cheap, &settings))
        });
        assert_eq!(first_round, Some(4), "planned at the fourth run: 5% of 200 ms holds 8 ms");
        assert_eq!(record.round_budget_ms(0.05, 10.0), 10.0);
        // One arm takes 30 ms (a many-way join): not even one fits in a round.
        let dear = PlanningCost { round_ms: 10.0, arm_ms: 30.0 };
        assert_eq!(ahead(Some(&record), None, &default, 10.0, dear, &settings), Ahead::Default);
        // A verified winner that saves 15 ms a run is reused while planning it costs less.
        for ms in [35.0, 35.0, 35.0] {
            record.record(1, ms);
        }
        assert_eq!(record.verified_winner(), Some(1));
        assert_eq!(ahead(Some(&record), None, &default, 10.0, cheap, &settings), Ahead::Winner(1));
        assert_eq!(
            ahead(
                Some(&record),
                None,
                &default,
                10.0,
                PlanningCost { round_ms: 100.0, arm_ms: 16.0 },
                &settings
            ),
            Ahead::Default
        );
    }

    #[test]
    fn instance_keys_tell_texts_apart_and_never_meet_template_keys() {
        let template = plan_fingerprint_like(7);
        assert_eq!(instance_key(template, b""), template);
        let a = instance_key(template, b"SELECT 1");
        assert_eq!(a, instance_key(template, b"SELECT 1"));
        assert_ne!(a, instance_key(template, b"SELECT 2"));
        assert_ne!(a, instance_key(plan_fingerprint_like(9), b"SELECT 1"));
        for text in [&b"a"[..], b"b", b"SELECT 1", b"\0"] {
            let key = instance_key(template, text);
            assert!(key != 0 && key.is_multiple_of(2), "instance keys are even, template keys odd");
        }
    }

    /// A key as the server makes a template's: odd, never 0.
    fn plan_fingerprint_like(seed: u64) -> u64 {
        crate::plan::memory::fold_signature(0, seed) | 1
    }

    #[test]
    fn a_verified_winner_is_reused_and_cheap_or_unknown_statements_run_their_default() {
        let settings = SteeringSettings::default();
        let default = plan(100.0, 0.2);
        let mut record = StatementRecord { fingerprint: 5, ..Default::default() };
        assert_eq!(
            ahead(Some(&record), None, &default, 10.0, round(20.0), &settings),
            Ahead::Default,
            "no default run yet"
        );
        record.record(DEFAULT_ARM, 100.0);
        assert!(plans(ahead(Some(&record), None, &default, 10.0, round(20.0), &settings)));
        assert_eq!(
            ahead(None, None, &plan(2.0, 0.2), 10.0, round(20.0), &settings),
            Ahead::Default,
            "predicted cheap"
        );
        assert!(
            plans(ahead(Some(&record), None, &plan(2.0, 0.2), 10.0, round(20.0), &settings)),
            "measured slow"
        );
        assert_eq!(ahead(None, None, &default, 10.0, round(20.0), &settings), Ahead::Default, "first seen");
        for ms in [20.0, 22.0, 21.0] {
            assert_eq!(record.record(1, ms), Verdict::Recorded);
        }
        assert_eq!(record.verified_winner(), Some(1));
        assert_eq!(ahead(Some(&record), None, &default, 10.0, round(20.0), &settings), Ahead::Winner(1));
        // Not better enough: no winner.
        let mut close = StatementRecord { fingerprint: 6, ..Default::default() };
        close.record(DEFAULT_ARM, 100.0);
        for ms in [95.0, 96.0, 97.0] {
            close.record(1, ms);
        }
        assert_eq!(close.verified_winner(), None);
    }

    #[test]
    fn a_saved_memory_restores_exactly_and_a_damaged_one_changes_nothing() {
        let mut memory = SteeringMemory::<16>::new();
        for (instance, ms) in [(3, 50.0), (19, 60.0), (4, 70.0)] {
            memory.record_run(100, instance, DEFAULT_ARM, ms);
            memory.record_run(100, instance, 1, ms * 2.0);
        }
        memory.planned_round(3, 1.5, Choice::Default);
        let snapshot = memory.snapshot();
        let mut restored = SteeringMemory::<16>::new();
        restored.restore(&snapshot).unwrap();
        assert_eq!(restored, memory);
        assert_eq!(restored.get(3).unwrap().fruitless_rounds(), 1);
        // Each kind of damage is refused, and the memory keeps what it had.
        let damaged: [fn(&mut SteeringSnapshot); 7] = [
            |s| s.records[0].0 = 99,                                           // past the slots
            |s| s.records[0].0 = (s.records[0].1.fingerprint as u32 + 9) % 16, // outside its window
            |s| s.records[1].0 = s.records[0].0,                               // a slot taken twice
            |s| s.records[0].1.bans = 5,                                       // bans that no arm carries
            |s| s.records[0].1.arms[0].banned = true,                          // the default plan banned
            |s| s.records[0].1.won_ms = -1.0,                                  // a negative sum
            |s| s.clock = 0,                                                   // used after the clock
        ];
        for (i, damage) in damaged.iter().enumerate() {
            let mut bad = snapshot.clone();
            damage(&mut bad);
            assert!(restored.restore(&bad).is_err(), "damage {i} is refused");
            assert_eq!(restored, memory, "damage {i} changes nothing");
        }
        // Slots 3 to 6 hold instance 3, template 100, instances 19 and 4; 7 is free and in
        // instance 3's window.
        let mut twice = snapshot.clone();
        assert_eq!(twice.records[0].1.fingerprint, 3);
        let mut copy = twice.records[0];
        copy.0 = 7;
        twice.records.push(copy);
        assert!(restored.restore(&twice).is_err(), "one key in two slots");
        assert_eq!(restored, memory);
    }

    #[test]
    fn the_memory_finds_statements_and_replaces_the_least_recently_used() {
        let mut memory = SteeringMemory::<16>::new();
        assert!(memory.entry(0).is_none());
        for fingerprint in 1..=8u64 {
            memory.entry(fingerprint * 16).unwrap().record(DEFAULT_ARM, fingerprint as f64);
        }
        // All eight share a home slot: a ninth replaces the least recently used (16), but only
        // after 32 was used again and so is kept.
        memory.entry(32).unwrap();
        memory.entry(9 * 16).unwrap();
        assert!(memory.get(16).is_none());
        assert!(memory.get(32).is_some());
        assert_eq!(memory.get(48).unwrap().arms[0].runs(), 1);
        assert_eq!(memory.records().count(), 8);
        memory.clear();
        assert_eq!(memory.records().count(), 0);
    }
}
