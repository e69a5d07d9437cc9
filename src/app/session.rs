//! The session engine: a `sessionid` cookie naming a server-side JSON record
//! (SPEC "Sessions"), the way Django's `SessionMiddleware` works.
//!
//! Theory of operation. A page calls [`Session::load`] with the request: the first
//! `sessionid` cookie is looked up in the store's `sessions` table, and a record that
//! is missing or expired counts as no session at all (a fresh, empty one). The page
//! reads and changes the data; nothing is written, and no cookie is sent, unless it
//! changed something (sessions are created lazily). [`Session::save`] then writes the
//! record — with its expiry renewed — and returns the `Set-Cookie` header to send and
//! the store [`Ticket`] of the write, which the page waits on (durably) before it
//! answers.
//!
//! - Keys: 128 random bits from the OS (`getrandom`), as 32 hex digits.
//! - Life: 14 days by default (`Max-Age=1209600`), renewed whenever the session is
//!   saved. `set_expiry(0)`: until the browser closes (no `Max-Age` on the cookie), but
//!   the server still forgets it after the default life.
//! - `flush()` deletes the record and the cookie; `cycle_key()` moves the data to a new
//!   key (on login: no session fixation).
//! - Lookups go through a `HashMap` keyed by SipHash with per-process random keys, so
//!   an attacker can't aim at buckets; that is where "without timing leaks" stops being
//!   cheap, and where we stop.
//!
//! **Bounds** (SPEC "Security and bounds"; issue 11 found a flood of cookieless POSTs
//! growing memory without end, and one session growing to 30 MB). What a page may
//! store is checked on save: each value nests at most [`MAX_VALUE_DEPTH`] deep and the
//! session's data is at most [`MAX_SESSION_BYTES`] as JSON, or the save fails with
//! [`SaveError::TooLarge`] (413) and nothing is written. The whole table is bounded by
//! [`Sessions`]: at most `--max-sessions` records and an estimate of their memory under
//! [`MEMORY_BUDGET`]; past either, the least recently used session without a login goes
//! first, then (only if every session is logged in) the least recently used of those.
//! Django keeps every session until it expires; a server anyone can reach must not.
//!
//! **Purge.** Expired sessions read as empty at once; a background thread deletes them
//! every `--purge-every`, [`PURGE_BATCH`] at a time, each batch one short hold of the
//! store's lock (issue 11 measured 372 ms for one sweep over 300k sessions). The index
//! that finds them is kept here, beside the store: the store knows nothing of expiry.

use crate::app::exchange::Request;
use crate::http::cookie::{SameSite, SetCookie, parse_cookie_header};
use crate::store::db::{Store, StoreError, Ticket};
use crate::store::shape;
use serde_json::{Map, Value, json};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// The session cookie's name (Django's).
pub(crate) const COOKIE: &str = "sessionid";
/// The store table of sessions.
pub(crate) const TABLE: &str = "sessions";
/// Default life, seconds: 14 days (Django's `SESSION_COOKIE_AGE`).
pub(crate) const DEFAULT_AGE: u64 = 1_209_600;
/// Random bytes in a session key (128 bits).
pub(crate) const KEY_BYTES: usize = 16;
/// Deepest a session value may nest (`[[1]]` is 2); SPEC: 32.
pub(crate) const MAX_VALUE_DEPTH: usize = 32;
/// Largest session data, as JSON; SPEC: 64 KiB. Django has no limit (its cookie
/// backend has the browser's 4 KB); a server-side session must have one, or every
/// write rewrites megabytes.
pub(crate) const MAX_SESSION_BYTES: usize = 64 << 10;
/// What all sessions together may take in memory, estimated as their JSON plus
/// [`VALUE_COST`] per value: 256 MiB. At 64 KiB a session that is 4,096 sessions;
/// at a typical few hundred bytes the `--max-sessions` count binds first.
pub(crate) const MEMORY_BUDGET: u64 = 256 << 20;
/// Bytes a JSON value costs in memory besides its text (a `serde_json::Value`, 32
/// bytes, and its share of the map or vector holding it), so that a session of many
/// tiny values counts for what it takes.
pub(crate) const VALUE_COST: u64 = 64;
/// Expired sessions deleted per hold of the store's lock (a thousand map removals and
/// log lines: estimated well under a millisecond; not measured alone).
pub(crate) const PURGE_BATCH: usize = 1000;
/// Pause between two batches: 300,000 expired sessions then take at least 0.3 s more.
pub(crate) const PURGE_PAUSE: std::time::Duration = std::time::Duration::from_millis(1);
/// The session key that says who is logged in (SPEC: the login record's keys begin
/// with `_`); a session holding it is evicted last.
pub(crate) const LOGIN_KEY: &str = "_auth_user_id";

