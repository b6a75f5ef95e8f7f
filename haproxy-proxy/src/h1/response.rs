//! Response head parsing: anything HAProxy cannot parse becomes a 502 for the client.

use std::mem::MaybeUninit;

use super::request::{STACK_FIELDS, uninit_slots};
use super::{BodyFraming, H1Error, H1Limits, Headers, Parsed, Version};

/// A parsed response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// The version on the status line.
    pub version: Version,
    /// The status code.
    pub status: u16,
    /// The reason phrase, as sent.
    pub reason: String,
    /// The header fields, names lowercased.
    pub headers: Headers,
}

/// Parses a response head from the start of `buf`.
///
/// # Errors
/// Any [`H1Error`]; the proxy answers the client 502 for all of them.
pub fn parse_response(buf: &[u8], limits: &H1Limits) -> Result<Parsed<ResponseHead>, H1Error> {
    let window = buf.get(..buf.len().min(limits.max_head())).unwrap_or(buf);
    // Header slots on the stack for the usual limits, left uninitialised (no allocation and no
    // 3 KiB to zero per response), on the heap past them.
    let fields = limits.max_fields();
    let mut stack = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; STACK_FIELDS];
    let mut heap;
    let slots: &mut [MaybeUninit<httparse::Header<'_>>] = if fields <= STACK_FIELDS {
        stack.get_mut(..fields).unwrap_or_default()
    } else {
        heap = uninit_slots(fields);
        &mut heap
    };
    let mut resp = httparse::Response::new(&mut []);
    let parsed = httparse::ParserConfig::default()
        .parse_response_with_uninit_headers(&mut resp, window, slots);
    let len = match parsed {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if window.len() >= limits.max_head() => {
            return Err(H1Error::HeadTooLarge {
                limit: limits.max_head(),
            });
        }
        Ok(httparse::Status::Partial) => return Ok(Parsed::Partial),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(H1Error::TooManyHeaders {
                limit: limits.maxhdr,
            });
        }
        Err(_) => return Err(H1Error::Syntax("status line or header")),
    };
    let (Some(minor), Some(status)) = (resp.version, resp.code) else {
        return Ok(Parsed::Partial);
    };
    let bytes = resp
        .headers
        .iter()
        .map(|h| h.name.len() + h.value.len())
        .sum();
    let mut headers = Headers::with_capacity(resp.headers.len(), bytes);
    for h in resp.headers.iter() {
        headers.push(h.name.as_bytes(), h.value);
    }
    let head = ResponseHead {
        version: Version { major: 1, minor },
        status,
        reason: resp.reason.unwrap_or_default().to_owned(),
        headers,
    };
    head.framing(false)?;
    // COMPAT: HAProxy also checks the accept value against the request's key; we only check
    // that it is there.
    if super::framing::websocket_key_missing(&head.headers, false) {
        return Err(H1Error::WebsocketKey);
    }
    Ok(Parsed::Complete { head, len })
}

impl ResponseHead {
    /// How the body is delimited; `head_request` is true when answering a HEAD.
    ///
    /// # Errors
    /// [`H1Error::ContentLength`] for invalid or conflicting lengths.
    pub fn framing(&self, head_request: bool) -> Result<BodyFraming, H1Error> {
        if head_request
            || (100..200).contains(&self.status)
            || self.status == 204
            || self.status == 304
        {
            return Ok(BodyFraming::None);
        }
        if self.headers.contains("transfer-encoding") {
            // HAProxy refuses any coding other than chunked in a response (the client gets 502).
            let c = super::framing::codings(&self.headers, false)?;
            if c.other || !c.chunked_last {
                return Err(H1Error::UnknownCoding);
            }
            return Ok(BodyFraming::Chunked);
        }
        match super::framing::content_length(&self.headers)? {
            Some(n) => Ok(BodyFraming::Length(n)),
            None => Ok(BodyFraming::UntilClose),
        }
    }

    /// True when HAProxy's H1 parser forces the server connection to close after this message:
    /// Transfer-Encoding together with Content-Length, or on HTTP/1.0.
    pub fn forces_close(&self) -> bool {
        self.headers.contains("transfer-encoding")
            && (self.headers.contains("content-length") || !self.version.is_11_or_later())
    }

    /// Writes the head as it goes to the client: the version as HAProxy writes it
    /// ([`Version::on_wire`]), names lowercased.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        super::wire::push_status_line(out, self.version.on_wire(), self.status, &self.reason);
        self.headers.write_to(out);
        out.extend_from_slice(b"\r\n");
    }
}
