//! The tracer's quality calls, as the host drives them: the feedback endpoint (a request the host answers itself
//! with the [`LocalReply`] given here, never forwarding it), the LLM judge and Phoenix annotations (calls the host
//! makes off the request path, like exports, and settles back), and every evaluation's export: an OTLP log record
//! through the second export queue (GenAI), an `EVALUATOR` span through the span queue (OpenInference), a Phoenix
//! annotation, and a `llm.quality_score` sample.

use super::Tracer;
use crate::config::Config;
use crate::exchange::Exchange;
use crate::host_api::{Clock, LogLevel, RequestView};
use crate::model::content::CaptureMode;
use crate::model::observation::Observation;
use crate::policy::redaction::Redact;
use crate::quality::evaluation::{Annotator, Evaluation, Target};
use crate::quality::feedback::{self, LocalReply, LocalRequest, LocalStart, BODY_DEADLINE_NS, MAX_BODY_BYTES};
use crate::quality::judge::{self, Verdict};
use crate::quality::state::{JudgeJob, Purpose, QualityCall, MAX_EVALUATION_NAMES};
use crate::telemetry::content::export_text;
use crate::telemetry::metrics::{self, MetricUpdate, Stat, UNKNOWN_CALL_LABELS};
use crate::telemetry::otlp::encode_span;
use crate::telemetry::otlp_logs::encode_event;
use crate::telemetry::span::SpanOptions;
use std::sync::Arc;

/// Most of a judge's answer the host needs to read (the verdict is a short JSON object).
const MAX_JUDGE_ANSWER_BYTES: usize = 64 << 10;
/// Name of the judge's evaluations.
const JUDGE_EVALUATION: &str = "llm_judge";

/// How exported content is redacted and cut, from the configuration.
fn content_options(config: &Config) -> SpanOptions<'_> {
    SpanOptions {
        max_content_bytes: config.capture.max_content_bytes,
        redactor: config
            .redaction
            .is_enabled()
            .then_some(&config.redaction as &dyn Redact),
        ..Default::default()
    }
}

impl Tracer {
    /// Whether the request is for an endpoint the filter answers itself (the feedback endpoint): `None` lets it
    /// through to [`Tracer::start`]. Ask before starting; `id` names the request to the host (its context id).
    /// Reads no header unless the endpoint is enabled.
    pub fn local_request(
        &mut self,
        id: u32,
        request: &dyn RequestView,
        now: Clock,
        end_of_stream: bool,
    ) -> Option<LocalStart> {
        let config = Arc::clone(&self.config);
        let feedback = &config.quality.feedback;
        if !feedback.enabled || !feedback::is_endpoint(feedback, &request.header(":path")?) {
            return None;
        }
        if let Some(reply) = feedback::on_headers(feedback, &mut |name| request.header(name), end_of_stream) {
            return Some(LocalStart::Reply(self.rejected(reply)));
        }
        if !self
            .quality
            .open_local(id, now.mono_ns.saturating_add(BODY_DEADLINE_NS))
        {
            let busy = LocalReply::error(503, "feedback", "too many requests in progress, retry later");
            return Some(LocalStart::Reply(self.rejected(busy)));
        }
        Some(LocalStart::CollectBody(LocalRequest { id }))
    }

    /// The host buffered `bytes` of a feedback body so far: the 413 to send when that is over the cap.
    pub fn local_body_progress(&mut self, request: &LocalRequest, bytes: usize) -> Option<LocalReply> {
        if bytes <= MAX_BODY_BYTES || !self.quality.close_local(request.id) {
            return None;
        }
        Some(self.rejected(LocalReply::too_large()))
    }

    /// The whole feedback body (the host reads at most one byte over the cap): the reply to send, `None` when the
    /// request was answered already (past its deadline). Accepted feedback is exported as an evaluation.
    pub fn local_body(&mut self, request: LocalRequest, body: &[u8], now: Clock) -> Option<LocalReply> {
        if !self.quality.close_local(request.id) {
            return None;
        }
        if body.len() > MAX_BODY_BYTES {
            return Some(self.rejected(LocalReply::too_large()));
        }
        let feedback = match feedback::parse(body) {
            Ok(f) => f,
            Err(reply) => return Some(self.rejected(reply)),
        };
        let config = Arc::clone(&self.config);
        let mut redactions = Vec::new();
        let explanation = feedback
            .comment
            .and_then(|c| export_text(&c, CaptureMode::Full, &content_options(&config), &mut redactions));
        let recordings = metrics::redaction_recordings(
            &redactions,
            &Observation::default(),
            &mut self.redaction_names,
            &mut self.next_slot,
        );
        for recording in recordings {
            self.effects.metrics.push(MetricUpdate::Named(recording));
        }
        let labels = self
            .quality
            .recent
            .labels(&feedback.trace_id, feedback.span_id.as_ref())
            .map(str::to_string);
        let evaluation = Evaluation {
            name: feedback.name,
            score: feedback.score,
            label: feedback.label,
            explanation,
            annotator: Annotator::Human,
            target: Target {
                trace_id: feedback.trace_id,
                span_id: feedback.span_id,
                flags: 0,
            },
            response_id: None,
            judge: None,
            start_unix_ns: now.unix_ns,
            end_unix_ns: now.unix_ns,
        };
        self.export_evaluation(evaluation, labels.as_deref().unwrap_or(UNKNOWN_CALL_LABELS));
        self.count(Stat::FeedbackAccepted, 1);
        Some(LocalReply::accepted())
    }

