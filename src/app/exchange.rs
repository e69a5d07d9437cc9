//! The vocabulary between the I/O layer and the pages: a [`Request`] in, a
//! [`Response`] (or a [`Reply`] that answers later) out, and how a route takes its
//! body ([`BodyPolicy`], [`BodySink`]). Everything here is plain data: it imports
//! nothing of the app, so every page and the server can use it.

use crate::http::Method;
use crate::http::head::RequestHead;
use crate::http::response::ResponseHead;
use std::borrow::Cow;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// What the application needs from the configuration.
#[derive(Debug, Clone)]
pub(crate) struct AppConfig {
    /// Templates and static files (`www/static/`).
    pub www: PathBuf,
    /// Runtime state.
    pub data: PathBuf,
    /// The docs pages (`--docs`), served at `/docs/`.
    pub docs: PathBuf,
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
pub(crate) struct Request<'a> {
    pub head: RequestHead<'a>,
    /// The body, de-chunked. Empty for routes that do not read one.
    pub body: &'a [u8],
    /// Whether the body came with `Transfer-Encoding: chunked`.
    pub chunked: bool,
    pub peer: Option<SocketAddr>,
    /// The route found for the head by [`crate::app::App::body_policy`], so that
    /// [`crate::app::App::handle`] does not look it up again.
    pub route: Lookup,
    /// The path as the router percent-decoded it when it found the route (`None`:
    /// decoded again when needed, as for a request answered after its body).
    pub decoded: Option<&'a [u8]>,
}

/// What the router found for a head: the route, and the path it decoded to find it
/// (`None` when it could not be decoded). A request answered from its head alone
/// is answered with both, so its path is read and decoded once.
#[derive(Debug)]
pub(crate) struct Routed<'h> {
    pub lookup: Lookup,
    pub path: Option<Cow<'h, [u8]>>,
}

/// The route table's answer for a request's path, looked up once per request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// Not looked up yet (`handle` looks it up).
    #[default]
    Pending,
    /// No route, or a path that cannot be decoded.
    None,
    /// The entry at this index of the route table; `slashless` for a segment route
    /// reached without its final `/` (`/products/3`).
    Found { index: u16, slashless: bool },
}

impl<'a> Request<'a> {
    pub(crate) fn method(&self) -> Method {
        self.head.method
    }
    pub(crate) fn path(&self) -> &'a str {
        self.head.path()
    }
    pub(crate) fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.head.header(name)
    }
}

/// A response body. The I/O layer frames it (`Content-Length`) and writes it.
#[derive(Debug)]
pub(crate) enum Body {
    Empty,
    Static(&'static [u8]),
    Bytes(Vec<u8>),
    /// A file of this length, read and written in pieces by the I/O layer (the page
    /// opens it, so errors like "not found" are the page's to answer).
    File {
        file: std::fs::File,
        len: u64,
    },
    /// `len` bytes from `start` of content shared with a cache (a small static file
    /// kept in memory, at most 64 KiB): the I/O layer copies them behind the head,
    /// nothing else is. (`u32`s keep `Body` at 32 bytes.)
    Shared {
        bytes: std::sync::Arc<[u8]>,
        start: u32,
        len: u32,
    },
}

impl Body {
    pub(crate) fn len(&self) -> u64 {
        match self {
            Body::Empty => 0,
            Body::Static(b) => b.len() as u64,
            Body::Bytes(b) => b.len() as u64,
            Body::File { len, .. } => *len,
            Body::Shared { len, .. } => u64::from(*len),
        }
    }
}

/// Aligned to 16 bytes: a response is moved whole a few times between the page and
/// the encoder (out of the page, into a `Reply`, out of the page chrome), 16 bytes a
/// move; aligned, no move straddles a cache line, and each load is of exactly what
/// one earlier move stored, which the CPU forwards at once (unaligned, perf showed
/// these moves waiting on the stores before them: docs/performance.md).
#[derive(Debug)]
#[repr(align(16))]
pub(crate) struct Response {
    pub head: ResponseHead,
    pub body: Body,
    /// Whether the wire log records this exchange: true but for the benchmark
    /// endpoints `/plaintext` and `/json`, whose pipelined load recording would slow
    /// by more than the SPEC's 5% (docs/performance.md).
    pub recorded: bool,
}

impl Response {
    pub(crate) fn new(status: u16, content_type: &'static str, body: Body) -> Self {
        let mut head = ResponseHead::new(status);
        head.content_type = Some(Cow::Borrowed(content_type));
        Response {
            head,
            body,
            recorded: true,
        }
    }

