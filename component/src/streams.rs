//! Writing to and reading from `wasi:io` streams, with an optional deadline (a pollable that becomes ready when
//! time is up). Pollables are children of their stream and are dropped before it.

use crate::wasi::io::poll::{poll, Pollable};
use crate::wasi::io::streams::{InputStream, OutputStream, StreamError};

/// Why a stream operation stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stopped {
    /// The other side closed the stream or it failed.
    Closed,
    /// The deadline passed first.
    TimedOut,
}

/// Waits until `ready` is ready, or the deadline passes first.
fn wait(ready: &Pollable, deadline: Option<&Pollable>) -> Result<(), Stopped> {
    match deadline {
        None => {
            ready.block();
            Ok(())
        }
        Some(deadline) => {
            let woken = poll(&[ready, deadline]);
            if woken.contains(&0) {
                Ok(())
            } else {
                Err(Stopped::TimedOut)
            }
        }
    }
}

/// Writes all of `bytes` and flushes them (so a streamed chunk leaves now, as one body frame where the host
/// allows), as fast as the stream accepts them.
pub(crate) fn write_all(stream: &OutputStream, bytes: &[u8], deadline: Option<&Pollable>) -> Result<(), Stopped> {
    let writable = stream.subscribe();
    let mut rest = bytes;
    while !rest.is_empty() {
        wait(&writable, deadline)?;
        let allowed = stream.check_write().map_err(|_| Stopped::Closed)?;
        let n = usize::try_from(allowed).unwrap_or(usize::MAX).min(rest.len());
        if n == 0 {
            continue;
        }
        let (now, later) = rest.split_at(n);
        stream.write(now).map_err(|_| Stopped::Closed)?;
        rest = later;
    }
    stream.flush().map_err(|_| Stopped::Closed)?;
    wait(&writable, deadline)?;
    // Surfaces a failed flush.
    stream.check_write().map_err(|_| Stopped::Closed)?;
    Ok(())
}

/// What one read gave.
pub(crate) enum Read {
    /// Some bytes (never empty).
    Bytes(Vec<u8>),
    /// The stream ended normally.
    End,
    /// The stream failed: the peer reset or the host gave up (the detail is for the log).
    Failed(String),
}

/// Reads the next bytes, at most `max`, waiting for them (until the deadline, if any).
pub(crate) fn read(stream: &InputStream, max: u64, deadline: Option<&Pollable>) -> Result<Read, Stopped> {
    let readable = stream.subscribe();
    loop {
        wait(&readable, deadline)?;
        match stream.read(max) {
            Ok(bytes) if bytes.is_empty() => continue,
            Ok(bytes) => return Ok(Read::Bytes(bytes)),
            Err(StreamError::Closed) => return Ok(Read::End),
            Err(StreamError::LastOperationFailed(error)) => return Ok(Read::Failed(error.to_debug_string())),
        }
    }
}
