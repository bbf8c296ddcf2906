//! One request through the tracing reverse proxy: forwarded to the upstream, both bodies streamed through chunk
//! by chunk, every header, chunk and clock reading handed to the core, and the core's edits applied. The client's
//! response is finished before the span is exported. The feedback endpoint is answered first ([`local`]).

use crate::exporter;
use crate::host::{self, HeaderList};
use crate::local;
use crate::settings::{InstanceState, Upstream};
use crate::streams::{self, Read};
use crate::wasi::http::outgoing_handler;
use crate::wasi::http::types::{
    ErrorCode, Fields, FutureIncomingResponse, IncomingBody, IncomingRequest, IncomingResponse, Method, OutgoingBody,
    OutgoingRequest, OutgoingResponse, ResponseOutparam,
};
use llm_trace_core::{Exchange, RequestEdits, StreamEnd, Tracer};

/// Largest read from a body stream; a chunk the upstream sends in one piece is forwarded in one piece up to this.
const READ_BYTES: u64 = 64 << 10;

/// Hop-by-hop headers (RFC 9110 §7.6.1) and the ones wasi:http hosts refuse from a guest: never forwarded.
const HOP_BY_HOP: [&str; 11] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
    "host",
    "http2-settings",
    "te",
    "trailer",
];

/// Why an exchange was cut, as the core records it (the names Envoy gives the same events, so spans read alike).
const UPSTREAM_RESET: &str = "upstream_reset_after_response_started";
const CLIENT_GONE: &str = "downstream_remote_disconnect";

pub(crate) fn handle(state: &mut InstanceState, request: IncomingRequest, response_out: ResponseOutparam) {
    let upstream = match &state.upstream {
        Ok(upstream) => upstream,
        Err(problem) => {
            host::log(&format!("[warn] llm-trace: {problem}."));
            respond_locally(response_out, 502, &format!("llm-trace: {problem}.\n"));
            return;
        }
    };
    let mut tracer = match &mut state.tracer {
        Ok(tracer) => Some(tracer),
        Err(problem) => {
            host::log(&format!("[warn] {problem}"));
            None
        }
    };
    let (request, response_out) = match tracer.as_deref_mut() {
        Some(tracer) => {
            let entries = request.headers().entries();
            let pseudo = vec![
                (":method".to_string(), method_name(&request.method())),
                (":path".to_string(), request.path_with_query().unwrap_or_default()),
            ];
            let view = HeaderList::new(pseudo, &entries);
            let end_of_stream = !request_has_body(&entries);
            match local::answer(tracer, request, response_out, &view, end_of_stream) {
                Some(forward) => forward,
                None => return,
            }
        }
        None => (request, response_out),
    };
    let mut call = Call { tracer, exchange: None };
    call.run(upstream, request, response_out);
}

/// One call: the tracer (when tracing) and the exchange (when the call is an LLM call).
struct Call<'a> {
    tracer: Option<&'a mut Tracer>,
    exchange: Option<Exchange>,
}

