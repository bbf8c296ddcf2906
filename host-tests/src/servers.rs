//! A minimal HTTP/1.1 server core (std only, a thread per connection, keep-alive) shared by the demo's mock LLM
//! upstream and OTLP receiver. Only what those two need: request line, headers, `content-length` or chunked
//! request bodies, and responses with a fixed body or a chunked stream.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

/// Largest request body accepted (the OTLP receiver gets batches of a few MiB at most).
const MAX_BODY: usize = 64 << 20;

#[derive(Debug)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Writes a response on the connection; handlers either answer once or stream chunks.
pub struct Responder<'a> {
    stream: &'a mut TcpStream,
}

impl Responder<'_> {
    /// A complete response with a `content-length`.
    pub fn send(&mut self, status: u16, headers: &[(&str, &str)], body: &[u8]) -> std::io::Result<()> {
        let mut head = format!(
            "HTTP/1.1 {status} {}\r\ncontent-length: {}\r\n",
            reason(status),
            body.len()
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        self.stream.write_all(head.as_bytes())?;
        self.stream.write_all(body)?;
        self.stream.flush()
    }

    /// Starts a chunked response; follow with `chunk` calls and `finish`.
    pub fn start_stream(&mut self, status: u16, headers: &[(&str, &str)]) -> std::io::Result<()> {
        let mut head = format!("HTTP/1.1 {status} {}\r\ntransfer-encoding: chunked\r\n", reason(status));
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        self.stream.write_all(head.as_bytes())?;
        self.stream.flush()
    }

    pub fn chunk(&mut self, data: &[u8]) -> std::io::Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        self.stream.write_all(format!("{:x}\r\n", data.len()).as_bytes())?;
        self.stream.write_all(data)?;
        self.stream.write_all(b"\r\n")?;
        self.stream.flush()
    }

    pub fn finish(&mut self) -> std::io::Result<()> {
        self.stream.write_all(b"0\r\n\r\n")?;
        self.stream.flush()
    }

    /// Drops the connection mid-response (an upstream reset).
    pub fn abort(&mut self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

fn read_request(reader: &mut BufReader<TcpStream>) -> std::io::Result<Option<Request>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(path)) = (parts.next(), parts.next()) else {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "bad request line"));
    };
    let (method, path) = (method.to_string(), path.to_string());
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        if let Some((k, v)) = trimmed.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let header = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let mut body = Vec::new();
    if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or("0"), 16).unwrap_or(0);
            if size == 0 {
                line.clear();
                reader.read_line(&mut line)?;
                break;
            }
            if body.len() + size > MAX_BODY {
                return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "body too large"));
            }
            let start = body.len();
            body.resize(start + size, 0);
            reader.read_exact(&mut body[start..])?;
            line.clear();
            reader.read_line(&mut line)?;
        }
    } else if let Some(len) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        if len > MAX_BODY {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "body too large"));
        }
        body.resize(len, 0);
        reader.read_exact(&mut body)?;
    }
    Ok(Some(Request {
        method,
        path,
        headers,
        body,
    }))
}

/// Serves `handler` on `listener` forever, one thread per connection. Prints `{name} listening on ADDR` once ready
/// (tests and scripts wait for that line and read the port from it).
pub fn serve<H>(name: &str, listener: TcpListener, handler: H) -> std::io::Result<()>
where
    H: Fn(&Request, &mut Responder<'_>) -> std::io::Result<()> + Send + Sync + 'static,
{
    println!("{name} listening on {}", listener.local_addr()?);
    let _ = std::io::stdout().flush();
    let handler = Arc::new(handler);
    for conn in listener.incoming() {
        let Ok(conn) = conn else { continue };
        let handler = Arc::clone(&handler);
        std::thread::spawn(move || {
            let _ = conn.set_read_timeout(Some(Duration::from_secs(300)));
            // Headers and body go out in separate writes: without this, delayed ACKs add 40 ms per answer.
            let _ = conn.set_nodelay(true);
            let Ok(write_half) = conn.try_clone() else { return };
            let mut write_half = write_half;
            let mut reader = BufReader::new(conn);
            while let Ok(Some(request)) = read_request(&mut reader) {
                let mut responder = Responder {
                    stream: &mut write_half,
                };
                if handler(&request, &mut responder).is_err() {
                    break;
                }
                let close = request
                    .header("connection")
                    .is_some_and(|v| v.eq_ignore_ascii_case("close"));
                if close {
                    break;
                }
            }
        });
    }
    Ok(())
}

/// `--name value` from the command line.
pub fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}
