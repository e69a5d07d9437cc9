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