/// A session as a page sees it.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    key: Option<String>,
    /// The stored record, shared with the store, while the data is only read: its
    /// `data` object is the session's data (no copy unless the page changes it).
    stored: Option<Arc<Value>>,
    /// The data once owned (always, when `stored` is `None`).
    data: Map<String, Value>,
    expires: Option<u64>,
    /// Seconds of life given at each save; 0 means "until the browser closes".
    age: u64,
    modified: bool,
    /// The key to delete when saving (after `cycle_key`).
    old_key: Option<String>,
    flushed: bool,
}

/// What saving produced: the cookie to send (if any) and the write to wait for.
#[derive(Debug)]
pub(crate) struct Saved {
    pub set_cookie: Option<String>,
    pub ticket: Option<Ticket>,
}

/// A new random session key.
pub(crate) fn new_key() -> String {
    let mut bytes = [0u8; KEY_BYTES];
    getrandom::fill(&mut bytes).expect("the OS random number generator failed");
    let mut s = String::with_capacity(KEY_BYTES * 2);
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

fn valid_key(k: &str) -> bool {
    k.len() == KEY_BYTES * 2 && k.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The first `sessionid` cookie of the request (SPEC: the first of a repeated name).
pub(crate) fn cookie_key(req: &Request<'_>) -> Option<String> {
    req.head
        .headers()
        .filter(|(n, _)| n.eq_ignore_ascii_case("cookie"))
        .flat_map(|(_, v)| parse_cookie_header(v))
        .find(|(k, _)| k == COOKIE)
        .map(|(_, v)| v)
}

impl Session {
    /// An empty session that has never been saved.
    pub(crate) fn empty() -> Session {
        Session {
            key: None,
            stored: None,
            data: Map::new(),
            expires: None,
            age: DEFAULT_AGE,
            modified: false,
            old_key: None,
            flushed: false,
        }
    }

    /// The request's session, or an empty one if it has none (or it expired).
    pub(crate) fn load(sessions: &Sessions, req: &Request<'_>, now: u64) -> Session {
        let Some(key) = cookie_key(req).filter(|k| valid_key(k)) else {
            return Session::empty();
        };
        let Some(record) = sessions.store.get_shared(TABLE, &key) else {
            return Session::empty();
        };
        let expires = record["expires"].as_u64().unwrap_or(0);
        if expires <= now {
            return Session::empty();
        }
        sessions.index().touch(&key);
        let age = record["age"].as_u64().unwrap_or(DEFAULT_AGE);
        Session {
            key: Some(key),
            // A record whose data is not an object reads as empty data.
            stored: record["data"].is_object().then_some(record),
            data: Map::new(),
            expires: Some(expires),
            age,
            modified: false,
            old_key: None,
            flushed: false,
        }
    }

    #[cfg(test)]
    pub(crate) fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }
    pub(crate) fn data(&self) -> &Map<String, Value> {
        match self.stored.as_deref().and_then(|r| r["data"].as_object()) {
            Some(m) => m,
            None => &self.data,
        }
    }
    pub(crate) fn get(&self, k: &str) -> Option<&Value> {
        self.data().get(k)
    }

    /// The data, to change: copied out of the stored record the first time.
    fn data_mut(&mut self) -> &mut Map<String, Value> {
        if let Some(r) = self.stored.take() {
            self.data = r["data"].as_object().cloned().unwrap_or_default();
        }
        &mut self.data
    }
    /// The cookie ends when the browser closes.
    pub(crate) fn browser_session(&self) -> bool {
        self.age == 0
    }
    #[cfg(test)]
    pub(crate) fn is_modified(&self) -> bool {
        self.modified || self.flushed
    }

    pub(crate) fn set(&mut self, k: &str, v: Value) {
        self.data_mut().insert(k.to_string(), v);
        self.modified = true;
    }

    pub(crate) fn remove(&mut self, k: &str) -> Option<Value> {
        let v = self.data_mut().remove(k);
        if v.is_some() {
            self.modified = true;
        }
        v
    }

    /// Seconds of life from now on; 0 = until the browser closes.
    pub(crate) fn set_expiry(&mut self, seconds: u64) {
        self.age = seconds;
        self.modified = true;
    }

    /// Forget everything: the record and the cookie go (Django's `flush`).
    pub(crate) fn flush(&mut self) {
        if let Some(k) = self.key.take() {
            self.old_key = Some(k);
        }
        self.stored = None;
        self.data.clear();
        self.expires = None;
        self.age = DEFAULT_AGE;
        self.flushed = true;
        self.modified = false;
    }

    /// Keep the data under a new key (on login, against session fixation).
    pub(crate) fn cycle_key(&mut self) {
        if let Some(k) = self.key.take() {
            self.old_key = Some(k);
        }
        self.modified = true;
    }

    /// Write the changes, if any. The returned cookie must be sent with the response,
    /// and the response sent only once the ticket is durable.
    pub(crate) fn save(&mut self, sessions: &Sessions, now: u64) -> Result<Saved, SaveError> {
        let store = &sessions.store;
        // Checked before anything is written, the old key's delete included.
        let weight = if self.modified {
            Some(check(self.data())?)
        } else {
            None
        };
        let mut ticket = None;
        if let Some(old) = self.old_key.take() {
            ticket = Some(store.delete(TABLE, &old)?);
            sessions.index().remove(&old);
        }
        if !self.modified {
            let set_cookie = self.flushed.then(|| {
                SetCookie::removal(COOKIE)
                    .map(|c| c.to_string())
                    .unwrap_or_default()
            });
            return Ok(Saved { set_cookie, ticket });
        }
        let key = self.key.get_or_insert_with(new_key).clone();
        // A browser-close session still ends on the server after the default life.
        let life = if self.age == 0 { DEFAULT_AGE } else { self.age };
        let expires = now + life;
        self.expires = Some(expires);
        let logged_in = self.data().contains_key(LOGIN_KEY);
        let record = json!({
            "data": Value::Object(self.data().clone()),
            "expires": expires,
            "age": self.age,
        });
        ticket = Some(store.put(TABLE, &key, record)?);
        sessions.saved(&key, expires, logged_in, weight.unwrap_or(0));
        let mut cookie = SetCookie::new(COOKIE, &key)
            .expect("a hex key is a valid cookie value")
            .path("/")
            .expect("/ is a valid path")
            .http_only()
            .same_site(SameSite::Lax);
        if self.age > 0 {
            cookie = cookie.max_age(self.age as i64);
        }
        self.modified = false;
        Ok(Saved {
            set_cookie: Some(cookie.to_string()),
            ticket,
        })
    }

    /// The SPEC JSON of `GET /session/`.
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "key": self.key,
            "expires": self.expires,
            "browser_session": self.browser_session(),
            "data": Value::Object(self.data().clone()),
        })
    }
}

