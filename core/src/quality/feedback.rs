//! The feedback endpoint the filter answers itself (never forwarded): `POST {path}` with
//! `{"trace_id", "span_id"?, "name"?, "score"?, "label"?, "comment"?}`, validated here into a [`Feedback`] or a
//! [`LocalReply`] naming the bad field. What becomes of accepted feedback is [`super::evaluation`]'s.

use super::config::FeedbackConfig;
use crate::telemetry::trace_context::from_hex;
use serde_json::{json, Value};

/// Largest feedback body; larger ones get 413.
pub(crate) const MAX_BODY_BYTES: usize = 16 << 10;
/// A feedback body must arrive within this long after its headers, else 408 (no request waits forever).
pub(crate) const BODY_DEADLINE_NS: u64 = 5_000_000_000;
/// Evaluation name when the body gives none.
pub(crate) const DEFAULT_NAME: &str = "user_feedback";
const MAX_NAME_CHARS: usize = 64;
const MAX_LABEL_CHARS: usize = 64;

/// A reply the host sends itself instead of forwarding the request (proxy-wasm: `send_http_response`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalReply {
    /// HTTP status.
    pub status: u16,
    /// Headers besides the status.
    pub headers: Vec<(&'static str, String)>,
    /// The body (JSON).
    pub body: Vec<u8>,
}

impl LocalReply {
    fn json(status: u16, body: &Value) -> LocalReply {
        LocalReply {
            status,
            headers: vec![
                ("content-type", "application/json".to_string()),
                ("cache-control", "no-store".to_string()),
            ],
            body: body.to_string().into_bytes(),
        }
    }

    /// `202 {"accepted": true}`.
    pub(crate) fn accepted() -> LocalReply {
        LocalReply::json(202, &json!({"accepted": true}))
    }

    /// `{"error": "<field>: <problem>"}` with `status`.
    pub(crate) fn error(status: u16, field: &str, problem: &str) -> LocalReply {
        LocalReply::json(status, &json!({"error": format!("{field}: {problem}")}))
    }

    /// 413: the body is over [`MAX_BODY_BYTES`].
    pub(crate) fn too_large() -> LocalReply {
        LocalReply::error(413, "body", &format!("larger than {} bytes", MAX_BODY_BYTES))
    }
}

/// A feedback request whose body the host is collecting; give the body to [`crate::Tracer::local_body`].
#[derive(Debug, PartialEq, Eq)]
pub struct LocalRequest {
    pub(crate) id: u32,
}

/// What the host does with a request the filter answers itself: it forwards nothing upstream in either case.
#[derive(Debug, PartialEq, Eq)]
pub enum LocalStart {
    /// Send this reply now.
    Reply(LocalReply),
    /// Hold the request (stop on its headers), collect its body, then hand it over. The host reports the buffered
    /// size as it grows ([`crate::Tracer::local_body_progress`]), so a body over the cap is refused at once.
    CollectBody(LocalRequest),
}

/// Whether a request path is the feedback endpoint's (the query string does not count).
pub(crate) fn is_endpoint(config: &FeedbackConfig, path: &str) -> bool {
    config.enabled && path.split('?').next() == Some(config.path.as_str())
}

/// What the request headers decide: a reply now (wrong method, missing secret, too large, no body), or `None` to
/// collect the body.
pub(crate) fn on_headers(
    config: &FeedbackConfig,
    header: &mut dyn FnMut(&str) -> Option<String>,
    end_of_stream: bool,
) -> Option<LocalReply> {
    if header(":method").as_deref() != Some("POST") {
        let mut reply = LocalReply::error(405, "method", "only POST is allowed");
        reply.headers.push(("allow", "POST".to_string()));
        return Some(reply);
    }
    if let Some((name, expected)) = &config.require_header {
        let sent = header(name).unwrap_or_default();
        if !constant_time_eq(sent.as_bytes(), expected.as_bytes()) {
            return Some(LocalReply::error(403, name, "missing or wrong"));
        }
    }
    let length = header("content-length").and_then(|v| v.trim().parse::<u64>().ok());
    if length.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Some(LocalReply::too_large());
    }
    if end_of_stream || length == Some(0) {
        return Some(LocalReply::error(400, "body", "missing"));
    }
    None
}

/// Compares a secret without an early exit, so timing does not reveal how much of it matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for (i, expected) in b.iter().enumerate() {
        diff |= usize::from(a.get(i).copied().unwrap_or(0) ^ expected);
    }
    diff == 0
}

