//! Users: validation, registration and password checks (SPEC "Registration and
//! login"). Passwords are stored only as Argon2id hashes (PHC strings,
//! `$argon2id$v=19$m=19456,t=2,p=1$…`); hashing and verifying take tens of
//! milliseconds on purpose, so they run on the blocking pool, never on an event loop.

use crate::store::db::{Store, StoreError, Ticket};
use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use serde_json::json;

/// The store table of users, keyed by the username lowercased ([`user_id`]); the
/// record keeps the name as typed at registration in `"username"`.
pub(crate) const TABLE: &str = "users";
/// The session key naming the logged-in user: their id (Django's `_auth_user_id`).
pub(crate) const ID_KEY: &str = crate::app::session::LOGIN_KEY;
/// The session key holding [`session_hash`] of the user's password hash at login
/// (Django's `_auth_user_hash`): a password change logs every old session out.
pub(crate) const HASH_KEY: &str = "_auth_user_hash";
/// The file under the data dir holding the 32-byte key of [`session_hash`].
pub(crate) const SECRET_FILE: &str = "secret.key";
/// Username length, bytes (SPEC: 1–32 of `A-Z a-z 0-9 _ . -`).
pub(crate) const MAX_USERNAME: usize = 32;
/// Password length, bytes (SPEC: 1–1024; the bound keeps hashing cheap to refuse).
pub(crate) const MAX_PASSWORD: usize = 1024;

/// A user's id: the users-table key, the username lowercased (usernames are ASCII, so
/// `Alice` and `alice` are one user).
pub(crate) fn user_id(username: &str) -> String {
    username.to_ascii_lowercase()
}

/// A logged-in user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct User {
    /// The users-table key (lowercase).
    pub id: String,
    /// The name as typed at registration.
    pub username: String,
}

/// The server's secret key for [`session_hash`]: 32 random bytes made once, on first
/// start, in `data/secret.key` (mode 0600), and read on every later start.
pub(crate) struct SecretKey([u8; 32]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

impl SecretKey {
    /// Read `dir/secret.key`, or make it if it does not exist. A file that cannot be
    /// read or is not exactly 32 bytes is an error (the server refuses to start: a
    /// new key would log everybody out, silently).
    pub(crate) fn load_or_create(dir: &std::path::Path) -> std::io::Result<SecretKey> {
        use std::io::{ErrorKind, Read, Write};
        use std::os::unix::fs::OpenOptionsExt;
        let path = dir.join(SECRET_FILE);
        let bad = |why: String| std::io::Error::other(format!("{}: {why}", path.display()));
        match std::fs::File::open(&path) {
            Ok(mut f) => {
                let mut bytes = Vec::new();
                Read::by_ref(&mut f)
                    .take(33)
                    .read_to_end(&mut bytes)
                    .map_err(|e| bad(format!("cannot read the secret key: {e}")))?;
                let key: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
                    bad(format!(
                        "the secret key must be 32 bytes, this file has {}{}",
                        b.len(),
                        if b.len() > 32 { " or more" } else { "" }
                    ))
                })?;
                Ok(SecretKey(key))
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {
                std::fs::create_dir_all(dir)?;
                let mut key = [0u8; 32];
                getrandom::fill(&mut key).expect("the OS random source works");
                let mut f = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&path)
                    .map_err(|e| bad(format!("cannot create the secret key: {e}")))?;
                f.write_all(&key)?;
                f.sync_all()?;
                std::fs::File::open(dir)?.sync_all()?;
                Ok(SecretKey(key))
            }
            Err(e) => Err(bad(format!("cannot read the secret key: {e}"))),
        }
    }

    /// A key from bytes (tests).
    #[cfg(test)]
    pub(crate) fn from_bytes(key: [u8; 32]) -> SecretKey {
        SecretKey(key)
    }

    fn mac(&self, phc: &str) -> [u8; 64] {
        use blake2::digest::{FixedOutput, KeyInit, Update};
        let mut mac = blake2::Blake2bMac512::new_from_slice(&self.0)
            .expect("a 32-byte key fits BLAKE2b (at most 64)");
        mac.update(phc.as_bytes());
        mac.finalize_fixed().into()
    }
}