/// Why a session could not be saved.
#[derive(Debug)]
pub(crate) enum SaveError {
    /// Past [`MAX_VALUE_DEPTH`] or [`MAX_SESSION_BYTES`]: a 413, with the reason.
    TooLarge(String),
    Store(StoreError),
}

impl fmt::Display for SaveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SaveError::TooLarge(why) => f.write_str(why),
            SaveError::Store(e) => e.fmt(f),
        }
    }
}

impl From<StoreError> for SaveError {
    fn from(e: StoreError) -> SaveError {
        SaveError::Store(e)
    }
}

/// Check session data against the bounds; returns its weight (estimated memory).
fn check(data: &Map<String, Value>) -> Result<u64, SaveError> {
    let mut values = 1; // the data object itself
    for (key, v) in data {
        let (depth, nodes) = shape(v);
        if depth > MAX_VALUE_DEPTH {
            return Err(SaveError::TooLarge(format!(
                "the value of {key:?} nests {depth} levels deep; a session value may nest \
                 at most {MAX_VALUE_DEPTH}"
            )));
        }
        values += nodes;
    }
    let len = json_len(data);
    if len > MAX_SESSION_BYTES {
        return Err(SaveError::TooLarge(format!(
            "the session would be {len} bytes as JSON; a session may be at most \
             {MAX_SESSION_BYTES} bytes (64 KiB)"
        )));
    }
    Ok(weight(len, values))
}

