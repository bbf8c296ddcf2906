//! Export after the response: every export call the tracer hands out is sent now, to the collector's URL
//! (`exporter.endpoint`), and waited for, within `exporter.timeout_ms` (`wasmtime serve` disposes of the instance
//! when `handle` returns, which would abort a call still open). One attempt per call: an instance that lives for
//! one request has nobody to retry later; a failure is logged (by the core, once per instance) and the span is
//! lost, never the client's call, which is already over.

use crate::host;
use crate::streams::{self, Read};
use crate::wasi::clocks::monotonic_clock;
use crate::wasi::http::outgoing_handler;
use crate::wasi::http::types::{
    Fields, FutureIncomingResponse, IncomingResponse, Method, OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};
use crate::wasi::io::poll::{poll, Pollable};
use llm_trace_core::{CollectorAnswer, ExportBody, ExportRequest, Tracer};

/// Most export calls one request makes (a request finishes one exchange: one span, one call).
const MAX_CALLS: usize = 8;
/// Most bytes of a collector's answer read (a partial-success report is small).
const MAX_ANSWER_BYTES: usize = 64 << 10;

/// Sends the spans waiting in the tracer and reports each answer back to it.
pub(crate) fn export_due(tracer: &mut Tracer) {
    for token in 1..=MAX_CALLS as u32 {
        let Some(request) = tracer.next_export(host::now(), true) else {
            break;
        };
        match send(&request) {
            Ok(answer) => {
                tracer.dispatched(request, token);
                let collector = CollectorAnswer::Http {
                    status: answer.status,
                    retry_after: answer.retry_after.as_deref(),
                    body: &answer.body,
                };
                tracer.settled(token, collector, host::now());
            }
            Err(detail) => tracer.dispatch_refused(request, host::now(), &detail),
        }
        host::write_logs(&tracer.take_effects().logs);
    }
    // Metric updates have no sink here (no process-wide counters): the span carries every per-call figure.
    host::write_logs(&tracer.take_effects().logs);
}

/// What the collector answered; `status` is `None` when it did not answer in time.
struct Answer {
    status: Option<u16>,
    retry_after: Option<String>,
    body: Vec<u8>,
}

impl Answer {
    fn none() -> Answer {
        Answer {
            status: None,
            retry_after: None,
            body: Vec::new(),
        }
    }
}

/// Sends one export call and waits for its answer until the timeout. `Err` when the host refused to send it.
fn send(request: &ExportRequest) -> Result<Answer, String> {
    let (ExportBody::Http { headers, body }, Some(url)) = (&request.body, &request.url) else {
        return Err("the wasi:http component sends OTLP/HTTP to `exporter.endpoint` only".to_string());
    };
    let (scheme, authority) = scheme_and_authority(url).ok_or_else(|| format!("`{url}` is not a URL"))?;
    let path = headers
        .iter()
        .find(|(k, _)| k == ":path")
        .map_or("/v1/traces", |(_, v)| v.as_str());
    let plain: Vec<(String, Vec<u8>)> = headers
        .iter()
        .filter(|(k, _)| !k.starts_with(':'))
        .map(|(k, v)| (k.clone(), v.clone().into_bytes()))
        .collect();
    let fields = Fields::from_list(&plain).map_err(|e| format!("export headers refused ({e:?})"))?;
    let outgoing = OutgoingRequest::new(fields);
    let _ = outgoing.set_method(&Method::Post);
    let _ = outgoing.set_scheme(Some(&scheme));
    let _ = outgoing.set_authority(Some(authority));
    let _ = outgoing.set_path_with_query(Some(path));
    let timeout_ns = request.timeout_ms.saturating_mul(1_000_000);
    let options = RequestOptions::new();
    // Hosts that do not support a timeout refuse to set it; the deadline below bounds the call anyway.
    let _ = options.set_connect_timeout(Some(timeout_ns));
    let _ = options.set_first_byte_timeout(Some(timeout_ns));
    let _ = options.set_between_bytes_timeout(Some(timeout_ns));
    let out_body = outgoing
        .body()
        .map_err(|()| "the host gave no request body".to_string())?;
    let future = outgoing_handler::handle(outgoing, Some(options)).map_err(|code| format!("{code:?}"))?;
    let deadline = monotonic_clock::subscribe_duration(timeout_ns);
    let written = match out_body.write() {
        Ok(stream) => {
            let written = streams::write_all(&stream, body, Some(&deadline));
            drop(stream);
            written
        }
        Err(()) => Err(streams::Stopped::Closed),
    };
    let finished = OutgoingBody::finish(out_body, None);
    if written.is_err() || finished.is_err() {
        return Ok(Answer::none());
    }
    let Some(response) = wait_response(&future, &deadline) else {
        return Ok(Answer::none());
    };
    drop(future);
    Ok(read_answer(response, &deadline))
}

/// The response head, unless the deadline passes first.
fn wait_response(future: &FutureIncomingResponse, deadline: &Pollable) -> Option<IncomingResponse> {
    let ready = future.subscribe();
    let woken = poll(&[&ready, deadline]);
    drop(ready);
    if !woken.contains(&0) {
        return None;
    }
    match future.get() {
        Some(Ok(Ok(response))) => Some(response),
        _ => None,
    }
}

/// Status, `retry-after`, and for a success the (bounded) body, which may report rejected spans.
fn read_answer(response: IncomingResponse, deadline: &Pollable) -> Answer {
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .into_iter()
        .next()
        .and_then(|v| String::from_utf8(v).ok());
    let mut body = Vec::new();
    if CollectorAnswer::body_wanted_http(Some(status)) {
        if let Ok(incoming) = response.consume() {
            if let Ok(stream) = incoming.stream() {
                while body.len() < MAX_ANSWER_BYTES {
                    match streams::read(&stream, 16 << 10, Some(deadline)) {
                        Ok(Read::Bytes(bytes)) => body.extend_from_slice(&bytes),
                        _ => break,
                    }
                }
            }
        }
    }
    Answer {
        status: Some(status),
        retry_after,
        body,
    }
}

/// `http://host:port/...` → (scheme, `host:port`).
fn scheme_and_authority(url: &str) -> Option<(Scheme, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = match scheme {
        "https" => Scheme::Https,
        "http" => Scheme::Http,
        _ => return None,
    };
    let authority = rest.split(['/', '?']).next().filter(|a| !a.is_empty())?;
    Some((scheme, authority))
}
