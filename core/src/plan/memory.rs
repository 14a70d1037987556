//! What the linear time model keeps getting wrong about one recurring plan node.
//!
//! Most database workloads run the same statements with different parameters, so the same plan
//! node (the same operator at the same place of the same plan shape, over the same tables)
//! executes again and again. Where the planner misjudges such a node (a misestimated
//! cardinality, a skewed key), the error recurs with it, and no model of plan-time features can
//! see it. The memory keeps, per node signature (a hash of that structure, computed by the
//! caller), a running mean of the linear model's log residual, and adds it back, shrunk by how
//! often it was seen:
//!
//! ```text
//!   e  = clamp(ln(actual / baseline) − c_linear, −E, E)       (E = ln 1000)
//!   n ← min(n + 1, N);   m ← m + (e − m)/n                     (N = 32: the latest ~32 runs)
//!   correction = c_linear + m·n/(n + 1)                        (one run counts half)
//! ```
//!
//! The table is fixed-size (no heap, so it can live in shared memory): open addressing over
//! [`PLAN_MEMORY_SLOTS`] slots, probing [`PROBE`] slots from the signature's home slot; when all
//! of them are taken, the least-seen entry among them makes room.

use crate::error::{LearningError, Result};
use crate::numeric::kernels;
use crate::scope::OperatorScope;

/// Slots in the memory: recurring plan nodes it can tell apart at once.
pub const PLAN_MEMORY_SLOTS: usize = 2048;
/// Runs a residual is averaged over, at most.
pub const MEMORY_WINDOW: u16 = 32;
/// The largest residual one run contributes, in e-folds (as large as a correction may be).
const RESIDUAL_LIMIT: f64 = crate::limits::MAX_CORRECTION;
/// Slots searched for a signature.
const PROBE: usize = 8;

/// Folds one structural fact of a plan node (its type, its table, its parent's signature, ...)
/// into its signature. Built on SplitMix64's mixing, which is the same on every platform and in
/// every version, so saved memories stay valid.
pub fn fold_signature(signature: u64, fact: u64) -> u64 {
    kernels::mix64((signature ^ fact).wrapping_add(kernels::GOLDEN_GAMMA))
}

/// One remembered node: its signature, its scope's id, how often it ran (capped at the window)
/// and its mean residual. `count == 0` marks a free slot.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize, bytemuck::Zeroable,
)]
pub struct MemoryEntry {
    pub signature: u64,
    pub residual: f32,
    pub count: u16,
    pub scope: u8,
}

/// The memory; see the module documentation.
#[derive(Clone, Debug, PartialEq, bytemuck::Zeroable)]
pub struct PlanMemory {
    pub(crate) slots: [MemoryEntry; PLAN_MEMORY_SLOTS],
}

impl Default for PlanMemory {
    fn default() -> Self {
        PlanMemory { slots: [MemoryEntry::default(); PLAN_MEMORY_SLOTS] }
    }
}

impl PlanMemory {
    fn home(signature: u64) -> usize {
        // The signature is a hash already; its high bits pick the slot.
        (signature >> 32) as usize % PLAN_MEMORY_SLOTS
    }

    fn probe(signature: u64) -> impl Iterator<Item = usize> {
        let home = Self::home(signature);
        (0..PROBE).map(move |i| (home + i) % PLAN_MEMORY_SLOTS)
    }

    fn find(&self, signature: u64) -> Option<usize> {
        Self::probe(signature).find(|&i| self.slots[i].count > 0 && self.slots[i].signature == signature)
    }

    /// The shrunk correction `m·n/(n + 1)` remembered for a signature (0 if unknown).
    pub fn correction(&self, signature: u64) -> f64 {
        self.find(signature).map_or(0.0, |i| {
            let entry = &self.slots[i];
            let n = f64::from(entry.count);
            f64::from(entry.residual) * n / (n + 1.0)
        })
    }

    /// Remembers one run's residual for a signature of a node of `scope`. A residual that is
    /// not finite is refused and changes nothing.
    pub fn learn(&mut self, signature: u64, scope: OperatorScope, residual: f64) -> Result<()> {
        if !residual.is_finite() {
            return Err(LearningError::NonFinite { what: "residual" });
        }
        let e = residual.clamp(-RESIDUAL_LIMIT, RESIDUAL_LIMIT);
        let slot = self.find(signature).unwrap_or_else(|| {
            let free_or_least_seen = Self::probe(signature).min_by_key(|&i| self.slots[i].count);
            let slot = free_or_least_seen.unwrap_or(Self::home(signature));
            self.slots[slot] = MemoryEntry { signature, residual: 0.0, count: 0, scope: scope.id() as u8 };
            slot
        });
        let entry = &mut self.slots[slot];
        entry.count = (entry.count + 1).min(MEMORY_WINDOW);
        entry.residual += ((e - f64::from(entry.residual)) / f64::from(entry.count)) as f32;
        Ok(())
    }

    /// Forgets the nodes of one scope.
    pub fn forget_scope(&mut self, scope: OperatorScope) {
        for entry in self.slots.iter_mut().filter(|e| usize::from(e.scope) == scope.id()) {
            *entry = MemoryEntry::default();
        }
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        // In place: an array expression would be built on the stack first (32 KiB).
        self.slots.fill(MemoryEntry::default());
    }

