//! A client that writes HTTP/2 frames by hand, for what a well-behaved client never
//! does: stop after the connection preface, open a call and never send its message, or
//! never answer the server's pings.

use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The client connection preface.
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Frame types.
pub const DATA: u8 = 0x0;
pub const HEADERS: u8 = 0x1;
pub const SETTINGS: u8 = 0x4;
pub const PING: u8 = 0x6;
pub const GOAWAY: u8 = 0x7;

/// One raw connection and what it has read.
pub struct RawH2 {
    sock: TcpStream,
    opened: Instant,
    read: Vec<u8>,
    /// Whether the server closed the connection (end of file or reset).
    pub closed: bool,
    closed_at: Option<Instant>,
}

impl RawH2 {
    /// A TCP connection, nothing sent.
    pub async fn connect(addr: SocketAddr) -> RawH2 {
        let sock = TcpStream::connect(addr).await.expect("connect");
        RawH2 { sock, opened: Instant::now(), read: Vec::new(), closed: false, closed_at: None }
    }

    /// Sends `bytes` as they are.
    pub async fn send(&mut self, bytes: &[u8]) {
        self.sock.write_all(bytes).await.expect("write");
    }

    /// The preface, an empty SETTINGS frame, and, once the server's SETTINGS frame has
    /// come, its acknowledgement: the connection is open.
    pub async fn handshake(&mut self) {
        self.send(PREFACE).await;
        self.send(&frame(SETTINGS, 0, 0, &[])).await;
        let until = Instant::now() + Duration::from_secs(5);
        while !self.frames().iter().any(|(t, flags, _)| *t == SETTINGS && flags & 1 == 0) {
            assert!(Instant::now() < until, "no SETTINGS from the server");
            self.read_some(Duration::from_millis(100)).await;
            assert!(!self.closed, "the server closed the connection in the handshake");
        }
        self.send(&frame(SETTINGS, 1, 0, &[])).await;
    }

    /// Opens stream `stream` calling `path` with `headers` besides the gRPC ones; sends
    /// `message` (a gRPC message, framed here) and ends the stream, or with `None` sends
    /// nothing more: the call waits for a message that never comes.
    pub async fn call(&mut self, stream: u32, path: &str, headers: &[(&str, &str)], message: Option<&[u8]>) {
        let mut block = Vec::new();
        for (name, value) in [
            (":method", "POST"),
            (":scheme", "http"),
            (":path", path),
            (":authority", "localhost"),
            ("content-type", "application/grpc"),
            ("te", "trailers"),
        ]
        .iter()
        .chain(headers)
        {
            // A literal header field without indexing, with a new name.
            block.push(0);
            hpack_string(&mut block, name);
            hpack_string(&mut block, value);
        }
        // END_HEADERS.
        self.send(&frame(HEADERS, 0x4, stream, &block)).await;
        if let Some(message) = message {
            let mut data = vec![0];
            data.extend_from_slice(&(message.len() as u32).to_be_bytes());
            data.extend_from_slice(message);
            // END_STREAM.
            self.send(&frame(DATA, 0x1, stream, &data)).await;
        }
    }

    /// Reads what comes within `wait`; notes a close.
    pub async fn read_some(&mut self, wait: Duration) {
        let mut buf = [0u8; 16 * 1024];
        match tokio::time::timeout(wait, self.sock.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                self.closed = true;
                self.closed_at.get_or_insert_with(Instant::now);
            }
            Ok(Ok(n)) => self.read.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
    }

    /// Reads until a frame of type `kind` on `stream` has come, for at most `limit`;
    /// whether it came (false too when the connection was closed first).
    pub async fn frame_within(&mut self, kind: u8, stream: u32, limit: Duration) -> bool {
        let until = Instant::now() + limit;
        loop {
            if self.frames().iter().any(|(t, _, s)| *t == kind && *s == stream) {
                return true;
            }
            if self.closed || Instant::now() > until {
                return false;
            }
            self.read_some(Duration::from_millis(50)).await;
        }
    }

    /// Reads until the server closes the connection, for at most `limit`: how long after
    /// the connection was made it was closed (within 50 ms), or `None` if it is open.
    pub async fn closed_within(&mut self, limit: Duration) -> Option<Duration> {
        let started = Instant::now();
        while !self.closed {
            if started.elapsed() > limit {
                return None;
            }
            self.read_some(Duration::from_millis(50)).await;
        }
        Some(self.closed_at.unwrap_or_else(Instant::now) - self.opened)
    }

    /// The whole frames read so far: type, flags, stream.
    pub fn frames(&self) -> Vec<(u8, u8, u32)> {
        let mut out = Vec::new();
        let mut at = 0;
        while self.read.len() >= at + 9 {
            let len = u32::from_be_bytes([0, self.read[at], self.read[at + 1], self.read[at + 2]]) as usize;
            if self.read.len() < at + 9 + len {
                break;
            }
            let stream = u32::from_be_bytes([
                self.read[at + 5],
                self.read[at + 6],
                self.read[at + 7],
                self.read[at + 8],
            ]) & 0x7fff_ffff;
            out.push((self.read[at + 3], self.read[at + 4], stream));
            at += 9 + len;
        }
        out
    }
}

/// One frame: its 9-byte header and `payload`.
pub fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = (payload.len() as u32).to_be_bytes()[1..].to_vec();
    out.push(kind);
    out.push(flags);
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// An HPACK string literal, not Huffman-coded.
fn hpack_string(out: &mut Vec<u8>, s: &str) {
    let mut len = s.len();
    if len < 127 {
        out.push(len as u8);
    } else {
        out.push(127);
        len -= 127;
        while len >= 128 {
            out.push((len % 128) as u8 | 0x80);
            len /= 128;
        }
        out.push(len as u8);
    }
    out.extend_from_slice(s.as_bytes());
}
