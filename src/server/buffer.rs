//! The connection's input buffer, and the worker's pool of buffers.
//!
//! A connection holds buffers only while it has bytes to read or write: it takes an
//! input buffer from its worker's [`BufPool`] before reading and an output buffer
//! before encoding an answer, and gives both back once the answer is written and no
//! byte of a next request is waiting (an idle keep-alive connection holds none). The
//! pool is a free list, so the take and the give allocate nothing: `/plaintext`
//! served again and again reuses the same two buffers.
//!
//! Bytes live in `data[pos..end]`: `pos` is the first byte not yet consumed by the
//! parser, `end` the end of what the socket gave. The buffer starts small, doubles
//! when a message needs more room, and never grows past `cap` (a head larger than the
//! head limits is an error before that; bodies are consumed as they arrive). Compaction
//! moves the unconsumed bytes to the front, keeping, when asked, a request head that a
//! handler still needs (`data[..keep]`).

/// Bytes asked of the socket at least per read.
pub(crate) const MIN_READ: usize = 4096;
/// First allocation of a connection's input buffer (the size the pool keeps).
pub(crate) const INITIAL: usize = 8192;
/// Capacity of a pooled output buffer: a page (the home page answer is ~6 KiB) or a
/// batch of small pipelined answers fits. An output buffer that grew past it (a file
/// read whole behind its head, a 64 KiB piece of a larger one) is freed when given back.
pub(crate) const OUTPUT_INITIAL: usize = 16 * 1024;
/// Buffers of each kind the pool keeps. A connection holds its buffers only within a
/// turn, or while an answer waits for the client to read it, so a worker needs a few
/// at a time; 32 of each bound the pool at 768 KiB per worker.
pub(crate) const POOL_KEEP: usize = 32;

/// A worker's free buffers: input buffers of [`INITIAL`] bytes (length = capacity,
/// so that reusing one writes no zeros) and empty output buffers of [`OUTPUT_INITIAL`]
/// capacity. Its lists are allocated once with room for [`POOL_KEEP`] buffers, so
/// giving one back never allocates; beyond that, and buffers of other sizes, are freed.
#[derive(Debug)]
pub(crate) struct BufPool {
    input: Vec<Vec<u8>>,
    output: Vec<Vec<u8>>,
}

impl Default for BufPool {
    fn default() -> Self {
        Self::new()
    }
}

impl BufPool {
    pub(crate) fn new() -> BufPool {
        BufPool {
            input: Vec::with_capacity(POOL_KEEP),
            output: Vec::with_capacity(POOL_KEEP),
        }
    }

    /// An input buffer of [`INITIAL`] bytes.
    pub(crate) fn take_input(&mut self) -> Vec<u8> {
        self.input.pop().unwrap_or_else(|| vec![0; INITIAL])
    }

    /// An empty output buffer with room for [`OUTPUT_INITIAL`] bytes.
    pub(crate) fn take_output(&mut self) -> Vec<u8> {
        self.output
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(OUTPUT_INITIAL))
    }

    pub(crate) fn give_input(&mut self, buf: Vec<u8>) {
        if buf.len() == INITIAL && buf.capacity() == INITIAL && self.input.len() < POOL_KEEP {
            self.input.push(buf);
        }
    }

    pub(crate) fn give_output(&mut self, mut buf: Vec<u8>) {
        if buf.capacity() == OUTPUT_INITIAL && self.output.len() < POOL_KEEP {
            buf.clear();
            self.output.push(buf);
        }
    }

    /// Buffers held (input, output), for tests.
    #[cfg(test)]
    pub(crate) fn held(&self) -> (usize, usize) {
        (self.input.len(), self.output.len())
    }
}

#[derive(Debug)]
pub(crate) struct InBuf {
    data: Vec<u8>,
    pos: usize,
    end: usize,
    cap: usize,
}

