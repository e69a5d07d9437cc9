//! The application: routing and pages, as plain functions from a [`Request`] to a
//! [`Response`].
//!
//! Theory of operation: the I/O layer parses a request head and asks
//! [`App::body_policy`] how the route takes its body (buffered up to a limit, or not
//! at all). Once the body is in (or right away, for a route that reads none) it calls
//! [`App::handle`], which routes on the path and returns a [`Response`]: a
//! response head plus a [`Body`]. The I/O layer frames and writes it; for `HEAD` it
//! writes the head only. Pages know nothing of sockets.
//!
//! Imports go one way: [`exchange`] (the request/response vocabulary) and the data
//! modules (session, users, templates…) import nothing of the pages; [`App`] here is
//! built from those; [`router`] (with `App::body_policy`/`App::handle`), [`view`]
//! (with `App::problem`), [`forms`] and [`pages`] use `App` and never the other way.

pub(crate) mod cart;
pub(crate) mod catalogue;
pub(crate) mod chrome;
pub(crate) mod exchange;
pub(crate) mod file_cache;
pub(crate) mod files;
pub(crate) mod forms;
pub(crate) mod hasher;
pub(crate) mod hosts;
pub(crate) mod html;
pub(crate) mod markdown;
pub(crate) mod pages;
pub(crate) mod router;
pub(crate) mod session;
pub(crate) mod templates;
pub(crate) mod throttle;
pub(crate) mod users;
pub(crate) mod view;
pub(crate) mod wire;

pub(crate) use exchange::{
    AppConfig, Body, BodyPolicy, BodySink, Job, Reply, Request, Response, unix_now,
};

use std::path::PathBuf;

/// The application: configuration plus whatever pages load at start.
#[derive(Debug)]
pub(crate) struct App {
    pub config: AppConfig,
    static_dir: PathBuf,
    /// The docs pages (`--docs`), canonical.
    docs_dir: PathBuf,
    /// Stored uploads (`data/uploads/`).
    pub uploads: std::sync::Arc<crate::store::uploads::UploadDir>,
    /// Users and sessions (`data/store/`).
    pub store: crate::store::db::Store,
    /// The session table over `store`, with its bounds and purge.
    pub sessions: std::sync::Arc<session::Sessions>,
    /// The pages' templates (`www/templates/*.html`), compiled once at start.
    pub templates: std::sync::Arc<templates::Templates>,
    /// The products (`www/catalogue.json`), loaded once at start.
    pub catalogue: catalogue::Catalogue,
    /// The threads that hash and verify passwords (Argon2id).
    pub hasher: std::sync::Arc<hasher::Hasher>,
    /// The `Host` names a browser request may use: the loopback names until the
    /// server adds the listen address and `--allowed-host` ([`hosts::AllowedHosts`]).
    pub hosts: hosts::AllowedHosts,
    /// The address the server listens on (`127.0.0.1:8000`), for the pages' own
    /// addresses when a request's `Host` is missing or odd ([`view::site`]).
    pub listen: String,
    /// The key of the login record's MAC (`data/secret.key`).
    pub secret: std::sync::Arc<users::SecretKey>,
    /// Failed logins per username and address ([`throttle`]); only login takes it.
    pub throttle: std::sync::Arc<std::sync::Mutex<throttle::Throttle>>,
    /// The wire log ([`wire`]): off until the server sets it up for its workers.
    pub wire: std::sync::Arc<wire::WireLog>,
    /// Connections per worker, in index order: none until the server sets one up
    /// for each of its workers ([`WorkerLoad`]).
    pub workers: std::sync::Arc<[WorkerLoad]>,
}

/// One worker's connection counts, written by that worker (the I/O layer) and read by
/// `GET /__stats`. Defined here, not in `server`, because pages may not import the I/O
/// layer; the server imports the app already, so it can fill these in (as it does the
/// [`wire`] log). Each on its own cache line: two workers counting side by side do not
/// pass one line back and forth.
#[derive(Debug, Default)]
#[repr(align(64))]
pub(crate) struct WorkerLoad {
    /// Connections this worker took charge of since start.
    pub accepted: std::sync::atomic::AtomicU64,
    /// Connections this worker has open now.
    pub open: std::sync::atomic::AtomicU64,
}

