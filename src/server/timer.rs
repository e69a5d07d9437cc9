//! Connection deadlines without scanning every connection.
//!
//! Theory of operation: a min-heap of `(deadline, token)` entries. A connection keeps
//! its own current deadline and the earliest deadline it has queued (`armed`). Moving
//! a deadline *later* (every request on a keep-alive connection does) touches nothing
//! here; only moving it *earlier* than what is queued pushes a new entry. When an entry
//! comes due the worker looks at the connection: if its deadline has passed it fires,
//! otherwise the entry is re-queued at the connection's current deadline. Entries for
//! connections that are gone are skipped (tokens are generation-checked). So the heap
//! holds O(connections) entries and each request costs O(1) timer work.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

#[derive(Debug, Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<(Instant, usize)>>,
}

/// The per-connection half of the scheme.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Deadline {
    /// When the connection must be looked at.
    pub at: Option<Instant>,
    /// The earliest entry this connection has in the heap.
    armed: Option<Instant>,
}

impl Timers {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Set `d`'s deadline to `at`, queuing an entry only if it is earlier than the
    /// one already queued.
    pub(crate) fn set(&mut self, d: &mut Deadline, token: usize, at: Instant) {
        d.at = Some(at);
        if d.armed.is_none_or(|armed| at < armed) {
            d.armed = Some(at);
            self.heap.push(Reverse((at, token)));
        }
    }

    /// The next entry due at or before `now`, removed from the heap.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<(Instant, usize)> {
        match self.heap.peek() {
            Some(Reverse((at, _))) if *at <= now => self.heap.pop().map(|Reverse(e)| e),
            _ => None,
        }
    }

    /// Called with a due entry `(at, token)` and its connection's deadline: returns
    /// true when the connection's deadline has passed; otherwise re-queues it.
    pub(crate) fn check(
        &mut self,
        d: &mut Deadline,
        entry_at: Instant,
        token: usize,
        now: Instant,
    ) -> bool {
        if d.armed == Some(entry_at) {
            d.armed = None;
        }
        match d.at {
            Some(at) if at <= now => true,
            Some(at) => {
                if d.armed.is_none_or(|armed| at < armed) {
                    d.armed = Some(at);
                    self.heap.push(Reverse((at, token)));
                }
                false
            }
            None => false,
        }
    }

    /// When the earliest entry is due.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, _))| *at)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn later_deadlines_queue_nothing() {
        let t0 = Instant::now();
        let mut timers = Timers::new();
        let mut d = Deadline::default();
        timers.set(&mut d, 1, t0 + Duration::from_secs(60));
        for i in 1..1000 {
            timers.set(&mut d, 1, t0 + Duration::from_secs(60 + i));
        }
        assert_eq!(timers.len(), 1);
        // Due at 60 s, but the deadline moved: re-queued, not fired.
        let now = t0 + Duration::from_secs(61);
        let (at, tok) = timers.pop_due(now).unwrap();
        assert!(!timers.check(&mut d, at, tok, now));
        assert_eq!(timers.len(), 1);
        assert_eq!(timers.next(), Some(t0 + Duration::from_secs(1059)));
        let now = t0 + Duration::from_secs(2000);
        let (at, tok) = timers.pop_due(now).unwrap();
        assert!(timers.check(&mut d, at, tok, now));
    }

    #[test]
    fn earlier_deadline_fires_first() {
        let t0 = Instant::now();
        let mut timers = Timers::new();
        let mut d = Deadline::default();
        timers.set(&mut d, 7, t0 + Duration::from_secs(60));
        timers.set(&mut d, 7, t0 + Duration::from_secs(10));
        assert_eq!(timers.len(), 2);
        assert!(timers.pop_due(t0 + Duration::from_secs(9)).is_none());
        let now = t0 + Duration::from_secs(10);
        let (at, tok) = timers.pop_due(now).unwrap();
        assert_eq!(tok, 7);
        assert!(timers.check(&mut d, at, tok, now));
    }

    #[test]
    fn stale_entries_do_not_fire() {
        let t0 = Instant::now();
        let mut timers = Timers::new();
        let mut d = Deadline::default();
        timers.set(&mut d, 3, t0 + Duration::from_secs(10));
        d.at = None; // the connection no longer needs a deadline
        let now = t0 + Duration::from_secs(11);
        let (at, tok) = timers.pop_due(now).unwrap();
        assert!(!timers.check(&mut d, at, tok, now));
        assert!(timers.is_empty());
    }
}
