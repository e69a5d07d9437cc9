//! One client connection: a state machine between the socket and the application.
//!
//! Theory of operation. [`Connection::drive`] is called when the socket is ready (or
//! the worker has more work queued for it). It
//! 1. reads until the socket would block, the peer closes, or the input buffer is full
//!    (edge-triggered readiness: mio reports a change once, so we drain);
//! 2. feeds the unconsumed bytes to its [`Conn`] (the HTTP rules: what is being read,
//!    what is owed, keep-alive, timers; `src/http/conn.rs`) and acts on its events:
//!    a complete head is routed, its body buffered, streamed or skipped as the route
//!    says, and each response is framed by [`Conn::respond`] into the output buffer,
//!    in request order (pipelining);
//! 3. writes the output buffer until the socket would block, refilling it from a file
//!    body if one is being sent.
//!
//! Work is bounded per call: at most [`MAX_REQUESTS_PER_WAKE`] requests, at most
//! [`MAX_BODY_PIECES_PER_WAKE`] pieces of body (a body of tiny chunks), at most
//! [`MAX_SINK_BYTES_PER_WAKE`] bytes handed to a route that streams its body, at most
//! [`MAX_INPUT_PER_WAKE`] bytes read after the first read (a fast body), at most
//! [`MAX_OUTPUT_PER_WAKE`] bytes of a file body written (a fast reader), and no new
//! request while more than [`OUTPUT_HIGH_WATER`] bytes wait to be written (a client
//! that pipelines without reading cannot make us buffer without end). When a budget
//! runs out with work left, `drive` says [`Next::MoreWork`] and the worker comes back
//! after serving the others.
//!
//! What stays here is what touches the socket: buffers and the worker's buffer pool,
//! per-turn budgets, file bodies sent in pieces, lingering close, `--trace`, the
//! guard that turns a handler's panic into a 500 for its request alone
//! ([`Connection::after_panic`]), and the access log.
//!
//! A response that ends the connection (an error, `Connection: close`, HTTP/1.0) stops
//! the parsing of further input; once it is written the connection shuts down its
//! sending side and reads and drops what the client still sends for a short while
//! ("lingering close", as nginx does), so the client reads the response instead of a
//! reset.

use crate::app::exchange::{Lookup, Stream};
use crate::app::wire::{BODY_BYTES, Record, Ring};
use crate::app::{App, Body, BodyPolicy, BodySink, Reply, Request, Response};
use crate::config::Config;
use crate::http::conn::{Conn, ConnEvent, Expired, Reading, Refusal, Timeouts, peek};
use crate::http::problem::Problem;
use crate::server::blocking::{Mailbox, Pool};
use crate::server::buffer::{BufPool, InBuf};
use crate::server::timer::Deadline;
use crate::server::trace::{Closed, Tracer};
use mio::net::TcpStream;
use std::any::Any;
use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::AsRawFd;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Requests answered per readiness event before the worker serves other connections.
pub(crate) const MAX_REQUESTS_PER_WAKE: usize = 32;
/// Pieces of body (a chunk's data, or what of it is buffered) taken from one connection
/// per readiness event before the worker serves the others. Each piece costs ~45 ns
/// whatever its size, so a chunked body of one-byte chunks would otherwise cost a
/// whole buffer's worth (32 KiB: 5461 chunks, ~240 µs) per turn; 1024 pieces keep a
/// turn under ~50 µs, and bodies in large pieces are not slowed at all.
pub(crate) const MAX_BODY_PIECES_PER_WAKE: usize = 1024;
/// Body bytes handed to a route that streams its body (an upload, a multipart body to
/// `/echo`) per readiness event. The route's cost per byte can be high: a multipart
/// body of one-byte parts costs ~0.4 µs a part (~6 ns a byte), so a whole 32 KiB
/// buffer of them would hold the loop ~200 µs; 16 KiB halves that. A file's bytes cost
/// far less, and taking them 16 KiB a turn costs an upload nothing measurable (see
/// docs/performance.md).
pub(crate) const MAX_SINK_BYTES_PER_WAKE: usize = 16 * 1024;
/// Bytes read from one connection per readiness event (beyond the first read) before
/// the worker serves the others: a body arriving as fast as the client can send it
/// (a 1 GiB upload, a million one-byte chunks) is taken a slice at a time, so the
/// requests of other connections wait at most for one slice, not for the whole body.
pub(crate) const MAX_INPUT_PER_WAKE: usize = 32 * 1024;
/// File-body bytes sent to one connection per readiness event before the worker
/// serves the others: a client that reads fast (a large download over loopback, or
/// many clients whose socket buffers are still empty) would otherwise have a whole
/// file copied in one turn while every other request waited.
pub(crate) const MAX_OUTPUT_PER_WAKE: usize = 2 * FILE_PIECE;
/// No new request is parsed while more than this many response bytes wait.
pub(crate) const OUTPUT_HIGH_WATER: usize = 64 * 1024;
/// A file body up to this size is read whole behind the head (one write); larger ones
/// are sent in pieces of this size as the socket takes them.
pub(crate) const FILE_PIECE: usize = 64 * 1024;
/// Bytes a lingering connection drops per readiness event (in the kernel, uncopied).
pub(crate) const MAX_DISCARD_PER_WAKE: usize = 256 * 1024;
/// How long a closing connection keeps reading (and dropping) what the client sends.
pub(crate) const LINGER: Duration = Duration::from_secs(2);
/// The most an idle keep-alive connection may hold of the server's memory, whatever
/// it served before (SPEC, "Security and bounds"; nginx holds ~250 bytes).
#[cfg(test)]
pub(crate) const IDLE_BYTES: usize = 2048;
/// Output buffer capacity kept between responses; a larger one is given back.
const OUTPUT_KEEP: usize = 64 * 1024;

/// What the worker should do with the connection after `drive`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// Wait for readiness or the deadline.
    Wait,
    /// Input is left that the per-wake budget did not cover: come back soon.
    MoreWork,
    /// Close and forget the connection.
    Close,
}

/// What one call of `drive` may still do (the per-wake budgets).
struct Turn {
    requests: usize,
    pieces: usize,
    sink_bytes: usize,
}

impl Turn {
    fn new() -> Turn {
        Turn {
            requests: MAX_REQUESTS_PER_WAKE,
            pieces: MAX_BODY_PIECES_PER_WAKE,
            sink_bytes: MAX_SINK_BYTES_PER_WAKE,
        }
    }

    /// A budget ran out: whatever is left waits for the connection's next turn.
    fn spent(&self) -> bool {
        self.requests == 0 || self.pieces == 0 || self.sink_bytes == 0
    }
}

/// What a connection needs from its worker for one `drive`.
pub(crate) struct Cx<'a> {
    pub app: &'a App,
    pub config: &'a Config,
    pub date: &'a [u8],
    pub now: Instant,
    /// The wall clock at the start of the turn, in Unix milliseconds.
    pub unix_ms: u64,
    pub pool: &'a Pool,
    pub mailbox: &'a Arc<Mailbox>,
    /// The worker's free buffers.
    pub bufs: &'a RefCell<BufPool>,
    /// The worker's part of the wire log (`None`: recording is off).
    pub wire: Option<&'a Ring>,
}

/// The request whose answer is being worked out off the event loop (blocking pool,
/// storage thread) or held back on the timers (`/delay`): later requests wait, as
/// responses go out in request order.
struct Waiting {
    /// Its request line, for the access log.
    line: String,
    started: Instant,
    /// What the wire log records of the request (its head, the start of its body),
    /// kept because the input buffer moves on meanwhile; empty with the log off.
    asked: Asked,
}

/// The request side of an exchange, as the wire log records it.
#[derive(Default)]
struct Asked {
    request: u32,
    time_ms: u64,
    head: Vec<u8>,
    body_bytes: u64,
    body_start: Vec<u8>,
}

/// Where the head of the request being answered lies.
enum HeadAt<'a> {
    /// In the input buffer, at `[start, start + len)`.
    Input(usize, usize),
    /// Copied aside while its answer was worked out.
    Kept(&'a Asked),
}