impl Call<'_> {
    fn run(&mut self, upstream: &Upstream, request: IncomingRequest, response_out: ResponseOutparam) {
        let method = request.method();
        let path = upstream.path_for(&request.path_with_query().unwrap_or_default());
        let entries = request.headers().entries();
        let has_body = request_has_body(&entries);
        let declared_length = entries
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| std::str::from_utf8(v).ok()?.trim().parse::<usize>().ok());
        let pseudo = vec![
            (":method".to_string(), method_name(&method)),
            (":scheme".to_string(), upstream.scheme_name().to_string()),
            (":authority".to_string(), upstream.authority.clone()),
            (":path".to_string(), path.clone()),
        ];
        let view = HeaderList::new(pseudo, &entries);
        let edits = self.start(&view, !has_body);
        let mut forwarded = forwardable(entries);
        for (name, value) in &edits.set_headers {
            forwarded.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
            forwarded.push((name.to_string(), value.clone().into_bytes()));
        }
        forwarded.retain(|(k, _)| !edits.remove_headers.iter().any(|r| k.eq_ignore_ascii_case(r)));

        let outgoing = OutgoingRequest::new(fields(&forwarded));
        let _ = outgoing.set_method(&method);
        let _ = outgoing.set_scheme(Some(&upstream.scheme));
        let _ = outgoing.set_authority(Some(&upstream.authority));
        let _ = outgoing.set_path_with_query(Some(&path));
        let Ok(upstream_body) = outgoing.body() else {
            return self.fail(response_out, "the host gave no request body");
        };
        let future = match outgoing_handler::handle(outgoing, None) {
            Ok(future) => future,
            Err(code) => {
                drop(upstream_body);
                return self.fail(
                    response_out,
                    &format!("the host refused the upstream request ({code:?})"),
                );
            }
        };
        // The core holds only bodies with a `content-length` (within its cap): that length bounds what is held.
        let hold_limit = if edits.hold_body { declared_length } else { None };
        self.send_request_body(request, upstream_body, hold_limit);
        match wait_response(&future) {
            Ok(response) => {
                drop(future);
                self.relay_response(&method, response, response_out);
            }
            Err(code) => {
                drop(future);
                self.fail(response_out, &format!("upstream request failed ({code:?})"));
            }
        }
    }

    /// Starts the exchange when the tracer recognises an LLM call; the edits to apply to the forwarded request.
    fn start(&mut self, view: &HeaderList, end_of_stream: bool) -> RequestEdits {
        let Some(tracer) = self.tracer.as_deref_mut() else {
            return RequestEdits::default();
        };
        let started = tracer.start(view, host::now(), end_of_stream);
        host::write_logs(&tracer.take_effects().logs);
        match started {
            Some((exchange, edits)) => {
                self.exchange = Some(exchange);
                edits
            }
            None => RequestEdits::default(),
        }
    }

    /// Streams the client's body to the upstream chunk by chunk, or, when the core holds it (a body of a known,
    /// bounded length it may rewrite), reads it whole first and sends what the core returns. A client body that
    /// breaks off is not finished upstream, so the upstream sees the break instead of a shorter request.
    fn send_request_body(&mut self, request: IncomingRequest, upstream_body: OutgoingBody, hold_limit: Option<usize>) {
        let Ok(client_body) = request.consume() else {
            let _ = OutgoingBody::finish(upstream_body, None);
            return;
        };
        let mut complete = false;
        if let (Ok(client_stream), Ok(upstream_stream)) = (client_body.stream(), upstream_body.write()) {
            let mut held = Vec::new();
            let mut holding = hold_limit.is_some();
            let mut upstream_open = true;
            loop {
                let chunk = match streams::read(&client_stream, READ_BYTES, None) {
                    Ok(Read::Bytes(chunk)) => chunk,
                    Ok(Read::End) => {
                        complete = true;
                        break;
                    }
                    Ok(Read::Failed(_)) | Err(_) => break,
                };
                if holding {
                    held.extend_from_slice(&chunk);
                    if held.len() <= hold_limit.unwrap_or(0) {
                        continue;
                    }
                    // More than the announced length (a host that does not enforce it): stop holding, so memory
                    // stays bounded; the body goes as sent.
                    holding = false;
                    let so_far = std::mem::take(&mut held);
                    self.forward_request_chunk(&so_far, &upstream_stream, &mut upstream_open);
                    continue;
                }
                self.forward_request_chunk(&chunk, &upstream_stream, &mut upstream_open);
            }
            if holding && complete {
                let rewritten = self.exchange.as_mut().and_then(|x| x.held_request_body(&held));
                let _ = streams::write_all(&upstream_stream, rewritten.as_deref().unwrap_or(&held), None);
            } else if let Some(exchange) = &mut self.exchange {
                exchange.request_body(&[], true);
            }
            drop(upstream_stream);
            drop(client_stream);
        }
        if complete {
            let _ = OutgoingBody::finish(upstream_body, None);
        } else {
            drop(upstream_body);
        }
        drop(IncomingBody::finish(client_body));
    }

    /// Hands one request chunk to the core and sends it upstream, unless the upstream stopped reading (it answered
    /// early); the client's body is still read to its end, so the tracer sees the whole request.
    fn forward_request_chunk(
        &mut self,
        chunk: &[u8],
        upstream: &crate::wasi::io::streams::OutputStream,
        open: &mut bool,
    ) {
        if let Some(exchange) = &mut self.exchange {
            exchange.request_body(chunk, false);
        }
        *open = *open && streams::write_all(upstream, chunk, None).is_ok();
    }

    /// Sends the upstream's status and headers to the client, then its body chunk by chunk, then exports.
    fn relay_response(&mut self, method: &Method, response: IncomingResponse, response_out: ResponseOutparam) {
        let status = response.status();
        let entries = response.headers().entries();
        let end_of_stream = response_is_empty(method, status, &entries);
        let view = HeaderList::new(vec![(":status".to_string(), status.to_string())], &entries);
        let mut forwarded = forwardable(entries);
        if let Some(exchange) = &mut self.exchange {
            let edits = exchange.response_headers(&view, end_of_stream, host::now());
            if edits.remove_content_length {
                forwarded.retain(|(k, _)| !k.eq_ignore_ascii_case("content-length"));
            }
            // Added beside any of the same name the upstream sent (`server-timing` is a list).
            forwarded.extend(edits.add_headers.into_iter().map(|(k, v)| (k, v.into_bytes())));
        }
        let client_response = OutgoingResponse::new(fields(&forwarded));
        let _ = client_response.set_status_code(status);
        let (Ok(client_body), Ok(upstream_body)) = (client_response.body(), response.consume()) else {
            ResponseOutparam::set(response_out, Err(ErrorCode::InternalError(Some("no body".into()))));
            return self.finish(Some(UPSTREAM_RESET.to_string()));
        };
        ResponseOutparam::set(response_out, Ok(client_response));

        let mut cut = None;
        if let (Ok(upstream_stream), Ok(client_stream)) = (upstream_body.stream(), client_body.write()) {
            cut = self.relay_body(&upstream_stream, &client_stream, end_of_stream);
            drop(client_stream);
            drop(upstream_stream);
        }
        let trailers = IncomingBody::finish(upstream_body);
        if cut.is_some() {
            // A cut body is not finished: the client sees the response break, as it would without the proxy.
            drop(client_body);
        } else {
            let trailers = wait_trailers(&trailers);
            if let (Some(exchange), Some(_)) = (&mut self.exchange, &trailers) {
                exchange.response_trailers(host::now());
            }
            let _ = OutgoingBody::finish(client_body, trailers);
        }
        self.finish(cut);
    }

    /// Copies the upstream's body to the client chunk by chunk; `Some(reason)` when the exchange was cut.
    fn relay_body(
        &mut self,
        upstream: &crate::wasi::io::streams::InputStream,
        client: &crate::wasi::io::streams::OutputStream,
        ended_at_headers: bool,
    ) -> Option<String> {
        loop {
            let (chunk, end) = match streams::read(upstream, READ_BYTES, None) {
                Ok(Read::Bytes(chunk)) => (chunk, false),
                Ok(Read::End) => (Vec::new(), true),
                Ok(Read::Failed(detail)) => {
                    host::log(&format!(
                        "[warn] llm-trace: the upstream's response body broke off ({detail})."
                    ));
                    return Some(UPSTREAM_RESET.to_string());
                }
                Err(_) => return Some(UPSTREAM_RESET.to_string()),
            };
            let forward = match &mut self.exchange {
                Some(exchange) if !(end && ended_at_headers) => exchange.response_body(&chunk, end, host::now()),
                _ => None,
            };
            let bytes = forward.as_deref().unwrap_or(&chunk);
            if !bytes.is_empty() && streams::write_all(client, bytes, None).is_err() {
                return Some(CLIENT_GONE.to_string());
            }
            if end {
                return None;
            }
        }
    }

    /// The upstream could not be reached: the client gets a 502 and the span says why.
    fn fail(&mut self, response_out: ResponseOutparam, problem: &str) {
        host::log(&format!("[warn] llm-trace: {problem}."));
        respond_locally(response_out, 502, &format!("llm-trace: {problem}.\n"));
        self.finish(Some(problem.to_string()));
    }

    /// Closes the exchange (after the client has its last byte) and exports its span.
    fn finish(&mut self, cut_reason: Option<String>) {
        let (Some(tracer), Some(exchange)) = (self.tracer.as_deref_mut(), self.exchange.take()) else {
            return;
        };
        let cut_reason = cut_reason.filter(|_| !exchange.response_ended());
        tracer.finish(exchange, host::now(), StreamEnd::Logged { cut_reason });
        host::write_logs(&tracer.take_effects().logs);
        exporter::export_due(tracer);
    }
}