/// The estimated memory of session data: its JSON and [`VALUE_COST`] per value.
fn weight(json_len: usize, values: usize) -> u64 {
    json_len as u64 + VALUE_COST * values as u64
}

/// Bytes `value` takes as JSON, counted as it is written, without keeping the text.
fn json_len(value: &impl serde::Serialize) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0 += b.len();
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Serializing a `Value` (or a map of them) cannot fail.
    serde_json::to_writer(&mut count, value).map_or(usize::MAX, |()| count.0)
}

/// Whether a stored record holds a login record.
fn logged_in(record: &Value) -> bool {
    record["data"].get(LOGIN_KEY).is_some()
}

/// The session table with its bounds: the store's `sessions` records, plus an index of
/// them (expiry, last use, login, weight) for purging and eviction.
pub(crate) struct Sessions {
    store: Store,
    index: Mutex<Index>,
    max_sessions: usize,
    memory_budget: u64,
}

impl fmt::Debug for Sessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ix = self.index();
        f.debug_struct("Sessions")
            .field("live", &ix.meta.len())
            .field("weight", &ix.weight)
            .field("max_sessions", &self.max_sessions)
            .finish_non_exhaustive()
    }
}

/// What the index knows of one session.
#[derive(Debug, Clone, Copy)]
struct Meta {
    expires: u64,
    /// Last use: a counter, bigger is more recent.
    tick: u64,
    logged_in: bool,
    weight: u64,
}

/// Sessions by key, by expiry and by last use (logged-in ones apart).
#[derive(Debug, Default)]
struct Index {
    meta: HashMap<Arc<str>, Meta>,
    by_expiry: BTreeSet<(u64, Arc<str>)>,
    anonymous: BTreeSet<(u64, Arc<str>)>,
    logged_in: BTreeSet<(u64, Arc<str>)>,
    tick: u64,
    weight: u64,
}

impl Index {
    fn lru(&mut self, logged_in: bool) -> &mut BTreeSet<(u64, Arc<str>)> {
        if logged_in {
            &mut self.logged_in
        } else {
            &mut self.anonymous
        }
    }

    fn remove(&mut self, key: &str) -> Option<Meta> {
        let (key, m) = self.meta.remove_entry(key)?;
        self.by_expiry.remove(&(m.expires, key.clone()));
        self.lru(m.logged_in).remove(&(m.tick, key));
        self.weight -= m.weight;
        Some(m)
    }

    fn insert(&mut self, key: &str, expires: u64, logged_in: bool, weight: u64) {
        let key: Arc<str> = match self.meta.get_key_value(key) {
            Some((k, _)) => k.clone(),
            None => Arc::from(key),
        };
        self.remove(&key);
        self.tick += 1;
        let m = Meta {
            expires,
            tick: self.tick,
            logged_in,
            weight,
        };
        self.by_expiry.insert((expires, key.clone()));
        self.lru(logged_in).insert((m.tick, key.clone()));
        self.weight += weight;
        self.meta.insert(key, m);
    }

    fn touch(&mut self, key: &str) {
        let Some((k, m)) = self.meta.get_key_value(key) else {
            return;
        };
        let (k, m) = (k.clone(), *m);
        self.tick += 1;
        let tick = self.tick;
        let lru = self.lru(m.logged_in);
        lru.remove(&(m.tick, k.clone()));
        lru.insert((tick, k.clone()));
        if let Some(meta) = self.meta.get_mut(&k) {
            meta.tick = tick;
        }
    }

