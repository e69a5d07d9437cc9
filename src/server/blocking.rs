//! The blocking pool: threads for work that must not run on an event loop (fsync),
//! and the mailbox through which their answers come back.
//!
//! Theory of operation: a connection whose handler replied [`Reply::Later`] hands the
//! job to the pool with its worker's [`Mailbox`] and its own token, and waits. A pool
//! thread runs the job (catching a panic as a 500), puts `(token, response)` in the
//! mailbox and wakes the worker's `Poll` through its `mio::Waker`. The worker then
//! takes every answer out of its mailbox and gives each to its connection, which
//! writes it and goes on with any pipelined requests. The event loop never blocks.
//!
//! [`Reply::Later`]: crate::app::Reply::Later

use crate::app::{Job, Response};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

/// Threads in the pool. Jobs are short (the fsyncs that commit an upload); password
/// hashing has threads of its own (`app::hasher`).
pub(crate) const POOL_THREADS: usize = 4;

/// Answers for one worker, and the waker that tells it they are there.
pub(crate) struct Mailbox {
    done: Mutex<Vec<(usize, Response)>>,
    waker: mio::Waker,
}

impl Mailbox {
    pub(crate) fn new(waker: mio::Waker) -> Mailbox {
        Mailbox {
            done: Mutex::new(Vec::new()),
            waker,
        }
    }

    /// Deliver an answer for connection `token` and wake the worker.
    pub(crate) fn deliver(&self, token: usize, response: Response) {
        self.done
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((token, response));
        if let Err(e) = self.waker.wake() {
            log::error!("cannot wake a worker: {e}");
        }
    }

    /// Wake the worker with no answer (it then looks at [`Shared::stopping`]).
    ///
    /// [`Shared::stopping`]: crate::server::worker::Shared::stopping
    pub(crate) fn wake(&self) {
        if let Err(e) = self.waker.wake() {
            log::error!("cannot wake a worker: {e}");
        }
    }

    /// Every answer delivered so far.
    pub(crate) fn take(&self) -> Vec<(usize, Response)> {
        std::mem::take(&mut *self.done.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

struct Task {
    job: Job,
    token: usize,
    mailbox: Arc<Mailbox>,
}

/// The pool's sending side; cheap to share.
pub(crate) struct Pool {
    tx: Mutex<Sender<Task>>,
}

impl Pool {
    pub(crate) fn new(threads: usize) -> std::io::Result<Pool> {
        let (tx, rx) = channel::<Task>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = Arc::clone(&rx);
            std::thread::Builder::new()
                .name(format!("blocking-{i}"))
                .spawn(move || run(rx))?;
        }
        Ok(Pool { tx: Mutex::new(tx) })
    }

    /// Run `job` on the pool; its response goes to `mailbox` for `token`.
    pub(crate) fn submit(&self, job: Job, token: usize, mailbox: Arc<Mailbox>) {
        let task = Task {
            job,
            token,
            mailbox,
        };
        let sent = self.tx.lock().unwrap_or_else(|e| e.into_inner()).send(task);
        if let Err(std::sync::mpsc::SendError(task)) = sent {
            // No pool thread is left (cannot happen while the process lives); answer
            // rather than leave the connection waiting forever.
            task.mailbox.deliver(
                task.token,
                Response::text_error(503, "the server's worker pool is gone"),
            );
        }
    }
}

fn run(rx: Arc<Mutex<Receiver<Task>>>) {
    loop {
        let task = {
            let rx = rx.lock().unwrap_or_else(|e| e.into_inner());
            match rx.recv() {
                Ok(t) => t,
                Err(_) => return,
            }
        };
        let Task {
            job,
            token,
            mailbox,
        } = task;
        let response = catch_unwind(AssertUnwindSafe(job)).unwrap_or_else(|_| {
            log::error!("a background job panicked");
            let mut r = Response::text_error(500, "the work for this request failed");
            r.head.close = true;
            r
        });
        mailbox.deliver(token, response);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mio::{Events, Poll, Token};
    use std::time::Duration;

    #[test]
    fn answers_come_back_through_the_waker() {
        let mut poll = Poll::new().unwrap();
        let waker = mio::Waker::new(poll.registry(), Token(9)).unwrap();
        let mailbox = Arc::new(Mailbox::new(waker));
        let pool = Pool::new(2).unwrap();
        pool.submit(
            Box::new(|| Response::text_error(201, "made")),
            42,
            Arc::clone(&mailbox),
        );
        pool.submit(Box::new(|| panic!("boom")), 43, Arc::clone(&mailbox));
        let mut got = Vec::new();
        let mut events = Events::with_capacity(4);
        while got.len() < 2 {
            poll.poll(&mut events, Some(Duration::from_secs(5)))
                .unwrap();
            assert!(!events.is_empty(), "no wake-up within 5 s");
            assert!(events.iter().all(|e| e.token() == Token(9)));
            got.extend(mailbox.take());
        }
        got.sort_by_key(|(t, _)| *t);
        assert_eq!(got[0].0, 42);
        assert_eq!(got[0].1.head.status, 201);
        assert_eq!(got[1].0, 43);
        assert_eq!(got[1].1.head.status, 500);
    }
}
