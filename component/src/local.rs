//! Requests the component answers itself, never forwarded: the feedback endpoint (`quality.feedback`). The core
//! decides everything (method, secret, size, body, reply); this file reads the body within the core's cap and
//! deadline, sends the reply, and exports the evaluation it made.

use crate::exporter;
use crate::host::{self, HeaderList};
use crate::streams::{self, Read, Stopped};
use crate::wasi::clocks::monotonic_clock;
use crate::wasi::http::types::{ErrorCode, Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam};
use llm_trace_core::{LocalReply, LocalRequest, LocalStart, Tracer};

/// The core refuses feedback bodies over 16 KiB: reading one byte more tells it the body is too large.
const MAX_READ_BYTES: usize = (16 << 10) + 1;
/// How long the body may take; the core's own deadline is 5 s, so when this one passes the core has its 408.
const BODY_WAIT_NS: u64 = 5_100_000_000;
/// The host id of the one local request an instance handles at a time.
const LOCAL_ID: u32 = 1;

/// Answers `request` when it is for the feedback endpoint; otherwise hands it back to be forwarded.
pub(crate) fn answer(
    tracer: &mut Tracer,
    request: IncomingRequest,
    response_out: ResponseOutparam,
    view: &HeaderList,
    end_of_stream: bool,
) -> Option<(IncomingRequest, ResponseOutparam)> {
    let start = tracer.local_request(LOCAL_ID, view, host::now(), end_of_stream);
    host::write_logs(&tracer.take_effects().logs);
    let reply = match start {
        None => return Some((request, response_out)),
        Some(LocalStart::Reply(reply)) => Some(reply),
        Some(LocalStart::CollectBody(local)) => collect_body(tracer, &request, local),
    };
    match reply {
        Some(reply) => send(response_out, &reply),
        None => ResponseOutparam::set(
            response_out,
            Err(ErrorCode::InternalError(Some("feedback request ended early".into()))),
        ),
    }
    host::write_logs(&tracer.take_effects().logs);
    // Accepted feedback is an evaluation record waiting in the tracer's logs queue.
    exporter::export_due(tracer);
    None
}

/// Reads the feedback body (at most one byte over the core's cap, within its deadline) and returns the core's
/// reply; `None` when the client went away before the body ended.
fn collect_body(tracer: &mut Tracer, request: &IncomingRequest, local: LocalRequest) -> Option<LocalReply> {
    let deadline = monotonic_clock::subscribe_duration(BODY_WAIT_NS);
    let mut body = Vec::new();
    let ended = match request.consume() {
        Ok(incoming) => match incoming.stream() {
            Ok(stream) => loop {
                let want = (MAX_READ_BYTES - body.len()) as u64;
                match streams::read(&stream, want, Some(&deadline)) {
                    Ok(Read::Bytes(bytes)) => {
                        body.extend_from_slice(&bytes);
                        if let Some(reply) = tracer.local_body_progress(&local, body.len()) {
                            return Some(reply);
                        }
                        if body.len() >= MAX_READ_BYTES {
                            break Ok(());
                        }
                    }
                    Ok(Read::End) => break Ok(()),
                    Ok(Read::Failed(_)) => break Err(Stopped::Closed),
                    Err(stopped) => break Err(stopped),
                }
            },
            Err(()) => Err(Stopped::Closed),
        },
        Err(()) => Err(Stopped::Closed),
    };
    match ended {
        Ok(()) => tracer.local_body(local, &body, host::now()),
        Err(Stopped::TimedOut) => tracer
            .overdue_local_requests(host::now())
            .into_iter()
            .find_map(|(id, reply)| (id == LOCAL_ID).then_some(reply)),
        Err(Stopped::Closed) => {
            tracer.local_request_ended(&local);
            None
        }
    }
}

fn send(response_out: ResponseOutparam, reply: &LocalReply) {
    let entries: Vec<(String, Vec<u8>)> = reply
        .headers
        .iter()
        .map(|(name, value)| (name.to_string(), value.clone().into_bytes()))
        .collect();
    let headers = Fields::from_list(&entries).unwrap_or_else(|_| Fields::new());
    let response = OutgoingResponse::new(headers);
    let _ = response.set_status_code(reply.status);
    let Ok(body) = response.body() else {
        ResponseOutparam::set(response_out, Err(ErrorCode::InternalError(None)));
        return;
    };
    ResponseOutparam::set(response_out, Ok(response));
    if let Ok(stream) = body.write() {
        let _ = streams::write_all(&stream, &reply.body, None);
    }
    let _ = OutgoingBody::finish(body, None);
}