/// Answers the client from the proxy itself (the upstream could not be reached or is not configured).
fn respond_locally(response_out: ResponseOutparam, status: u16, text: &str) {
    let headers = fields(&[("content-type".to_string(), b"text/plain; charset=utf-8".to_vec())]);
    let response = OutgoingResponse::new(headers);
    let _ = response.set_status_code(status);
    let Ok(body) = response.body() else {
        ResponseOutparam::set(response_out, Err(ErrorCode::InternalError(Some(text.to_string()))));
        return;
    };
    ResponseOutparam::set(response_out, Ok(response));
    if let Ok(stream) = body.write() {
        let _ = streams::write_all(&stream, text.as_bytes(), None);
    }
    let _ = OutgoingBody::finish(body, None);
}

/// Waits for the upstream's response head.
fn wait_response(future: &FutureIncomingResponse) -> Result<IncomingResponse, ErrorCode> {
    future.subscribe().block();
    match future.get() {
        Some(Ok(result)) => result,
        Some(Err(())) | None => Err(ErrorCode::InternalError(Some("response already taken".into()))),
    }
}

/// Waits for the upstream's trailers, if it sent any.
fn wait_trailers(future: &crate::wasi::http::types::FutureTrailers) -> Option<Fields> {
    future.subscribe().block();
    match future.get() {
        Some(Ok(Ok(Some(trailers)))) => Some(trailers.clone()),
        _ => None,
    }
}

