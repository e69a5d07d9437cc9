//! A worker: one thread, one `mio::Poll`, many connections.
//!
//! Theory of operation. Every worker registers the shared listening socket in its own
//! `Poll`; whichever wakes first accepts until the socket would block (the others find
//! nothing and go back to sleep). Each accepted connection goes to the worker whose
//! turn it is (a counter shared by all, round-robin): the acceptor keeps it if the turn
//! is its own, else puts it in that worker's [`Inbox`] and, once the batch is
//! accepted, wakes it through its mailbox's `mio::Waker` (one wake per batch, and only
//! if the inbox was empty). Woken, a worker registers what its inbox holds exactly as
//! it registers its own: so a burst spreads evenly whoever wakes first. Connections get
//! `TCP_NODELAY` and live in a generation-checked [`Slab`]; their slab key is their
//! `mio::Token`.
//!
//! One turn of the loop: wait for readiness (or the next deadline, or not at all when
//! connections still have queued work); refresh the clock and the cached `Date` value
//! (formatted once a second, not per request); drive each ready connection; drive the
//! connections whose per-wake budget ran out last turn; fire the deadlines that are
//! due. Write interest is asked for only while a connection has output pending.

use crate::app::{App, Body, Response};
use crate::config::Config;
use crate::http::Version;
use crate::http::date::DateCache;
use crate::http::response::{self, EncodeCtx, encode_head};
use crate::server::blocking::{Mailbox, Pool};
use crate::server::buffer::BufPool;
use crate::server::connection::{Connection, Cx, Next};
use crate::server::slab::{Key, Slab};
use crate::server::timer::Timers;
use crate::server::trace::Closed;
use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token};
use std::cell::RefCell;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The listening socket's token (slab tokens stay below 2^63).
const LISTENER: Token = Token(usize::MAX);
/// The token of the worker's `mio::Waker` (answers from the blocking pool).
const WAKER: Token = Token(usize::MAX - 1);
/// Events taken from the kernel per `poll` call.
const EVENTS: usize = 1024;
/// How long accepting pauses after the process ran out of file descriptors.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// The body of the 503 sent to a connection beyond `--max-connections`.
const BUSY_BODY: &str = "too many open connections; try again shortly";

/// Connection numbers, unique across workers (for `--trace` and logs).
static NEXT_CONN_ID: AtomicUsize = AtomicUsize::new(1);

/// The 503 for a connection beyond `--max-connections`, framed like every response
/// (`Date`, `Server`, `Content-Length`, `Connection: close`, nosniff).
fn busy_503(date: &[u8]) -> Vec<u8> {
    let resp = Response::text_error(503, BUSY_BODY).header("Retry-After", "1");
    let mut out = Vec::with_capacity(256);
    let ctx = EncodeCtx {
        date,
        version: Version::Http11,
        keep_alive: false,
    };
    encode_head(
        &resp.head,
        response::Framing::Length(resp.body.len()),
        &ctx,
        &mut out,
    );
    if let Body::Bytes(b) = resp.body {
        out.extend_from_slice(&b);
    }
    out
}

/// What all workers share.
pub(crate) struct Shared {
    pub app: App,
    pub config: Config,
    /// Threads for slow work; answers come back through each worker's mailbox.
    pub pool: Pool,
    /// Open connections across all workers.
    pub open: AtomicUsize,
    /// Set once to stop: workers drain and return (see [`Shared::stop`]).
    pub stopping: AtomicBool,
    /// Every worker's mailbox, to wake them all when stopping.
    pub mailboxes: Mutex<Vec<Arc<Mailbox>>>,
    /// Per worker, in index order: sockets other workers accepted for it.
    pub inboxes: Box<[Inbox]>,
    /// Whose turn the next accepted connection is (modulo the number of workers).
    next_turn: AtomicUsize,
}

/// Sockets accepted by other workers for one worker, and its mailbox's waker to tell
/// it. Bounded: every socket in it is counted in [`Shared::open`], which stops at
/// `--max-connections`.
pub(crate) struct Inbox {
    sockets: Mutex<Vec<(mio::net::TcpStream, SocketAddr)>>,
    /// The worker's mailbox (its `mio::Waker`), set once the worker exists.
    mailbox: OnceLock<Arc<Mailbox>>,
}

