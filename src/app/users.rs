//! Users: validation, registration and password checks (SPEC "Registration and
//! login"). Passwords are stored only as Argon2id hashes (PHC strings,
//! `$argon2id$v=19$m=19456,t=2,p=1$…`); hashing and verifying take tens of
//! milliseconds on purpose, so they run on the blocking pool, never on an event loop.

use crate::store::db::{Store, StoreError, Ticket};
use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use serde_json::json;

/// The store table of users, keyed by username.
pub const TABLE: &str = "users";
/// Username length, bytes (SPEC: 1–32 of `A-Z a-z 0-9 _ . -`).
pub const MAX_USERNAME: usize = 32;
/// Password length, bytes (SPEC: 1–1024; the bound keeps hashing cheap to refuse).
pub const MAX_PASSWORD: usize = 1024;

/// Why a registration or login form was refused.
#[derive(Debug)]
pub enum UserError {
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
pub fn validate_username(name: &str) -> Result<(), UserError> {
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

pub fn validate_password(password: &str) -> Result<(), UserError> {
    if password.is_empty() {
        return Err(UserError::Invalid("password is required"));
    }
    if password.len() > MAX_PASSWORD {
        return Err(UserError::Invalid("password is longer than 1024 bytes"));
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
pub struct HashMemory {
    blocks: Vec<Block>,
}

/// The largest `m` (KiB) a stored hash may ask of [`HashMemory::verify`]: 4 × the
/// default. A record asking more is refused rather than allocated for.
pub const MAX_VERIFY_M_COST: u32 = 4 * Params::DEFAULT_M_COST;

impl Default for HashMemory {
    fn default() -> Self {
        Self::new()
    }
}

impl HashMemory {
    /// No memory yet: the first hash allocates it.
    pub fn new() -> HashMemory {
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
    pub fn hash(&mut self, password: &str) -> String {
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
    pub fn verify(&mut self, password: &str, phc: &str) -> bool {
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
pub fn hash_password(password: &str) -> String {
    HashMemory::new().hash(password)
}

/// Whether `password` matches `phc`, in a one-off memory block (tests, tools).
pub fn verify_password(password: &str, phc: &str) -> bool {
    HashMemory::new().verify(password, phc)
}

/// Validate, hash and insert a new user. Slow: never on an event loop. The insert is atomic in the
/// store: of two registrations of one name, exactly one gets `Exists`.
pub fn register(
    mem: &mut HashMemory,
    store: &Store,
    username: &str,
    password: &str,
    now: u64,
) -> Result<Ticket, UserError> {
    validate_username(username)?;
    validate_password(password)?;
    if store.get(TABLE, username).is_some() {
        // Cheap early answer; the insert below still decides a race.
        return Err(UserError::Exists);
    }
    let phc = mem.hash(password);
    Ok(store.insert_unique(TABLE, username, json!({"password": phc, "created": now}))?)
}

/// A hash of a password nobody has, verified against when the user does not exist, so
/// that "no such user" takes as long as "wrong password".
fn dummy_hash(mem: &mut HashMemory) -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| mem.hash("wirepost dummy password"))
}

/// Check a login. Slow: never on an event loop.
pub fn authenticate(
    mem: &mut HashMemory,
    store: &Store,
    username: &str,
    password: &str,
) -> Result<(), UserError> {
    let phc = store
        .get(TABLE, username)
        .and_then(|u| u["password"].as_str().map(str::to_owned));
    match phc {
        Some(phc) if mem.verify(password, &phc) => Ok(()),
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