/// Hex of the keyed BLAKE2b-512 MAC of a stored password hash (the session's
/// `_auth_user_hash`; Django's `get_session_auth_hash` is an HMAC of the same).
pub(crate) fn session_hash(key: &SecretKey, phc: &str) -> String {
    key.mac(phc).iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `hex` is [`session_hash`] of `phc`, compared in constant time.
fn session_hash_matches(key: &SecretKey, phc: &str, hex: &str) -> bool {
    let want = session_hash(key, phc);
    if want.len() != hex.len() {
        return false;
    }
    want.bytes()
        .zip(hex.bytes())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}

/// Who is logged in on `session`, if anybody: the one answer every page uses. The
/// record must name an existing user *and* carry the MAC of that user's current
/// password hash; anything else (no record, an unknown id, a missing or other hash,
/// as after a password change) is nobody.
pub(crate) fn logged_in(
    store: &Store,
    key: &SecretKey,
    session: &crate::app::session::Session,
) -> Option<User> {
    let id = session.get(ID_KEY)?.as_str()?;
    let hash = session.get(HASH_KEY)?.as_str()?;
    let record = store.get(TABLE, id)?;
    let phc = record["password"].as_str()?;
    if !session_hash_matches(key, phc, hash) {
        return None;
    }
    Some(User {
        id: id.to_owned(),
        username: record["username"].as_str().unwrap_or(id).to_owned(),
    })
}

/// Why a registration or login form was refused.
#[derive(Debug)]
pub(crate) enum UserError {
    /// The input breaks a rule; the text says which (400).
    Invalid(&'static str),
    /// The username is taken (409): the store's uniqueness failure, translated.
    Exists,
    /// Username or password wrong (login).
    BadCredentials,
    Store(StoreError),
}

impl From<StoreError> for UserError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Exists => UserError::Exists,
            e => UserError::Store(e),
        }
    }
}

/// Check a username against the SPEC's rules.
pub(crate) fn validate_username(name: &str) -> Result<(), UserError> {
    if name.is_empty() {
        return Err(UserError::Invalid("username is required"));
    }
    if name.len() > MAX_USERNAME {
        return Err(UserError::Invalid("username is longer than 32 characters"));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    {
        return Err(UserError::Invalid(
            "username may only use letters, digits, _ . and -",
        ));
    }
    Ok(())
}

pub(crate) fn validate_password(password: &str) -> Result<(), UserError> {
    if password.is_empty() {
        return Err(UserError::Invalid("password is required"));
    }
    if password.len() > MAX_PASSWORD {
        return Err(UserError::Invalid("password is longer than 1024 bytes"));
    }
    Ok(())
}

/// The shipped list of common passwords (`www/common-passwords.txt`).
pub(crate) const COMMON_PASSWORDS_FILE: &str = "common-passwords.txt";
/// Shortest password a registration accepts, in characters (Django's default).
pub(crate) const MIN_PASSWORD_CHARS: usize = 8;

static COMMON: std::sync::OnceLock<std::collections::HashSet<String>> = std::sync::OnceLock::new();

/// Read the common-passwords list (once per process; later calls are no-ops). The
/// leading lines starting with `#` are its header; every other line is a password,
/// compared lowercased (as Django does). A missing or empty list is an error: the
/// server refuses to start rather than accept `123456`.
pub(crate) fn load_common_passwords(path: &std::path::Path) -> std::io::Result<()> {
    if COMMON.get().is_some() {
        return Ok(());
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| std::io::Error::other(format!("{}: {e}", path.display())))?;
    let set: std::collections::HashSet<String> = text
        .lines()
        .skip_while(|l| l.starts_with('#'))
        .filter(|l| !l.is_empty())
        .map(str::to_lowercase)
        .collect();
    if set.is_empty() {
        return Err(std::io::Error::other(format!(
            "{}: no passwords in the list",
            path.display()
        )));
    }
    let _ = COMMON.set(set);
    Ok(())
}

/// The password policy of a registration (Django's default validators, the
/// similarity one simplified to equality): at least 8 characters, not the username
/// in any case, not one of the 10,000 most common passwords. Login does not apply it
/// (an account made under an older policy can still log in).
pub(crate) fn check_policy(username: &str, password: &str) -> Result<(), UserError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(UserError::Invalid(
            "password is too short: it must have at least 8 characters",
        ));
    }
    let lower = password.to_lowercase();
    if lower == username.to_lowercase() {
        return Err(UserError::Invalid("password is the same as the username"));
    }
    let common = COMMON
        .get()
        .expect("App::new loads the common passwords before any registration");
    if common.contains(&lower) {
        return Err(UserError::Invalid("password is too common"));
    }
    Ok(())
}