    /// The host's stream of a feedback request ended (answered, or the client went away).
    pub fn local_request_ended(&mut self, request: &LocalRequest) {
        self.quality.close_local(request.id);
    }

    /// Feedback requests whose body did not arrive in time, with the 408 to send each (by host id). Call on the
    /// tick: a request the host stopped on its headers must never wait forever.
    pub fn overdue_local_requests(&mut self, now: Clock) -> Vec<(u32, LocalReply)> {
        let overdue = self.quality.overdue_local(now.mono_ns);
        if !overdue.is_empty() && !self.quality.warned_body_timeout {
            self.quality.warned_body_timeout = true;
            self.log(
                LogLevel::Warn,
                "llm-trace: a feedback request's body did not arrive within 5 s and got 408. Envoy hands a request \
                 body to a filter that stopped on the headers only with `allow_on_headers_stop_iteration: true` in \
                 the Wasm filter's `config` (docs/configuration.md, `quality.feedback`)."
                    .to_string(),
            );
        }
        overdue
            .into_iter()
            .map(|id| {
                let reply = LocalReply::error(408, "body", "did not arrive within 5 s");
                (id, self.rejected(reply))
            })
            .collect()
    }

    /// The next judge call or Phoenix annotation to make now, off the request path. Call until `None` (after the
    /// export loop); hand each back with [`Tracer::quality_dispatched`] or [`Tracer::quality_dispatch_refused`].
    pub fn next_quality_call(&mut self, now: Clock) -> Option<QualityCall> {
        for purpose in self.quality.abandoned(now.mono_ns) {
            self.call_failed(&purpose, "no answer from the host");
        }
        self.quality.next_call()
    }

    /// The host sent a quality call; its answer comes back with `token` (see [`Tracer::quality_answered`]).
    pub fn quality_dispatched(&mut self, call: QualityCall, token: u32, now: Clock) {
        if matches!(call.purpose, Purpose::Judge(_)) {
            self.count(Stat::JudgeCalls, 1);
        }
        self.quality.dispatched(call, token, now.unix_ns, now.mono_ns);
    }

    /// The host refused to send a quality call (`detail` says why): counted as failed.
    pub fn quality_dispatch_refused(&mut self, call: QualityCall, detail: &str) {
        if matches!(call.purpose, Purpose::Judge(_)) {
            self.count(Stat::JudgeCalls, 1);
        }
        self.call_failed(&call.purpose, &format!("the host refused the call ({detail})"));
    }

    /// Whether the answer to call `token` is a quality call's, and how many body bytes of it to read (`Some(0)`:
    /// the status is enough). `None`: an export call's, for [`Tracer::settled`].
    pub fn quality_answer_limit(&self, token: u32) -> Option<usize> {
        self.quality.awaits(token).map(|purpose| match purpose {
            Purpose::Judge(_) => MAX_JUDGE_ANSWER_BYTES,
            Purpose::Phoenix => 0,
        })
    }

    /// The answer to quality call `token` (`status` `None`: none came). Then run the export loop: a judge's
    /// verdict is exported like feedback.
    pub fn quality_answered(&mut self, token: u32, status: Option<u16>, body: &[u8], now: Clock) {
        let Some(settled) = self.quality.answered(token) else {
            return;
        };
        let job = match settled.purpose {
            Purpose::Phoenix if matches!(status, Some(200..=299)) => {
                self.quality.phoenix_failing = false;
                self.count(Stat::PhoenixAnnotationsPosted, 1);
                return;
            }
            Purpose::Phoenix => {
                let detail = status.map_or("no answer".to_string(), |s| format!("Phoenix answered {s}"));
                self.call_failed(&Purpose::Phoenix, &detail);
                return;
            }
            Purpose::Judge(job) => job,
        };
        let config = Arc::clone(&self.config);
        let Some(judge) = &config.quality.judge else {
            return;
        };
        let verdict = judge::read_answer(judge, &config.pricing, status, body, &content_options(&config));
        let usage = match verdict {
            Verdict::Failed { detail } => {
                self.call_failed(&Purpose::Judge(job), &detail);
                return;
            }
            Verdict::Unparsable { usage } => {
                self.count_judge_usage(&usage);
                self.count(Stat::JudgeUnparsable, 1);
                if !self.quality.warned_unparsable {
                    self.quality.warned_unparsable = true;
                    let message = "llm-trace: the judge answered without the `{\"score\", \"label\", \"reason\"}` \
                                   object its rubric asks for; counted in `llm_trace.judge.unparsable`, never scored.";
                    self.log(LogLevel::Warn, message.to_string());
                }
                return;
            }
            Verdict::Scored {
                score,
                label,
                reason,
                usage,
            } => Evaluation {
                name: JUDGE_EVALUATION.to_string(),
                score: Some(score),
                label: Some(label),
                explanation: reason,
                annotator: Annotator::Llm,
                target: job.target,
                response_id: job.response_id.clone(),
                judge: Some(usage),
                start_unix_ns: settled.dispatched_unix_ns,
                end_unix_ns: now.unix_ns.max(settled.dispatched_unix_ns),
            },
        };
        if let Some(judge_usage) = &usage.judge {
            self.count_judge_usage(judge_usage);
        }
        self.count(Stat::JudgeScored, 1);
        if self.quality.judge_failing {
            self.quality.judge_failing = false;
            self.log(LogLevel::Info, "llm-trace: the judge answers again.".to_string());
        }
        self.export_evaluation(usage, &job.labels);
    }