/// An answer that goes out on the worker's timers rather than at once (`/delay`,
/// `/stream`): [`Connection::due`] includes its next moment, so the worker's timer
/// heap wakes the connection then ([`Connection::on_timeout`]). No thread waits, and
/// nothing polls.
enum Timed {
    /// This response goes out at `at`; its request waits in `waiting`, as one answered
    /// by the blocking pool does.
    Delay { at: Instant, resp: Response },
    /// A streamed body under way (its head is out).
    Stream(Streaming),
}

/// A streamed body: pieces go out `interval` apart, each once the output buffer is
/// below [`OUTPUT_HIGH_WATER`] (a client that reads slowly holds at most that much).
struct Streaming {
    pieces: std::iter::Peekable<Box<dyn Iterator<Item = Vec<u8>> + Send>>,
    interval: Duration,
    /// When the next piece may go.
    next: Instant,
    /// For the access log, written when the body ends.
    line: String,
    started: Instant,
    status: u16,
    bytes: u64,
}

pub(crate) struct Connection {
    pub socket: TcpStream,
    pub peer: Option<SocketAddr>,
    pub id: usize,
    /// This connection's token in its worker (set once registered).
    pub token: usize,
    pub deadline: Deadline,
    /// The socket is registered for WRITABLE too (only while output is pending).
    pub write_interest: bool,
    /// Already in the worker's queue of connections with work left.
    pub queued: bool,
    /// A readable event came while queued: the queued turn reads.
    pub readable_later: bool,
    /// The last readiness event said the peer closed its side (or an error): reads
    /// must go on to EOF rather than stop at a short read.
    pub peer_closing: bool,
    /// The server is stopping: the next response closes the connection.
    pub draining: bool,
    input: InBuf,
    /// The HTTP rules of the connection: what is being read, what is owed.
    http: Conn,
    /// While a route's body comes in, its head lies at the buffer's front, this long.
    head_len: usize,
    /// When the current request's head was complete (for the access log).
    started: Instant,
    /// The route the app found for the current head.
    route: Lookup,
    body: Vec<u8>,
    sink: Option<Box<dyn BodySink>>,
    waiting: Option<Box<Waiting>>,
    /// An answer waiting on the timers (`/delay`, `/stream`).
    timed: Option<Box<Timed>>,
    /// The closing response is written and our side shut down: drop input until the
    /// peer closes or this time.
    lingering: Option<Instant>,
    out: Vec<u8>,
    out_pos: usize,
    file: Option<(File, u64)>,
    /// `sendfile(2)` works for this connection (false once it said EINVAL/ENOSYS).
    sendfile_ok: bool,
    /// The peer closed its sending side.
    read_eof: bool,
    /// Reading stopped before the socket would block (buffer full or backpressure).
    read_pending: bool,
    /// Writing stopped at the per-wake output budget while the socket could take more.
    write_pending: bool,
    /// When output last made progress (or was queued): a client that reads nothing
    /// for the idle timeout is dropped.
    last_write: Instant,
    /// `--trace`: this connection's trace (none without the flag).
    tracer: Option<Box<Tracer>>,
    /// Why the connection ends, when that is known where it happens (an error, a
    /// timer); otherwise [`Connection::close_reason`] works it out.
    closed_why: Option<Closed>,
    /// Requests begun on this connection (the wire log's request number).
    requests: u32,
    /// When the current request's head was complete, in Unix ms (the wire log's time).
    request_ms: u64,
    /// Body bytes of the current request so far.
    body_seen: u64,
    /// The first bytes of a streamed body (a buffered one is in `body`), for the wire
    /// log; given back once recorded.
    body_peek: Vec<u8>,
}

/// The connection timers from the configuration.
pub(crate) fn timeouts(config: &Config) -> Timeouts {
    Timeouts {
        header_line: config.header_timeout,
        header_total: config.header_total,
        body: config.body_timeout,
        idle: config.idle_timeout,
    }
}

impl Connection {
    pub(crate) fn new(
        socket: TcpStream,
        peer: Option<SocketAddr>,
        id: usize,
        config: &Config,
        now: Instant,
    ) -> Self {
        let limits = config.limits;
        let cap = (limits.max_request_line + limits.max_header_section + 8192).max(32 * 1024);
        Connection {
            socket,
            peer,
            id,
            token: usize::MAX,
            deadline: Deadline::default(),
            write_interest: false,
            queued: false,
            readable_later: false,
            peer_closing: false,
            draining: false,
            input: InBuf::new(cap),
            http: Conn::new(limits, timeouts(config), now),
            head_len: 0,
            started: now,
            route: Lookup::Pending,
            body: Vec::new(),
            sink: None,
            waiting: None,
            timed: None,
            lingering: None,
            out: Vec::new(),
            out_pos: 0,
            file: None,
            sendfile_ok: true,
            read_eof: false,
            read_pending: false,
            write_pending: false,
            last_write: now,
            tracer: config.trace.then(|| Box::new(Tracer::open(peer, id))),
            closed_why: None,
            requests: 0,
            request_ms: 0,
            body_seen: 0,
            body_peek: Vec::new(),
        }
    }

    /// Between requests: no byte of a next request, no response under way. A
    /// stopping server closes such connections at once.
    pub(crate) fn is_idle(&self) -> bool {
        self.http.is_idle() && self.input.is_empty() && !self.has_output()
    }

    /// Bytes of the worker's memory this connection holds: its slab slot (the struct
    /// itself) and the capacity of every buffer it owns. An idle keep-alive connection
    /// holds at most [`IDLE_BYTES`] (SPEC, "Security and bounds").
    #[cfg(test)]
    pub(crate) fn held_bytes(&self) -> usize {
        crate::server::slab::Slab::<Connection>::SLOT_BYTES
            + self.input.capacity()
            + self.out.capacity()
            + self.body.capacity()
            + self.waiting.as_ref().map_or(0, |w| {
                std::mem::size_of::<Waiting>()
                    + w.line.capacity()
                    + w.asked.head.capacity()
                    + w.asked.body_start.capacity()
            })
            + self.body_peek.capacity()
            + self.http.heap_bytes()
            + self
                .sink
                .as_ref()
                .map_or(0, |s| std::mem::size_of_val(&**s))
    }

    /// Who ended the connection, for `--trace`: what was recorded where it happened
    /// (an error, a timer), else the HTTP state (a `Connection: close` was sent), else
    /// the client's EOF.
    pub(crate) fn close_reason(&self) -> Closed {
        match self.closed_why {
            Some(why) => why,
            None if self.http.is_closing() || self.lingering.is_some() => Closed::ServerClose,
            None if self.read_eof => Closed::ClientEof,
            None => Closed::Error,
        }
    }

    /// `--trace`: the connection is closed, for this reason.
    pub(crate) fn trace_closed(&mut self, why: Closed) {
        if let Some(t) = &mut self.tracer {
            t.closed(why);
        }
    }

    /// Output waits to be written.
    pub(crate) fn has_output(&self) -> bool {
        self.out_pos < self.out.len() || self.file.is_some()
    }

    fn backpressured(&self) -> bool {
        self.out.len() - self.out_pos > OUTPUT_HIGH_WATER || self.file.is_some()
    }