/// Argon2's working memory (19 MiB with the default parameters), allocated once per
/// hashing thread and reused for every hash it computes.
///
/// Why: letting `argon2` allocate and free 19 MiB per hash left glibc's per-thread
/// arenas holding every freed block (about 19 MiB of resident memory more per pool
/// thread that ever hashed, never returned), and made each hash fault in 4,864 fresh
/// pages. One block per thread, kept, bounds the memory to threads × 19 MiB and
/// costs no page faults after the first hash.
pub(crate) struct HashMemory {
    blocks: Vec<Block>,
}

/// The largest `m` (KiB) a stored hash may ask of [`HashMemory::verify`]: 4 × the
/// default. A record asking more is refused rather than allocated for.
pub(crate) const MAX_VERIFY_M_COST: u32 = 4 * Params::DEFAULT_M_COST;

impl Default for HashMemory {
    fn default() -> Self {
        Self::new()
    }
}

impl HashMemory {
    /// No memory yet: the first hash allocates it.
    pub(crate) fn new() -> HashMemory {
        HashMemory { blocks: Vec::new() }
    }

    /// The first `count` blocks, growing the allocation if it is smaller.
    fn blocks(&mut self, count: usize) -> &mut [Block] {
        if self.blocks.len() < count {
            self.blocks = vec![Block::default(); count];
        }
        &mut self.blocks[..count]
    }

    /// An Argon2id PHC string for `password` with a fresh 16-byte random salt
    /// (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`). Slow: never on an event loop.
    pub(crate) fn hash(&mut self, password: &str) -> String {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).expect("the OS random source works");
        self.hash_with_salt(password, &salt)
    }

    fn hash_with_salt(&mut self, password: &str, salt: &[u8]) -> String {
        let params = Params::DEFAULT;
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        argon
            .hash_password_into_with_memory(
                password.as_bytes(),
                salt,
                &mut out,
                self.blocks(params.block_count()),
            )
            .expect("Argon2id with default parameters hashes any password up to 1 KiB");
        PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params).expect("default parameters encode"),
            salt: Some(Salt::new(salt).expect("a 16-byte salt is valid")),
            hash: Some(Output::new(&out).expect("a 32-byte output is valid")),
        }
        .to_string()
    }

    /// Whether `password` matches the PHC string `phc` (any Argon2 variant and
    /// version, parameters as recorded, memory up to [`MAX_VERIFY_M_COST`]); the
    /// outputs are compared in constant time. Slow: never on an event loop.
    pub(crate) fn verify(&mut self, password: &str, phc: &str) -> bool {
        self.try_verify(password, phc).unwrap_or(false)
    }

    fn try_verify(&mut self, password: &str, phc: &str) -> Option<bool> {
        let h = PasswordHash::new(phc).ok()?;
        let algorithm = Algorithm::try_from(h.algorithm.as_str()).ok()?;
        let version = match h.version {
            Some(v) => Version::try_from(v).ok()?,
            None => Version::default(),
        };
        let params = Params::try_from(&h).ok()?;
        if params.m_cost() > MAX_VERIFY_M_COST {
            log::error!(
                "a stored password hash asks for m={} KiB, more than the {MAX_VERIFY_M_COST} allowed",
                params.m_cost()
            );
            return None;
        }
        let (salt, expected) = (h.salt?, h.hash?);
        let mut out = [0u8; Output::MAX_LENGTH];
        let out = out.get_mut(..expected.len())?;
        let count = params.block_count();
        Argon2::new(algorithm, version, params)
            .hash_password_into_with_memory(password.as_bytes(), &salt, out, self.blocks(count))
            .ok()?;
        // `Output`'s equality is constant-time.
        Some(Output::new(out).ok()? == expected)
    }
}