    /// After a call is closed (`kept`: its span is exported): remembered for feedback, and queued for the judge
    /// when it is picked, its content can leave the proxy and the budget allows.
    pub(super) fn after_call(&mut self, exchange: &Exchange, kept: bool, labels: &str, now: crate::host_api::Clock) {
        let config = Arc::clone(&self.config);
        let quality = &config.quality;
        if quality.feedback.enabled {
            self.quality
                .recent
                .remember(exchange.trace.trace_id, exchange.span_id, labels);
        }
        let Some(judge) = &quality.judge else {
            return;
        };
        let obs = &exchange.obs;
        if !judge::selects(judge, obs, &exchange.trace.trace_id, kept) {
            return;
        }
        let Some(prompt) = judge::prompt(judge, obs, &content_options(&config)) else {
            return;
        };
        if !self.quality.budget_allows(now.mono_ns) {
            self.count(Stat::JudgeSkippedBudget, 1);
            return;
        }
        let (headers, body) = judge::request(judge, &prompt);
        let call = QualityCall {
            cluster: judge.cluster.clone(),
            headers,
            body,
            timeout_ms: judge.timeout_ms,
            purpose: Purpose::Judge(JudgeJob {
                target: Target {
                    trace_id: exchange.trace.trace_id,
                    span_id: Some(exchange.span_id),
                    flags: exchange.trace.flags,
                },
                response_id: obs.response.id.clone(),
                labels: labels.to_string(),
            }),
        };
        if !self.quality.queue(call) {
            self.count(Stat::JudgeSkippedBudget, 1);
            return;
        }
        self.wake_exporter();
    }

    /// Exports one evaluation in every configured form, and samples `llm.quality_score` under `call_labels`.
    fn export_evaluation(&mut self, evaluation: Evaluation, call_labels: &str) {
        let config = Arc::clone(&self.config);
        if config.gen_ai {
            self.count(Stat::LogRecordsCreated, 1);
            if !self.log_queue.push(encode_event(&evaluation.event())) {
                self.log(
                    LogLevel::Warn,
                    "llm-trace: log export queue full; an evaluation was dropped (`llm_trace.log_records_dropped_queue_full`)."
                        .to_string(),
                );
            }
        }
        if config.openinference {
            let carrier = evaluation.carrier_span(self.ids.span_id());
            self.count(Stat::SpansCreated, 1);
            self.queue.push(encode_span(&carrier));
        }
        if let Some(phoenix) = &config.quality.phoenix {
            let (path, body) = evaluation.phoenix_annotation();
            let mut headers = vec![
                (":method".to_string(), "POST".to_string()),
                (":path".to_string(), path.to_string()),
                (":authority".to_string(), phoenix.authority.clone()),
                ("content-type".to_string(), "application/json".to_string()),
            ];
            headers.extend(phoenix.headers.iter().cloned());
            let call = QualityCall {
                cluster: phoenix.cluster.clone(),
                headers,
                body,
                timeout_ms: phoenix.timeout_ms,
                purpose: Purpose::Phoenix,
            };
            if self.quality.queue(call) {
                self.wake_exporter();
            } else {
                self.call_failed(&Purpose::Phoenix, "too many annotations waiting");
            }
        }
        if let Some(percent) = evaluation.score_percent() {
            let (name, overflowed) = self.quality.name_label(&evaluation.name);
            if overflowed {
                self.count(Stat::StatsOverflow, 1);
                if !self.stats_overflow_logged {
                    self.stats_overflow_logged = true;
                    self.log(
                        LogLevel::Warn,
                        format!(
                            "llm-trace: more than {MAX_EVALUATION_NAMES} evaluation names on this worker; new ones \
                             are counted under `evaluation=\"other\"` (see `llm_trace.stats_overflow`)."
                        ),
                    );
                }
            }
            let recording = metrics::quality_score(call_labels, &name, percent);
            self.effects.metrics.push(MetricUpdate::Named(recording));
        }
        self.sync_stats();
        if self.queue.batch_ready() || self.log_queue.batch_ready() {
            self.wake_exporter();
        }
    }