    /// When the worker must next look at this connection if nothing happens: the
    /// HTTP timers ([`Conn::poll_timeout`]), the end of lingering, or the idle
    /// timeout of a client that does not read what we write.
    pub(crate) fn due(&self, config: &Config, now: Instant) -> Instant {
        if let Some(until) = self.lingering {
            return until;
        }
        let write = self
            .has_output()
            .then(|| self.last_write + config.idle_timeout);
        let due = match (self.http.poll_timeout(), write) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            // The route is answering (its answer wakes us): look again in a while.
            (None, None) => now + config.idle_timeout,
        };
        self.timed_due(now).map_or(due, |t| t.min(due))
    }

    /// When a timed answer must go on: the end of a delay, or the next piece of a
    /// stream (none while the client has not taken the output: its writable edge
    /// drives us); at once when the server is stopping, so that draining does not wait
    /// out delays and intervals.
    fn timed_due(&self, now: Instant) -> Option<Instant> {
        let at = match self.timed.as_deref()? {
            Timed::Delay { at, .. } => *at,
            Timed::Stream(_) if self.backpressured() => return None,
            Timed::Stream(s) => s.next,
        };
        Some(if self.draining { now } else { at })
    }

    /// Serve the connection as far as it can go now.
    pub(crate) fn drive(&mut self, cx: &Cx<'_>, readable: bool) -> Next {
        match catch_unwind(AssertUnwindSafe(|| self.drive_inner(cx, readable))) {
            Ok(next) => next,
            Err(_) => {
                log::error!(
                    "connection #{} dropped after a panic in the server",
                    self.id
                );
                self.closed_why = Some(Closed::Error);
                Next::Close
            }
        }
    }

    fn drive_inner(&mut self, cx: &Cx<'_>, readable: bool) -> Next {
        // Bytes this call may still read once the first read is done.
        let mut read_left = MAX_INPUT_PER_WAKE;
        if self.out.capacity() == 0 {
            self.out = cx.bufs.borrow_mut().take_output();
        }
        if readable || self.read_pending {
            self.input.attach(&mut cx.bufs.borrow_mut());
            match self.fill() {
                Ok(n) => read_left = read_left.saturating_sub(n),
                Err(e) => {
                    log::debug!("#{} read error: {e}", self.id);
                    self.closed_why = Some(Closed::Error);
                    return Next::Close;
                }
            }
        }
        let mut turn = Turn::new();
        let mut write_left = MAX_OUTPUT_PER_WAKE;
        loop {
            self.process(cx, &mut turn);
            let stream_ended = self.pump_stream(cx);
            let held_back = self.backpressured();
            if let Err(e) = self.flush(cx.now, &mut write_left) {
                log::debug!("#{} write error: {e}", self.id);
                self.closed_why = Some(Closed::Error);
                return Next::Close;
            }
            if self.http.is_closing() && self.lingering.is_none() && !self.has_output() {
                if self.read_eof {
                    return Next::Close;
                }
                let _ = self.socket.shutdown(Shutdown::Write);
                self.lingering = Some(cx.now + LINGER);
                // A body that will not complete: let the sink clean up.
                self.sink = None;
            }
            if self.lingering.is_some() {
                if self.read_eof {
                    return Next::Close;
                }
                let n = self.input.unconsumed().len();
                if let Some(t) = &mut self.tracer {
                    t.body(true, self.input.unconsumed());
                }
                self.input.consume(n);
                self.input.compact(0, 0);
                if self.read_pending {
                    if read_left == 0 {
                        // A client that keeps sending while we linger: its turn is up.
                        return Next::MoreWork;
                    }
                    match self.fill() {
                        Ok(n) => read_left = read_left.saturating_sub(n),
                        Err(_) => {
                            self.closed_why = Some(Closed::Error);
                            return Next::Close;
                        }
                    }
                    continue;
                }
                return Next::Wait;
            }
            // Parsing stopped for the answers waiting to be written (a large file, or
            // 64 KiB of them), and the socket took them all: go on with the requests
            // already buffered. Nothing else would: no edge comes for bytes we hold.
            if held_back && !self.backpressured() && !self.input.is_empty() && !turn.spent() {
                continue;
            }
            // A streamed body ended: go on with the requests pipelined behind it. Or it
            // has pieces due that the socket has room for (no edge would come).
            if stream_ended && !self.input.is_empty() && !turn.spent() {
                continue;
            }
            if self.stream_ready(cx.now) {
                if write_left > 0 {
                    continue;
                }
                self.write_pending = true;
            }
            // Room again after backpressure (or a full buffer): read what we left in
            // the socket, within this call's read budget.
            if self.read_pending && !self.backpressured() && !self.read_eof && read_left > 0 {
                match self.fill() {
                    Ok(0) => {}
                    Ok(n) => {
                        read_left = read_left.saturating_sub(n);
                        if !turn.spent() {
                            continue;
                        }
                    }
                    Err(_) => {
                        self.closed_why = Some(Closed::Error);
                        return Next::Close;
                    }
                }
            }
            break;
        }
        if self.read_eof && !self.has_output() && self.waiting.is_none() && self.timed.is_none() {
            // The peer is done sending and everything we owe it is written; a half
            // message can never complete.
            return Next::Close;
        }
        if self.write_pending {
            // The socket would take more of a file body: no writable edge will come,
            // so come back after the others.
            return Next::MoreWork;
        }
        // A budget ran out with work left (input to parse, or bytes left in the socket,
        // which raise no new edge): come back after the others. Not while waiting on
        // the blocking pool (its answer drives us) or on the client reading (the
        // writable edge does).
        if (turn.spent() || read_left == 0)
            && (!self.input.is_empty() || self.read_pending)
            && !self.backpressured()
            && self.waiting.is_none()
            && self.timed.is_none()
        {
            return Next::MoreWork;
        }
        self.release_idle_buffers(cx);
        Next::Wait
    }

    /// Give the worker back every buffer this connection does not need while it
    /// waits: the output buffer once its bytes are written, the input buffer once no
    /// byte of a next request is in it, and between requests the body buffer. An idle
    /// keep-alive connection then holds no buffer (see [`Connection::held_bytes`]).
    fn release_idle_buffers(&mut self, cx: &Cx<'_>) {
        let mut bufs = cx.bufs.borrow_mut();
        if !self.has_output() && self.out.capacity() > 0 {
            self.out_pos = 0;
            bufs.give_output(std::mem::take(&mut self.out));
        }
        // Not while a route's body comes in: its head lies in the buffer before `pos`.
        if self.input.is_empty() && !self.http.in_body() && self.waiting.is_none() {
            self.input.release(&mut bufs);
        }
        if self.http.reading() == Reading::Head
            && self.waiting.is_none()
            && self.body.capacity() > 0
        {
            self.body = Vec::new();
        }
    }

    /// Read until the socket would block, the peer closes, or the buffer is full.
    /// Returns the number of bytes read.
    fn fill(&mut self) -> io::Result<usize> {
        if self.lingering.is_some() && self.tracer.is_none() {
            return self.discard();
        }
        self.read_pending = false;
        let mut total = 0;
        loop {
            if self.read_eof {
                return Ok(total);
            }
            if self.lingering.is_none() && self.backpressured() {
                self.read_pending = true;
                return Ok(total);
            }
            if self.input.spare().is_empty() {
                self.compact_input();
                if self.input.spare().is_empty() {
                    self.read_pending = true;
                    return Ok(total);
                }
            }
            let spare = self.input.spare();
            let asked = spare.len();
            match self.socket.read(spare) {
                Ok(0) => {
                    self.read_eof = true;
                    return Ok(total);
                }
                Ok(n) => {
                    self.input.filled(n);
                    total += n;
                    if n < asked && !self.peer_closing {
                        // A short read emptied the socket's queue: the next byte to
                        // arrive raises a new edge, so the read that would only say
                        // WouldBlock is skipped (nginx does the same; one syscall less
                        // per request). Not when the peer's FIN came with this event:
                        // that edge is spent, so we read on to see the EOF.
                        return Ok(total);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(total),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                    self.read_eof = true;
                    return Err(e);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// While lingering: drop what the client still sends, up to [`MAX_DISCARD_PER_WAKE`]
    /// bytes a turn, in the kernel (no copy: a refused 1 GiB upload is drained at the
    /// cost of freeing its buffers). Returns the number of bytes dropped.
    fn discard(&mut self) -> io::Result<usize> {
        self.read_pending = false;
        let mut total = 0;
        while !self.read_eof {
            if total >= MAX_DISCARD_PER_WAKE {
                self.read_pending = true;
                break;
            }
            match crate::sys::discard(self.socket.as_raw_fd(), MAX_DISCARD_PER_WAKE - total) {
                Ok(0) => self.read_eof = true,
                Ok(n) => {
                    total += n;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.read_eof = true;
                    return Err(e);
                }
            }
        }
        Ok(total)
    }

    /// Make room in the input buffer, keeping a head that a body phase still needs.
    fn compact_input(&mut self) {
        if self.http.in_body() {
            self.input.compact(0, self.head_len);
        } else {
            self.input.compact(0, 0);
        }
    }

    /// Parse and answer requests from the buffered input, within the turn's budgets.
    fn process(&mut self, cx: &Cx<'_>, turn: &mut Turn) {
        loop {
            if self.lingering.is_some() || self.backpressured() {
                return;
            }
            if turn.requests == 0 || turn.pieces == 0 || turn.sink_bytes == 0 {
                return;
            }
            // A streaming route is shown at most what it may still take this turn (the
            // parser gives the same events however its input is cut).
            let input = self.input.unconsumed();
            let window = if self.sink.is_some() && self.http.in_body() {
                &input[..input.len().min(turn.sink_bytes)]
            } else {
                input
            };
            let cut_short = window.len() < input.len();
            let step = self.http.receive(window, cx.now);
            if let Some(t) = &mut self.tracer {
                let used = &window[..step.consumed.min(window.len())];
                match &step.event {
                    ConnEvent::Head { .. } => t.head(true, used),
                    ConnEvent::Refused(_) => t.head(true, window),
                    ConnEvent::End => {
                        t.body(true, used);
                        t.end(true);
                    }
                    _ => t.body(true, used),
                }
            }
            match step.event {
                ConnEvent::Blocked => return,
                ConnEvent::NeedData => {
                    // The chunked decoder may have used up framing bytes (a partial
                    // size line, a CRLF) without producing data.
                    self.input.consume(step.consumed);
                    if cut_short {
                        // The rest is there, past this turn's window: next turn.
                        turn.sink_bytes = 0;
                        return;
                    }
                    if self.read_eof && self.http.mid_message() && self.http.in_body() {
                        // A body cut short: nothing to answer on a half-closed stream.
                        self.sink = None;
                        self.http.abandon();
                    }
                    return;
                }
                ConnEvent::Progress => self.input.consume(step.consumed),
                ConnEvent::Head { len } => {
                    turn.requests -= 1;
                    self.on_head(cx, len);
                }
                ConnEvent::Data(range) => {
                    turn.pieces -= 1;
                    let start = self.input.pos();
                    self.input.consume(step.consumed);
                    let data = self.input.slice(start + range.start, start + range.end);
                    self.body_seen += data.len() as u64;
                    match &mut self.sink {
                        Some(sink) => {
                            if cx.wire.is_some() && self.body_peek.len() < BODY_BYTES {
                                let take = data.len().min(BODY_BYTES - self.body_peek.len());
                                self.body_peek.extend_from_slice(&data[..take]);
                            }
                            turn.sink_bytes = turn.sink_bytes.saturating_sub(data.len());
                            if let Err(resp) = sink.data(data) {
                                // The sink's answer is final: the rest is not read.
                                self.sink = None;
                                self.http.abort_body();
                                self.log_and_queue(cx, resp);
                                return;
                            }
                        }
                        None => self.body.extend_from_slice(data),
                    }
                }
                ConnEvent::End => {
                    self.input.consume(step.consumed);
                    self.dispatch(cx, 0, self.head_len);
                    self.head_len = 0;
                    if self.body.capacity() > OUTPUT_KEEP {
                        self.body = Vec::new();
                    } else {
                        self.body.clear();
                    }
                }
                ConnEvent::Refused(refusal) => {
                    // Dropping the sink cleans up what it wrote.
                    self.sink = None;
                    self.refuse(cx, &refusal);
                    return;
                }
                ConnEvent::Close => {
                    self.sink = None;
                    return;
                }
            }
        }
    }

    /// A head is complete at the front of the unconsumed input.
    fn on_head(&mut self, cx: &Cx<'_>, len: usize) {
        let start = self.input.pos();
        self.input.consume(len);
        self.started = cx.now;
        self.begin_request(cx);
        let in_handler = Cell::new(false);
        let ran = catch_unwind(AssertUnwindSafe(|| {
            self.take_head(cx, start, len, &in_handler);
        }));
        if let Err(panic) = ran {
            self.after_panic(cx, panic, in_handler.get(), (start, len), true);
        }
    }

    /// Decide how the head at `input[start..start + len]` is answered, and answer it
    /// if its body is not read (under [`Connection::on_head`]'s panic guard).
    #[inline(always)]
    fn take_head(&mut self, cx: &Cx<'_>, start: usize, len: usize, in_handler: &Cell<bool>) {
        let head = self.http.head(self.input.slice(start, start + len));
        let (policy, routed) = cx.app.body_policy(&head);
        if let BodyPolicy::Ignore = policy {
            // Answered from the head alone, at once: with the route and the decoded
            // path the router found, so nothing is read, decoded or looked up twice.
            let req = Request {
                head,
                body: &[],
                chunked: self.http.chunked(),
                peer: self.peer,
                route: routed.lookup,
                decoded: routed.path.as_deref(),
            };
            let reply = answer(cx, &req, None, in_handler);
            drop(routed);
            self.http.ignore_body(cx.config.max_body, cx.now);
            self.deliver(cx, start, len, reply);
            return;
        }
        self.route = routed.lookup;
        drop(routed);
        match policy {
            BodyPolicy::Buffer { limit } => self.take_body(cx, start, len, limit, None),
            BodyPolicy::Stream { sink, limit } => self.take_body(cx, start, len, limit, Some(sink)),
            BodyPolicy::Reject(resp) => {
                self.http.reject(cx.now);
                self.queue_for(cx, start, len, *resp);
            }
            BodyPolicy::Ignore => unreachable!("answered above"),
        }
    }

    /// The route reads the body of the head at `input[start..start + len]`.
    fn take_body(
        &mut self,
        cx: &Cx<'_>,
        start: usize,
        len: usize,
        limit: u64,
        sink: Option<Box<dyn BodySink>>,
    ) {
        let body_started = !self.input.is_empty();
        let before = self.out.len();
        let accepted = self
            .http
            .accept_body(limit, body_started, cx.now, &mut self.out);
        if let Some(t) = &mut self.tracer {
            t.head(false, &self.out[before..]); // a `100 Continue`, if one was owed
        }
        if let Err(refusal) = accepted {
            self.head_len = 0;
            self.refuse_head(cx, start, len, &refusal);
            return;
        }
        self.sink = sink;
        // Keep the head at the buffer's front while the body comes in.
        self.input.compact(start, len);
        self.head_len = len;
    }

    /// Call the handler for the head at `input[head_start..head_start+head_len]` (or
    /// the sink that took its body) and queue its response, or hand its job to the
    /// blocking pool.
    fn dispatch(&mut self, cx: &Cx<'_>, head_start: usize, head_len: usize) {
        let route = std::mem::take(&mut self.route);
        let in_handler = Cell::new(false);
        let ran = catch_unwind(AssertUnwindSafe(|| {
            let head = self
                .http
                .head(self.input.slice(head_start, head_start + head_len));
            let req = Request {
                head,
                body: &self.body,
                chunked: self.http.chunked(),
                peer: self.peer,
                route,
                decoded: None,
            };
            let sink = self.sink.take();
            let reply = answer(cx, &req, sink, &in_handler);
            self.deliver(cx, head_start, head_len, reply);
        }));
        if let Err(panic) = ran {
            self.after_panic(cx, panic, in_handler.get(), (head_start, head_len), false);
        }
    }

    /// A panic was caught while the head at `input[at.0..at.0 + at.1]` was answered.
    /// In a handler (`in_handler`), it costs this one response: a 500 that closes
    /// the connection (`skip_body`: the body, not read, is skipped as usual). Anywhere
    /// else it is the server's own fault, passed on to [`Connection::drive`], which
    /// drops the connection. The guard spans the whole answer, not the handler alone,
    /// so that the reply is not moved out of it (the moves cost the pipelined load
    /// ~1% of its CPU: docs/performance.md).
    #[cold]
    fn after_panic(
        &mut self,
        cx: &Cx<'_>,
        panic: Box<dyn Any + Send>,
        in_handler: bool,
        at: (usize, usize),
        skip_body: bool,
    ) {
        if !in_handler {
            resume_unwind(panic);
        }
        let (start, len) = at;
        let head = self.http.head(self.input.slice(start, start + len));
        log::error!(
            "handler panicked on \"{} {}\"",
            head.method_str(),
            head.target()
        );
        let p = Problem::new(
            500,
            "the handler for this page failed; the server carries on",
        );
        let mut r = cx.app.problem(&p, head.header("accept"));
        r.head.close = true;
        if skip_body {
            self.http.ignore_body(cx.config.max_body, cx.now);
        }
        self.deliver(cx, start, len, Reply::Now(r));
    }

    /// Queue the answer to the head at `input[head_start..head_start+head_len]`, or
    /// start its stream, or wait for it (the blocking pool, a durable write, a timer).
    fn deliver(&mut self, cx: &Cx<'_>, head_start: usize, head_len: usize, reply: Reply) {
        let line = |this: &Self| {
            let head = this
                .http
                .head(this.input.slice(head_start, head_start + head_len));
            RequestLine(&head).to_string()
        };
        match reply {
            Reply::Now(resp) => self.queue_for(cx, head_start, head_len, resp),
            Reply::Stream(stream) => {
                let line = line(self);
                self.start_stream(cx, line, stream, HeadAt::Input(head_start, head_len));
            }
            Reply::Later(_) | Reply::Pending(_) | Reply::After(..) => {
                let asked = self.asked(cx, HeadAt::Input(head_start, head_len));
                self.waiting = Some(Box::new(Waiting {
                    line: line(self),
                    started: self.started,
                    asked,
                }));
                match reply {
                    Reply::Later(job) => cx.pool.submit(job, self.token, Arc::clone(cx.mailbox)),
                    Reply::Pending(pending) => {
                        let mailbox = Arc::clone(cx.mailbox);
                        let token = self.token;
                        pending(Box::new(move |resp| mailbox.deliver(token, resp)));
                    }
                    Reply::After(wait, resp) => {
                        // On the timers: `due` says when, `on_timeout` sends it.
                        let at = cx.now + wait;
                        self.timed = Some(Box::new(Timed::Delay { at, resp: *resp }));
                    }
                    Reply::Now(_) | Reply::Stream(_) => unreachable!(),
                }
            }
        }
    }

    /// The blocking pool's answer for the waiting request has come: send it and go on
    /// with whatever the client pipelined meanwhile.
    pub(crate) fn complete(&mut self, cx: &Cx<'_>, resp: Response) -> Next {
        let Some(waiting) = self.waiting.take() else {
            log::warn!("#{}: an answer came for no waiting request", self.id);
            return Next::Wait;
        };
        access_log(
            self.peer,
            &waiting.line,
            &resp,
            self.http.is_head(),
            waiting.started,
        );
        self.queue_response(cx, resp, HeadAt::Kept(&waiting.asked));
        self.drive(cx, false)
    }

    /// Log and queue the response to the head at `input[head_start..+head_len]`.
    #[inline(always)]
    fn queue_for(&mut self, cx: &Cx<'_>, head_start: usize, head_len: usize, resp: Response) {
        if log::log_enabled!(target: "access", log::Level::Info) {
            let head = self
                .http
                .head(self.input.slice(head_start, head_start + head_len));
            let line = RequestLine(&head);
            access_log(self.peer, &line, &resp, self.http.is_head(), self.started);
        }
        self.queue_response(cx, resp, HeadAt::Input(head_start, head_len));
    }

    /// Log and queue a response whose request line is not at hand.
    fn log_and_queue(&mut self, cx: &Cx<'_>, resp: Response) {
        access_log(self.peer, &"-", &resp, self.http.is_head(), self.started);
        // The head of a request whose body is streaming lies at the buffer's front.
        self.queue_response(cx, resp, HeadAt::Input(0, self.head_len));
    }

    /// Answer a refusal found while a route's body came in (its head is at the
    /// buffer's front) or in a head (at the front of the unconsumed input).
    fn refuse(&mut self, cx: &Cx<'_>, refusal: &Refusal) {
        if self.head_len > 0 {
            let len = std::mem::take(&mut self.head_len);
            self.refuse_head(cx, 0, len, refusal);
        } else {
            // A head refused before it was complete: a request of its own.
            self.begin_request(cx);
            let start = self.input.pos();
            let len = self.input.unconsumed().len();
            self.refuse_head(cx, start, len, refusal);
        }
    }

    /// Answer a refusal in the client's format (`Accept`, as far as the head got);
    /// `input[start..start + len]` holds what came of the head.
    fn refuse_head(&mut self, cx: &Cx<'_>, start: usize, len: usize, refusal: &Refusal) {
        let bytes = self.input.slice(start, start + len);
        // The format from what had come when the fault was found, whatever came after.
        let settled = refusal.settled(bytes);
        let accept = peek(settled).accept.map(|r| &settled[r]);
        let mut resp = cx.app.problem(&refusal.problem(bytes), accept);
        resp.head.close = true;
        if log::log_enabled!(target: "access", log::Level::Info) {
            let line = peek(bytes)
                .request_line
                .map_or(Cow::Borrowed("-"), |r| String::from_utf8_lossy(&bytes[r]));
            log::info!(
                target: "access",
                "{} \"{}\" {} refused: {}",
                peer_str(self.peer),
                line.escape_debug(),
                refusal.status(),
                refusal
            );
        }
        self.queue_response(cx, resp, HeadAt::Input(start, len));
    }

    /// Encode a response into the output buffer (head and, when small, body: one write).
    fn queue_response(&mut self, cx: &Cx<'_>, resp: Response, asked: HeadAt<'_>) {
        let Response {
            head,
            body,
            recorded,
        } = resp;
        if !self.has_output() {
            self.last_write = cx.now;
        }
        let before = self.out.len();
        let framed = self.http.respond(
            &head,
            body.len(),
            cx.date,
            self.draining,
            cx.now,
            &mut self.out,
        );
        let body_at = self.out.len();
        if let Some(t) = &mut self.tracer {
            t.head(false, &self.out[before..]);
        }
        if let Some(ring) = cx.wire.filter(|_| recorded) {
            self.record(ring, asked, before);
        }
        if !framed.body {
            return;
        }
        match body {
            Body::Empty => {}
            Body::Static(b) => self.out.extend_from_slice(b),
            Body::Bytes(b) => self.out.extend_from_slice(&b),
            // A file from the cache: one copy, behind the head (one write for both).
            Body::Shared { bytes, start, len } => {
                match bytes.get(start as usize..start as usize + len as usize) {
                    Some(piece) => self.out.extend_from_slice(piece),
                    None => {
                        log::warn!("#{}: shared body out of its bytes; closing", self.id);
                        self.http.abandon();
                    }
                }
            }
            Body::File { file, len } => {
                if len as usize <= FILE_PIECE {
                    let got = read_piece(&file, len, &mut self.out);
                    if got != Ok(len) {
                        log::warn!("#{}: file body shorter than its length; closing", self.id);
                        self.http.abandon();
                    }
                } else {
                    if let Some(t) = &mut self.tracer {
                        t.body_unseen(false, len);
                    }
                    self.file = Some((file, len));
                }
            }
        }
        if let Some(t) = &mut self.tracer {
            t.body(false, &self.out[body_at..]);
            t.end(false);
        }
    }

    /// A new request begins (a head is complete, or refused before it was): number it
    /// and start counting its body, for the wire log.
    fn begin_request(&mut self, cx: &Cx<'_>) {
        self.requests = self.requests.wrapping_add(1);
        self.request_ms = cx.unix_ms;
        self.body_seen = 0;
        self.body_peek.clear();
    }

    /// The request side of the current exchange, copied (for an answer that comes
    /// later); nothing with the wire log off.
    fn asked(&self, cx: &Cx<'_>, at: HeadAt<'_>) -> Asked {
        if cx.wire.is_none() {
            return Asked::default();
        }
        let (head, body_start) = self.request_side(&at);
        Asked {
            request: self.requests,
            time_ms: self.request_ms,
            head: head.to_vec(),
            body_bytes: self.body_seen,
            body_start: body_start.to_vec(),
        }
    }

    /// The head and the start of the body of the request at `at`.
    fn request_side<'s>(&'s self, at: &'s HeadAt<'s>) -> (&'s [u8], &'s [u8]) {
        match at {
            HeadAt::Input(start, len) => {
                let head = self.input.slice(*start, start + len);
                let body = if self.body_peek.is_empty() {
                    &self.body[..self.body.len().min(BODY_BYTES)]
                } else {
                    &self.body_peek[..]
                };
                (head, body)
            }
            HeadAt::Kept(asked) => (&asked.head, &asked.body_start),
        }
    }

    /// Record the exchange whose response head was just framed at `out[mark..]`.
    fn record(&mut self, ring: &Ring, at: HeadAt<'_>, mark: usize) {
        let (request, time_ms, body_bytes) = match &at {
            HeadAt::Input(..) => (self.requests, self.request_ms, self.body_seen),
            HeadAt::Kept(a) => (a.request, a.time_ms, a.body_bytes),
        };
        let (request_head, body_start) = self.request_side(&at);
        ring.record(&Record {
            peer: self.peer,
            conn: self.id,
            request,
            time_ms,
            request_head,
            body_bytes,
            body_start,
            response_head: &self.out[mark..],
        });
        if self.body_peek.capacity() > 0 {
            self.body_peek = Vec::new();
        }
    }

    /// Send a streamed response's head (framed by [`Conn::respond_streamed`]); its
    /// pieces follow from [`Connection::pump_stream`].
    fn start_stream(&mut self, cx: &Cx<'_>, line: String, stream: Stream, asked: HeadAt<'_>) {
        if !self.has_output() {
            self.last_write = cx.now;
        }
        let Stream {
            head,
            pieces,
            interval,
        } = stream;
        let mark = self.out.len();
        let framed = self
            .http
            .respond_streamed(&head, cx.date, self.draining, &mut self.out);
        if let Some(t) = &mut self.tracer {
            t.head(false, &self.out[mark..]);
        }
        if let Some(ring) = cx.wire {
            self.record(ring, asked, mark);
        }
        let pieces: Box<dyn Iterator<Item = Vec<u8>> + Send> = if framed.body {
            pieces
        } else {
            Box::new(std::iter::empty())
        };
        self.timed = Some(Box::new(Timed::Stream(Streaming {
            pieces: pieces.peekable(),
            interval,
            next: cx.now,
            line,
            started: self.started,
            status: head.status,
            bytes: 0,
        })));
    }

    /// A streamed body has a piece due and room for it in the output.
    fn stream_ready(&self, now: Instant) -> bool {
        match self.timed.as_deref() {
            Some(Timed::Stream(s)) => !self.backpressured() && (self.draining || now >= s.next),
            _ => false,
        }
    }

    /// Queue the pieces of a streamed body that are due, while the output is below
    /// [`OUTPUT_HIGH_WATER`] (the socket has taken what went before); after the last
    /// one, end the body and write the access log line. Says whether it ended.
    fn pump_stream(&mut self, cx: &Cx<'_>) -> bool {
        let Some(Timed::Stream(s)) = self.timed.as_deref_mut() else {
            return false;
        };
        loop {
            if s.pieces.peek().is_none() {
                break;
            }
            if self.out.len() - self.out_pos > OUTPUT_HIGH_WATER
                || (!self.draining && cx.now < s.next)
            {
                return false;
            }
            let Some(piece) = s.pieces.next() else { break };
            if self.out_pos == self.out.len() {
                self.last_write = cx.now;
            }
            let at = self.out.len();
            self.http.stream_piece(&piece, &mut self.out);
            if let Some(t) = &mut self.tracer {
                t.body(false, &self.out[at..]);
            }
            s.bytes += piece.len() as u64;
            s.next = cx.now + s.interval;
        }
        let Some(timed) = self.timed.take() else {
            return false;
        };
        let Timed::Stream(s) = *timed else {
            return false;
        };
        let at = self.out.len();
        self.http.end_stream(self.draining, cx.now, &mut self.out);
        if let Some(t) = &mut self.tracer {
            t.body(false, &self.out[at..]);
            t.end(false);
        }
        access_log_line(self.peer, &s.line, s.status, s.bytes, s.started);
        true
    }

    /// Write pending output until the socket would block, or until `write_left` bytes
    /// have gone and the next piece of a file body would be read (`write_pending`).
    fn flush(&mut self, now: Instant, write_left: &mut usize) -> io::Result<()> {
        self.write_pending = false;
        loop {
            if self.out_pos == self.out.len() {
                self.out_pos = 0;
                self.out.clear();
                if self.out.capacity() > OUTPUT_KEEP {
                    self.out.shrink_to(OUTPUT_KEEP);
                }
                let Some((file, remaining)) = &mut self.file else {
                    return Ok(());
                };
                if *write_left == 0 {
                    self.write_pending = true;
                    return Ok(());
                }
                // Large files go from the page cache to the socket with sendfile(2):
                // no copy through our memory. Bounded by this turn's budget.
                if self.sendfile_ok {
                    let want = (*remaining).min(*write_left as u64) as usize;
                    match crate::sys::sendfile(self.socket.as_raw_fd(), file.as_raw_fd(), want) {
                        Ok(0) => {
                            self.file = None;
                            return Err(io::Error::other("file body ended early"));
                        }
                        Ok(n) => {
                            *remaining -= n as u64;
                            *write_left = write_left.saturating_sub(n);
                            self.last_write = now;
                            if *remaining == 0 {
                                self.file = None;
                            }
                            continue;
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        // Not supported for this file or socket: read and write instead.
                        Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) => {
                            self.sendfile_ok = false;
                        }
                        Err(e) => {
                            self.file = None;
                            return Err(e);
                        }
                    }
                }
                let want = (*remaining).min(FILE_PIECE as u64);
                match read_piece(file, want, &mut self.out) {
                    Ok(n) if n == want => {
                        *remaining -= n;
                        if *remaining == 0 {
                            self.file = None;
                        }
                    }
                    _ => {
                        // The file shrank or failed under us: the promised length
                        // cannot be kept, so the connection must end.
                        self.file = None;
                        return Err(io::Error::other("file body ended early"));
                    }
                }
            }
            match self.socket.write(&self.out[self.out_pos..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.out_pos += n;
                    *write_left = write_left.saturating_sub(n);
                    self.last_write = now;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// The deadline passed: the HTTP timers say whether to answer 408 or close; a
    /// client that read nothing of our output for the idle timeout is dropped.
    pub(crate) fn on_timeout(&mut self, cx: &Cx<'_>) -> Next {
        if self.lingering.is_some_and(|until| cx.now >= until) {
            return Next::Close;
        }
        if self.has_output() && cx.now >= self.last_write + cx.config.idle_timeout {
            self.closed_why = Some(Closed::Timeout);
            return Next::Close;
        }
        if let Some(next) = self.on_timed_due(cx) {
            return next;
        }
        let input = if self.head_len > 0 {
            self.input.slice(0, self.head_len)
        } else {
            self.input.unconsumed()
        };
        match self.http.handle_timeout(cx.now, input) {
            None => Next::Wait,
            Some(Expired::Close) => {
                self.closed_why = Some(Closed::Timeout);
                Next::Close
            }
            Some(Expired::Answer(refusal)) => {
                // A body that will not complete: let the sink clean up.
                self.sink = None;
                self.refuse(cx, &refusal);
                self.drive(cx, false)
            }
        }
    }
}

impl Connection {
    /// A timed answer's moment has come: send the delayed response (and go on with
    /// what was pipelined), or the stream's next pieces.
    fn on_timed_due(&mut self, cx: &Cx<'_>) -> Option<Next> {
        if cx.now < self.timed_due(cx.now)? {
            return None;
        }
        if matches!(self.timed.as_deref(), Some(Timed::Stream(_))) {
            return Some(self.drive(cx, false));
        }
        match self.timed.take().map(|t| *t) {
            Some(Timed::Delay { resp, .. }) => Some(self.complete(cx, resp)),
            _ => None,
        }
    }
}

/// `GET /x HTTP/1.1`, for the access log (written into the log line, not into a
/// string of its own).
struct RequestLine<'a>(&'a crate::http::RequestHead<'a>);

impl std::fmt::Display for RequestLine<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let h = self.0;
        write!(
            f,
            "{} {} {}",
            h.method_str(),
            h.target(),
            h.version.as_str()
        )
    }
}

/// The app's answer to `req`, with `in_handler` set while the app runs: a panic
/// caught then is the handler's (see [`Connection::after_panic`]).
#[inline(always)]
fn answer(
    cx: &Cx<'_>,
    req: &Request<'_>,
    sink: Option<Box<dyn BodySink>>,
    in_handler: &Cell<bool>,
) -> Reply {
    in_handler.set(true);
    let reply = cx.app.answer(req, sink);
    in_handler.set(false);
    reply
}

/// One access-log line: remote, request line, status, body bytes, duration.
fn access_log(
    peer: Option<SocketAddr>,
    line: &dyn std::fmt::Display,
    resp: &Response,
    is_head: bool,
    started: Instant,
) {
    let bytes = if is_head { 0 } else { resp.body.len() };
    access_log_line(peer, line, resp.head.status, bytes, started);
}

/// [`access_log`] from its parts (a streamed body is counted as it goes).
fn access_log_line(
    peer: Option<SocketAddr>,
    line: &dyn std::fmt::Display,
    status: u16,
    bytes: u64,
    started: Instant,
) {
    log::info!(
        target: "access",
        "{} \"{}\" {} {} {:.3}ms",
        peer_str(peer),
        line,
        status,
        bytes,
        Instant::now().saturating_duration_since(started).as_secs_f64() * 1000.0
    );
}

/// Read `len` bytes from `file` onto `out`: one `read` for a small file, where
/// `read_to_end` would probe with extra small reads (5 reads for a 1.4 KiB page,
/// measured with strace). Fewer bytes (the file shrank) or an error: `Err`.
fn read_piece(mut file: &File, len: u64, out: &mut Vec<u8>) -> Result<u64, ()> {
    let start = out.len();
    out.resize(start + len as usize, 0);
    match file.read_exact(&mut out[start..]) {
        Ok(()) => Ok(len),
        Err(_) => {
            out.truncate(start);
            Err(())
        }
    }
}

fn peer_str(peer: Option<SocketAddr>) -> String {
    peer.map_or_else(|| "-".to_string(), |p| p.to_string())
}

#[cfg(test)]
mod tests {
    //! The per-turn budgets, checked on a real loopback socket with no worker around
    //! it: each `drive` is one turn.
    use super::*;
    use crate::app::AppConfig;
    use std::net::TcpListener;

    struct Rig {
        app: App,
        config: Config,
        pool: Pool,
        mailbox: Arc<Mailbox>,
        bufs: RefCell<BufPool>,
        _poll: mio::Poll,
        date: Vec<u8>,
        data: std::path::PathBuf,
    }

    fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let dest = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy_dir(&entry.path(), &dest);
            } else {
                std::fs::copy(entry.path(), dest).unwrap();
            }
        }
    }

    impl Rig {
        fn new(tag: &str) -> Rig {
            Rig::with_file(tag, None)
        }

        /// A rig whose `www/static/` also holds `name` with `bytes` in it.
        fn with_file(tag: &str, file: Option<(&str, &[u8])>) -> Rig {
            let data = std::env::temp_dir().join(format!(
                "wirepost-conn-{tag}-{}-{:?}",
                std::process::id(),
                Instant::now()
            ));
            let repo_www = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("www");
            let www = match file {
                None => repo_www,
                Some((name, bytes)) => {
                    let www = data.join("www");
                    copy_dir(&repo_www, &www);
                    std::fs::write(www.join("static").join(name), bytes).unwrap();
                    www
                }
            };
            let config = Config::default();
            let app = App::new(AppConfig {
                www,
                data: data.clone(),
                docs: config.docs.clone(),
                max_body: config.max_body,
                max_upload: config.max_upload,
                max_upload_files: config.max_upload_files,
                max_sessions: config.max_sessions,
                purge_every: config.purge_every,
            })
            .unwrap();
            let poll = mio::Poll::new().unwrap();
            let waker = mio::Waker::new(poll.registry(), mio::Token(0)).unwrap();
            Rig {
                app,
                config,
                pool: Pool::new(1).unwrap(),
                mailbox: Arc::new(Mailbox::new(waker)),
                bufs: RefCell::new(BufPool::new()),
                _poll: poll,
                date: b"Thu, 26 Nov 2026 00:00:00 GMT".to_vec(),
                data,
            }
        }

        fn cx(&self) -> Cx<'_> {
            Cx {
                app: &self.app,
                config: &self.config,
                date: &self.date,
                now: Instant::now(),
                unix_ms: 0,
                pool: &self.pool,
                mailbox: &self.mailbox,
                bufs: &self.bufs,
                wire: None,
            }
        }

        /// A connection and the client's end of it.
        fn connect(&self) -> (std::net::TcpStream, Connection) {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            let (server, peer) = listener.accept().unwrap();
            server.set_nonblocking(true).unwrap();
            let conn = Connection::new(
                TcpStream::from_std(server),
                Some(peer),
                1,
                &self.config,
                Instant::now(),
            );
            (client, conn)
        }
    }

    impl Drop for Rig {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.data);
        }
    }

    /// Send `bytes` and wait until the server's socket holds them all.
    fn send(client: &mut std::net::TcpStream, conn: &Connection, bytes: &[u8]) {
        client.write_all(bytes).unwrap();
        let mut probe = vec![0u8; bytes.len() + 1];
        let deadline = Instant::now() + Duration::from_secs(5);
        while conn.socket.peek(&mut probe).unwrap_or(0) < bytes.len() {
            assert!(Instant::now() < deadline, "bytes never arrived");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// What the client receives until `quiet` passes without a byte (or the end).
    fn read_all(client: &mut std::net::TcpStream, quiet: Duration) -> Vec<u8> {
        client.set_read_timeout(Some(quiet)).unwrap();
        let mut out = Vec::new();
        let mut buf = [0u8; 65536];
        while let Ok(n) = client.read(&mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        out
    }

    #[test]
    fn a_body_of_tiny_chunks_is_taken_a_bounded_number_of_pieces_per_turn() {
        let rig = Rig::new("pieces");
        let (mut client, mut conn) = rig.connect();
        const CHUNKS: usize = 3000; // 18 KB of framing: well within one read
        let mut req =
            b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        for _ in 0..CHUNKS {
            req.extend_from_slice(b"1\r\na\r\n");
        }
        send(&mut client, &conn, &req);
        let mut turns = Vec::new();
        loop {
            let next = conn.drive(&rig.cx(), turns.is_empty());
            turns.push(conn.body.len());
            if next != Next::MoreWork {
                assert_eq!(next, Next::Wait);
                break;
            }
        }
        assert_eq!(turns, vec![1024, 2048, 3000]);
        send(&mut client, &conn, b"0\r\n\r\n");
        assert_eq!(conn.drive(&rig.cx(), true), Next::Wait);
        let resp = String::from_utf8(read_all(&mut client, Duration::from_millis(200))).unwrap();
        assert!(resp.starts_with("HTTP/1.1 200 OK\r\n"), "{resp}");
        assert!(resp.contains("\"body_bytes\": 3000"), "{resp}");
    }

    #[test]
    fn a_streaming_route_is_given_a_bounded_number_of_bytes_per_turn() {
        let rig = Rig::new("sink");
        let (mut client, mut conn) = rig.connect();
        let mut body =
            b"--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\n\r\n".to_vec();
        body.resize(body.len() + 40_000, b'x');
        body.extend_from_slice(b"\r\n--b--\r\n");
        let mut req = format!(
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n\
             Content-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        req.extend_from_slice(&body);
        send(&mut client, &conn, &req);
        let mut given = Vec::new();
        loop {
            let next = conn.drive(&rig.cx(), given.is_empty());
            match conn.http.reading() {
                Reading::Body { received, .. } => given.push(received as usize),
                _ => given.push(body.len()),
            }
            if next != Next::MoreWork {
                assert_eq!(next, Next::Wait);
                break;
            }
        }
        let turn = MAX_SINK_BYTES_PER_WAKE;
        assert_eq!(given, vec![turn, 2 * turn, body.len()]);
        let resp = String::from_utf8(read_all(&mut client, Duration::from_millis(200))).unwrap();
        assert!(resp.starts_with("HTTP/1.1 200 OK\r\n"), "{resp}");
        assert!(resp.contains("\"size\": 40000"), "{resp}");
    }

    /// Parsing stops while a large file (or more than 64 KiB of answers) waits to be
    /// written; when the socket then takes it all within the turn, the requests still
    /// buffered must be answered without another readiness event (none comes for
    /// bytes already read). They once waited for the 10 s header timeout: pipelining
    /// two GETs of a 100 KB file got one answer.
    #[test]
    fn requests_held_back_by_unwritten_answers_go_on_once_they_are_written() {
        let file = vec![b'z'; 100_000];
        let rig = Rig::with_file("held", Some(("big.bin", &file)));
        let (mut client, mut conn) = rig.connect();
        let n = 3;
        let req = b"GET /static/big.bin HTTP/1.1\r\nHost: x\r\n\r\n".repeat(n);
        send(&mut client, &conn, &req);
        let mut reader = client.try_clone().unwrap();
        let got = std::thread::spawn(move || read_all(&mut reader, Duration::from_millis(500)));
        // Drive as the worker would (writable edges included) until the connection
        // has nothing left to do on its own.
        let mut readable = true;
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let next = conn.drive(&rig.cx(), std::mem::take(&mut readable));
            if next == Next::Wait && !conn.has_output() {
                break;
            }
            assert!(Instant::now() < deadline, "never settled");
            std::thread::sleep(Duration::from_millis(1));
        }
        let out = got.join().unwrap();
        let answers = out.windows(15).filter(|w| w == b"HTTP/1.1 200 OK").count();
        assert_eq!(answers, n, "answered {answers} of {n} pipelined requests");
        assert_eq!(out.iter().filter(|&&b| b == b'z').count(), n * file.len());
    }

    /// Serve `req` on `conn` until it has nothing left to do; the client's answer.
    fn serve(
        rig: &Rig,
        client: &mut std::net::TcpStream,
        conn: &mut Connection,
        req: &[u8],
    ) -> Vec<u8> {
        send(client, conn, req);
        let mut reader = client.try_clone().unwrap();
        let got = std::thread::spawn(move || read_all(&mut reader, Duration::from_millis(300)));
        let mut readable = true;
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let next = conn.drive(&rig.cx(), std::mem::take(&mut readable));
            assert_ne!(next, Next::Close);
            if next == Next::Wait && !conn.has_output() {
                break;
            }
            assert!(Instant::now() < deadline, "never settled");
            std::thread::sleep(Duration::from_millis(1));
        }
        got.join().unwrap()
    }

    /// Once its answers are written an idle keep-alive connection holds at most
    /// IDLE_BYTES, whatever it served: it once kept 8 KiB of input buffer after
    /// `/plaintext` and up to 64 KiB of output buffer after a large answer.
    #[test]
    fn an_idle_connection_holds_at_most_idle_bytes_whatever_it_served() {
        let file = vec![b'z'; 200_000];
        let rig = Rig::with_file("idle", Some(("big.bin", &file)));
        for (target, len) in [
            ("/plaintext", 13),
            ("/", 1000),
            ("/static/big.bin", file.len()),
        ] {
            let (mut client, mut conn) = rig.connect();
            let req = format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n");
            let out = serve(&rig, &mut client, &mut conn, req.as_bytes());
            assert!(out.starts_with(b"HTTP/1.1 200 OK\r\n"), "{target}");
            assert!(out.len() > len, "{target}: {} bytes", out.len());
            // (After a file the phase may still be `SkipBody` of a request without
            // body, ended when the next bytes come: not `is_idle`, but it waits.)
            assert!(!conn.has_output() && conn.input.is_empty(), "{target}");
            assert!(
                conn.held_bytes() <= IDLE_BYTES,
                "{target}: an idle connection holds {} bytes",
                conn.held_bytes()
            );
            // And it serves the next request as well as the first.
            let again = serve(&rig, &mut client, &mut conn, req.as_bytes());
            assert_eq!(again.len(), out.len(), "{target}");
        }
    }

    /// A partial head (and pipelined bytes after an answer) are kept while the
    /// connection waits; the request completes when the rest arrives.
    #[test]
    fn a_partial_head_is_kept_while_waiting() {
        let rig = Rig::new("partial");
        let (mut client, mut conn) = rig.connect();
        let out = serve(
            &rig,
            &mut client,
            &mut conn,
            b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\nGET /plain",
        );
        assert_eq!(
            out.windows(15).filter(|w| w == b"HTTP/1.1 200 OK").count(),
            1
        );
        assert!(!conn.is_idle());
        let out = serve(
            &rig,
            &mut client,
            &mut conn,
            b"text HTTP/1.1\r\nHost: x\r\n\r\n",
        );
        assert!(out.starts_with(b"HTTP/1.1 200 OK\r\n"));
        assert!(out.ends_with(b"Hello, World!"));
        assert!(conn.held_bytes() <= IDLE_BYTES);
    }

    /// A streamed body to a client that reads nothing is produced only as far as the
    /// output high-water mark: the server never holds the whole stream; once the
    /// client reads, the rest follows, one chunk a piece, and the last chunk.
    #[test]
    fn a_stream_to_a_client_that_does_not_read_is_held_at_the_high_water_mark() {
        use crate::app::exchange::Stream;
        use crate::http::response::ResponseHead;
        const PIECE: usize = 8192;
        const PIECES: usize = 2000; // 16 MB: more than the sockets' buffers hold
        let rig = Rig::new("stream");
        let (mut client, mut conn) = rig.connect();
        // An owed response to stream into (as `dispatch` would, for /stream/<n>).
        send(
            &mut client,
            &conn,
            b"GET /delay/10 HTTP/1.1\r\nHost: x\r\n\r\n",
        );
        assert_eq!(conn.drive(&rig.cx(), true), Next::Wait);
        conn.waiting = None;
        conn.timed = None;
        let stream = Stream {
            head: ResponseHead::new(200),
            pieces: Box::new((0..PIECES).map(|_| vec![b'z'; PIECE])),
            interval: Duration::ZERO,
        };
        conn.start_stream(
            &rig.cx(),
            "GET /big HTTP/1.1".into(),
            stream,
            HeadAt::Input(0, 0),
        );
        let mut stalled = 0;
        for _ in 0..50 {
            if conn.drive(&rig.cx(), false) == Next::Wait && conn.backpressured() {
                stalled += 1;
            }
            let pending = conn.out.len() - conn.out_pos;
            assert!(
                pending <= OUTPUT_HIGH_WATER + PIECE + 16,
                "{pending} bytes held for a client that reads nothing"
            );
        }
        assert!(stalled > 0, "the socket never filled");
        assert!(conn.timed.is_some(), "the whole stream was produced");
        // The client reads: the rest comes.
        let mut reader = client.try_clone().unwrap();
        let got = std::thread::spawn(move || read_all(&mut reader, Duration::from_millis(500)));
        let deadline = Instant::now() + Duration::from_secs(30);
        while conn.timed.is_some() || conn.has_output() {
            assert_ne!(conn.drive(&rig.cx(), false), Next::Close);
            assert!(Instant::now() < deadline, "never finished");
            std::thread::sleep(Duration::from_millis(1));
        }
        let out = got.join().unwrap();
        assert!(out.starts_with(b"HTTP/1.1 200 OK\r\n"));
        assert!(out.ends_with(b"\r\n0\r\n\r\n"));
        assert_eq!(out.iter().filter(|&&b| b == b'z').count(), PIECES * PIECE);
        assert_eq!(out.windows(6).filter(|w| w == b"2000\r\n").count(), PIECES);
    }

    #[test]
    fn pipelined_requests_are_answered_a_bounded_number_per_turn() {
        let rig = Rig::new("requests");
        let (mut client, mut conn) = rig.connect();
        let n = MAX_REQUESTS_PER_WAKE + 8;
        let req = b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n".repeat(n);
        send(&mut client, &conn, &req);
        assert_eq!(conn.drive(&rig.cx(), true), Next::MoreWork);
        let first = read_all(&mut client, Duration::from_millis(200));
        let count = |b: &[u8]| b.windows(15).filter(|w| w == b"HTTP/1.1 200 OK").count();
        assert_eq!(count(&first), MAX_REQUESTS_PER_WAKE);
        assert_eq!(conn.drive(&rig.cx(), false), Next::Wait);
        assert_eq!(count(&read_all(&mut client, Duration::from_millis(200))), 8);
    }
}