    /// A short plain-text response: `404 Not Found: no page at /x\n`.
    pub(crate) fn text_error(status: u16, message: &str) -> Self {
        let reason = crate::http::response::reason(status);
        let body = format!("{status} {reason}: {message}\n");
        Response::new(
            status,
            "text/plain; charset=utf-8",
            Body::Bytes(body.into_bytes()),
        )
    }

    pub(crate) fn header(
        mut self,
        name: &'static str,
        value: impl Into<Cow<'static, str>>,
    ) -> Self {
        self.head.header(name, value);
        self
    }
}

/// Work too slow for the event loop (fsync, password hashing): run on the blocking
/// pool, whose answer is sent once it is done.
pub(crate) type Job = Box<dyn FnOnce() -> Response + Send + 'static>;

/// Called once with the response, from whatever thread has it.
pub(crate) type Done = Box<dyn FnOnce(Response) + Send + 'static>;

/// Work that finishes by itself elsewhere (a durable commit in the storage thread): it
/// is given the [`Done`] callback to call with the response when it is ready.
pub(crate) type Pending = Box<dyn FnOnce(Done) + Send + 'static>;

/// What a handler gives back: a response now, a job to run on the blocking pool whose
/// result is the response, a response that waits for something else (a write to
/// become durable) without holding a thread, a response held back for a while
/// (`/delay/<s>`), or a response whose body is sent piece by piece over time
/// (`/stream/<n>`). The last two wait on the worker's timers, not on a thread.
pub(crate) enum Reply {
    Now(Response),
    Later(Job),
    Pending(Pending),
    /// Send this response once the duration has passed (later requests wait). Boxed:
    /// it is rare, and keeps every `Reply` the size of a `Response`.
    After(Duration, Box<Response>),
    Stream(Stream),
}

/// A response whose body is produced piece by piece and framed by the I/O layer as
/// it goes (chunked for HTTP/1.1, one chunk a piece; see `Conn::respond_streamed`).
pub(crate) struct Stream {
    pub head: ResponseHead,
    /// The pieces, in order; each is produced only when the client has taken most of
    /// what went before (the output buffer is below its high-water mark).
    pub pieces: Box<dyn Iterator<Item = Vec<u8>> + Send>,
    /// The wait between one piece and the next (none before the first).
    pub interval: Duration,
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
            Reply::After(d, r) => f.debug_tuple("After").field(d).field(r).finish(),
            Reply::Stream(s) => write!(f, "Stream({}, every {:?})", s.head.status, s.interval),
        }
    }
}

/// A route's consumer of a streamed body: gets the body's bytes as they arrive (the
/// slices point into the connection's buffer: nothing is copied on the way), then
/// answers. Dropping a sink before `finish` means the body will never complete (the
/// client went away, the body was malformed or too large): the sink cleans up after
/// itself in `Drop` (an upload deletes its temporary files).
pub(crate) trait BodySink: Send {
    /// The next piece of the (de-chunked) body. An `Err` is the final answer: the rest
    /// of the body is not read and the connection closes after the response.
    fn data(&mut self, bytes: &[u8]) -> Result<(), Response>;
    /// The whole body has arrived.
    fn finish(self: Box<Self>, req: &Request<'_>) -> Reply;
}

/// How a route takes its request body.
pub(crate) enum BodyPolicy {
    /// Read it all into memory before calling the handler, up to `limit` bytes (413
    /// past it).
    Buffer { limit: u64 },
    /// The route reads no body: the handler runs as soon as the head is in, and the
    /// I/O layer skips the body (closing the connection if it is too long to skip).
    Ignore,
    /// Hand the body to `sink` piece by piece, up to `limit` bytes (413 past it).
    Stream { sink: Box<dyn BodySink>, limit: u64 },
    /// The head alone decides: answer this without reading the body (with
    /// `Expect: 100-continue`, the client never sends it). Boxed: it is rare, and a
    /// policy is decided for every request (a small one is cheap to hand back).
    Reject(Box<Response>),
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

/// Seconds since the Unix epoch (the app may read the clock; `http` may not).
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