impl Inbox {
    fn new() -> Inbox {
        Inbox {
            sockets: Mutex::new(Vec::new()),
            mailbox: OnceLock::new(),
        }
    }

    /// Queue an accepted socket. True if the queue was empty: the worker must then be
    /// woken (if it was not empty, whoever queued the first one wakes it, or has).
    fn hand(&self, socket: mio::net::TcpStream, peer: SocketAddr) -> bool {
        let mut sockets = self.sockets.lock().unwrap_or_else(|e| e.into_inner());
        sockets.push((socket, peer));
        sockets.len() == 1
    }
}

impl Shared {
    pub(crate) fn new(app: App, config: Config, pool: Pool) -> Shared {
        Shared {
            app,
            pool,
            open: AtomicUsize::new(0),
            stopping: AtomicBool::new(false),
            mailboxes: Mutex::new(Vec::new()),
            inboxes: (0..config.workers.max(1)).map(|_| Inbox::new()).collect(),
            next_turn: AtomicUsize::new(0),
            config,
        }
    }

    /// The worker whose turn it is to take the next connection, round-robin over all
    /// of them whoever accepts it. `me` (the worker that accepted) keeps it when there
    /// is one worker, or once stopping (a worker that has let go of its listener might
    /// already have drained and returned, and would never take it).
    fn turn(&self, me: usize) -> usize {
        let n = self.inboxes.len();
        if n == 1 || self.stopping.load(Ordering::Acquire) {
            return me;
        }
        self.next_turn.fetch_add(1, Ordering::Relaxed) % n
    }

    /// Ask every worker to drain: stop accepting, close idle connections, let the
    /// others finish their requests (each response then says `Connection: close`)
    /// until `--drain-timeout`, then return from [`Worker::run`].
    pub(crate) fn stop(&self) {
        self.stopping.store(true, Ordering::Release);
        for m in self
            .mailboxes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            m.wake();
        }
    }
}

pub(crate) struct Worker {
    poll: Poll,
    /// `None` once draining: dropped, so the kernel refuses new clients.
    listener: Option<TcpListener>,
    conns: Slab<Connection>,
    timers: Timers,
    shared: Arc<Shared>,
    mailbox: Arc<Mailbox>,
    date: DateCache,
    /// Connections with input left over after their per-wake budget.
    more_work: Vec<Key>,
    /// Workers handed a socket in this accept batch, to wake once it ends.
    to_wake: Vec<bool>,
    /// Sockets taken from this worker's inbox (kept for its capacity).
    handed: Vec<(mio::net::TcpStream, SocketAddr)>,
    /// Free input and output buffers, lent to connections while they have bytes to
    /// read or write (see [`BufPool`]).
    bufs: RefCell<BufPool>,
    accept_paused_until: Option<Instant>,
    /// Accept failed for want of file descriptors (warned once; cleared on success).
    out_of_fds: bool,
    /// Draining since `stop`: when to give up on the connections still open.
    drain_deadline: Option<Instant>,
    index: usize,
    /// The wall clock at the start of this turn, in Unix milliseconds (the wire log's
    /// time).
    unix_ms: u64,
}

/// What a connection gets from its worker for one call.
fn cx<'a>(
    shared: &'a Shared,
    date: &'a DateCache,
    mailbox: &'a Arc<Mailbox>,
    bufs: &'a RefCell<BufPool>,
    now: Instant,
    (index, unix_ms): (usize, u64),
) -> Cx<'a> {
    Cx {
        app: &shared.app,
        config: &shared.config,
        date: date.as_bytes(),
        now,
        unix_ms,
        pool: &shared.pool,
        mailbox,
        bufs,
        wire: shared.app.wire.ring(index),
    }
}