    /// Counts a judge call or Phoenix annotation that failed, and logs when failures start.
    fn call_failed(&mut self, purpose: &Purpose, detail: &str) {
        let config = Arc::clone(&self.config);
        let (stat, failing, what, cluster) = match purpose {
            Purpose::Judge(_) => (
                Stat::JudgeFailed,
                &mut self.quality.judge_failing,
                "judge call",
                config.quality.judge.as_ref().map(|j| j.cluster.as_str()),
            ),
            Purpose::Phoenix => (
                Stat::PhoenixAnnotationsFailed,
                &mut self.quality.phoenix_failing,
                "Phoenix annotation",
                config.quality.phoenix.as_ref().map(|p| p.cluster.as_str()),
            ),
        };
        let first = !std::mem::replace(failing, true);
        self.count(stat, 1);
        if first {
            let cluster = cluster.unwrap_or("-");
            let message = format!(
                "llm-trace: {what} to cluster `{cluster}` failed: {detail}; counted in `{}`.",
                stat.name()
            );
            self.log(LogLevel::Warn, message);
        }
    }

    fn count_judge_usage(&mut self, usage: &crate::quality::evaluation::JudgeUsage) {
        self.count(Stat::JudgeTokensInput, usage.input_tokens.unwrap_or(0));
        self.count(Stat::JudgeTokensOutput, usage.output_tokens.unwrap_or(0));
        self.count(Stat::JudgeCostMicroUsd, usage.cost.total_micros().unwrap_or(0));
    }

    /// Counts a refused feedback request and hands its reply back.
    fn rejected(&mut self, reply: LocalReply) -> LocalReply {
        self.count(Stat::FeedbackRejected, 1);
        reply
    }

    /// Asks the host to run the export loop soon (it also makes the quality calls).
    fn wake_exporter(&mut self) {
        if !self.wake_pending {
            self.wake_pending = true;
            self.effects.wake_exporter = true;
        }
    }

