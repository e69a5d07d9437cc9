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

use crate::app::Request;
use crate::http::cookie::{SameSite, SetCookie, parse_cookie_header};
use crate::store::db::{Store, StoreError, Ticket};
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// The session cookie's name (Django's).
pub const COOKIE: &str = "sessionid";
/// The store table of sessions.
pub const TABLE: &str = "sessions";
/// Default life, seconds: 14 days (Django's `SESSION_COOKIE_AGE`).
pub const DEFAULT_AGE: u64 = 1_209_600;
/// Random bytes in a session key (128 bits).
pub const KEY_BYTES: usize = 16;

/// A session as a page sees it.
#[derive(Debug, Clone)]
pub struct Session {
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
pub struct Saved {
    pub set_cookie: Option<String>,
    pub ticket: Option<Ticket>,
}

/// A new random session key.
pub fn new_key() -> String {
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
pub fn cookie_key(req: &Request<'_>) -> Option<String> {
    req.head
        .headers()
        .filter(|(n, _)| n.eq_ignore_ascii_case("cookie"))
        .flat_map(|(_, v)| parse_cookie_header(v))
        .find(|(k, _)| k == COOKIE)
        .map(|(_, v)| v)
}

impl Session {
    /// An empty session that has never been saved.
    pub fn empty() -> Session {
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
    pub fn load(store: &Store, req: &Request<'_>, now: u64) -> Session {
        let Some(key) = cookie_key(req).filter(|k| valid_key(k)) else {
            return Session::empty();
        };
        let Some(record) = store.get_shared(TABLE, &key) else {
            return Session::empty();
        };
        let expires = record["expires"].as_u64().unwrap_or(0);
        if expires <= now {
            return Session::empty();
        }
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

    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }
    pub fn data(&self) -> &Map<String, Value> {
        match self.stored.as_deref().and_then(|r| r["data"].as_object()) {
            Some(m) => m,
            None => &self.data,
        }
    }
    pub fn get(&self, k: &str) -> Option<&Value> {
        self.data().get(k)
    }

    /// The data, to change: copied out of the stored record the first time.
    fn data_mut(&mut self) -> &mut Map<String, Value> {
        if let Some(r) = self.stored.take() {
            self.data = r["data"].as_object().cloned().unwrap_or_default();
        }
        &mut self.data
    }
    pub fn expires(&self) -> Option<u64> {
        self.expires
    }
    /// The cookie ends when the browser closes.
    pub fn browser_session(&self) -> bool {
        self.age == 0
    }
    pub fn is_modified(&self) -> bool {
        self.modified || self.flushed
    }

    pub fn set(&mut self, k: &str, v: Value) {
        self.data_mut().insert(k.to_string(), v);
        self.modified = true;
    }

    pub fn remove(&mut self, k: &str) -> Option<Value> {
        let v = self.data_mut().remove(k);
        if v.is_some() {
            self.modified = true;
        }
        v
    }

    /// Seconds of life from now on; 0 = until the browser closes.
    pub fn set_expiry(&mut self, seconds: u64) {
        self.age = seconds;
        self.modified = true;
    }

    /// Forget everything: the record and the cookie go (Django's `flush`).
    pub fn flush(&mut self) {
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
    pub fn cycle_key(&mut self) {
        if let Some(k) = self.key.take() {
            self.old_key = Some(k);
        }
        self.modified = true;
    }

    /// Write the changes, if any. The returned cookie must be sent with the response,
    /// and the response sent only once the ticket is durable.
    pub fn save(&mut self, store: &Store, now: u64) -> Result<Saved, StoreError> {
        let mut ticket = None;
        if let Some(old) = self.old_key.take() {
            ticket = Some(store.delete(TABLE, &old)?);
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
        let record = json!({
            "data": Value::Object(self.data().clone()),
            "expires": expires,
            "age": self.age,
        });
        ticket = Some(store.put(TABLE, &key, record)?);
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
    pub fn to_json(&self) -> Value {
        json!({
            "key": self.key,
            "expires": self.expires,
            "browser_session": self.browser_session(),
            "data": Value::Object(self.data().clone()),
        })
    }
}

/// Delete every expired session; run from a background thread.
pub fn purge_expired(store: &Store, now: u64) -> Result<usize, StoreError> {
    let before = store.len(TABLE);
    store.retain(TABLE, |_, v| v["expires"].as_u64().unwrap_or(0) > now)?;
    Ok(before.saturating_sub(store.len(TABLE)))
}
