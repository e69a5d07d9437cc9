//! The application: routing and pages, as plain functions from a [`Request`] to a
//! [`Response`].
//!
//! Theory of operation: the I/O layer parses a request head and asks
//! [`App::body_policy`] how the route takes its body (buffered up to a limit, or not
//! at all). Once the body is in (or right away, for a route that reads none) it calls
//! [`App::handle`], which routes on the path and returns a [`Response`]: a
//! [`ResponseHead`] plus a [`Body`]. The I/O layer frames and writes it; for `HEAD` it
//! writes the head only. Pages know nothing of sockets.

pub mod cart;
pub mod catalogue;
pub mod forms;
pub mod hasher;
pub mod html;
pub mod pages;
pub mod router;
pub mod session;
pub mod templates;
pub mod throttle;
pub mod users;
pub mod view;

use crate::http::head::RequestHead;
use crate::http::response::ResponseHead;
use crate::http::{Method, ParseError, Problem};
use std::borrow::Cow;
use std::net::SocketAddr;
use std::path::PathBuf;

/// What the application needs from the configuration.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// Templates and static files (`www/static/`).
    pub www: PathBuf,
    /// Runtime state.
    pub data: PathBuf,
    /// Largest buffered request body (urlencoded/JSON), in bytes.
    pub max_body: u64,
    /// Largest upload, in bytes.
    pub max_upload: u64,
    /// Most files in one upload.
    pub max_upload_files: usize,
    /// Live sessions at most (`--max-sessions`).
    pub max_sessions: usize,
    /// Time between purges of expired sessions (`--purge-every`).
    pub purge_every: std::time::Duration,
}

/// A request as a page sees it: the parsed head and the (decoded) body.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub head: RequestHead<'a>,
    /// The body, de-chunked. Empty for routes that do not read one.
    pub body: &'a [u8],
    /// Whether the body came with `Transfer-Encoding: chunked`.
    pub chunked: bool,
    pub peer: Option<SocketAddr>,
}

impl<'a> Request<'a> {
    pub fn method(&self) -> Method {
        self.head.method
    }
    pub fn path(&self) -> &'a str {
        self.head.path()
    }
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.head.header(name)
    }
}

/// A response body. The I/O layer frames it (`Content-Length`) and writes it.
#[derive(Debug)]
pub enum Body {
    Empty,
    Static(&'static [u8]),
    Bytes(Vec<u8>),
    /// A file of this length, read and written in pieces by the I/O layer (the page
    /// opens it, so errors like "not found" are the page's to answer).
    File {
        file: std::fs::File,
        len: u64,
    },
}

impl Body {
    pub fn len(&self) -> u64 {
        match self {
            Body::Empty => 0,
            Body::Static(b) => b.len() as u64,
            Body::Bytes(b) => b.len() as u64,
            Body::File { len, .. } => *len,
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Debug)]
pub struct Response {
    pub head: ResponseHead,
    pub body: Body,
}

impl Response {
    pub fn new(status: u16, content_type: &'static str, body: Body) -> Self {
        let mut head = ResponseHead::new(status);
        head.content_type = Some(Cow::Borrowed(content_type));
        Response { head, body }
    }

    /// A short plain-text response: `404 Not Found: no page at /x\n`.
    pub fn text_error(status: u16, message: &str) -> Self {
        let reason = crate::http::response::reason(status);
        let body = format!("{status} {reason}: {message}\n");
        Response::new(
            status,
            "text/plain; charset=utf-8",
            Body::Bytes(body.into_bytes()),
        )
    }

    /// The answer to a request the parser refused; the connection closes after it.
    pub fn parse_error(err: &ParseError) -> Self {
        let mut r = Response::text_error(err.status(), &err.to_string());
        r.head.close = true;
        r
    }

    /// 405 with the methods the route takes.
    pub fn method_not_allowed(allow: &'static str) -> Self {
        let mut r = Response::text_error(405, "method not allowed here; see the Allow header");
        r.head.header("Allow", allow);
        r
    }

    pub fn header(mut self, name: &'static str, value: impl Into<Cow<'static, str>>) -> Self {
        self.head.header(name, value);
        self
    }
}

/// Work too slow for the event loop (fsync, password hashing): run on the blocking
/// pool, whose answer is sent once it is done.
pub type Job = Box<dyn FnOnce() -> Response + Send + 'static>;

/// Called once with the response, from whatever thread has it.
pub type Done = Box<dyn FnOnce(Response) + Send + 'static>;

/// Work that finishes by itself elsewhere (a durable commit in the storage thread): it
/// is given the [`Done`] callback to call with the response when it is ready.
pub type Pending = Box<dyn FnOnce(Done) + Send + 'static>;

/// What a handler gives back: a response now, a job to run on the blocking pool whose
/// result is the response, or a response that waits for something else (a write to
/// become durable) without holding a thread.
pub enum Reply {
    Now(Response),
    Later(Job),
    Pending(Pending),
}

impl From<Response> for Reply {
    fn from(r: Response) -> Reply {
        Reply::Now(r)
    }
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reply::Now(r) => f.debug_tuple("Now").field(r).finish(),
            Reply::Later(_) => f.write_str("Later(..)"),
            Reply::Pending(_) => f.write_str("Pending(..)"),
        }
    }
}

