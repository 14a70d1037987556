//! Rings of the most recent values: the one place their index arithmetic lives.
//!
//! [`RingIndex`] is that arithmetic for a ring of any capacity (a [`crate::TrajectoryBuffer`]
//! chooses its capacity at run time and keeps its records and embeddings in two arrays it
//! allocates once). [`Ring`] is a ring of `N` values in a fixed-size array, without a heap, so
//! that it can live in shared memory (the PostgreSQL extension's trajectories).

/// Where a ring of `capacity` slots writes next and which slots hold values: once full, each
/// new value replaces the oldest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Zeroable)]
pub struct RingIndex {
    capacity: usize,
    /// The slot the next value goes into.
    next: usize,
    /// Slots in use.
    len: usize,
}

impl RingIndex {
    /// An empty ring of `capacity >= 1` slots.
    pub const fn new(capacity: usize) -> Self {
        assert!(capacity > 0, "a ring has at least one slot");
        RingIndex { capacity, next: 0, len: 0 }
    }

    /// A ring holding `len <= capacity` values in slots `0..len`, oldest first (as a loaded
    /// ring is laid out).
    pub fn filled(capacity: usize, len: usize) -> Self {
        assert!(len <= capacity, "a ring holds at most its capacity");
        RingIndex { capacity, next: len % capacity, len }
    }

    /// Takes the slot for a new value and returns it.
    pub fn push(&mut self) -> usize {
        let slot = self.next;
        // A comparison, not `% capacity`: an integer division on every record.
        self.next = if slot + 1 == self.capacity { 0 } else { slot + 1 };
        self.len = (self.len + 1).min(self.capacity);
        slot
    }

    /// The slots in use, oldest first.
    pub fn oldest_first(&self) -> impl DoubleEndedIterator<Item = usize> + Clone + use<> {
        let (capacity, next, len) = (self.capacity, self.next, self.len);
        (0..len).map(move |age| (next + capacity - len + age) % capacity)
    }

    /// The slots in use, newest first.
    pub fn newest_first(&self) -> impl DoubleEndedIterator<Item = usize> + Clone + use<> {
        self.oldest_first().rev()
    }

    /// Values held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the ring holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Slots in all.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Forgets every value.
    pub fn clear(&mut self) {
        self.next = 0;
        self.len = 0;
    }
}

/// The latest `N` values pushed, in a fixed-size array.
#[derive(Clone, Debug, bytemuck::Zeroable)]
pub struct Ring<T, const N: usize> {
    slots: [T; N],
    index: RingIndex,
}

impl<T: Copy + Default, const N: usize> Default for Ring<T, N> {
    fn default() -> Self {
        Ring { slots: [T::default(); N], index: RingIndex::new(N) }
    }
}

impl<T: Copy + Default, const N: usize> Ring<T, N> {
    /// An empty ring.
    pub fn new() -> Self {
        Self::default()
    }

    /// A ring of the last `N` of `values` (given oldest first).
    pub fn from_oldest_first(values: &[T]) -> Self {
        let mut ring = Self::new();
        ring.load_oldest_first(values);
        ring
    }

    /// Makes this ring, whatever it held (all zeros included, see `derive(Zeroable)`), the empty
    /// ring [`new`](Self::new) returns, in place: a large ring need not pass through the stack.
    pub fn start(&mut self) {
        self.load_oldest_first(&[]);
    }

    /// Makes this ring, whatever it held, the ring [`from_oldest_first`](Self::from_oldest_first)
    /// returns for `values`, in place.
    pub fn load_oldest_first(&mut self, values: &[T]) {
        let kept = &values[values.len().saturating_sub(N)..];
        let (held, free) = self.slots.split_at_mut(kept.len());
        held.copy_from_slice(kept);
        free.fill(T::default());
        self.index = RingIndex::filled(N, kept.len());
    }

    /// Adds `value`, replacing the oldest once the ring is full.
    pub fn push(&mut self, value: T) {
        let slot = self.index.push();
        self.slots[slot] = value;
    }

    /// The values, newest first.
    pub fn newest_first(&self) -> impl DoubleEndedIterator<Item = &T> + Clone + '_ {
        self.index.newest_first().map(move |slot| &self.slots[slot])
    }

    /// The values, oldest first.
    pub fn oldest_first(&self) -> impl DoubleEndedIterator<Item = &T> + Clone + '_ {
        self.index.oldest_first().map(move |slot| &self.slots[slot])
    }

    /// Values held (at most `N`).
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether the ring holds nothing.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Forgets every value.
    pub fn clear(&mut self) {
        self.index.clear();
    }
}

impl<T: PartialEq, const N: usize> PartialEq for Ring<T, N> {
    /// Two rings are equal when they hold the same values in the same order, wherever in the
    /// array they sit.
    fn eq(&self, other: &Self) -> bool {
        self.index.len() == other.index.len()
            && self
                .index
                .oldest_first()
                .zip(other.index.oldest_first())
                .all(|(a, b)| self.slots[a] == other.slots[b])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ring_keeps_the_latest_values_in_order() {
        let mut ring = Ring::<u32, 3>::new();
        assert!(ring.is_empty());
        for value in 1..=2 {
            ring.push(value);
        }
        assert_eq!(ring.oldest_first().copied().collect::<Vec<_>>(), [1, 2]);
        for value in 3..=7 {
            ring.push(value);
        }
        assert_eq!(ring.len(), 3);
        assert_eq!(ring.oldest_first().copied().collect::<Vec<_>>(), [5, 6, 7]);
        assert_eq!(ring.newest_first().copied().collect::<Vec<_>>(), [7, 6, 5]);
        ring.clear();
        assert!(ring.is_empty());
        ring.push(8);
        assert_eq!(ring.newest_first().copied().collect::<Vec<_>>(), [8]);
    }

    #[test]
    fn a_ring_rebuilt_from_its_values_equals_the_original() {
        for pushed in 0..10u32 {
            let mut ring = Ring::<u32, 4>::new();
            (0..pushed).for_each(|v| ring.push(v));
            let values: Vec<u32> = ring.oldest_first().copied().collect();
            let rebuilt = Ring::<u32, 4>::from_oldest_first(&values);
            assert_eq!(rebuilt, ring, "after {pushed} pushes");
            // And it goes on the same way.
            let (mut a, mut b) = (ring.clone(), rebuilt);
            a.push(99);
            b.push(99);
            assert_eq!(a, b);
        }
        // More values than the ring holds: the newest are kept.
        let ring = Ring::<u32, 2>::from_oldest_first(&[1, 2, 3]);
        assert_eq!(ring.oldest_first().copied().collect::<Vec<_>>(), [2, 3]);
    }

    #[test]
    fn the_index_arithmetic_matches_a_plain_queue() {
        for capacity in 1..6 {
            let mut index = RingIndex::new(capacity);
            let mut queue = std::collections::VecDeque::new();
            let mut slots = vec![usize::MAX; capacity];
            for value in 0..20 {
                slots[index.push()] = value;
                queue.push_back(value);
                if queue.len() > capacity {
                    queue.pop_front();
                }
                let held: Vec<usize> = index.oldest_first().map(|slot| slots[slot]).collect();
                assert_eq!(held, queue.iter().copied().collect::<Vec<_>>());
            }
        }
    }
}
