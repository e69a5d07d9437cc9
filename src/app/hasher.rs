//! The password hasher: a few threads of the application's own that run Argon2id for
//! registrations and logins, apart from the event loops and from the blocking pool.
//!
//! Theory of operation: a handler that needs a hash answers [`Hasher::reply`]`(job)`,
//! a [`Reply::Pending`]. When the I/O layer starts it, the job goes into a bounded
//! queue; a hasher thread takes it, runs it with that thread's own [`HashMemory`]
//! (19 MiB, allocated once and reused), and passes the job's reply on: a response at
//! once, or a pending reply (a write that must become durable) to which it hands the
//! `done` callback, so no hasher thread ever waits on fsync.
//!
//! Why a pool of its own: Argon2id is ~20 ms of CPU per hash on purpose. On the
//! blocking pool, a burst of logins filled all its threads (fsyncs of uploads queued
//! behind them) and ran as many hashes at once as there were threads, each with a
//! fresh 19 MiB, competing with the event loops for every core. Here the number of
//! hashes at once is [`default_threads`] (half the cores), the memory is bounded by
//! threads × 19 MiB, and a queue past [`QUEUE`] jobs answers 503 with `Retry-After`
//! at once instead of letting the wait grow without bound; a job that waited more
//! than [`MAX_WAIT`] for its turn gets the same 503 instead of a hash.

use crate::app::exchange::{Done, Reply, Response};
use crate::app::users::HashMemory;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};

/// Hash jobs that may wait for a hasher thread. At ~20 ms a hash, a full queue is
/// about a second and a half of work for one thread; a job past it gets 503.
pub(crate) const QUEUE: usize = 64;

/// The longest a job may wait in the queue. One that waited longer is answered 503
/// (`Retry-After: 1`) without hashing: when the event loops keep every core busy,
/// the hasher (at [`NICE`]) gets only part of one and falls behind, and a login that
/// waits seconds is worse than one told at once to try again.
pub(crate) const MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// A job for a hasher thread: given the thread's Argon2 memory, it answers.
pub(crate) type HashJob = Box<dyn FnOnce(&mut HashMemory) -> Reply + Send + 'static>;

struct Task {
    job: HashJob,
    done: Done,
    queued: std::time::Instant,
}

/// The hasher's sending side; share it in an `Arc`.
pub(crate) struct Hasher {
    tx: SyncSender<Task>,
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hasher")
    }
}

/// Hasher threads by default: half the cores (at least one), so that hashing never
/// takes every core from the event loops.
pub(crate) fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

impl Hasher {
    /// Start `threads` hasher threads (`argon2-0`, `argon2-1`, …) with a queue of
    /// `queue` jobs.
    pub(crate) fn start(threads: usize, queue: usize) -> std::io::Result<Hasher> {
        let (tx, rx) = sync_channel::<Task>(queue);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = Arc::clone(&rx);
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || run(&rx))?;
        }
        Ok(Hasher { tx })
    }

    /// The reply of a handler whose answer needs a password hash: `job` runs on a
    /// hasher thread; its reply is the response.
    pub(crate) fn reply(self: &Arc<Self>, job: HashJob) -> Reply {
        let hasher = Arc::clone(self);
        Reply::Pending(Box::new(move |done| hasher.submit(job, done)))
    }

    fn submit(&self, job: HashJob, done: Done) {
        let task = Task {
            job,
            done,
            queued: std::time::Instant::now(),
        };
        match self.tx.try_send(task) {
            Ok(()) => {}
            Err(TrySendError::Full(task)) => {
                shed(&format!("{QUEUE} jobs queued"));
                (task.done)(busy())
            }
            Err(TrySendError::Disconnected(task)) => {
                (task.done)(Response::text_error(503, "the password hasher is gone"))
            }
        }
    }
}

/// The niceness of hasher threads (Linux: per thread). Event loops run at 0; a
/// hasher at 10 gets about a tenth of a core the event loop also wants (CFS weights
/// 110 against 1024), and all of a core nobody else wants.
pub(crate) const NICE: i32 = 10;

fn lower_priority() {
    if let Err(e) = crate::sys::set_thread_nice(NICE) {
        log::warn!("cannot lower the password hasher's priority: {e}");
    }
}

/// Count a shed job, and warn at most once a second (an overloaded server must not
/// also flood its log): `password hasher behind: <why>; 17 jobs answered 503 …`.
fn shed(why: &str) {
    use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
    static SHED: AtomicU64 = AtomicU64::new(0);
    static LAST_WARN_S: AtomicU64 = AtomicU64::new(0);
    let n = SHED.fetch_add(1, Relaxed) + 1;
    let now = crate::app::exchange::unix_now();
    let last = LAST_WARN_S.load(Relaxed);
    if now > last
        && LAST_WARN_S
            .compare_exchange(last, now, Relaxed, Relaxed)
            .is_ok()
    {
        log::warn!(
            "password hasher behind: {why}; {n} login/registration jobs answered 503 so far"
        );
    }
}

/// The answer to a job the hasher cannot take on in time.
fn busy() -> Response {
    Response::text_error(
        503,
        "too many logins and registrations at once; try again in a second",
    )
    .header("Retry-After", "1")
}

