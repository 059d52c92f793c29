//! A document as it arrives, hashed as it arrives.
//!
//! Every signature hashes the whole document: the signed range, the input
//! hash the audit records and the output's all begin with its bytes, which
//! the update leaves unchanged. That pass is most of the time a signature of
//! a large file takes (several milliseconds for 10 MB), and it needs nothing
//! but the bytes, so it is made chunk by chunk while the upload or the file
//! is read: over bytes still in the cache, and while the rest of an upload
//! is on its way. Signing then hashes only its own update.

use std::io::Read;

use aws_lc_rs::digest::{Context, SHA256};

use super::pdf;

/// How much is read before it is hashed: small enough to stay in the cache.
const CHUNK: u64 = 256 * 1024;

/// The bytes of a document and the SHA-256 state over exactly those bytes
/// (its fields are private so the two cannot part).
pub struct Upload {
    bytes: Vec<u8>,
    sha256: Context,
}

impl Upload {
    /// An empty document expecting about `len` bytes, with room after them
    /// for a signature's update ([`pdf::with_room`]).
    pub fn expecting(len: usize) -> Upload {
        Upload {
            bytes: Vec::with_capacity(pdf::with_room(len)),
            sha256: Context::new(&SHA256),
        }
    }

    /// An empty document in `buffer`'s memory (a buffer given back after
    /// use: its pages are already mapped).
    pub fn recycle(mut buffer: Vec<u8>) -> Upload {
        buffer.clear();
        Upload {
            bytes: buffer,
            sha256: Context::new(&SHA256),
        }
    }

    /// Appends the next chunk that arrived.
    pub fn push(&mut self, chunk: &[u8]) {
        self.bytes.extend_from_slice(chunk);
        self.sha256.update(chunk);
    }

    /// Appends what `source` gives until its end, hashing each chunk as it
    /// lands in place (no copy through a buffer).
    pub fn read_from(&mut self, source: &mut impl Read) -> std::io::Result<()> {
        loop {
            let start = self.bytes.len();
            let n = source.by_ref().take(CHUNK).read_to_end(&mut self.bytes)?;
            self.sha256.update(&self.bytes[start..]);
            if n == 0 {
                return Ok(());
            }
        }
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// The bytes and the hash state over them.
    pub(super) fn into_parts(self) -> (Vec<u8>, Context) {
        (self.bytes, self.sha256)
    }
}

/// Bytes already whole in memory, hashed in one pass now.
impl From<Vec<u8>> for Upload {
    fn from(bytes: Vec<u8>) -> Upload {
        let mut sha256 = Context::new(&SHA256);
        sha256.update(&bytes);
        Upload { bytes, sha256 }
    }
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Upload({} bytes)", self.bytes.len())
    }
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::digest::digest;

    use super::*;

    fn sha(u: Upload) -> Vec<u8> {
        let (bytes, ctx) = u.into_parts();
        let got = ctx.finish().as_ref().to_vec();
        assert_eq!(
            got,
            digest(&SHA256, &bytes).as_ref(),
            "the state is over the bytes"
        );
        got
    }

    #[test]
    fn the_hash_taken_on_arrival_is_the_hash_of_the_bytes_however_they_came() {
        let data: Vec<u8> = (0..700_000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        let whole = sha(Upload::from(data.clone()));
        let mut pushed = Upload::expecting(data.len());
        for chunk in data.chunks(4093) {
            pushed.push(chunk);
        }
        assert_eq!(pushed.bytes(), data.as_slice());
        assert!(pushed.bytes.capacity() >= pdf::with_room(data.len()));
        assert_eq!(sha(pushed), whole);
        // Read in several chunks (the file is over CHUNK), and from a reader
        // that gives a few bytes at a time.
        let mut read = Upload::expecting(0);
        read.read_from(&mut data.as_slice()).unwrap();
        assert_eq!(read.len(), data.len());
        assert_eq!(sha(read), whole);
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = buf.len().min(self.0.len()).min(1000);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut trickled = Upload::expecting(data.len());
        trickled.read_from(&mut Trickle(&data)).unwrap();
        assert_eq!(sha(trickled), whole);
        assert_eq!(sha(Upload::expecting(10)), digest(&SHA256, b"").as_ref());
        let mut again = Upload::recycle(data.clone());
        assert!(again.is_empty());
        again.push(b"%PDF");
        assert_eq!(sha(again), digest(&SHA256, b"%PDF").as_ref());
    }
}
