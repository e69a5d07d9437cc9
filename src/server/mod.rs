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
//! - [`buffer`]: the reused input buffer.
//! - [`slab`]: connections addressed by generation-checked tokens.
//! - [`timer`]: deadlines without scanning connections.
//! - [`trace`]: `--trace` output.

pub mod blocking;
pub mod buffer;
pub mod connection;
pub mod slab;
pub mod timer;
pub mod trace;
pub mod worker;

use crate::app::{App, AppConfig};
use crate::config::Config;
use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

/// A bound, not yet running server.
pub struct Server {
    listener: TcpListener,
    shared: Arc<worker::Shared>,
}

impl Server {
    /// Bind the address and load the application.
    pub fn bind(config: Config) -> io::Result<Server> {
        let listener = TcpListener::bind(&config.addr).map_err(|e| {
            io::Error::new(e.kind(), format!("cannot listen on {}: {e}", config.addr))
        })?;
        listener.set_nonblocking(true)?;
        let app = App::new(AppConfig {
            www: config.www.clone(),
            data: config.data.clone(),
            max_body: config.max_body,
            max_upload: config.max_upload,
        })?;
        Ok(Server {
            listener,
            shared: Arc::new(worker::Shared {
                app,
                config,
                pool: blocking::Pool::new(blocking::POOL_THREADS)?,
                open: AtomicUsize::new(0),
            }),
        })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Run the workers; returns only if one fails to start or its loop fails.
    pub fn run(self) -> io::Result<()> {
        let n = self.shared.config.workers.max(1);
        let mut handles = Vec::with_capacity(n);
        for i in 0..n {
            let listener = self.listener.try_clone()?;
            let shared = Arc::clone(&self.shared);
            let w = worker::Worker::new(i, listener, shared)?;
            handles.push(
                std::thread::Builder::new()
                    .name(format!("worker-{i}"))
                    .spawn(move || w.run())?,
            );
        }
        for h in handles {
            match h.join() {
                Ok(r) => r?,
                Err(_) => return Err(io::Error::other("a worker thread panicked")),
            }
        }
        Ok(())
    }
}

/// Bind, print the URL, serve.
pub fn run(config: Config) -> io::Result<()> {
    let workers = config.workers;
    let server = Server::bind(config)?;
    let addr = server.local_addr()?;
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "wirepost listening on http://{addr}/ ({workers} workers)"
    )?;
    out.flush()?;
    drop(out);
    log::info!("serving on http://{addr}/");
    server.run()
}