    /// Take out the sessions to evict so that at most `max` are left and their weight
    /// is within `budget`, sparing `keep`: least recently used first, anonymous ones
    /// before logged-in ones.
    fn evict(&mut self, max: usize, budget: u64, keep: &str) -> Vec<Arc<str>> {
        let mut out = Vec::new();
        while self.meta.len() > max || (self.weight > budget && self.meta.len() > 1) {
            let victim = [&self.anonymous, &self.logged_in]
                .into_iter()
                .find_map(|set| set.iter().find(|(_, k)| &**k != keep).cloned());
            let Some((_, key)) = victim else { break };
            self.remove(&key);
            out.push(key);
        }
        out
    }

    /// Up to `limit` keys whose expiry is `<= now`, soonest first.
    fn expired(&self, now: u64, limit: usize) -> Vec<Arc<str>> {
        self.by_expiry
            .iter()
            .take_while(|(e, _)| *e <= now)
            .take(limit)
            .map(|(_, k)| k.clone())
            .collect()
    }
}

/// The expiry of a stored session record (0 if it has none: expired).
fn expires_of(record: &Value) -> u64 {
    record["expires"].as_u64().unwrap_or(0)
}

/// The weight of a stored record, as [`check`] counts it.
fn weight_of(record: &Value) -> u64 {
    let data = &record["data"];
    weight(json_len(data), shape(data).1)
}

impl Sessions {
    /// The sessions of `store`, bounded to `max_sessions` and [`MEMORY_BUDGET`]; builds
    /// the index from what the store holds (most recently saved counted as most
    /// recently used, as nothing better survives a restart), evicting past the bounds.
    pub(crate) fn open(store: Store, max_sessions: usize) -> Sessions {
        Sessions::with_budget(store, max_sessions, MEMORY_BUDGET)
    }

    pub(crate) fn with_budget(store: Store, max_sessions: usize, memory_budget: u64) -> Sessions {
        let mut found = Vec::new();
        store.for_each(TABLE, |k, v, _| {
            found.push((
                expires_of(v),
                Arc::<str>::from(k),
                logged_in(v),
                weight_of(v),
            ));
        });
        // A session's expiry is its last save plus its life: the best order of use
        // the records keep.
        found.sort_unstable();
        let mut index = Index::default();
        for (expires, key, logged_in, weight) in found {
            index.insert(&key, expires, logged_in, weight);
        }
        let sessions = Sessions {
            store,
            index: Mutex::new(index),
            max_sessions,
            memory_budget,
        };
        let victims = sessions.index().evict(max_sessions, memory_budget, "");
        if !victims.is_empty() {
            log::info!(
                "sessions: {} past --max-sessions {max_sessions} or the memory budget \
                 evicted at start",
                victims.len()
            );
            sessions.delete_evicted(&victims);
        }
        sessions
    }

    fn index(&self) -> MutexGuard<'_, Index> {
        self.index.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The store the sessions live in.
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// Live sessions (expired ones not yet purged included).
    pub(crate) fn len(&self) -> usize {
        self.index().meta.len()
    }

    /// Estimated memory of all sessions, as the budget counts it.
    pub(crate) fn weight(&self) -> u64 {
        self.index().weight
    }

    /// A session was written: index it, and evict past the bounds.
    fn saved(&self, key: &str, expires: u64, logged_in: bool, weight: u64) {
        let victims = {
            let mut ix = self.index();
            ix.insert(key, expires, logged_in, weight);
            ix.evict(self.max_sessions, self.memory_budget, key)
        };
        if !victims.is_empty() {
            log::debug!("sessions: evicted {} (least recently used)", victims.len());
            self.delete_evicted(&victims);
        }
    }

    /// Delete evicted sessions. Not waited for: a crash before it is durable brings a
    /// session back, which only means it is evicted again.
    fn delete_evicted(&self, victims: &[Arc<str>]) {
        if let Err(e) = self.store.delete_where(TABLE, victims, |_| true) {
            log::warn!("sessions: evicting {} failed: {e}", victims.len());
        }
    }

