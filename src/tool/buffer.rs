//! Buffers for a child's output, which may hold secrets (a session key, a
//! vault item): zeroed on drop, and never left behind in freed memory when
//! they grow.
//!
//! A plain `Zeroizing<Vec<u8>>` zeroes only its last allocation: every
//! reallocation on the way leaves a stale copy in the allocator's free
//! lists. [`SecretBuf`] grows by copying into a fresh zeroizing allocation
//! itself, so each old one is wiped before it is freed.

use zeroize::Zeroizing;

/// The first allocation: most tool output fits.
const INITIAL_CAPACITY: usize = 16 * 1024;

/// A byte buffer whose every allocation is zeroed before it is freed.
pub struct SecretBuf {
    bytes: Zeroizing<Vec<u8>>,
    /// Bytes refused by the limit: the buffer keeps the head of the output.
    dropped: usize,
    limit: usize,
}

impl SecretBuf {
    /// An empty buffer that keeps at most `limit` bytes.
    pub fn with_limit(limit: usize) -> SecretBuf {
        SecretBuf {
            bytes: Zeroizing::new(Vec::new()),
            dropped: 0,
            limit,
        }
    }

    pub fn extend(&mut self, more: &[u8]) {
        let room = self.limit.saturating_sub(self.bytes.len());
        let (kept, over) = more.split_at(more.len().min(room));
        self.dropped += over.len();
        if self.bytes.len() + kept.len() > self.bytes.capacity() {
            self.grow_to(self.bytes.len() + kept.len());
        }
        self.bytes.extend_from_slice(kept);
    }

    /// Moves the contents to an allocation of at least `needed` bytes and
    /// drops (zeroes) the old one.
    fn grow_to(&mut self, needed: usize) {
        let capacity = needed
            .max(self.bytes.capacity() * 2)
            .max(INITIAL_CAPACITY)
            .min(self.limit.max(needed));
        let mut bigger = Zeroizing::new(Vec::with_capacity(capacity));
        bigger.extend_from_slice(&self.bytes);
        self.bytes = bigger;
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.bytes
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// How many bytes past the limit were not kept.
    pub fn dropped(&self) -> usize {
        self.dropped
    }

    /// Removes the first `n` bytes (a line handed on), keeping the
    /// allocation so nothing is copied out of it.
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.bytes.len());
        self.bytes.copy_within(n.., 0);
        let left = self.bytes.len() - n;
        // Zero the tail before shortening: truncate does not clear it.
        self.bytes[left..].fill(0);
        self.bytes.truncate(left);
    }

    /// The contents as text. Valid UTF-8 moves into the string without a
    /// copy; anything else is converted lossily and the bytes are zeroed.
    pub fn into_text(mut self) -> Zeroizing<String> {
        let bytes = std::mem::take(&mut *self.bytes);
        match String::from_utf8(bytes) {
            Ok(text) => Zeroizing::new(text),
            Err(e) => {
                let bytes = Zeroizing::new(e.into_bytes());
                Zeroizing::new(String::from_utf8_lossy(&bytes).into_owned())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_keeps_the_head_up_to_its_limit_and_counts_the_rest() {
        let mut buf = SecretBuf::with_limit(5);
        buf.extend(b"abc");
        buf.extend(b"defg");
        assert_eq!(buf.as_slice(), b"abcde");
        assert_eq!(buf.dropped(), 2);
        assert_eq!(buf.into_text().as_str(), "abcde");
    }

    #[test]
    fn growing_past_the_first_allocation_keeps_every_byte() {
        let mut buf = SecretBuf::with_limit(1 << 20);
        let chunk = [b'x'; 1000];
        for _ in 0..100 {
            buf.extend(&chunk);
        }
        assert_eq!(buf.len(), 100_000);
        assert!(buf.as_slice().iter().all(|b| *b == b'x'));
    }

    #[test]
    fn consuming_a_line_keeps_the_rest() {
        let mut buf = SecretBuf::with_limit(64);
        buf.extend(b"one\ntwo");
        buf.consume(4);
        assert_eq!(buf.as_slice(), b"two");
    }

    #[test]
    fn invalid_utf8_is_converted_lossily() {
        let mut buf = SecretBuf::with_limit(64);
        buf.extend(b"ok \xff");
        assert_eq!(buf.into_text().as_str(), "ok \u{fffd}");
    }
}
