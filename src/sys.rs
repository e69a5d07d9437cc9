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

/// Send up to `count` bytes of `file`, from its current offset (which moves on by
/// what was sent), to the socket `sock`, in the kernel: `sendfile(2)` with a null
/// offset. Returns the bytes sent (0: the file ended before `count`); a non-blocking
/// socket that is full gives `WouldBlock`. EINVAL or ENOSYS mean this pair cannot use
/// it: the caller reads and writes instead.
pub fn sendfile(
    sock: std::os::fd::RawFd,
    file: std::os::fd::RawFd,
    count: usize,
) -> io::Result<usize> {
    // SAFETY: integers only: two descriptors the caller holds open, a null offset
    // pointer (the kernel then uses and updates the file's own offset), and a count.
    let r = unsafe { libc::sendfile(sock, file, std::ptr::null_mut(), count) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r as usize)
    }
}

/// Pending connections the kernel completes for a listener before its loop accepts them
/// (`listen(2)`'s backlog; `std` uses 128). Linux caps it at `net.core.somaxconn`.
pub const LISTEN_BACKLOG: i32 = 1024;

/// A TCP listener on `addr` with a backlog of `backlog`, made as `std` makes one
/// (`socket` with `SOCK_CLOEXEC`, `SO_REUSEADDR`, `bind`, `listen`) but for the backlog.
pub fn listen(addr: std::net::SocketAddr, backlog: i32) -> io::Result<std::net::TcpListener> {
    use std::net::SocketAddr;
    use std::os::fd::{FromRawFd, OwnedFd};
    let family = match addr {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    };
    // SAFETY: `socket` takes integers; a descriptor it returns is owned at once by
    // `fd`, which closes it on every error path below.
    let fd = unsafe { libc::socket(family, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a descriptor just returned by `socket` and owned by nobody else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let raw = std::os::fd::AsRawFd::as_raw_fd(&fd);
    let on: libc::c_int = 1;
    // SAFETY: the option value is a local `c_int` of the length given.
    let r = unsafe {
        libc::setsockopt(
            raw,
            libc::SOL_SOCKET,
            libc::SO_REUSEADDR,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: each address is a zeroed local struct of the family's type, filled in
    // and passed with its own length; `bind` only reads it.
    let r = unsafe {
        match addr {
            SocketAddr::V4(a) => {
                let mut sin: libc::sockaddr_in = std::mem::zeroed();
                sin.sin_family = libc::AF_INET as libc::sa_family_t;
                sin.sin_port = a.port().to_be();
                sin.sin_addr.s_addr = u32::from_ne_bytes(a.ip().octets());
                libc::bind(
                    raw,
                    (&sin as *const libc::sockaddr_in).cast(),
                    std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
                )
            }
            SocketAddr::V6(a) => {
                let mut sin6: libc::sockaddr_in6 = std::mem::zeroed();
                sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                sin6.sin6_port = a.port().to_be();
                sin6.sin6_flowinfo = a.flowinfo();
                sin6.sin6_addr.s6_addr = a.ip().octets();
                sin6.sin6_scope_id = a.scope_id();
                libc::bind(
                    raw,
                    (&sin6 as *const libc::sockaddr_in6).cast(),
                    std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
                )
            }
        }
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: integers only.
    if unsafe { libc::listen(raw, backlog) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(std::net::TcpListener::from(fd))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// Connect `n` sockets to a listener that never accepts; how many complete the
    /// handshake (the kernel completes at most backlog + 1, the rest stay in SYN-SENT).
    fn completed_without_accept(listener: &std::net::TcpListener, n: usize) -> usize {
        let addr = listener.local_addr().unwrap();
        let mut pending: Vec<mio::net::TcpStream> = (0..n)
            .map(|_| mio::net::TcpStream::connect(addr).unwrap())
            .collect();
        let mut done = 0;
        let deadline = Instant::now() + Duration::from_secs(10);
        while !pending.is_empty() && Instant::now() < deadline {
            pending.retain(|s| match s.peer_addr() {
                Ok(_) => {
                    done += 1;
                    false
                }
                Err(_) => true,
            });
            if done >= n {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        done
    }

    #[test]
    fn a_listener_completes_a_thousand_connections_before_any_is_accepted() {
        let somaxconn: i32 = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
            .map_or(4096, |s| s.trim().parse().unwrap_or(4096));
        assert!(
            somaxconn >= LISTEN_BACKLOG,
            "net.core.somaxconn is {somaxconn}"
        );
        let listener = listen("127.0.0.1:0".parse().unwrap(), LISTEN_BACKLOG).unwrap();
        let done = completed_without_accept(&listener, 1000);
        assert!(done >= 900, "{done} of 1000 completed");
    }

    #[test]
    fn a_listener_binds_ipv6_and_reuses_the_address() {
        // A host whose loopback has no IPv6 (containers with IPv6 disabled) can't run
        // this; std can't bind `[::1]` there either.
        if std::net::TcpListener::bind("[::1]:0").is_err() {
            eprintln!("no IPv6 loopback here: the IPv6 listener is not tested");
            return;
        }
        let listener = listen("[::1]:0".parse().unwrap(), LISTEN_BACKLOG).unwrap();
        let addr = listener.local_addr().unwrap();
        assert!(addr.is_ipv6());
        let c = std::net::TcpStream::connect(addr).unwrap();
        let (s, _) = listener.accept().unwrap();
        drop((c, s, listener));
        // SO_REUSEADDR: the port is free again at once despite TIME_WAIT.
        listen(addr, LISTEN_BACKLOG).unwrap();
    }

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
