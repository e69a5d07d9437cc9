//! The connection's input buffer: one allocation, reused for every request.
//!
//! Bytes live in `data[pos..end]`: `pos` is the first byte not yet consumed by the
//! parser, `end` the end of what the socket gave. The buffer starts small, doubles
//! when a message needs more room, and never grows past `cap` (a head larger than the
//! head limits is an error before that; bodies are consumed as they arrive). Compaction
//! moves the unconsumed bytes to the front, keeping, when asked, a request head that a
//! handler still needs (`data[..keep]`).

/// Bytes asked of the socket at least per read.
pub const MIN_READ: usize = 4096;
/// First allocation of a connection's input buffer.
pub const INITIAL: usize = 8192;

#[derive(Debug)]
pub struct InBuf {
    data: Vec<u8>,
    pos: usize,
    end: usize,
    cap: usize,
}

impl InBuf {
    /// An empty buffer: nothing is allocated until the first read, so a connection
    /// that never sends a byte (a silent flood up to `--max-connections`) costs no
    /// buffer at all.
    pub fn new(cap: usize) -> Self {
        InBuf {
            data: Vec::new(),
            pos: 0,
            end: 0,
            cap,
        }
    }

    /// The bytes not yet consumed.
    pub fn unconsumed(&self) -> &[u8] {
        &self.data[self.pos..self.end]
    }

    /// Bytes `range` of the buffer (for a kept head: `0..head_len`).
    pub fn slice(&self, start: usize, end: usize) -> &[u8] {
        &self.data[start..end]
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn consume(&mut self, n: usize) {
        debug_assert!(self.pos + n <= self.end);
        self.pos += n;
    }

    pub fn is_empty(&self) -> bool {
        self.pos == self.end
    }

    /// Move unconsumed bytes to the front. `keep` bytes at `keep_from` (a request head
    /// still in use) are moved to the very front first; returns nothing, the kept head
    /// then lies at `0..keep`.
    pub fn compact(&mut self, keep_from: usize, keep: usize) {
        if keep > 0 {
            if keep_from != 0 {
                self.data.copy_within(keep_from..keep_from + keep, 0);
            }
            let rest = self.end - self.pos;
            self.data.copy_within(self.pos..self.end, keep);
            self.pos = keep;
            self.end = keep + rest;
        } else if self.pos == self.end {
            self.pos = 0;
            self.end = 0;
        } else if self.pos > 0 {
            self.data.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
    }

    /// Room to read into, growing the buffer if it is full and below its cap. Empty
    /// when the buffer is at its cap and full.
    pub fn spare(&mut self) -> &mut [u8] {
        if self.data.len() - self.end < MIN_READ && self.data.len() < self.cap {
            let new_len = (self.data.len() * 2).clamp(INITIAL.min(self.cap), self.cap);
            self.data.resize(new_len, 0);
        }
        &mut self.data[self.end..]
    }

    /// `n` bytes were read into `spare()`.
    pub fn filled(&mut self, n: usize) {
        self.end += n;
        debug_assert!(self.end <= self.data.len());
    }

    /// Give back memory after a burst (a large pipelined batch), keeping the initial size.
    pub fn shrink_if_idle(&mut self) {
        if self.pos == self.end && self.data.len() > INITIAL {
            self.pos = 0;
            self.end = 0;
            self.data.truncate(INITIAL);
            self.data.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill(b: &mut InBuf, bytes: &[u8]) {
        let spare = b.spare();
        spare[..bytes.len()].copy_from_slice(bytes);
        b.filled(bytes.len());
    }

    #[test]
    fn compaction_keeps_unconsumed_and_head() {
        let mut b = InBuf::new(1 << 16);
        fill(&mut b, b"xxHEADbodyNEXT");
        // The head is bytes 2..6; the body 6..10 was consumed.
        b.consume(10);
        b.compact(2, 4);
        assert_eq!(b.slice(0, 4), b"HEAD");
        assert_eq!(b.unconsumed(), b"NEXT");
        b.consume(4);
        b.compact(0, 0);
        assert!(b.is_empty());
        assert_eq!(b.pos(), 0);
    }

    #[test]
    fn allocates_nothing_before_the_first_read() {
        let mut b = InBuf::new(1 << 16);
        assert_eq!(b.data.capacity(), 0);
        assert!(b.is_empty());
        b.compact(0, 0);
        b.shrink_if_idle();
        assert_eq!(b.data.capacity(), 0);
        assert_eq!(b.spare().len(), INITIAL);
        assert_eq!(InBuf::new(100).spare().len(), 100);
    }

    #[test]
    fn grows_to_cap_and_no_further() {
        let mut b = InBuf::new(20000);
        let mut total = 0;
        loop {
            let n = b.spare().len();
            if n == 0 {
                break;
            }
            b.filled(n);
            total += n;
        }
        assert_eq!(total, 20000);
        b.consume(20000);
        b.shrink_if_idle();
        assert_eq!(b.spare().len(), INITIAL);
    }
}