fn run(rx: &Mutex<Receiver<Task>>) {
    lower_priority();
    let mut memory = HashMemory::new();
    loop {
        // The lock is held only while waiting for the next task, never while hashing.
        let task = match rx.lock().unwrap_or_else(|e| e.into_inner()).recv() {
            Ok(task) => task,
            Err(_) => return, // the Hasher is gone: the server is stopping
        };
        let Task { job, done, queued } = task;
        if queued.elapsed() > MAX_WAIT {
            shed(&format!("a job waited {:?}", queued.elapsed()));
            done(busy());
            continue;
        }
        let reply = catch_unwind(AssertUnwindSafe(|| job(&mut memory))).unwrap_or_else(|_| {
            log::error!("a password-hashing job panicked; answering 500");
            Response::text_error(500, "internal error while checking the password").into()
        });
        match reply {
            Reply::Now(resp) => done(resp),
            Reply::Pending(pending) => pending(done),
            Reply::Later(job) => done(job()),
            // Not answers a hashing job gives: kept whole all the same.
            Reply::After(_, resp) => done(*resp),
            Reply::Stream(_) => done(Response::text_error(
                500,
                "internal error: a streamed answer from a password-hashing job",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::channel;
    use std::time::Duration;

    fn status_of(hasher: &Arc<Hasher>, job: HashJob) -> std::sync::mpsc::Receiver<u16> {
        let (tx, rx) = channel();
        match hasher.reply(job) {
            Reply::Pending(p) => p(Box::new(move |r: Response| {
                let _ = tx.send(r.head.status);
            })),
            other => panic!("expected a pending reply, got {other:?}"),
        }
        rx
    }

    #[test]
    fn jobs_run_with_reused_memory_and_answer() {
        let hasher = Arc::new(Hasher::start(1, 4).unwrap());
        let phc = crate::app::users::hash_password("pw");
        let rx = status_of(
            &hasher,
            Box::new(move |mem: &mut HashMemory| {
                let ok = mem.verify("pw", &phc) && !mem.verify("nope", &phc);
                Response::text_error(if ok { 200 } else { 401 }, "").into()
            }),
        );
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), 200);
    }

    #[test]
    fn a_panicking_job_is_a_500_and_the_thread_lives_on() {
        let hasher = Arc::new(Hasher::start(1, 4).unwrap());
        let rx = status_of(&hasher, Box::new(|_: &mut HashMemory| panic!("boom")));
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), 500);
        let rx = status_of(
            &hasher,
            Box::new(|_: &mut HashMemory| Response::text_error(204, "").into()),
        );
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), 204);
    }

    #[test]
    fn a_job_that_waited_past_max_wait_is_503_without_running() {
        let hasher = Arc::new(Hasher::start(1, 4).unwrap());
        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        // The only thread is busy for longer than MAX_WAIT…
        let blocker = status_of(
            &hasher,
            Box::new(|_: &mut HashMemory| {
                std::thread::sleep(MAX_WAIT + Duration::from_millis(200));
                Response::text_error(200, "").into()
            }),
        );
        std::thread::sleep(Duration::from_millis(50));
        // …so the job queued behind it is refused when its turn comes, not run.
        let r = Arc::clone(&ran);
        let late = status_of(
            &hasher,
            Box::new(move |_: &mut HashMemory| {
                r.store(true, std::sync::atomic::Ordering::SeqCst);
                Response::text_error(200, "").into()
            }),
        );
        assert_eq!(blocker.recv_timeout(Duration::from_secs(10)).unwrap(), 200);
        assert_eq!(late.recv_timeout(Duration::from_secs(10)).unwrap(), 503);
        assert!(!ran.load(std::sync::atomic::Ordering::SeqCst));
    }

    #[test]
    fn a_full_queue_answers_503_with_retry_after_at_once() {
        let hasher = Arc::new(Hasher::start(1, 1).unwrap());
        let (release_tx, release_rx) = channel::<()>();
        let release_rx = Arc::new(Mutex::new(release_rx));
        // One job holds the only thread, one fills the queue of one…
        let mut held = Vec::new();
        for _ in 0..2 {
            let r = Arc::clone(&release_rx);
            held.push(status_of(
                &hasher,
                Box::new(move |_: &mut HashMemory| {
                    let _ = r.lock().unwrap().recv();
                    Response::text_error(200, "").into()
                }),
            ));
            std::thread::sleep(Duration::from_millis(50));
        }
        // …so the third is refused without waiting.
        let (tx, rx) = channel();
        match hasher.reply(Box::new(|_: &mut HashMemory| {
            Response::text_error(200, "").into()
        })) {
            Reply::Pending(p) => p(Box::new(move |r: Response| {
                let retry = r.head.headers.iter().find(|(n, _)| *n == "Retry-After");
                let _ = tx.send((r.head.status, retry.map(|(_, v)| v.to_string())));
            })),
            other => panic!("{other:?}"),
        }
        let (status, retry) = rx.recv_timeout(Duration::from_secs(1)).unwrap();
        assert_eq!(status, 503);
        assert_eq!(retry.as_deref(), Some("1"));
        release_tx.send(()).unwrap();
        release_tx.send(()).unwrap();
        for h in held {
            assert_eq!(h.recv_timeout(Duration::from_secs(10)).unwrap(), 200);
        }
    }
}
