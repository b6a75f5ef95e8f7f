//! A strict, incremental decoder for the chunked transfer coding (RFC 9112 §7.1).
//!
//! `chunked-body = *chunk last-chunk trailer-section CRLF`;
//! `chunk = chunk-size [ BWS ";" ext ] CRLF chunk-data CRLF`. A bare LF is accepted where CRLF is
//! expected, as HAProxy accepts LF-only lines. The decoder is sans-IO: it reports which input
//! bytes are payload, so the proxy can forward the raw bytes unchanged once they are validated.

use std::ops::Range;

use super::H1Error;

/// The longest chunk-size accepted, in hex digits (a `u64`); longer sizes are refused, never wrapped.
pub const MAX_CHUNK_SIZE_DIGITS: u8 = 16;
/// The longest trailer section accepted, in bytes.
pub const MAX_TRAILERS_LEN: usize = 16384;
/// The longest chunk extension accepted, in bytes.
const MAX_EXT_LEN: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Size { digits: u8, value: u64 },
    SizeWs { value: u64 },
    Ext { value: u64, len: usize },
    SizeLf { value: u64 },
    Data { remaining: u64 },
    DataCr,
    DataLf,
    TrailerStart,
    TrailerLine,
    TrailerLf { empty: bool },
    Done,
}

/// What one call to [`ChunkedDecoder::advance`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkStep {
    /// How many input bytes were consumed (framing and payload).
    pub consumed: usize,
    /// The payload bytes among them, as a range of the input.
    pub data: Option<Range<usize>>,
    /// True once the last chunk and the trailers have been read.
    pub done: bool,
}

/// An incremental chunked-body decoder.
#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    state: State,
    trailers: usize,
    trailer_bytes: Vec<u8>,
    /// The trailer line being read has its `:` (a line without one is refused, as in HAProxy).
    trailer_colon: bool,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        ChunkedDecoder {
            state: State::Size {
                digits: 0,
                value: 0,
            },
            trailers: 0,
            trailer_bytes: Vec::new(),
            trailer_colon: false,
        }
    }
}

impl ChunkedDecoder {
    /// A decoder at the start of a body.
    pub fn new() -> Self {
        ChunkedDecoder::default()
    }

    /// True once the whole body has been read.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// The raw trailer section read so far (its lines and the final empty line), at most
    /// [`MAX_TRAILERS_LEN`] bytes; empty when the body has no trailers.
    pub fn trailers(&self) -> &[u8] {
        &self.trailer_bytes
    }

    /// Consumes framing bytes from `input` until it meets payload (returned as a range), the end of
    /// the body, or the end of the input.
    ///
    /// # Errors
    /// [`H1Error::ChunkSize`] for a malformed size line, [`H1Error::ChunkCrlf`] when data is not
    /// followed by a line end, [`H1Error::Trailer`] for a trailer line without `:`,
    /// [`H1Error::TrailersTooLarge`] past [`MAX_TRAILERS_LEN`].
    pub fn advance(&mut self, input: &[u8]) -> Result<ChunkStep, H1Error> {
        let mut i = 0usize;
        while let Some(&b) = input.get(i) {
            match self.state {
                State::Done => break,
                State::Data { remaining } => {
                    let avail = (input.len() - i) as u64;
                    let take = remaining.min(avail);
                    let take_usize = usize::try_from(take).unwrap_or(input.len() - i);
                    let left = remaining - take;
                    self.state = if left == 0 {
                        State::DataCr
                    } else {
                        State::Data { remaining: left }
                    };
                    let data = i..i + take_usize;
                    return Ok(ChunkStep {
                        consumed: i + take_usize,
                        data: Some(data),
                        done: false,
                    });
                }
                _ => {
                    self.state = self.step(b)?;
                    i += 1;
                }
            }
        }
        Ok(ChunkStep {
            consumed: i,
            data: None,
            done: self.state == State::Done,
        })
    }

    fn step(&mut self, b: u8) -> Result<State, H1Error> {
        Ok(match self.state {
            State::Size { digits, value } => match hex(b) {
                Some(d) => {
                    if digits >= MAX_CHUNK_SIZE_DIGITS {
                        return Err(H1Error::ChunkSize);
                    }
                    State::Size {
                        digits: digits + 1,
                        value: (value << 4) | u64::from(d),
                    }
                }
                None if digits == 0 => return Err(H1Error::ChunkSize),
                None => self.after_size(b, value)?,
            },
            State::SizeWs { value } => self.after_size(b, value)?,
            State::Ext { value, len } => match b {
                b'\r' => State::SizeLf { value },
                b'\n' => self.size_done(value),
                _ if len >= MAX_EXT_LEN => return Err(H1Error::ChunkSize),
                0x00..=0x08 | 0x0a..=0x1f | 0x7f => return Err(H1Error::ChunkSize),
                _ => State::Ext {
                    value,
                    len: len + 1,
                },
            },
            State::SizeLf { value } => match b {
                b'\n' => self.size_done(value),
                _ => return Err(H1Error::ChunkSize),
            },
            State::DataCr => match b {
                b'\r' => State::DataLf,
                b'\n' => State::Size {
                    digits: 0,
                    value: 0,
                },
                _ => return Err(H1Error::ChunkCrlf),
            },
            State::DataLf => match b {
                b'\n' => State::Size {
                    digits: 0,
                    value: 0,
                },
                _ => return Err(H1Error::ChunkCrlf),
            },
            State::TrailerStart | State::TrailerLine => {
                self.trailers += 1;
                if self.trailers > MAX_TRAILERS_LEN {
                    return Err(H1Error::TrailersTooLarge);
                }
                self.trailer_bytes.push(b);
                let empty = self.state == State::TrailerStart;
                if empty {
                    self.trailer_colon = false;
                }
                match b {
                    b'\r' | b'\n' if !empty && !self.trailer_colon => {
                        return Err(H1Error::Trailer);
                    }
                    b'\r' => State::TrailerLf { empty },
                    b'\n' if empty => State::Done,
                    b'\n' => State::TrailerStart,
                    b':' => {
                        self.trailer_colon = true;
                        State::TrailerLine
                    }
                    _ => State::TrailerLine,
                }
            }
            State::TrailerLf { empty } => match b {
                b'\n' if empty => State::Done,
                b'\n' => {
                    self.trailer_bytes.push(b);
                    State::TrailerStart
                }
                _ => return Err(H1Error::ChunkCrlf),
            },
            State::Data { .. } | State::Done => self.state,
        })
    }

    fn after_size(&self, b: u8, value: u64) -> Result<State, H1Error> {
        Ok(match b {
            b' ' | b'\t' => State::SizeWs { value },
            b';' => State::Ext { value, len: 0 },
            b'\r' => State::SizeLf { value },
            b'\n' => self.size_done(value),
            _ => return Err(H1Error::ChunkSize),
        })
    }

    fn size_done(&self, value: u64) -> State {
        if value == 0 {
            State::TrailerStart
        } else {
            State::Data { remaining: value }
        }
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}
