//! Users: validation, registration and password checks (SPEC "Registration and
//! login"). Passwords are stored only as Argon2id hashes (PHC strings,
//! `$argon2id$v=19$m=19456,t=2,p=1$…`); hashing and verifying take tens of
//! milliseconds on purpose, so they run on the blocking pool, never on an event loop.

use crate::store::db::{Store, StoreError, Ticket};
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
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

/// An Argon2id PHC string for `password` with a random salt. Slow: pool only.
pub fn hash_password(password: &str) -> String {
    Argon2::default()
        .hash_password(password.as_bytes())
        .expect("Argon2 with default parameters hashes any password")
        .to_string()
}

/// Whether `password` matches the PHC string `phc`. Slow: pool only.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Validate, hash and insert a new user. Slow: pool only. The insert is atomic in the
/// store: of two registrations of one name, exactly one gets `Exists`.
pub fn register(
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
    let phc = hash_password(password);
    Ok(store.insert_unique(TABLE, username, json!({"password": phc, "created": now}))?)
}

/// A hash of a password nobody has, verified against when the user does not exist, so
/// that "no such user" takes as long as "wrong password".
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("wirepost dummy password"))
}

/// Check a login. Slow: pool only.
pub fn authenticate(store: &Store, username: &str, password: &str) -> Result<(), UserError> {
    let phc = store
        .get(TABLE, username)
        .and_then(|u| u["password"].as_str().map(str::to_owned));
    match phc {
        Some(phc) if verify_password(password, &phc) => Ok(()),
        Some(_) => Err(UserError::BadCredentials),
        None => {
            verify_password(password, dummy_hash());
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
}
