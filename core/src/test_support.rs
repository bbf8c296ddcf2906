//! Fakes for the core's own tests: a request and a response as plain values, and a tracer around one call.

use crate::exchange::StreamEnd;
use crate::host_api::{Clock, RequestView, ResponseView};
use crate::telemetry::span::SpanRecord;
use crate::{Config, Exchange, Tracer};

/// A request's headers.
pub(crate) struct Head {
    pub(crate) method: &'static str,
    pub(crate) path: String,
    pub(crate) authority: Option<&'static str>,
    pub(crate) scheme: Option<&'static str>,
    pub(crate) headers: Vec<(&'static str, String)>,
}

/// `POST path` to `api.openai.com` over https.
pub(crate) fn head(path: &str) -> Head {
    Head {
        method: "POST",
        path: path.to_string(),
        authority: Some("api.openai.com"),
        scheme: Some("https"),
        headers: Vec::new(),
    }
}

impl RequestView for Head {
    fn header(&self, name: &str) -> Option<String> {
        match name {
            ":method" => Some(self.method.to_string()),
            ":path" => Some(self.path.clone()),
            ":authority" => self.authority.map(str::to_string),
            ":scheme" => self.scheme.map(str::to_string),
            other => self.headers.iter().find(|(k, _)| *k == other).map(|(_, v)| v.clone()),
        }
    }
}

/// A response's headers.
pub(crate) struct Response(Vec<(String, String)>);

impl Response {
    pub(crate) fn new(status: u16, content_type: Option<&str>, content_encoding: Option<&str>) -> Response {
        let mut headers = vec![(":status".to_string(), status.to_string())];
        if let Some(ct) = content_type {
            headers.push(("content-type".into(), ct.into()));
        }
        if let Some(ce) = content_encoding {
            headers.push(("content-encoding".into(), ce.into()));
        }
        Response(headers)
    }
}

impl ResponseView for Response {
    fn header(&self, name: &str) -> Option<String> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    fn headers(&self) -> Vec<(String, String)> {
        self.0.clone()
    }
}

/// A tracer for `config` and the exchange it starts for `head`, if it is an LLM call.
pub(crate) fn start(config: &Config, head: &Head, now: Clock) -> Option<(Tracer, Exchange)> {
    let mut tracer = Tracer::new(config.clone(), [3; 32], &|_| None);
    let (exchange, _) = tracer.start(head, now, false)?;
    Some((tracer, exchange))
}

/// Finishes the call as the log phase does (`cut_reason` is the host's, for a cut exchange) and returns its span.
pub(crate) fn finish(tracer: &mut Tracer, exchange: Exchange, now: Clock, cut_reason: Option<&str>) -> SpanRecord {
    let end = StreamEnd::Logged {
        cut_reason: cut_reason.map(str::to_string),
    };
    match tracer.close(exchange, now, end) {
        Some(built) => built.span,
        None => panic!("the span was sampled out"),
    }
}