    /// Delete every expired session, [`PURGE_BATCH`] per hold of the store's lock;
    /// returns how many. Run from a background thread.
    pub(crate) fn purge_expired(&self, now: u64) -> Result<usize, StoreError> {
        let mut purged = 0;
        loop {
            let batch = self.index().expired(now, PURGE_BATCH);
            if batch.is_empty() {
                break;
            }
            // The store checks each record as it is now: one saved again since the
            // index saw it is kept.
            let deleted: HashSet<Arc<str>> = self
                .store
                .delete_where(TABLE, &batch, |v| expires_of(v) <= now)?
                .map(|(_, keys)| keys.into_iter().collect())
                .unwrap_or_default();
            // What was kept: gone already, or renewed by a save the index saw in
            // another order. Read it back (outside the index's lock) and reindex.
            let kept: Vec<(Arc<str>, Option<Arc<Value>>)> = batch
                .iter()
                .filter(|k| !deleted.contains(*k))
                .map(|k| (k.clone(), self.store.get_shared(TABLE, k)))
                .collect();
            {
                let mut ix = self.index();
                // Only entries still as the batch saw them: a save since has indexed
                // its record itself.
                let stale = |ix: &Index, k: &str| ix.meta.get(k).is_some_and(|m| m.expires <= now);
                for k in &deleted {
                    if stale(&ix, k) {
                        ix.remove(k);
                    }
                }
                for (k, record) in kept {
                    if !stale(&ix, &k) {
                        continue;
                    }
                    match record {
                        Some(r) if expires_of(&r) > now => {
                            ix.insert(&k, expires_of(&r), logged_in(&r), weight_of(&r))
                        }
                        _ => {
                            ix.remove(&k);
                        }
                    }
                }
            }
            purged += deleted.len();
            if batch.len() < PURGE_BATCH {
                break;
            }
            // Let the requests waiting for the store's lock, and the committer the
            // batch just gave work to, go first.
            std::thread::sleep(PURGE_PAUSE);
        }
        Ok(purged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TempDir;

    /// xorshift64 (Marsaglia): the same values every run.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// Characters that stress JSON: escapes, controls, non-ASCII, astral planes.
    const CHARS: &[char] = &[
        'a', 'Z', '0', ' ', '"', '\\', '/', '\n', '\r', '\t', '\u{0}', '\u{1f}', '\u{7f}', 'é',
        'ß', '€', '\u{2028}', '\u{fffd}', '😀', '𝄞',
    ];

    fn string(rng: &mut Rng) -> String {
        (0..rng.below(12))
            .map(|_| CHARS[rng.below(CHARS.len() as u64) as usize])
            .collect()
    }

    /// A random JSON value: nesting up to `depth`, sometimes past the bound.
    fn value(rng: &mut Rng, depth: usize) -> Value {
        let kind = if depth == 0 {
            rng.below(6)
        } else {
            rng.below(9)
        };
        match kind {
            0 => Value::Null,
            1 => Value::Bool(rng.below(2) == 0),
            2 => json!(rng.next() as i64),
            3 => json!(rng.next()),
            4 => {
                // Floats of every magnitude, bit patterns included, NaN/inf excluded.
                let f = f64::from_bits(rng.next());
                if f.is_finite() {
                    json!(f)
                } else {
                    json!(rng.below(1000) as f64 / 7.0)
                }
            }
            5 => Value::String(string(rng)),
            6 | 7 => Value::Array((0..rng.below(4)).map(|_| value(rng, depth - 1)).collect()),
            _ => Value::Object(
                (0..rng.below(4))
                    .map(|_| (string(rng), value(rng, depth - 1)))
                    .collect(),
            ),
        }
    }

    /// A value `depth` deep exactly: a chain with random leaves.
    fn chain(rng: &mut Rng, depth: usize) -> Value {
        let mut v = value(rng, 0);
        for _ in 0..depth {
            v = if rng.below(2) == 0 {
                Value::Array(vec![v])
            } else {
                json!({ string(rng): v })
            };
        }
        v
    }

    #[test]
    fn accepted_values_read_back_after_a_restart() {
        let dir = TempDir::new("prop");
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut kept: Vec<(String, Map<String, Value>)> = Vec::new();
        let (mut accepted, mut refused) = (0, 0);
        {
            let sessions = Sessions::open(Store::open(dir.path()).unwrap(), 10_000);
            for i in 0..400 {
                let mut s = Session::empty();
                for _ in 0..1 + rng.below(4) {
                    let v = if i % 5 == 0 {
                        let depth = 25 + rng.below(15) as usize;
                        chain(&mut rng, depth)
                    } else {
                        value(&mut rng, 5)
                    };
                    s.set(&string(&mut rng), v);
                }
                match s.save(&sessions, 1_000) {
                    Ok(saved) => {
                        accepted += 1;
                        sessions
                            .store()
                            .wait_durable(saved.ticket.unwrap())
                            .unwrap();
                        kept.push((s.key().unwrap().to_string(), s.data().clone()));
                    }
                    Err(SaveError::TooLarge(why)) => {
                        refused += 1;
                        assert!(why.contains("at most 32"), "{why}");
                        // It was right to refuse: some value is deeper than 32.
                        assert!(s.data().values().any(|v| shape(v).0 > MAX_VALUE_DEPTH));
                    }
                    Err(e) => panic!("{e}"),
                }
            }
        }
        assert!(
            accepted > 300 && refused > 10,
            "{accepted} accepted, {refused} refused"
        );
        let store = Store::open(dir.path()).unwrap();
        let sessions = Sessions::open(store.clone(), 10_000);
        assert_eq!(sessions.len(), kept.len());
        for (key, data) in kept {
            let record = store.get(TABLE, &key).expect("an acknowledged session");
            assert_eq!(record["data"], Value::Object(data), "session {key}");
        }
    }

    #[test]
    fn eviction_takes_the_least_recently_used_anonymous_session_first() {
        let mut ix = Index::default();
        ix.insert("user", 100, true, 10);
        ix.insert("a", 100, false, 10);
        ix.insert("b", 100, false, 10);
        ix.insert("c", 100, false, 10);
        ix.touch("a");
        assert_eq!(ix.evict(3, u64::MAX, "c"), [Arc::<str>::from("b")]);
        assert_eq!(ix.evict(2, u64::MAX, "c"), [Arc::<str>::from("a")]);
        // Only the spared one is anonymous: the logged-in one goes.
        assert_eq!(ix.evict(1, u64::MAX, "c"), [Arc::<str>::from("user")]);
        assert_eq!(ix.meta.len(), 1);
        // By weight.
        ix.insert("d", 100, false, 50);
        assert_eq!(ix.weight, 60);
        assert_eq!(ix.evict(10, 55, "d"), [Arc::<str>::from("c")]);
        assert_eq!(ix.weight, 50);
        // One session past the budget alone stays (it passed its own bound).
        assert!(ix.evict(10, 10, "d").is_empty());
    }

    #[test]
    fn the_purge_deletes_in_batches_and_keeps_what_was_renewed() {
        let dir = TempDir::new("purge");
        let store = Store::open(dir.path()).unwrap();
        let sessions = Sessions::open(store.clone(), 100_000);
        let n = PURGE_BATCH * 2 + 17;
        let mut keys = Vec::new();
        for i in 0..n {
            let mut s = Session::empty();
            s.set("i", json!(i));
            s.set_expiry(10);
            s.save(&sessions, 1_000).unwrap();
            keys.push(s.key().unwrap().to_string());
        }
        let mut fresh = Session::empty();
        fresh.set("fresh", json!(true));
        fresh.save(&sessions, 1_000).unwrap();
        // One of the expiring ones renewed behind the index's back, as a racing save
        // would leave it.
        let renewed = &keys[5];
        let mut record = store.get(TABLE, renewed).unwrap();
        record["expires"] = json!(1_000_000);
        store.put(TABLE, renewed, record).unwrap();

        assert_eq!(
            sessions.purge_expired(1_005).unwrap(),
            0,
            "none expired yet"
        );
        assert_eq!(sessions.purge_expired(1_010).unwrap(), n - 1);
        assert_eq!(store.len(TABLE), 2);
        assert!(store.get(TABLE, renewed).is_some());
        assert_eq!(sessions.len(), 2);
        // The renewed one is indexed with its real expiry now.
        assert_eq!(sessions.purge_expired(999_999).unwrap(), 0);
        assert_eq!(sessions.purge_expired(1_000_000).unwrap(), 1);
        assert_eq!(sessions.len(), 1);
    }
}