impl InBuf {
    /// An empty buffer: nothing is allocated until the first read, so a connection
    /// that never sends a byte (a silent flood up to `--max-connections`) costs no
    /// buffer at all.
    pub(crate) fn new(cap: usize) -> Self {
        InBuf {
            data: Vec::new(),
            pos: 0,
            end: 0,
            cap,
        }
    }

    /// The bytes not yet consumed.
    pub(crate) fn unconsumed(&self) -> &[u8] {
        &self.data[self.pos..self.end]
    }

    /// Bytes `range` of the buffer (for a kept head: `0..head_len`).
    pub(crate) fn slice(&self, start: usize, end: usize) -> &[u8] {
        &self.data[start..end]
    }

    /// Bytes allocated for the buffer.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.data.capacity()
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn consume(&mut self, n: usize) {
        debug_assert!(self.pos + n <= self.end);
        self.pos += n;
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos == self.end
    }

    /// Move unconsumed bytes to the front. `keep` bytes at `keep_from` (a request head
    /// still in use) are moved to the very front first; returns nothing, the kept head
    /// then lies at `0..keep`.
    pub(crate) fn compact(&mut self, keep_from: usize, keep: usize) {
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
    pub(crate) fn spare(&mut self) -> &mut [u8] {
        if self.data.len() - self.end < MIN_READ && self.data.len() < self.cap {
            let new_len = (self.data.len() * 2).clamp(INITIAL.min(self.cap), self.cap);
            self.data.resize(new_len, 0);
        }
        &mut self.data[self.end..]
    }

    /// `n` bytes were read into `spare()`.
    pub(crate) fn filled(&mut self, n: usize) {
        self.end += n;
        debug_assert!(self.end <= self.data.len());
    }

    /// Before reading: take a buffer from the pool if none is held (a connection
    /// capped below [`INITIAL`] allocates its own in [`InBuf::spare`]).
    pub(crate) fn attach(&mut self, pool: &mut BufPool) {
        if self.data.is_empty() && self.cap >= INITIAL {
            self.data = pool.take_input();
        }
    }

    /// Nothing is left to parse: give the buffer back (a grown one is freed).
    pub(crate) fn release(&mut self, pool: &mut BufPool) {
        debug_assert!(self.is_empty());
        self.pos = 0;
        self.end = 0;
        if self.data.capacity() > 0 {
            pool.give_input(std::mem::take(&mut self.data));
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
        b.release(&mut BufPool::new());
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
        let mut pool = BufPool::new();
        b.release(&mut pool);
        assert_eq!(b.capacity(), 0);
        assert_eq!(pool.held(), (0, 0), "a grown buffer is freed, not pooled");
        assert_eq!(b.spare().len(), INITIAL);
    }

    #[test]
    fn the_pool_reuses_buffers_and_keeps_a_bounded_number() {
        let mut pool = BufPool::new();
        let mut b = InBuf::new(1 << 16);
        b.attach(&mut pool);
        fill(&mut b, b"GET / HTTP/1.1\r\n\r\n");
        let ptr = b.data.as_ptr();
        b.consume(b.unconsumed().len());
        b.release(&mut pool);
        assert_eq!(pool.held(), (1, 0));
        b.attach(&mut pool);
        assert_eq!(b.data.as_ptr(), ptr, "the same buffer comes back");
        assert_eq!(b.spare().len(), INITIAL);
        let out: Vec<Vec<u8>> = (0..POOL_KEEP + 5).map(|_| pool.take_output()).collect();
        for o in out {
            pool.give_output(o);
        }
        assert_eq!(pool.held(), (0, POOL_KEEP));
        let mut grown = pool.take_output();
        grown.resize(OUTPUT_INITIAL + 1, 0);
        pool.give_output(grown);
        assert_eq!(pool.held(), (0, POOL_KEEP - 1), "a grown buffer is freed");
        assert!(pool.take_output().is_empty());
    }
}