/// Feedback as the caller sent it, validated.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Feedback {
    pub(crate) trace_id: [u8; 16],
    pub(crate) span_id: Option<[u8; 8]>,
    pub(crate) name: String,
    pub(crate) score: Option<f64>,
    pub(crate) label: Option<String>,
    /// Not yet redacted.
    pub(crate) comment: Option<String>,
}

/// Parses a feedback body; a bad one gets the 400 naming the first bad field.
pub(crate) fn parse(body: &[u8]) -> Result<Feedback, LocalReply> {
    let bad = |field: &str, problem: &str| LocalReply::error(400, field, problem);
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
        return Err(bad("body", "must be a JSON object"));
    };
    for key in fields.keys() {
        if !["trace_id", "span_id", "name", "score", "label", "comment"].contains(&key.as_str()) {
            return Err(bad(key, "unknown field"));
        }
    }
    let trace_id = match fields.get("trace_id") {
        None | Some(Value::Null) => return Err(bad("trace_id", "required")),
        Some(v) => v
            .as_str()
            .and_then(from_hex::<16>)
            .ok_or_else(|| bad("trace_id", "must be 32 hex digits, not all zero"))?,
    };
    let span_id = match fields.get("span_id") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_str()
                .and_then(from_hex::<8>)
                .ok_or_else(|| bad("span_id", "must be 16 hex digits, not all zero"))?,
        ),
    };
    let name = match fields.get("name") {
        None | Some(Value::Null) => DEFAULT_NAME.to_string(),
        Some(v) => v
            .as_str()
            .filter(|n| is_evaluation_name(n))
            .map(str::to_string)
            .ok_or_else(|| {
                bad(
                    "name",
                    "must be 1 to 64 letters, digits, `_`, `-` or `.`, starting with a letter",
                )
            })?,
    };
    let score = match fields.get("score") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_f64()
                .filter(|s| (0.0..=1.0).contains(s))
                .ok_or_else(|| bad("score", "must be a number from 0 to 1"))?,
        ),
    };
    let label = match fields.get("label") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_str()
                .filter(|l| !l.trim().is_empty() && l.chars().count() <= MAX_LABEL_CHARS)
                .map(str::to_string)
                .ok_or_else(|| bad("label", "must be a string of 1 to 64 characters"))?,
        ),
    };
    let comment = match fields.get("comment") {
        None | Some(Value::Null) => None,
        Some(Value::String(c)) => Some(c.clone()),
        Some(_) => return Err(bad("comment", "must be a string")),
    };
    if score.is_none() && label.is_none() {
        return Err(bad("score", "`score` or `label` is required"));
    }
    Ok(Feedback {
        trace_id,
        span_id,
        name,
        score,
        label,
        comment,
    })
}