/// Headers that may be forwarded (hop-by-hop ones removed).
fn forwardable(entries: Vec<(String, Vec<u8>)>) -> Vec<(String, Vec<u8>)> {
    entries
        .into_iter()
        .filter(|(name, _)| !HOP_BY_HOP.iter().any(|h| name.eq_ignore_ascii_case(h)))
        .collect()
}

/// A `fields` resource; a header the host refuses is left out rather than failing the request.
fn fields(entries: &[(String, Vec<u8>)]) -> Fields {
    if let Ok(fields) = Fields::from_list(entries) {
        return fields;
    }
    let fields = Fields::new();
    for (name, value) in entries {
        let _ = fields.append(name, value);
    }
    fields
}

/// Whether a request has a body (HTTP/1.1: only with `content-length` above zero or `transfer-encoding`).
fn request_has_body(entries: &[(String, Vec<u8>)]) -> bool {
    let mut has_body = false;
    for (name, value) in entries {
        if name.eq_ignore_ascii_case("transfer-encoding") {
            has_body = true;
        } else if name.eq_ignore_ascii_case("content-length") {
            has_body |= value.iter().any(|b| b.is_ascii_digit() && *b != b'0');
        }
    }
    has_body
}

/// Whether a response has no body by its status, the method or a zero `content-length`.
fn response_is_empty(method: &Method, status: u16, entries: &[(String, Vec<u8>)]) -> bool {
    matches!(method, Method::Head)
        || matches!(status, 100..=199 | 204 | 304)
        || entries
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("content-length") && v.as_slice() == b"0")
}

fn method_name(method: &Method) -> String {
    match method {
        Method::Get => "GET",
        Method::Head => "HEAD",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Delete => "DELETE",
        Method::Connect => "CONNECT",
        Method::Options => "OPTIONS",
        Method::Trace => "TRACE",
        Method::Patch => "PATCH",
        Method::Other(other) => other.as_str(),
    }
    .to_string()
}