/// Every template the pages render; checked at start so none is ever missing.
pub(crate) const TEMPLATES: &[&str] = &[
    "base.html",
    "index.html",
    "error.html",
    "products.html",
    "product.html",
    "wire.html",
    "wire_panel.html",
    "who.html",
    "history.html",
    "cart.html",
    "cookies.html",
    "user_form.html",
    "user.html",
    "session.html",
    "upload.html",
    "parse.html",
    "uploaded.html",
    "echo.html",
    "docs.html",
];

impl App {
    pub(crate) fn new(config: AppConfig) -> std::io::Result<App> {
        let static_dir = config.www.join("static");
        // Canonical once, so a request only checks its own path for symlinks.
        let static_dir = static_dir.canonicalize().unwrap_or(static_dir);
        // The docs may be missing (a binary copied elsewhere): `/docs/` says so.
        let docs_dir = config.docs.canonicalize().unwrap_or(config.docs.clone());
        // Templates and catalogue first: a syntax error stops the start with its file
        // and line, before anything is opened.
        let template_dir = config.www.join("templates");
        let templates = templates::Templates::load(&template_dir)
            .and_then(|t| t.require(&template_dir, TEMPLATES).map(|()| t))
            .map_err(|e| std::io::Error::other(format!("template error: {e}")))?;
        let catalogue = catalogue::Catalogue::load(&config.www.join("catalogue.json"), &static_dir)
            .map_err(|e| std::io::Error::other(format!("catalogue error: {e}")))?;
        let secret = users::SecretKey::load_or_create(&config.data)
            .map_err(|e| std::io::Error::other(format!("secret key error: {e}")))?;
        users::load_common_passwords(&config.www.join(users::COMMON_PASSWORDS_FILE))
            .map_err(|e| std::io::Error::other(format!("common passwords error: {e}")))?;
        let uploads = crate::store::uploads::UploadDir::open(config.data.join("uploads"))?;
        let store_dir = config.data.join("store");
        let store = crate::store::db::Store::open(&store_dir).map_err(|e| {
            std::io::Error::other(format!(
                "cannot open the store in {}: {e}",
                store_dir.display()
            ))
        })?;
        let sessions =
            std::sync::Arc::new(session::Sessions::open(store.clone(), config.max_sessions));
        // Expired sessions are refused on use at once, and purged here in the background.
        let purge = sessions.clone();
        let every = config.purge_every;
        std::thread::Builder::new()
            .name("session-purge".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(every);
                    let started = std::time::Instant::now();
                    match purge.purge_expired(unix_now()) {
                        Ok(0) => {}
                        Ok(n) => {
                            log::info!("purged {n} expired sessions in {:?}", started.elapsed())
                        }
                        Err(e) => log::warn!("session purge failed: {e}"),
                    }
                }
            })?;
        let hasher = hasher::Hasher::start(hasher::default_threads(), hasher::QUEUE)?;
        Ok(App {
            config,
            static_dir,
            docs_dir,
            uploads: std::sync::Arc::new(uploads),
            store,
            sessions,
            templates: std::sync::Arc::new(templates),
            catalogue,
            hasher: std::sync::Arc::new(hasher),
            hosts: hosts::AllowedHosts::new([], []),
            listen: "localhost".to_string(),
            secret: std::sync::Arc::new(secret),
            throttle: Default::default(),
            wire: std::sync::Arc::new(wire::WireLog::off()),
            workers: std::sync::Arc::new([]),
        })
    }

    pub(crate) fn static_dir(&self) -> &std::path::Path {
        &self.static_dir
    }

    pub(crate) fn docs_dir(&self) -> &std::path::Path {
        &self.docs_dir
    }
}
