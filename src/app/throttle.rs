//! Login throttling (SPEC "Security and bounds"): after [`USER_LIMIT`] failures for a
//! username, or [`ADDR_LIMIT`] from one address, within [`WINDOW`] seconds, every
//! attempt for it is refused (429) with a `Retry-After`, the right password included.
//!
//! Pure: time is an argument, so the schedule is tested with synthetic clocks. The
//! schedule, per username and per address alike:
//!
//! - Failures count within a window of 15 minutes from the first one.
//! - The failure that reaches the limit locks for [`FIRST_LOCK`] (60 s).
//! - Every attempt during a lock is refused and doubles the lock, counted from that
//!   attempt (120, 240, 480, then 900 s: at most [`MAX_LOCK`]); `Retry-After` is the
//!   new lock, so it says exactly when the next attempt is allowed.
//! - A failure after a lock ran out, still over the limit, locks again with double the
//!   last lock.
//! - A success clears the username's record (like django-axes), never the
//!   address's: one good password must not wash an address's guesses at others.
//! - A record is forgotten once its window and its lock are both over.
//!
//! Memory is bounded: at most [`CAPACITY`] usernames and as many addresses are
//! tracked. When a table is full, records that are over go first; if none is, the one
//! that ends earliest is evicted (an attacker who floods it with fresh names frees
//! the oldest locks first, and each of those names costs them an Argon2 hash).

use std::collections::HashMap;
use std::net::IpAddr;

/// Seconds over which failures count.
pub(crate) const WINDOW: u64 = 15 * 60;
/// Failures for one username before it locks.
pub(crate) const USER_LIMIT: u32 = 5;
/// Failures from one address before it locks.
pub(crate) const ADDR_LIMIT: u32 = 20;
/// The first lock, seconds.
pub(crate) const FIRST_LOCK: u64 = 60;
/// The longest lock, seconds.
pub(crate) const MAX_LOCK: u64 = 15 * 60;
/// Records per table at most.
pub(crate) const CAPACITY: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Record {
    failures: u32,
    window_start: u64,
    /// The lock in force or last in force (0: never locked).
    lock: u64,
    locked_until: u64,
}

impl Record {
    fn end(&self) -> u64 {
        (self.window_start + WINDOW).max(self.locked_until)
    }
}

#[derive(Debug)]
struct Table<K> {
    limit: u32,
    capacity: usize,
    records: HashMap<K, Record>,
}

impl<K: std::hash::Hash + Eq + Clone> Table<K> {
    fn new(limit: u32, capacity: usize) -> Self {
        Table {
            limit,
            capacity,
            records: HashMap::new(),
        }
    }

    /// Refuse (and double the lock) if `k` is locked at `now`.
    fn check(&mut self, k: &K, now: u64) -> Result<(), u64> {
        let Some(r) = self.records.get_mut(k) else {
            return Ok(());
        };
        if r.end() <= now {
            self.records.remove(k);
            return Ok(());
        }
        if now < r.locked_until {
            r.lock = (r.lock * 2).min(MAX_LOCK);
            r.locked_until = now + r.lock;
            return Err(r.lock);
        }
        Ok(())
    }

    fn failure(&mut self, k: &K, now: u64) {
        if let Some(r) = self.records.get(k)
            && r.end() <= now
        {
            self.records.remove(k);
        }
        if !self.records.contains_key(k) {
            self.make_room(now);
        }
        let limit = self.limit;
        let r = self.records.entry(k.clone()).or_insert(Record {
            failures: 0,
            window_start: now,
            lock: 0,
            locked_until: 0,
        });
        r.failures = r.failures.saturating_add(1);
        if r.failures >= limit {
            r.lock = if r.lock == 0 {
                FIRST_LOCK
            } else {
                (r.lock * 2).min(MAX_LOCK)
            };
            r.locked_until = now + r.lock;
        }
    }

    fn make_room(&mut self, now: u64) {
        if self.records.len() < self.capacity {
            return;
        }
        self.records.retain(|_, r| r.end() > now);
        if self.records.len() >= self.capacity
            && let Some(k) = self
                .records
                .iter()
                .min_by_key(|(_, r)| r.end())
                .map(|(k, _)| k.clone())
        {
            self.records.remove(&k);
        }
    }
}

/// The login throttle: one table of usernames (lowercased by the caller), one of
/// addresses.
#[derive(Debug)]
pub(crate) struct Throttle {
    users: Table<String>,
    addrs: Table<Option<IpAddr>>,
}

impl Default for Throttle {
    fn default() -> Self {
        Self::new()
    }
}

impl Throttle {
    pub(crate) fn new() -> Throttle {
        Throttle::with_capacity(CAPACITY)
    }

    /// A throttle tracking at most `capacity` usernames and as many addresses.
    pub(crate) fn with_capacity(capacity: usize) -> Throttle {
        Throttle {
            users: Table::new(USER_LIMIT, capacity),
            addrs: Table::new(ADDR_LIMIT, capacity),
        }
    }