    /// Nodes remembered.
    pub fn len(&self) -> usize {
        self.slots.iter().filter(|e| e.count > 0).count()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The remembered entries with their slots, for saving.
    pub(crate) fn occupied(&self) -> impl Iterator<Item = (usize, &MemoryEntry)> + '_ {
        self.slots.iter().enumerate().filter(|(_, e)| e.count > 0)
    }

    /// Puts saved entries back in their slots, after checking them.
    pub(crate) fn restore(&mut self, entries: &[(u32, MemoryEntry)]) -> Result<()> {
        self.clear();
        for &(slot, entry) in entries {
            let slot = slot as usize;
            let valid = slot < PLAN_MEMORY_SLOTS
                && (1..=MEMORY_WINDOW).contains(&entry.count)
                && usize::from(entry.scope) < OperatorScope::COUNT
                && entry.residual.is_finite()
                // Residuals are kept as f32, and the limit rounds up to f32 (ln 1000 becomes
                // 6.9077554 > 6.9077553): compare in the precision they are stored in.
                && entry.residual.abs() <= RESIDUAL_LIMIT as f32
                && self.slots[slot].count == 0;
            if !valid {
                self.clear();
                return Err(LearningError::CorruptState("a plan-memory entry is invalid"));
            }
            self.slots[slot] = entry;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: OperatorScope = OperatorScope::HashJoin;

    #[test]
    fn remembers_a_recurring_residual_and_shrinks_the_first_runs() {
        let mut memory = PlanMemory::default();
        assert_eq!(memory.correction(42 << 32), 0.0);
        memory.learn(42 << 32, S, 2.0).unwrap();
        assert!((memory.correction(42 << 32) - 1.0).abs() < 1e-6, "one run counts half");
        for _ in 0..100 {
            memory.learn(42 << 32, S, 2.0).unwrap();
        }
        let n = f64::from(MEMORY_WINDOW);
        assert!((memory.correction(42 << 32) - 2.0 * n / (n + 1.0)).abs() < 1e-5);
        assert_eq!(memory.len(), 1);
    }

    #[test]
    fn follows_a_change_within_the_window() {
        let mut memory = PlanMemory::default();
        for _ in 0..100 {
            memory.learn(7, S, -1.0).unwrap();
        }
        for _ in 0..(5 * MEMORY_WINDOW) {
            memory.learn(7, S, 1.0).unwrap();
        }
        assert!(memory.correction(7) > 0.9);
    }

    #[test]
    fn colliding_signatures_stay_apart_and_the_least_seen_makes_room() {
        let mut memory = PlanMemory::default();
        // Same home slot (same high bits), different signatures.
        let signature = |i: u64| (5 << 32) | i;
        for i in 0..PROBE as u64 {
            for _ in 0..=i {
                memory.learn(signature(i), S, i as f64 / 10.0).unwrap();
            }
        }
        for i in 0..PROBE as u64 {
            let n = (i + 1) as f64;
            assert!((memory.correction(signature(i)) - i as f64 / 10.0 * n / (n + 1.0)).abs() < 1e-6);
        }
        // A ninth signature replaces the least seen (signature 0, seen once).
        memory.learn(signature(99), S, 1.0).unwrap();
        assert_eq!(memory.correction(signature(0)), 0.0);
        assert!(memory.correction(signature(99)) > 0.0);
        assert_eq!(memory.len(), PROBE);
    }

    #[test]
    fn forgetting_a_scope_forgets_its_nodes_only() {
        let mut memory = PlanMemory::default();
        memory.learn(1, S, 1.0).unwrap();
        memory.learn(2, OperatorScope::Sort, 1.0).unwrap();
        memory.forget_scope(S);
        assert_eq!(memory.correction(1), 0.0);
        assert!(memory.correction(2) > 0.0);
    }

    #[test]
    fn signatures_depend_on_every_fact_and_their_order() {
        let a = fold_signature(fold_signature(0, 1), 2);
        assert_eq!(a, fold_signature(fold_signature(0, 1), 2));
        assert_ne!(a, fold_signature(fold_signature(0, 2), 1));
        assert_ne!(a, fold_signature(fold_signature(0, 1), 3));
        assert_ne!(a, fold_signature(fold_signature(1, 1), 2));
    }

    #[test]
    fn refuses_residuals_that_are_not_finite() {
        let mut memory = PlanMemory::default();
        assert!(memory.learn(1, S, f64::NAN).is_err());
        assert!(memory.learn(1, S, f64::INFINITY).is_err());
        assert!(memory.is_empty());
    }

    #[test]
    fn outliers_are_bounded_and_what_they_leave_can_be_saved() {
        let mut memory = PlanMemory::default();
        memory.learn(1, S, 1e12).unwrap();
        memory.learn(2, S, -1e12).unwrap();
        assert!(memory.correction(1) <= RESIDUAL_LIMIT);
        // A residual at the limit, stored as f32, must load again (it once made a real server
        // ignore its state file).
        let saved: Vec<(u32, MemoryEntry)> = memory.occupied().map(|(slot, e)| (slot as u32, *e)).collect();
        let mut loaded = PlanMemory::default();
        loaded.restore(&saved).unwrap();
        assert_eq!(loaded, memory);
    }
}
