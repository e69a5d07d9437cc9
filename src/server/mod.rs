//! The I/O layer: sockets, event loops, buffers and timers.
//!
//! It owns no HTTP rules (those are in [`crate::http`]) and no page logic (that is
//! [`crate::app`]); it moves bytes between sockets and the parser, and responses from
//! the application to sockets.
//!
//! - [`worker`]: one thread, one `mio::Poll`; accepts, drives connections, fires timers.
//! - [`connection`]: the per-connection state machine.
//! - [`blocking`]: the pool for slow work (fsync, hashing) and the mailbox that
//!   brings its answers back through a `mio::Waker`.
//! - [`buffer`]: the input buffer, and the worker's pool of buffers.
//! - [`slab`]: connections addressed by generation-checked tokens.
//! - [`timer`]: deadlines without scanning connections.
//! - [`trace`]: `--trace` output.

pub(crate) mod blocking;
pub(crate) mod buffer;
pub(crate) mod connection;
pub(crate) mod slab;
pub(crate) mod timer;
pub(crate) mod trace;
pub(crate) mod worker;

use crate::app::{App, AppConfig};
use crate::config::Config;
use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::Arc;

/// A bound, not yet running server.
pub struct Server {
    listener: TcpListener,
    shared: Arc<worker::Shared>,
}

impl Server {
    /// Bind the address and load the application.
    pub fn bind(config: Config) -> io::Result<Server> {
        let listener = listen(&config.addr).map_err(|e| {
            io::Error::new(e.kind(), format!("cannot listen on {}: {e}", config.addr))
        })?;
        listener.set_nonblocking(true)?;
        let mut app = App::new(AppConfig {
            www: config.www.clone(),
            data: config.data.clone(),
            docs: config.docs.clone(),
            max_body: config.max_body,
            max_upload: config.max_upload,
            max_upload_files: config.max_upload_files,
            max_sessions: config.max_sessions,
            purge_every: config.purge_every,
        })?;
        // The Host rule allows the listen address as given (`--addr myhost:8000`) and
        // as bound (its IP, IPv6 in brackets), on any port.
        let bound = listener.local_addr()?;
        let bound_host = match bound.ip() {
            std::net::IpAddr::V6(ip) => format!("[{ip}]"),
            ip => ip.to_string(),
        };
        let given_host = match config.addr.rsplit_once(':') {
            Some((host, _port)) => host,
            None => config.addr.as_str(),
        };
        app.wire = std::sync::Arc::new(crate::app::wire::WireLog::new(
            config.workers.max(1),
            config.wire_log,
        ));
        app.workers = (0..config.workers.max(1))
            .map(|_| crate::app::WorkerLoad::default())
            .collect();
        app.hosts = crate::app::router::AllowedHosts::new(
            [given_host, bound_host.as_str()],
            config.allowed_hosts.iter().map(String::as_str),
        );
        app.listen = bound.to_string();
        Ok(Server {
            listener,
            shared: Arc::new(worker::Shared::new(
                app,
                config,
                blocking::Pool::new(blocking::POOL_THREADS)?,
            )),
        })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Run the workers until they have drained after [`Server::stop`] (or after a
    /// stop signal, given `signals`), then flush storage. Returns an error if a worker
    /// fails to start or its loop fails.
    pub fn run(self, signals: Option<crate::sys::StopSignals>) -> io::Result<()> {
        let n = self.shared.config.workers.max(1);
        // Every worker exists (its waker too) before any runs: the first to accept
        // may hand a connection to any other.
        let mut workers = Vec::with_capacity(n);
        for i in 0..n {
            let listener = self.listener.try_clone()?;
            workers.push(worker::Worker::new(i, listener, Arc::clone(&self.shared))?);
        }
        let mut handles = Vec::with_capacity(n);
        for (i, w) in workers.into_iter().enumerate() {
            handles.push(
                std::thread::Builder::new()
                    .name(format!("worker-{i}"))
                    .spawn(move || w.run())?,
            );
        }
        // The workers hold their own handles; this one would keep accepting in the
        // kernel's backlog after they let go.
        drop(self.listener);
        if let Some(signals) = signals {
            let shared = Arc::clone(&self.shared);
            std::thread::Builder::new()
                .name("signals".into())
                .spawn(move || wait_for_signals(&signals, &shared))?;
        }
        let mut result = Ok(());
        for h in handles {
            let r = match h.join() {
                Ok(r) => r,
                Err(_) => Err(io::Error::other("a worker thread panicked")),
            };
            if let Err(e) = r {
                // One loop failed: stop the others too, and still flush storage.
                self.shared.stop();
                result = result.and(Err(e));
            }
        }
        self.shared.app.store.shutdown();
        log::info!("storage flushed; stopped");
        result
    }
}

/// Listen on the first of `addr`'s addresses that binds (as `TcpListener::bind` does),
/// with a backlog of [`crate::sys::LISTEN_BACKLOG`] instead of std's 128: a burst of
/// connections waits in the kernel, completed, until a worker accepts it.
fn listen(addr: &str) -> io::Result<TcpListener> {
    let mut last = None;
    for a in addr.to_socket_addrs()? {
        match crate::sys::listen(a, crate::sys::LISTEN_BACKLOG) {
            Ok(l) => return Ok(l),
            Err(e) => last = Some(e),
        }
    }
    Err(last
        .unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address to listen on")))
}

/// The first SIGTERM or SIGINT drains; a second one exits at once.
fn wait_for_signals(signals: &crate::sys::StopSignals, shared: &worker::Shared) {
    let mut stopping = false;
    loop {
        match signals.wait() {
            Ok(sig) if !stopping => {
                stopping = true;
                log::warn!(
                    "{sig}: stopping: no new connections; requests in flight have {:?} to finish \
                     (send it again to exit at once)",
                    shared.config.drain_timeout
                );
                shared.stop();
            }
            Ok(sig) => {
                log::warn!("{sig} again: exiting now, storage not flushed");
                std::process::exit(1);
            }
            Err(e) => {
                log::error!("waiting for signals: {e}");
                return;
            }
        }
    }
}

/// Bind, print the URL, serve until a stop signal (see [`crate::sys::StopSignals`]).
pub fn run(config: Config, signals: Option<crate::sys::StopSignals>) -> io::Result<()> {
    let workers = config.workers;
    let server = Server::bind(config)?;
    let addr = server.local_addr()?;
    let plural = if workers == 1 { "" } else { "s" };
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "wirepost listening on http://{addr}/ ({workers} worker{plural})\nCtrl-C to stop"
    )?;
    out.flush()?;
    drop(out);
    server.run(signals)
}