    /// Reports the log queue's running totals as metric deltas, and its size, once it has been used.
    pub(super) fn sync_log_stats(&mut self) {
        let now = self.log_queue.stats;
        if now.spans_offered == 0 {
            return;
        }
        let was = std::mem::replace(&mut self.synced_logs, now);
        self.count(Stat::LogRecordsExported, now.spans_exported - was.spans_exported);
        self.count(Stat::LogRecordsRejected, now.spans_rejected - was.spans_rejected);
        self.count(
            Stat::LogRecordsDroppedQueueFull,
            now.spans_dropped_queue_full - was.spans_dropped_queue_full,
        );
        self.count(
            Stat::LogRecordsDroppedExportFailed,
            now.spans_dropped_export_failed - was.spans_dropped_export_failed,
        );
        self.count(Stat::ExportRequests, now.export_requests - was.export_requests);
        self.count(Stat::ExportFailures, now.export_failures - was.export_failures);
        self.count(Stat::ExportRetries, now.export_retries - was.export_retries);
        let bytes = self.log_queue.queued_bytes() as u64;
        self.move_gauge(Stat::LogQueueBytes, bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::StreamEnd;
    use crate::telemetry::export::{CollectorAnswer, ExportBody, ExportRequest};
    use crate::telemetry::metrics::Recording;
    use crate::telemetry::trace_context::to_hex;
    use crate::test_support::{head, Response};
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
    use opentelemetry_proto::tonic::logs::v1::LogRecord;
    use prost::Message;
    use serde_json::{json, Value};

    fn at(ms: u64) -> Clock {
        Clock {
            unix_ns: 1_700_000_000_000_000_000 + ms * 1_000_000,
            mono_ns: 5_000_000_000 + ms * 1_000_000,
        }
    }

    fn tracer(quality: &str, extra: &str) -> Tracer {
        let json =
            format!(r#"{{"exporter":{{"cluster":"otel"}},"capture":{{"content":"full"}},"quality":{quality}{extra}}}"#);
        Tracer::new(Config::from_json(json.as_bytes()).unwrap(), [1; 32], &|_| None)
    }

    const FEEDBACK: &str = r#"{"feedback":{"enabled":true}}"#;
    const JUDGE: &str = r#"{"judge":{"cluster":"judge","model":"gpt-4o-mini","budget":{"calls_per_minute":2}}}"#;

    /// One complete chat call; returns its trace and span ids (from the `server-timing` the caller got).
    fn call(tracer: &mut Tracer, question: &str) -> (String, String) {
        let (mut x, _) = tracer.start(&head("/v1/chat/completions"), at(0), false).unwrap();
        let request = json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": question}]});
        x.request_body(request.to_string().as_bytes(), true);
        let edits = x.response_headers(&Response::new(200, Some("application/json"), None), false, at(10));
        let body = r#"{"id":"chatcmpl-1","model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"content":"Frank Herbert wrote it."},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":4}}"#;
        x.response_body(body.as_bytes(), true, at(20));
        tracer.finish(x, at(30), StreamEnd::Logged { cut_reason: None });
        let (_, timing) = &edits.add_headers[0];
        let parts: Vec<&str> = timing.trim_start_matches("trace;desc=").split('-').collect();
        (parts[1].to_string(), parts[2].to_string())
    }

    /// A feedback request's headers, with whatever the test puts in.
    struct Feedback(Vec<(&'static str, String)>);

    impl RequestView for Feedback {
        fn header(&self, name: &str) -> Option<String> {
            self.0.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone())
        }
    }

    fn post() -> Feedback {
        Feedback(vec![
            (":method", "POST".into()),
            (":path", "/llm-trace/v1/feedback".into()),
        ])
    }

    fn send_feedback(tracer: &mut Tracer, body: &str) -> LocalReply {
        let Some(LocalStart::CollectBody(request)) = tracer.local_request(7, &post(), at(40), false) else {
            panic!("the endpoint collects the body");
        };
        assert_eq!(tracer.local_body_progress(&request, body.len()), None);
        tracer.local_body(request, body.as_bytes(), at(41)).unwrap()
    }

    /// Every export call due at the tick, answered 200; their bodies.
    fn export_all(tracer: &mut Tracer, ms: u64) -> Vec<ExportRequest> {
        let mut out = Vec::new();
        let mut token = 100;
        while let Some(request) = tracer.next_export(at(ms), true) {
            token += 1;
            tracer.dispatched(
                ExportRequest {
                    cluster: request.cluster.clone(),
                    url: request.url.clone(),
                    timeout_ms: request.timeout_ms,
                    body: request.body.clone(),
                    batch: request.batch.clone(),
                    signal: request.signal,
                },
                token,
            );
            let answer = CollectorAnswer::Http {
                status: Some(200),
                retry_after: None,
                body: &[],
            };
            tracer.settled(token, answer, at(ms));
            out.push(request);
        }
        out
    }

    fn http(request: &ExportRequest) -> (String, &[u8]) {
        let ExportBody::Http { headers, body } = &request.body else {
            panic!("HTTP export expected");
        };
        let path = headers
            .iter()
            .find(|(k, _)| k == ":path")
            .map(|(_, v)| v.clone())
            .unwrap();
        (path, body)
    }

    fn log_records(requests: &[ExportRequest]) -> Vec<LogRecord> {
        requests
            .iter()
            .map(http)
            .filter(|(path, _)| path == "/v1/logs")
            .flat_map(|(_, body)| {
                ExportLogsServiceRequest::decode(body).unwrap().resource_logs[0].scope_logs[0]
                    .log_records
                    .clone()
            })
            .collect()
    }

    fn attribute(record: &LogRecord, key: &str) -> Option<Any> {
        record
            .attributes
            .iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.clone()?.value)
    }

    fn stat(effects: &crate::Effects, wanted: Stat) -> u64 {
        effects
            .metrics
            .iter()
            .map(|m| match m {
                MetricUpdate::Stat { stat, value } if *stat == wanted => *value,
                _ => 0,
            })
            .sum()
    }

    fn named(effects: &crate::Effects, prefix: &str) -> Vec<Recording> {
        crate::tracer::named(effects)
            .into_iter()
            .filter(|r| r.name.starts_with(prefix))
            .cloned()
            .collect()
    }

    #[test]
    fn off_by_default_the_endpoint_reads_no_header() {
        struct Untouchable;
        impl RequestView for Untouchable {
            fn header(&self, name: &str) -> Option<String> {
                panic!("read {name}");
            }
        }
        let mut t = Tracer::new(
            Config::from_json(br#"{"exporter":{"cluster":"otel"}}"#).unwrap(),
            [1; 32],
            &|_| None,
        );
        assert_eq!(t.local_request(1, &Untouchable, at(0), false), None);
        let mut t = tracer(FEEDBACK, "");
        let mut other = post();
        other.0[1].1 = "/v1/chat/completions".into();
        assert_eq!(t.local_request(1, &other, at(0), false), None, "not the endpoint");
    }

    #[test]
    fn feedback_becomes_an_evaluation_event_on_the_callers_span_with_a_score_sample() {
        let mut t = tracer(FEEDBACK, "");
        let (trace_id, span_id) = call(&mut t, "Who wrote Dune?");
        t.take_effects();
        let body = json!({"trace_id": trace_id, "span_id": span_id, "score": 0.25, "label": "thumbs_down",
            "comment": "Wrong, ask jane@example.com"});
        let reply = send_feedback(&mut t, &body.to_string());
        assert_eq!(
            (reply.status, reply.body.as_slice()),
            (202, &br#"{"accepted":true}"#[..])
        );
        let effects = t.take_effects();
        assert_eq!(stat(&effects, Stat::FeedbackAccepted), 1);
        assert_eq!(stat(&effects, Stat::LogRecordsCreated), 1);
        let score = named(&effects, "llm.quality_score");
        assert_eq!(
            (&*score[0].name, score[0].kind, score[0].value),
            (
                "llm.quality_score.provider.openai.model.gpt-4o-mini-2024-07-18.op.chat.evaluation.user_feedback",
                crate::MetricKind::Histogram,
                25
            )
        );
        assert_eq!(named(&effects, "llm_trace.redactions.email")[0].value, 1);
        let requests = export_all(&mut t, 1_000);
        let records = log_records(&requests);
        assert_eq!(records.len(), 1);
        let r = &records[0];
        assert_eq!((to_hex(&r.trace_id), to_hex(&r.span_id)), (trace_id, span_id));
        assert_eq!(r.event_name, "gen_ai.evaluation.result");
        assert_eq!(
            attribute(r, "gen_ai.evaluation.name"),
            Some(Any::StringValue("user_feedback".into()))
        );
        assert_eq!(
            attribute(r, "gen_ai.evaluation.score.value"),
            Some(Any::DoubleValue(0.25))
        );
        assert_eq!(
            attribute(r, "gen_ai.evaluation.score.label"),
            Some(Any::StringValue("thumbs_down".into()))
        );
        assert_eq!(
            attribute(r, "gen_ai.evaluation.explanation"),
            Some(Any::StringValue("Wrong, ask [EMAIL]".into()))
        );
        assert_eq!(
            attribute(r, "llm.evaluation.annotator_kind"),
            Some(Any::StringValue("HUMAN".into()))
        );
        let effects = t.take_effects();
        assert_eq!(stat(&effects, Stat::LogRecordsExported), 1, "accounted like spans");
        assert_eq!(stat(&effects, Stat::SpansExported), 1, "the call's own span");
    }

    #[test]
    fn bad_feedback_gets_400_naming_the_field_and_nothing_is_exported() {
        let mut t = tracer(FEEDBACK, "");
        let reply = send_feedback(&mut t, r#"{"trace_id":"xyz","score":1}"#);
        let body: Value = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(
            (reply.status, body),
            (400, json!({"error": "trace_id: must be 32 hex digits, not all zero"}))
        );
        let get = Feedback(vec![
            (":method", "GET".into()),
            (":path", "/llm-trace/v1/feedback".into()),
        ]);
        let Some(LocalStart::Reply(reply)) = t.local_request(8, &get, at(0), true) else {
            panic!("answered at once");
        };
        assert_eq!(reply.status, 405);
        assert_eq!(stat(&t.take_effects(), Stat::FeedbackRejected), 2);
        assert!(export_all(&mut t, 1_000).is_empty(), "nothing exported");
    }

    #[test]
    fn a_body_over_the_cap_or_too_late_is_refused_and_never_waits_forever() {
        let mut t = tracer(FEEDBACK, "");
        let Some(LocalStart::CollectBody(big)) = t.local_request(1, &post(), at(0), false) else {
            panic!("collects");
        };
        assert_eq!(t.local_body_progress(&big, 8 << 10), None);
        assert_eq!(t.local_body_progress(&big, (16 << 10) + 1).map(|r| r.status), Some(413));
        let Some(LocalStart::CollectBody(slow)) = t.local_request(2, &post(), at(0), false) else {
            panic!("collects");
        };
        assert!(t.overdue_local_requests(at(4_999)).is_empty());
        let overdue = t.overdue_local_requests(at(5_000));
        assert_eq!((overdue.len(), overdue[0].0, overdue[0].1.status), (1, 2, 408));
        let effects = t.take_effects();
        assert!(effects
            .logs
            .iter()
            .any(|l| l.message.contains("allow_on_headers_stop_iteration")));
        assert_eq!(t.local_body(slow, br#"{}"#, at(6_000)), None, "answered already");
        let body = format!(r#"{{"trace_id":"{}","score":1}}"#, "1".repeat(32));
        let Some(LocalStart::CollectBody(request)) = t.local_request(3, &post(), at(0), false) else {
            panic!("collects");
        };
        let mut padded = body.clone().into_bytes();
        padded.resize((16 << 10) + 1, b' ');
        assert_eq!(t.local_body(request, &padded, at(1)).map(|r| r.status), Some(413));
    }

    /// The judge's structured answer, as the OpenAI chat API carries it.
    fn verdict(content: &str) -> Vec<u8> {
        json!({"id": "chatcmpl-j", "model": "gpt-4o-mini-2024-07-18", "choices": [{"index": 0,
            "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 20}})
        .to_string()
        .into_bytes()
    }

    #[test]
    fn the_judge_scores_a_finished_call_off_the_request_path_and_its_verdict_is_exported() {
        let mut t = tracer(JUDGE, "");
        let (trace_id, span_id) = call(&mut t, "Who wrote Dune? I am jane@example.com");
        let effects = t.take_effects();
        assert!(effects.wake_exporter, "the root context is woken to make the call");
        t.exporter_woken();
        let judge = t.next_quality_call(at(31)).unwrap();
        assert!(t.next_quality_call(at(31)).is_none());
        assert_eq!(judge.cluster, "judge");
        let sent: Value = serde_json::from_slice(&judge.body).unwrap();
        let prompt = sent["messages"][0]["content"].as_str().unwrap();
        assert!(prompt.contains("user: Who wrote Dune? I am [EMAIL]") && prompt.contains("Frank Herbert wrote it."));
        assert!(!prompt.contains("jane@"), "the judge sees redacted content only");
        t.quality_dispatched(judge, 9, at(31));
        assert_eq!(t.quality_answer_limit(9), Some(64 << 10));
        assert_eq!(t.quality_answer_limit(10), None, "not ours: an export call's");
        let answer = verdict(r#"{"score": 0.9, "label": "pass", "reason": "Correct author."}"#);
        t.quality_answered(9, Some(200), &answer, at(531));
        let effects = t.take_effects();
        for (s, n) in [
            (Stat::JudgeCalls, 1),
            (Stat::JudgeScored, 1),
            (Stat::JudgeTokensInput, 100),
            (Stat::JudgeTokensOutput, 20),
            (Stat::JudgeCostMicroUsd, 27),
        ] {
            assert_eq!(stat(&effects, s), n, "{}", s.name());
        }
        assert_eq!(
            &*named(&effects, "llm.quality_score")[0].name,
            "llm.quality_score.provider.openai.model.gpt-4o-mini-2024-07-18.op.chat.evaluation.llm_judge"
        );
        let records = log_records(&export_all(&mut t, 1_000));
        let r = &records[0];
        assert_eq!(
            (to_hex(&r.trace_id), to_hex(&r.span_id), r.flags),
            (trace_id, span_id, 1)
        );
        assert_eq!(
            attribute(r, "gen_ai.evaluation.name"),
            Some(Any::StringValue("llm_judge".into()))
        );
        assert_eq!(
            attribute(r, "gen_ai.evaluation.score.value"),
            Some(Any::DoubleValue(0.9))
        );
        assert_eq!(
            attribute(r, "gen_ai.evaluation.explanation"),
            Some(Any::StringValue("Correct author.".into()))
        );
        assert_eq!(
            attribute(r, "gen_ai.response.id"),
            Some(Any::StringValue("chatcmpl-1".into()))
        );
        assert_eq!(attribute(r, "llm.judge.usage.input_tokens"), Some(Any::IntValue(100)));
        assert_eq!(attribute(r, "llm.judge.usage.cost"), Some(Any::DoubleValue(0.000027)));
        assert_eq!(r.time_unix_nano - r.observed_time_unix_nano, 0);
    }

    #[test]
    fn judge_failures_unparsable_answers_and_the_budget_are_counted_never_scored() {
        let mut t = tracer(JUDGE, "");
        for _ in 0..3 {
            call(&mut t, "Who wrote Dune?");
        }
        let effects = t.take_effects();
        assert_eq!(stat(&effects, Stat::JudgeSkippedBudget), 1, "two calls a minute");
        let first = t.next_quality_call(at(31)).unwrap();
        let second = t.next_quality_call(at(31)).unwrap();
        t.quality_dispatched(first, 1, at(31));
        t.quality_dispatch_refused(second, "no healthy upstream");
        t.quality_answered(1, Some(200), &verdict("It is fine, I think."), at(40));
        let effects = t.take_effects();
        assert_eq!(
            (
                stat(&effects, Stat::JudgeCalls),
                stat(&effects, Stat::JudgeFailed),
                stat(&effects, Stat::JudgeUnparsable),
                stat(&effects, Stat::JudgeScored),
                stat(&effects, Stat::JudgeTokensInput)
            ),
            (2, 1, 1, 0, 100)
        );
        assert!(named(&effects, "llm.quality_score").is_empty());
        assert!(effects.logs.iter().any(|l| l.message.contains("no healthy upstream")));
        // A minute later the budget has refilled; a timeout counts as failed.
        let (mut x, _) = t.start(&head("/v1/chat/completions"), at(60_000), false).unwrap();
        x.request_body(br#"{"model":"m","messages":[{"role":"user","content":"q"}]}"#, true);
        x.response_headers(&Response::new(200, Some("application/json"), None), false, at(60_010));
        let answered = br#"{"model":"m","choices":[{"index":0,"message":{"content":"a"},"finish_reason":"stop"}]}"#;
        x.response_body(answered, true, at(60_020));
        t.finish(x, at(60_030), StreamEnd::Logged { cut_reason: None });
        let call = t.next_quality_call(at(60_031)).unwrap();
        t.quality_dispatched(call, 2, at(60_031));
        t.quality_answered(2, None, b"", at(70_031));
        let effects = t.take_effects();
        assert_eq!(
            (
                stat(&effects, Stat::JudgeFailed),
                stat(&effects, Stat::JudgeSkippedBudget)
            ),
            (1, 0)
        );
        assert!(log_records(&export_all(&mut t, 80_000)).is_empty(), "nothing to export");
    }

    #[test]
    fn unanswered_judge_calls_are_given_up_on() {
        let mut t = tracer(JUDGE, "");
        call(&mut t, "q");
        let c = t.next_quality_call(at(31)).unwrap();
        t.quality_dispatched(c, 3, at(31));
        t.take_effects();
        assert!(t.next_quality_call(at(31 + 10_000 + 5_000)).is_none());
        assert_eq!(stat(&t.take_effects(), Stat::JudgeFailed), 1);
        t.quality_answered(3, Some(200), &verdict(r#"{"score":1,"label":"pass"}"#), at(20_000));
        assert_eq!(stat(&t.take_effects(), Stat::JudgeScored), 0, "settled once");
    }

    #[test]
    fn openinference_gets_an_evaluator_span_linked_to_the_call_and_phoenix_an_annotation() {
        let quality =
            r#"{"feedback":{"enabled":true},"phoenix":{"cluster":"phoenix","headers":{"Authorization":"Bearer k"}}}"#;
        let mut t = tracer(quality, r#","dialects":["openinference"]"#);
        let (trace_id, span_id) = call(&mut t, "q");
        let body = json!({"trace_id": trace_id, "span_id": span_id, "label": "thumbs_up"});
        assert_eq!(send_feedback(&mut t, &body.to_string()).status, 202);
        let phoenix = t.next_quality_call(at(42)).unwrap();
        assert_eq!(phoenix.cluster, "phoenix");
        assert!(phoenix
            .headers
            .contains(&(":path".to_string(), "/v1/span_annotations".to_string())));
        assert!(phoenix
            .headers
            .contains(&("authorization".to_string(), "Bearer k".to_string())));
        let sent: Value = serde_json::from_slice(&phoenix.body).unwrap();
        assert_eq!(sent["data"][0]["span_id"], json!(span_id));
        assert_eq!(sent["data"][0]["annotator_kind"], "HUMAN");
        t.quality_dispatched(phoenix, 5, at(42));
        assert_eq!(t.quality_answer_limit(5), Some(0));
        t.quality_answered(5, Some(200), b"", at(43));
        assert_eq!(stat(&t.take_effects(), Stat::PhoenixAnnotationsPosted), 1);
        let requests = export_all(&mut t, 1_000);
        assert!(log_records(&requests).is_empty(), "no GenAI dialect, no log record");
        let spans: Vec<_> = requests
            .iter()
            .map(http)
            .flat_map(|(_, body)| {
                ExportTraceServiceRequest::decode(body).unwrap().resource_spans[0].scope_spans[0]
                    .spans
                    .clone()
            })
            .collect();
        let carrier = spans.iter().find(|s| s.name == "user_feedback evaluation").unwrap();
        assert_eq!(to_hex(&carrier.trace_id), trace_id);
        assert_eq!(
            (to_hex(&carrier.links[0].trace_id), to_hex(&carrier.links[0].span_id)),
            (trace_id, span_id)
        );
        assert!(carrier.parent_span_id.is_empty());
        let kind = carrier
            .attributes
            .iter()
            .find(|kv| kv.key == "openinference.span.kind")
            .unwrap();
        assert_eq!(
            kind.value.clone().unwrap().value,
            Some(Any::StringValue("EVALUATOR".into()))
        );
        assert_eq!(
            stat(&t.take_effects(), Stat::SpansExported),
            2,
            "the call and its carrier"
        );
    }

    #[test]
    fn over_grpc_evaluations_go_to_the_logs_service() {
        let json = format!(r#"{{"exporter":{{"cluster":"otel","protocol":"grpc"}},"quality":{FEEDBACK}}}"#);
        let mut t = Tracer::new(Config::from_json(json.as_bytes()).unwrap(), [1; 32], &|_| None);
        let body = json!({"trace_id": "ab".repeat(16), "score": 0.5});
        assert_eq!(send_feedback(&mut t, &body.to_string()).status, 202);
        let request = t.next_export(at(1_000), true).unwrap();
        let ExportBody::Grpc {
            service,
            method,
            message,
            ..
        } = &request.body
        else {
            panic!("gRPC export expected");
        };
        assert_eq!(
            (*service, *method),
            ("opentelemetry.proto.collector.logs.v1.LogsService", "Export")
        );
        let decoded = ExportLogsServiceRequest::decode(message.as_slice()).unwrap();
        assert_eq!(
            decoded.resource_logs[0].scope_logs[0].log_records[0].span_id,
            Vec::<u8>::new()
        );
    }

    #[test]
    fn feedback_on_an_unknown_call_counts_under_unknown_labels_and_names_are_bounded() {
        let mut t = tracer(FEEDBACK, "");
        for i in 0..=MAX_EVALUATION_NAMES {
            let body = json!({"trace_id": "ab".repeat(16), "name": format!("n{i}"), "score": 1});
            assert_eq!(send_feedback(&mut t, &body.to_string()).status, 202);
        }
        let effects = t.take_effects();
        let names: Vec<String> = named(&effects, "llm.quality_score")
            .into_iter()
            .map(|r| r.name.to_string())
            .collect();
        assert_eq!(
            names[0],
            "llm.quality_score.provider.unknown.model.unknown.op.unknown.evaluation.n0"
        );
        assert!(names[MAX_EVALUATION_NAMES].ends_with(".evaluation.other"));
        assert_eq!(stat(&effects, Stat::StatsOverflow), 1);
    }
}