/// Evaluation names end up in stat names and dashboards: short, and made of characters both keep.
pub(crate) fn is_evaluation_name(name: &str) -> bool {
    name.len() <= MAX_NAME_CHARS
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &str = "0af7651916cd43dd8448eb211c80319c";

    fn config() -> FeedbackConfig {
        FeedbackConfig {
            enabled: true,
            path: "/llm-trace/v1/feedback".into(),
            require_header: Some(("x-feedback-key".into(), "s3cret".into())),
        }
    }

    fn headers<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl FnMut(&str) -> Option<String> + 'a {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    fn error_of(reply: &LocalReply) -> String {
        let body: Value = serde_json::from_slice(&reply.body).unwrap();
        body["error"].as_str().unwrap().to_string()
    }

    #[test]
    fn the_endpoint_is_its_exact_path_when_enabled() {
        let c = config();
        assert!(is_endpoint(&c, "/llm-trace/v1/feedback"));
        assert!(is_endpoint(&c, "/llm-trace/v1/feedback?x=1"));
        assert!(!is_endpoint(&c, "/llm-trace/v1/feedback/more"));
        assert!(!is_endpoint(
            &FeedbackConfig { enabled: false, ..c },
            "/llm-trace/v1/feedback"
        ));
    }

    #[test]
    fn headers_answer_wrong_method_missing_secret_oversize_and_empty_bodies_at_once() {
        let c = config();
        let get = on_headers(&c, &mut headers(&[(":method", "GET")]), true).unwrap();
        assert_eq!(
            (get.status, error_of(&get).as_str()),
            (405, "method: only POST is allowed")
        );
        assert!(get.headers.contains(&("allow", "POST".to_string())));
        let no_key = on_headers(&c, &mut headers(&[(":method", "POST")]), false).unwrap();
        assert_eq!(
            (no_key.status, error_of(&no_key).as_str()),
            (403, "x-feedback-key: missing or wrong")
        );
        let wrong = [(":method", "POST"), ("x-feedback-key", "s3cre")];
        assert_eq!(on_headers(&c, &mut headers(&wrong), false).unwrap().status, 403);
        let big = [
            (":method", "POST"),
            ("x-feedback-key", "s3cret"),
            ("content-length", "16385"),
        ];
        let reply = on_headers(&c, &mut headers(&big), false).unwrap();
        assert_eq!(
            (reply.status, error_of(&reply).as_str()),
            (413, "body: larger than 16384 bytes")
        );
        let ok = [
            (":method", "POST"),
            ("x-feedback-key", "s3cret"),
            ("content-length", "16384"),
        ];
        assert_eq!(on_headers(&c, &mut headers(&ok), false), None, "collect the body");
        assert_eq!(
            on_headers(&c, &mut headers(&ok), true).unwrap().status,
            400,
            "no body at all"
        );
    }

    #[test]
    fn a_valid_body_is_read_with_its_defaults() {
        let f = parse(format!(r#"{{"trace_id":"{TRACE}","score":1}}"#).as_bytes()).unwrap();
        assert_eq!(f.trace_id[0], 0x0a);
        assert_eq!(
            (f.span_id, f.name.as_str(), f.score, f.label),
            (None, "user_feedback", Some(1.0), None)
        );
        let f = parse(
            format!(
                r#"{{"trace_id":"{}","span_id":"B7AD6B7169203331","name":"helpfulness","label":"thumbs_down","comment":"wrong year"}}"#,
                TRACE.to_uppercase()
            )
            .as_bytes(),
        )
        .unwrap();
        assert_eq!(f.span_id, Some([0xb7, 0xad, 0x6b, 0x71, 0x69, 0x20, 0x33, 0x31]));
        assert_eq!(
            (f.name.as_str(), f.label.as_deref(), f.comment.as_deref()),
            ("helpfulness", Some("thumbs_down"), Some("wrong year"))
        );
    }

    #[test]
    fn every_bad_body_names_its_field() {
        let cases = [
            ("[1]", "body: must be a JSON object"),
            ("not json", "body: must be a JSON object"),
            (r#"{"score":1}"#, "trace_id: required"),
            (
                r#"{"trace_id":"abc","score":1}"#,
                "trace_id: must be 32 hex digits, not all zero",
            ),
            (
                r#"{"trace_id":"00000000000000000000000000000000","score":1}"#,
                "trace_id: must be 32 hex digits, not all zero",
            ),
            (
                r#"{"trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":7,"score":1}"#,
                "span_id: must be 16 hex digits, not all zero",
            ),
            (
                r#"{"trace_id":"0af7651916cd43dd8448eb211c80319c","score":1.5}"#,
                "score: must be a number from 0 to 1",
            ),
            (
                r#"{"trace_id":"0af7651916cd43dd8448eb211c80319c","score":"1"}"#,
                "score: must be a number from 0 to 1",
            ),
            (
                r#"{"trace_id":"0af7651916cd43dd8448eb211c80319c","label":""}"#,
                "label: must be a string of 1 to 64 characters",
            ),
            (
                r#"{"trace_id":"0af7651916cd43dd8448eb211c80319c","name":"has space","score":0}"#,
                "name: must be 1 to 64 letters, digits, `_`, `-` or `.`, starting with a letter",
            ),
            (
                r#"{"trace_id":"0af7651916cd43dd8448eb211c80319c","comment":{},"score":0}"#,
                "comment: must be a string",
            ),
            (
                r#"{"trace_id":"0af7651916cd43dd8448eb211c80319c","scroe":1}"#,
                "scroe: unknown field",
            ),
            (
                r#"{"trace_id":"0af7651916cd43dd8448eb211c80319c","comment":"only words"}"#,
                "score: `score` or `label` is required",
            ),
        ];
        for (body, expected) in cases {
            let reply = parse(body.as_bytes()).unwrap_err();
            assert_eq!((reply.status, error_of(&reply).as_str()), (400, expected), "{body}");
        }
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abcd", b"abc"));
        assert!(!constant_time_eq(b"ab", b"abc"));
        assert!(!constant_time_eq(b"", b"abc"));
    }
}