/// An Argon2id PHC string for `password` with a random salt, in a one-off memory
/// block (tests, tools). Servers hash through a kept [`HashMemory`].
#[cfg(test)]
pub(crate) fn hash_password(password: &str) -> String {
    HashMemory::new().hash(password)
}

/// Whether `password` matches `phc`, in a one-off memory block (tests, tools).
#[cfg(test)]
pub(crate) fn verify_password(password: &str, phc: &str) -> bool {
    HashMemory::new().verify(password, phc)
}

/// Validate, hash and insert a new user (keyed by [`user_id`]); gives the insert's
/// ticket and the stored hash. Slow: never on an event loop. The insert is atomic in the
/// store: of two registrations of one name, exactly one gets `Exists`.
pub(crate) fn register(
    mem: &mut HashMemory,
    store: &Store,
    username: &str,
    password: &str,
    now: u64,
) -> Result<(Ticket, String), UserError> {
    validate_username(username)?;
    validate_password(password)?;
    check_policy(username, password)?;
    let id = user_id(username);
    if store.get(TABLE, &id).is_some() {
        // Cheap early answer; the insert below still decides a race.
        return Err(UserError::Exists);
    }
    let phc = mem.hash(password);
    let ticket = store.insert_unique(
        TABLE,
        &id,
        json!({"username": username, "password": phc, "created": now}),
    )?;
    Ok((ticket, phc))
}

/// A hash of a password nobody has, verified against when the user does not exist, so
/// that "no such user" takes as long as "wrong password".
fn dummy_hash(mem: &mut HashMemory) -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| mem.hash("wirepost dummy password"))
}