    /// Before the password is checked: `Err(seconds)` to answer 429 with that
    /// `Retry-After`. An attempt during a lock doubles it.
    pub(crate) fn check(&mut self, user: &str, addr: Option<IpAddr>, now: u64) -> Result<(), u64> {
        let u = self.users.check(&user.to_owned(), now);
        let a = self.addrs.check(&addr, now);
        match (u, a) {
            (Ok(()), Ok(())) => Ok(()),
            (Err(x), Ok(())) | (Ok(()), Err(x)) => Err(x),
            (Err(x), Err(y)) => Err(x.max(y)),
        }
    }

    /// A wrong password (or unknown user).
    pub(crate) fn failure(&mut self, user: &str, addr: Option<IpAddr>, now: u64) {
        self.users.failure(&user.to_owned(), now);
        self.addrs.failure(&addr, now);
    }

    /// A right password: the username's failures are forgotten, the address's kept.
    pub(crate) fn success(&mut self, user: &str) {
        self.users.records.remove(user);
    }

    /// Records held (usernames, addresses).
    #[cfg(test)]
    pub(crate) fn len(&self) -> (usize, usize) {
        (self.users.records.len(), self.addrs.records.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1)));

    #[test]
    fn five_failures_lock_the_username_and_each_attempt_doubles_the_lock() {
        let mut t = Throttle::new();
        for i in 0..4 {
            assert_eq!(t.check("ada", A, 100 + i), Ok(()));
            t.failure("ada", A, 100 + i);
        }
        assert_eq!(t.check("ada", A, 104), Ok(()));
        t.failure("ada", A, 104); // the fifth: locked 60 s
        assert_eq!(t.check("ada", A, 105), Err(120));
        assert_eq!(t.check("ada", A, 106), Err(240));
        assert_eq!(t.check("ada", A, 107), Err(480));
        assert_eq!(t.check("ada", A, 108), Err(900));
        assert_eq!(t.check("ada", A, 109), Err(900), "capped at 15 minutes");
        // Other names are not locked (the address has 5 of its 20).
        assert_eq!(t.check("bob", A, 109), Ok(()));
        // Once lock and window are both over, the record is forgotten.
        assert_eq!(t.check("ada", A, 109 + 899), Err(900));
        assert_eq!(t.check("ada", A, 109 + 899 + 900), Ok(()));
        assert_eq!(t.len().0, 0);
    }

    #[test]
    fn a_failure_after_a_lock_ran_out_locks_again_doubled() {
        let mut t = Throttle::new();
        for i in 0..5 {
            t.failure("ada", A, i);
        }
        // Locked until 64; waiting it out allows one attempt, and failing it (still in
        // the window, still over the limit) locks for 120 s.
        assert_eq!(t.check("ada", A, 64), Ok(()));
        t.failure("ada", A, 64);
        assert_eq!(t.check("ada", A, 65), Err(240));
    }

    #[test]
    fn the_first_lock_is_a_minute_and_then_everything_is_forgotten() {
        let mut t = Throttle::new();
        for i in 0..5 {
            t.failure("ada", A, i);
        }
        // No attempt during the lock: it ends after 60 s, at 4 + 60.
        assert_eq!(t.check("ada", A, 63), Err(120));
        let mut t = Throttle::new();
        for i in 0..5 {
            t.failure("ada", A, i);
        }
        assert_eq!(t.check("ada", A, 64), Ok(()));
        // The window (15 minutes from the first failure) over: a fresh start.
        assert_eq!(t.check("ada", A, WINDOW), Ok(()));
        assert_eq!(t.len(), (0, 0));
        for i in 0..4 {
            t.failure("ada", A, WINDOW + i);
        }
        assert_eq!(t.check("ada", A, WINDOW + 5), Ok(()));
    }

    #[test]
    fn failures_outside_the_window_do_not_add_up() {
        let mut t = Throttle::new();
        for i in 0..4 {
            t.failure("ada", A, i);
        }
        t.failure("ada", A, WINDOW); // the first window is over: this one is #1
        assert_eq!(t.check("ada", A, WINDOW + 1), Ok(()));
    }

    #[test]
    fn a_success_clears_the_username_not_the_address() {
        let mut t = Throttle::new();
        for i in 0..19 {
            t.failure(&format!("u{}", i % 4), A, i);
        }
        t.success("u0");
        assert_eq!(t.check("u0", A, 20), Ok(()));
        t.failure("u0", A, 20); // the address's 20th
        assert_eq!(t.check("someone", A, 21), Err(120));
        let other = Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2)));
        assert_eq!(t.check("someone", other, 21), Ok(()));
    }

    #[test]
    fn memory_is_bounded_and_the_earliest_ending_record_goes_first() {
        let mut t = Throttle::with_capacity(3);
        for (i, name) in ["a", "b", "c", "d"].iter().enumerate() {
            let addr = Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, i as u8)));
            for _ in 0..5 {
                t.failure(name, addr, i as u64);
            }
        }
        assert_eq!(t.len(), (3, 3));
        // "a" (locked first, window ending first) was evicted; "b" still locked.
        assert_eq!(t.check("a", None, 10), Ok(()));
        assert_eq!(t.check("b", None, 10), Err(120));
    }
}
