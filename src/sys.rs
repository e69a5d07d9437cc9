//! The few system calls the standard library does not offer, each behind a safe
//! function. This is the crate's only `unsafe` code (`lib.rs` denies it elsewhere).
#![allow(unsafe_code)]

use std::io;

/// Set the calling thread's niceness (Linux: `setpriority` on a thread id applies to
/// that thread alone). Raising it needs no privilege; lowering below 0 does.
pub fn set_thread_nice(nice: i32) -> io::Result<()> {
    // SAFETY: `gettid` and `setpriority` take and return plain integers; no memory is
    // shared with the kernel.
    let r = unsafe { libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, nice) };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The calling thread's niceness.
pub fn thread_nice() -> io::Result<i32> {
    // SAFETY: as above. `getpriority` may return -1 legitimately: errno tells.
    unsafe {
        *libc::__errno_location() = 0;
        let r = libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t);
        if r == -1 && *libc::__errno_location() != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(r)
    }
}

/// SIGTERM and SIGINT, blocked in every thread so that only [`StopSignals::wait`]
/// receives them: no signal handler runs, so nothing has to be async-signal-safe.
pub struct StopSignals {
    set: libc::sigset_t,
}

impl StopSignals {
    /// Block SIGTERM and SIGINT in the calling thread and in every thread it starts
    /// from now on (threads inherit the mask). Call it first in `main`, before any
    /// thread exists, or a thread that still takes the signal would be killed by it.
    pub fn block() -> io::Result<StopSignals> {
        // SAFETY: `set` is a local the calls initialise before it is read;
        // `pthread_sigmask` reads it and writes nothing back (old set: null).
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGTERM);
            libc::sigaddset(&mut set, libc::SIGINT);
            let r = libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            if r != 0 {
                return Err(io::Error::from_raw_os_error(r));
            }
            Ok(StopSignals { set })
        }
    }

    /// Wait for the next SIGTERM or SIGINT; returns its name.
    pub fn wait(&self) -> io::Result<&'static str> {
        let mut sig: libc::c_int = 0;
        // SAFETY: `self.set` was initialised in `block`; `sig` is a local out-value.
        let r = unsafe { libc::sigwait(&self.set, &mut sig) };
        if r != 0 {
            return Err(io::Error::from_raw_os_error(r));
        }
        Ok(if sig == libc::SIGTERM {
            "SIGTERM"
        } else {
            "SIGINT"
        })
    }
}

/// Drop up to `max` bytes waiting in a TCP socket's receive queue without copying them
/// (`recv` with `MSG_TRUNC`, which for TCP discards: tcp(7)). Returns how many were
/// dropped; 0 means the peer closed its side. Never blocks (`MSG_DONTWAIT`).
pub fn discard(fd: std::os::fd::RawFd, max: usize) -> io::Result<usize> {
    // SAFETY: with MSG_TRUNC a TCP socket's data is discarded, never written to the
    // buffer, so a null buffer is never touched; fd is the caller's open socket.
    let r = unsafe {
        libc::recv(
            fd,
            std::ptr::null_mut(),
            max,
            libc::MSG_TRUNC | libc::MSG_DONTWAIT,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_can_raise_its_own_niceness_and_only_its_own() {
        let before = thread_nice().unwrap();
        let inner = std::thread::spawn(|| {
            set_thread_nice(7).unwrap();
            thread_nice().unwrap()
        })
        .join()
        .unwrap();
        assert_eq!(inner, 7.max(before));
        assert_eq!(
            thread_nice().unwrap(),
            before,
            "the caller's thread is untouched"
        );
    }
}