/// Check a login (the username in any case); gives the user and their stored hash.
/// Slow: never on an event loop.
pub(crate) fn authenticate(
    mem: &mut HashMemory,
    store: &Store,
    username: &str,
    password: &str,
) -> Result<(User, String), UserError> {
    let id = user_id(username);
    let record = store.get(TABLE, &id);
    let phc = record
        .as_ref()
        .and_then(|u| u["password"].as_str().map(str::to_owned));
    match phc {
        Some(phc) if mem.verify(password, &phc) => {
            let record = record.expect("the hash came from it");
            let username = record["username"].as_str().unwrap_or(&id).to_owned();
            Ok((User { id, username }, phc))
        }
        Some(_) => Err(UserError::BadCredentials),
        None => {
            let dummy = dummy_hash(mem);
            mem.verify(password, dummy);
            Err(UserError::BadCredentials)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::session::Session;
    use crate::testing::TempDir;

    fn session_with(id: Option<&str>, hash: Option<&str>) -> Session {
        let mut s = Session::empty();
        if let Some(id) = id {
            s.set(ID_KEY, json!(id));
        }
        if let Some(h) = hash {
            s.set(HASH_KEY, json!(h));
        }
        s
    }

    #[test]
    fn the_login_record_needs_the_mac_of_the_current_password_hash() {
        let (_dir, store) = temp_store("login-record");
        let key = SecretKey::from_bytes([7; 32]);
        let phc = hash_password("tangerine-cobalt-1907");
        store
            .put(TABLE, "ada", json!({"username": "Ada", "password": phc}))
            .unwrap();
        let good = session_hash(&key, &phc);
        let ada = User {
            id: "ada".into(),
            username: "Ada".into(),
        };
        assert_eq!(
            logged_in(&store, &key, &session_with(Some("ada"), Some(&good))),
            Some(ada)
        );
        // An id alone, a wrong hash, a hash under another key, an unknown user: nobody.
        let other_key = session_hash(&SecretKey::from_bytes([8; 32]), &phc);
        for (id, hash) in [
            (Some("ada"), None),
            (Some("ada"), Some("00")),
            (Some("ada"), Some(other_key.as_str())),
            (Some("ada"), Some(&good[..good.len() - 1])),
            (Some("bob"), Some(good.as_str())),
            (None, Some(good.as_str())),
        ] {
            assert_eq!(
                logged_in(&store, &key, &session_with(id, hash)),
                None,
                "{id:?} {hash:?}"
            );
        }
        // The password changes: the old session is logged out.
        let new_phc = hash_password("another-long-phrase");
        store
            .put(
                TABLE,
                "ada",
                json!({"username": "Ada", "password": new_phc}),
            )
            .unwrap();
        assert_eq!(
            logged_in(&store, &key, &session_with(Some("ada"), Some(&good))),
            None
        );
        // Old records without "username" show the id.
        store
            .put(TABLE, "old", json!({"password": new_phc}))
            .unwrap();
        let h = session_hash(&key, &new_phc);
        assert_eq!(
            logged_in(&store, &key, &session_with(Some("old"), Some(&h))).map(|u| u.username),
            Some("old".to_string())
        );
    }

    #[test]
    fn the_secret_key_is_made_once_0600_and_refused_if_the_wrong_length() {
        use std::os::unix::fs::PermissionsExt;
        let dir = TempDir::new("users-secret");
        let a = SecretKey::load_or_create(dir.path()).unwrap();
        let path = dir.file(SECRET_FILE);
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.len(), 32);
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        let b = SecretKey::load_or_create(dir.path()).unwrap();
        assert_eq!(a.0, b.0, "read back, not made again");
        std::fs::write(&path, [1u8; 31]).unwrap();
        let e = SecretKey::load_or_create(dir.path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("must be 32 bytes") && e.contains("31"), "{e}");
        std::fs::write(&path, [1u8; 40]).unwrap();
        assert!(SecretKey::load_or_create(dir.path()).is_err());
    }

    #[test]
    fn username_rules_at_the_edges() {
        assert!(validate_username("a").is_ok());
        assert!(validate_username(&"a".repeat(32)).is_ok());
        assert!(validate_username(&"a".repeat(33)).is_err());
        assert!(validate_username("").is_err());
        assert!(validate_username("Ada_L.ovelace-1").is_ok());
        for bad in ["a b", "a/b", "é", "a;b", "<a>"] {
            assert!(validate_username(bad).is_err(), "{bad}");
        }
        assert!(validate_password("x").is_ok());
        assert!(validate_password(&"x".repeat(1024)).is_ok());
        assert!(validate_password(&"x".repeat(1025)).is_err());
        assert!(validate_password("").is_err());
    }

    /// A fresh store in a temp dir, removed with the returned `TempDir`.
    fn temp_store(tag: &str) -> (TempDir, Store) {
        let dir = TempDir::new(&format!("users-{tag}"));
        let store = Store::open(&dir.file("store")).unwrap();
        (dir, store)
    }

    #[test]
    fn usernames_are_one_user_in_any_case_and_keep_the_name_as_registered() {
        load_list();
        let (_dir, store) = temp_store("case");
        let mut mem = HashMemory::new();
        let (t, _) = register(&mut mem, &store, "Alice", "looking-glass-1871", 1).unwrap();
        store.wait_durable(t).unwrap();
        assert!(matches!(
            register(&mut mem, &store, "alice", "looking-glass-1871", 2),
            Err(UserError::Exists)
        ));
        let (user, _) = authenticate(&mut mem, &store, "ALICE", "looking-glass-1871").unwrap();
        assert_eq!(
            (user.id.as_str(), user.username.as_str()),
            ("alice", "Alice")
        );
        // A record from before the "username" field: the id stands in for the name.
        let phc = mem.hash("wonderland-1865");
        let t = store
            .put(TABLE, "bob", json!({"password": phc, "created": 1}))
            .unwrap();
        store.wait_durable(t).unwrap();
        let (user, _) = authenticate(&mut mem, &store, "Bob", "wonderland-1865").unwrap();
        assert_eq!(user.username, "bob");
    }

    fn load_list() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("www")
            .join(COMMON_PASSWORDS_FILE);
        load_common_passwords(&path).unwrap();
    }

    #[test]
    fn the_password_policy_at_its_edges() {
        load_list();
        let short = |r| matches!(r, Err(UserError::Invalid(m)) if m.contains("too short"));
        assert!(short(check_policy("ada", "zq7-xk4")), "7 characters");
        assert!(check_policy("ada", "zq7-xk4w").is_ok(), "8 characters");
        // Characters, not bytes: 7 two-byte letters are still too short.
        assert!(short(check_policy("ada", "ééééééé")));
        let same = |r| matches!(r, Err(UserError::Invalid(m)) if m.contains("username"));
        assert!(same(check_policy("Lovelace", "lovelace")));
        assert!(same(check_policy("lovelace", "LOVELACE")));
        let common = |r| matches!(r, Err(UserError::Invalid(m)) if m.contains("common"));
        for pw in ["password", "Password", "PASSWORD1", "12345678", "iloveyou"] {
            assert!(common(check_policy("ada", pw)), "{pw}");
        }
        // The list's 10,000th line is in, a line past it (in Django's longer list) not.
        let lines: Vec<&str> = include_str!("../../www/common-passwords.txt")
            .lines()
            .skip_while(|l| l.starts_with('#'))
            .collect();
        assert_eq!(lines.len(), 10_000);
        assert!(
            lines.contains(&"#1bitch"),
            "a password starting with # is kept"
        );
        assert!(check_policy("ada", "tangerine-cobalt-1907").is_ok());
    }

    #[test]
    fn hashes_are_argon2id_phc_and_verify() {
        let h = hash_password("s3cret");
        assert!(h.starts_with("$argon2id$v=19$"), "{h}");
        assert!(!h.contains("s3cret"));
        assert!(verify_password("s3cret", &h));
        assert!(!verify_password("s3cre", &h));
        assert!(!verify_password("s3cret", "not a hash"));
        assert_ne!(h, hash_password("s3cret"), "salts differ");
    }

    #[test]
    fn reused_memory_agrees_with_the_argon2_crate_both_ways() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let mut mem = HashMemory::new();
        // Ours, checked by the crate's own verifier (and by ours, reusing the memory).
        let ours = mem.hash("correct horse");
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
        assert!(mem.verify("correct horse", &ours));
        assert!(!mem.verify("correct horsf", &ours));
        // The crate's (as stored by earlier versions), checked by ours.
        let theirs = Argon2::default()
            .hash_password(b"battery staple")
            .unwrap()
            .to_string();
        assert!(mem.verify("battery staple", &theirs));
        assert!(!mem.verify("battery stapl", &theirs));
        // A known answer: the same salt and password give the same PHC string.
        let salt = b"0123456789abcdef";
        assert_eq!(
            mem.hash_with_salt("pw", salt),
            Argon2::default()
                .hash_password_with_salt(b"pw", salt)
                .unwrap()
                .to_string()
        );
        // Other parameters (smaller m, t=1, Argon2i) are read from the string.
        let small = argon2::Argon2::new(
            Algorithm::Argon2i,
            Version::V0x13,
            Params::new(64, 1, 1, None).unwrap(),
        )
        .hash_password_with_salt(b"pw", salt)
        .unwrap()
        .to_string();
        assert!(small.starts_with("$argon2i$v=19$m=64,t=1,p=1$"), "{small}");
        assert!(mem.verify("pw", &small));
        assert!(!mem.verify("px", &small));
        // Garbage and truncated strings are a mismatch, never a panic.
        for bad in [
            "",
            "$argon2id$",
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$",
            "plain",
        ] {
            assert!(!mem.verify("pw", bad), "{bad}");
        }
    }

    #[test]
    fn a_stored_hash_asking_for_too_much_memory_is_refused_not_allocated() {
        let huge = format!(
            "$argon2id$v=19$m={},t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            MAX_VERIFY_M_COST + 1
        );
        let mut mem = HashMemory::new();
        assert!(!mem.verify("pw", &huge));
        assert!(mem.blocks.is_empty(), "nothing was allocated for it");
    }
}