/// The wall clock in Unix milliseconds (read once per turn of the loop).
fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Worker {
    pub(crate) fn new(
        index: usize,
        listener: std::net::TcpListener,
        shared: Arc<Shared>,
    ) -> io::Result<Worker> {
        if index >= shared.app.workers.len() || index >= shared.inboxes.len() {
            return Err(io::Error::other(format!(
                "worker {index}: no connection counts set up for it"
            )));
        }
        let poll = Poll::new()?;
        let mut listener = TcpListener::from_std(listener);
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        let mailbox = Arc::new(Mailbox::new(mio::Waker::new(poll.registry(), WAKER)?));
        shared
            .mailboxes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Arc::clone(&mailbox));
        if shared.inboxes[index]
            .mailbox
            .set(Arc::clone(&mailbox))
            .is_err()
        {
            return Err(io::Error::other(format!("worker {index} made twice")));
        }
        let to_wake = vec![false; shared.inboxes.len()];
        let mut date = DateCache::new();
        let wall = unix_ms();
        date.update(wall / 1000);
        Ok(Worker {
            poll,
            listener: Some(listener),
            conns: Slab::new(),
            timers: Timers::new(),
            shared,
            mailbox,
            date,
            more_work: Vec::new(),
            to_wake,
            handed: Vec::new(),
            bufs: RefCell::new(BufPool::new()),
            accept_paused_until: None,
            out_of_fds: false,
            drain_deadline: None,
            index,
            unix_ms: wall,
        })
    }

    pub(crate) fn run(mut self) -> io::Result<()> {
        let mut events = Events::with_capacity(EVENTS);
        loop {
            let now = Instant::now();
            let mut timeout = self
                .timers
                .next()
                .map(|at| at.saturating_duration_since(now));
            if let Some(at) = self.accept_paused_until {
                let d = at.saturating_duration_since(now);
                timeout = Some(timeout.map_or(d, |t| t.min(d)));
            }
            if let Some(at) = self.drain_deadline {
                let d = at.saturating_duration_since(now);
                timeout = Some(timeout.map_or(d, |t| t.min(d)));
            }
            if !self.more_work.is_empty() {
                timeout = Some(Duration::ZERO);
            }
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            let now = Instant::now();
            self.unix_ms = unix_ms();
            self.date.update(self.unix_ms / 1000);

            for event in events.iter() {
                match event.token() {
                    LISTENER => self.accept(now),
                    WAKER => {
                        self.deliver_answers(now);
                        self.take_handed(now);
                    }
                    token => {
                        let closing = event.is_read_closed() || event.is_error();
                        let key = Key::from_token(token.0);
                        let readable = event.is_readable() || closing;
                        if let Some(conn) = self.conns.get_mut(key) {
                            conn.peer_closing |= closing;
                            if conn.queued {
                                // Its turn comes in the pass over `more_work` below:
                                // one turn per loop, or a busy client would get two
                                // while the others wait.
                                conn.readable_later |= readable;
                                continue;
                            }
                        }
                        self.drive(key, now, readable);
                    }
                }
            }
            if self.accept_paused_until.is_some_and(|at| at <= now) {
                self.accept_paused_until = None;
                self.accept(now);
            }
            for key in std::mem::take(&mut self.more_work) {
                if let Some(conn) = self.conns.get_mut(key) {
                    conn.queued = false;
                    let readable = std::mem::take(&mut conn.readable_later);
                    self.drive(key, now, readable);
                }
            }
            while let Some((at, token)) = self.timers.pop_due(now) {
                let key = Key::from_token(token);
                let Some(conn) = self.conns.get_mut(key) else {
                    continue;
                };
                if self.timers.check(&mut conn.deadline, at, token, now) {
                    let shared = Arc::clone(&self.shared);
                    let cx = cx(
                        &shared,
                        &self.date,
                        &self.mailbox,
                        &self.bufs,
                        now,
                        (self.index, self.unix_ms),
                    );
                    let next = conn.on_timeout(&cx);
                    self.after(key, next, now);
                }
            }
            if self.drain_deadline.is_none() && self.shared.stopping.load(Ordering::Acquire) {
                self.begin_drain(now);
            }
            if let Some(deadline) = self.drain_deadline {
                self.close_idle();
                if self.conns.is_empty() {
                    log::info!("worker {}: drained", self.index);
                    return Ok(());
                }
                if now >= deadline {
                    log::warn!(
                        "worker {}: drain timeout; closing {} connections with requests unfinished",
                        self.index,
                        self.conns.len()
                    );
                    for key in self.conns.keys() {
                        self.close(key, Closed::Shutdown);
                    }
                    return Ok(());
                }
            }
        }
    }

    /// Stop accepting (the listening socket closes once every worker has let go of
    /// it: new clients are refused by the kernel) and mark every connection so that
    /// its next response closes it.
    fn begin_drain(&mut self, now: Instant) {
        self.drain_deadline = Some(now + self.shared.config.drain_timeout);
        if let Some(mut listener) = self.listener.take() {
            let _ = self.poll.registry().deregister(&mut listener);
        }
        self.accept_paused_until = None;
        for key in self.conns.keys() {
            if let Some(conn) = self.conns.get_mut(key) {
                conn.draining = true;
                // A timed answer (`/delay`, `/stream`) now goes out at once.
                let due = conn.due(&self.shared.config, now);
                self.timers.set(&mut conn.deadline, key.token(), due);
            }
        }
    }

    /// Close connections with no request under way (idle keep-alive ones).
    fn close_idle(&mut self) {
        for key in self.conns.keys() {
            if self.conns.get_mut(key).is_some_and(|c| c.is_idle()) {
                self.close(key, Closed::Shutdown);
            }
        }
    }

    /// Accept until the listener would block, giving each new connection to the
    /// worker whose turn it is; then wake the workers handed some.
    fn accept(&mut self, now: Instant) {
        self.accept_until_blocked(now);
        for (to, wake) in self.to_wake.iter_mut().enumerate() {
            if std::mem::take(wake)
                && let Some(mailbox) = self.shared.inboxes[to].mailbox.get()
            {
                mailbox.wake();
            }
        }
    }

    fn accept_until_blocked(&mut self, now: Instant) {
        loop {
            let Some(listener) = &self.listener else {
                return;
            };
            match listener.accept() {
                Ok((mut socket, peer)) => {
                    if self.out_of_fds {
                        log::warn!("worker {}: accepting again", self.index);
                        self.out_of_fds = false;
                    }
                    let shared = &self.shared;
                    if shared.open.load(Ordering::Relaxed) >= shared.config.max_connections {
                        log::warn!(
                            "refusing {peer}: {} connections open",
                            shared.config.max_connections
                        );
                        let _ = socket.write(&busy_503(self.date.as_bytes()));
                        continue;
                    }
                    // Counted open from here, wherever it goes, so that a burst shared
                    // out between workers still stops at `--max-connections`.
                    shared.open.fetch_add(1, Ordering::Relaxed);
                    let to = shared.turn(self.index);
                    if to == self.index {
                        self.take_charge(socket, peer, now);
                    } else if shared.inboxes[to].hand(socket, peer) {
                        self.to_wake[to] = true;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE)) => {
                    // EMFILE / ENFILE: out of file descriptors. Pause instead of
                    // spinning on a listener that stays readable.
                    // Warn once per shortage, not every pause.
                    if !self.out_of_fds {
                        log::warn!(
                            "worker {}: accept: {e}; pausing accepts for {ACCEPT_BACKOFF:?} at a time until descriptors are free",
                            self.index
                        );
                        self.out_of_fds = true;
                    }
                    self.accept_paused_until = Some(now + ACCEPT_BACKOFF);
                    return;
                }
                Err(e) => {
                    // ECONNABORTED and the like: that connection is gone, go on.
                    log::debug!("accept: {e}");
                }
            }
        }
    }

    /// Register every socket another worker accepted for this one.
    fn take_handed(&mut self, now: Instant) {
        let inbox = &self.shared.inboxes[self.index];
        std::mem::swap(
            &mut *inbox.sockets.lock().unwrap_or_else(|e| e.into_inner()),
            &mut self.handed,
        );
        let mut handed = std::mem::take(&mut self.handed);
        for (socket, peer) in handed.drain(..) {
            self.take_charge(socket, peer, now);
        }
        // The emptied vector goes back: its capacity serves the next batch.
        self.handed = handed;
    }

    /// Make an accepted socket (this worker's own or handed to it) one of this
    /// worker's connections: `TCP_NODELAY`, a number unique in the process, a slab
    /// slot, READABLE interest, a deadline. Already counted in [`Shared::open`].
    fn take_charge(&mut self, socket: mio::net::TcpStream, peer: SocketAddr, now: Instant) {
        if let Err(e) = socket.set_nodelay(true) {
            log::debug!("set_nodelay: {e}");
        }
        let shared = &self.shared;
        let id = NEXT_CONN_ID.fetch_add(1, Ordering::Relaxed);
        let mut conn = Connection::new(socket, Some(peer), id, &shared.config, now);
        // Handed over after this worker began to drain: it closes like the rest.
        conn.draining = self.drain_deadline.is_some();
        let key = self.conns.insert(conn);
        let load = &shared.app.workers[self.index];
        load.accepted.fetch_add(1, Ordering::Relaxed);
        load.open.fetch_add(1, Ordering::Relaxed);
        let conn = self.conns.get_mut(key).expect("just inserted");
        conn.token = key.token();
        if let Err(e) =
            self.poll
                .registry()
                .register(&mut conn.socket, Token(key.token()), Interest::READABLE)
        {
            log::warn!("register: {e}");
            self.close(key, Closed::Error);
            return;
        }
        let due = conn.due(&shared.config, now);
        self.timers.set(&mut conn.deadline, key.token(), due);
    }

    fn drive(&mut self, key: Key, now: Instant, readable: bool) {
        let shared = Arc::clone(&self.shared);
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        let cx = cx(
            &shared,
            &self.date,
            &self.mailbox,
            &self.bufs,
            now,
            (self.index, self.unix_ms),
        );
        let next = conn.drive(&cx, readable);
        self.after(key, next, now);
    }

    /// Hand each answer from the blocking pool to its connection (if still open).
    fn deliver_answers(&mut self, now: Instant) {
        let shared = Arc::clone(&self.shared);
        for (token, response) in self.mailbox.take() {
            let key = Key::from_token(token);
            let Some(conn) = self.conns.get_mut(key) else {
                continue; // the client left; the work is done all the same
            };
            let cx = cx(
                &shared,
                &self.date,
                &self.mailbox,
                &self.bufs,
                now,
                (self.index, self.unix_ms),
            );
            let next = conn.complete(&cx, response);
            self.after(key, next, now);
        }
    }

    /// Act on what a connection asked for: close it, queue it, or update its write
    /// interest and deadline.
    fn after(&mut self, key: Key, next: Next, now: Instant) {
        if next == Next::Close {
            let why = self
                .conns
                .get_mut(key)
                .map_or(Closed::Error, |c| c.close_reason());
            self.close(key, why);
            return;
        }
        let config = &self.shared.config;
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        if next == Next::MoreWork && !conn.queued {
            conn.queued = true;
            self.more_work.push(key);
        }
        let want_write = conn.has_output();
        if want_write != conn.write_interest {
            let interest = if want_write {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            if let Err(e) =
                self.poll
                    .registry()
                    .reregister(&mut conn.socket, Token(key.token()), interest)
            {
                log::warn!("reregister: {e}");
                self.close(key, Closed::Error);
                return;
            }
            conn.write_interest = want_write;
        }
        let due = conn.due(config, now);
        self.timers.set(&mut conn.deadline, key.token(), due);
    }

    fn close(&mut self, key: Key, why: Closed) {
        if let Some(mut conn) = self.conns.remove(key) {
            conn.trace_closed(why);
            let _ = self.poll.registry().deregister(&mut conn.socket);
            self.shared.open.fetch_sub(1, Ordering::Relaxed);
            let load = &self.shared.app.workers[self.index];
            load.open.fetch_sub(1, Ordering::Relaxed);
        }
    }
}