/// A route's consumer of a streamed body: gets the body's bytes as they arrive (the
/// slices point into the connection's buffer: nothing is copied on the way), then
/// answers. Dropping a sink before `finish` means the body will never complete (the
/// client went away, the body was malformed or too large): the sink cleans up after
/// itself in `Drop` (an upload deletes its temporary files).
pub trait BodySink: Send {
    /// The next piece of the (de-chunked) body. An `Err` is the final answer: the rest
    /// of the body is not read and the connection closes after the response.
    fn data(&mut self, bytes: &[u8]) -> Result<(), Response>;
    /// The whole body has arrived.
    fn finish(self: Box<Self>, req: &Request<'_>) -> Reply;
}

/// How a route takes its request body.
pub enum BodyPolicy {
    /// Read it all into memory before calling the handler, up to `limit` bytes (413
    /// past it).
    Buffer { limit: u64 },
    /// The route reads no body: the handler runs as soon as the head is in, and the
    /// I/O layer skips the body (closing the connection if it is too long to skip).
    Ignore,
    /// Hand the body to `sink` piece by piece, up to `limit` bytes (413 past it).
    Stream { sink: Box<dyn BodySink>, limit: u64 },
    /// The head alone decides: answer this without reading the body (with
    /// `Expect: 100-continue`, the client never sends it).
    Reject(Response),
}

impl std::fmt::Debug for BodyPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodyPolicy::Buffer { limit } => write!(f, "Buffer {{ limit: {limit} }}"),
            BodyPolicy::Ignore => f.write_str("Ignore"),
            BodyPolicy::Stream { limit, .. } => write!(f, "Stream {{ limit: {limit} }}"),
            BodyPolicy::Reject(r) => write!(f, "Reject({})", r.head.status),
        }
    }
}

/// The application: configuration plus whatever pages load at start.
#[derive(Debug)]
pub struct App {
    pub config: AppConfig,
    static_dir: PathBuf,
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
    /// server adds the listen address and `--allowed-host` ([`router::AllowedHosts`]).
    pub hosts: router::AllowedHosts,
    /// The key of the login record's MAC (`data/secret.key`).
    pub secret: std::sync::Arc<users::SecretKey>,
    /// Failed logins per username and address ([`throttle`]); only login takes it.
    pub throttle: std::sync::Arc<std::sync::Mutex<throttle::Throttle>>,
}

/// Seconds since the Unix epoch (the app may read the clock; `http` may not).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl App {
    pub fn new(config: AppConfig) -> std::io::Result<App> {
        let static_dir = config.www.join("static");
        // Canonical once, so a request only checks its own path for symlinks.
        let static_dir = static_dir.canonicalize().unwrap_or(static_dir);
        // Templates and catalogue first: a syntax error stops the start with its file
        // and line, before anything is opened.
        let template_dir = config.www.join("templates");
        let templates = templates::Templates::load(&template_dir)
            .and_then(|t| t.require(&template_dir, view::TEMPLATES).map(|()| t))
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
            uploads: std::sync::Arc::new(uploads),
            store,
            sessions,
            templates: std::sync::Arc::new(templates),
            catalogue,
            hasher: std::sync::Arc::new(hasher),
            hosts: router::AllowedHosts::new([], []),
            secret: std::sync::Arc::new(secret),
            throttle: Default::default(),
        })
    }

    /// How the route of this head takes its body.
    pub fn body_policy(&self, head: &RequestHead<'_>) -> BodyPolicy {
        router::body_policy(self, head)
    }

    /// Answer a request.
    pub fn handle(&self, req: &Request<'_>) -> Reply {
        router::route(self, req)
    }

    /// Answer `p` in the client's format by its `Accept` field (HTML, JSON or text:
    /// [`view::problem_response`]). Every error answer of the server goes through
    /// here: the pages' and the connection's (parse errors, 408, 413).
    pub fn problem(&self, p: &Problem, accept: Option<&[u8]>) -> Response {
        view::problem_response(
            &self.templates,
            p,
            crate::http::accept::error_format(accept),
            None,
        )
    }

    /// [`App::problem`] with the request's own `Accept`.
    pub fn problem_for(&self, req: &Request<'_>, p: Problem) -> Response {
        self.problem(&p, req.header("accept"))
    }

    pub fn static_dir(&self) -> &std::path::Path {
        &self.static_dir
    }
}
