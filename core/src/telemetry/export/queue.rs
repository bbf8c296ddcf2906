//! The per-worker export queue: finished spans wait here, already encoded, until the root context ships them.
//!
//! - Bounded in bytes (spans waiting for a first attempt plus batches waiting for a retry). When full, the
//!   configured end is dropped (newest: the incoming span; oldest: the oldest waiting span) and counted.
//! - Batches leave by count, by bytes, or on the flush tick; at most `max_in_flight` export calls are open.
//! - Failed calls that OTLP says may succeed later (429, 502, 503, 504, no answer) are retried with exponential
//!   backoff and jitter, honouring `Retry-After`; others (400, ...) are dropped and counted, never retried.
//! - Accounting holds at every moment: offered = exported + rejected + dropped + waiting + in flight.

use std::collections::VecDeque;

/// OTLP receivers commonly refuse requests over 4 MiB; batches stay under this whatever the settings.
pub(crate) const MAX_REQUEST_BYTES: usize = 3 << 20;

/// How the queue behaves; built from the exporter configuration.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ExportPolicy {
    pub(crate) max_queue_bytes: usize,
    pub(crate) max_batch_spans: usize,
    pub(crate) max_batch_bytes: usize,
    pub(crate) max_in_flight: usize,
    /// When full, drop the oldest waiting span instead of the incoming one.
    pub(crate) drop_oldest: bool,
    /// Attempts per batch, the first included; 1 disables retries.
    pub(crate) max_attempts: u32,
    pub(crate) initial_backoff_ns: u64,
    pub(crate) max_backoff_ns: u64,
}

impl Default for ExportPolicy {
    fn default() -> Self {
        ExportPolicy {
            max_queue_bytes: 4 << 20,
            max_batch_spans: 256,
            max_batch_bytes: 1 << 20,
            max_in_flight: 4,
            drop_oldest: false,
            max_attempts: 5,
            initial_backoff_ns: 500_000_000,
            max_backoff_ns: 30_000_000_000,
        }
    }
}

/// Running totals, mirrored into the host's stats by the tracer.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ExportStats {
    /// Spans offered to the queue (accepted or not).
    pub(crate) spans_offered: u64,
    pub(crate) spans_exported: u64,
    /// Spans the collector refused in a partial success.
    pub(crate) spans_rejected: u64,
    pub(crate) spans_dropped_queue_full: u64,
    /// Spans given up on: non-retryable failure, or attempts exhausted.
    pub(crate) spans_dropped_export_failed: u64,
    pub(crate) export_requests: u64,
    pub(crate) export_failures: u64,
    pub(crate) export_retries: u64,
}

/// Spans shipped together in one export call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Batch {
    pub(crate) spans: Vec<Vec<u8>>,
    pub(crate) bytes: usize,
    /// Attempts made so far (0 before the first).
    pub(crate) attempt: u32,
}

/// How an export call ended, as the collector's answer is classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExportOutcome {
    /// Success; `rejected` spans were refused in a partial success (never retried, per OTLP).
    Delivered { rejected: u64 },
    /// May succeed later: 429, 502, 503, 504, connection failure or timeout; `retry_after_ns` from the server.
    Retryable { retry_after_ns: Option<u64> },
    /// Will not succeed (400, 401, 413, ...): dropped and counted.
    Failed,
}

/// Classifies an OTLP/HTTP answer; `None` status means no answer at all.
pub(crate) fn classify_http(status: Option<u16>, retry_after: Option<&str>, rejected: u64) -> ExportOutcome {
    match status {
        Some(200..=299) => ExportOutcome::Delivered { rejected },
        None | Some(429 | 502 | 503 | 504) => ExportOutcome::Retryable {
            retry_after_ns: retry_after.and_then(parse_retry_after),
        },
        Some(_) => ExportOutcome::Failed,
    }
}

/// Classifies an OTLP/gRPC status code (the retryable set of the OTLP specification).
pub(crate) fn classify_grpc(code: u32, rejected: u64) -> ExportOutcome {
    match code {
        0 => ExportOutcome::Delivered { rejected },
        1 | 4 | 10 | 11 | 14 | 15 => ExportOutcome::Retryable { retry_after_ns: None },
        _ => ExportOutcome::Failed,
    }
}

/// `Retry-After` in delay-seconds form. (The HTTP-date form falls back to the backoff schedule.)
fn parse_retry_after(value: &str) -> Option<u64> {
    value.trim().parse::<u64>().ok().map(|s| s.min(3600) * 1_000_000_000)
}

#[derive(Debug)]
struct Waiting {
    batch: Batch,
    not_before_ns: u64,
}

#[derive(Debug)]
struct InFlight {
    token: u32,
    batch: Batch,
}

#[derive(Debug)]
pub(crate) struct ExportQueue {
    policy: ExportPolicy,
    fresh: VecDeque<Vec<u8>>,
    fresh_bytes: usize,
    retries: VecDeque<Waiting>,
    retry_bytes: usize,
    in_flight: Vec<InFlight>,
    jitter_state: u64,
    pub(crate) stats: ExportStats,
}

impl ExportQueue {
    pub(crate) fn new(policy: ExportPolicy, jitter_seed: u64) -> Self {
        ExportQueue {
            policy,
            fresh: VecDeque::new(),
            fresh_bytes: 0,
            retries: VecDeque::new(),
            retry_bytes: 0,
            in_flight: Vec::new(),
            jitter_state: jitter_seed | 1,
            stats: ExportStats::default(),
        }
    }

    /// Bytes waiting for export (first attempt or retry), the figure the cap applies to.
    pub(crate) fn queued_bytes(&self) -> usize {
        self.fresh_bytes + self.retry_bytes
    }

    /// Spans waiting (first attempt or retry).
    #[cfg(test)]
    pub(crate) fn queued_spans(&self) -> usize {
        self.fresh.len() + self.retries.iter().map(|w| w.batch.spans.len()).sum::<usize>()
    }

    #[cfg(test)]
    pub(crate) fn in_flight_spans(&self) -> usize {
        self.in_flight.iter().map(|f| f.batch.spans.len()).sum()
    }

    /// Queues an encoded span; returns false when a span (this one or, with `drop_oldest`, an older one) was
    /// dropped to respect the byte cap.
    pub(crate) fn push(&mut self, span: Vec<u8>) -> bool {
        self.stats.spans_offered += 1;
        if span.len() > self.policy.max_queue_bytes {
            self.stats.spans_dropped_queue_full += 1;
            return false;
        }
        let mut dropped = false;
        while self.queued_bytes() + span.len() > self.policy.max_queue_bytes {
            if !self.policy.drop_oldest || !self.drop_oldest_waiting() {
                self.stats.spans_dropped_queue_full += 1;
                return false;
            }
            dropped = true;
        }
        self.fresh_bytes += span.len();
        self.fresh.push_back(span);
        !dropped
    }

    fn drop_oldest_waiting(&mut self) -> bool {
        // Batches waiting for a retry are older than any fresh span.
        if let Some(w) = self.retries.pop_front() {
            self.retry_bytes -= w.batch.bytes;
            self.stats.spans_dropped_queue_full += w.batch.spans.len() as u64;
            return true;
        }
        match self.fresh.pop_front() {
            Some(span) => {
                self.fresh_bytes -= span.len();
                self.stats.spans_dropped_queue_full += 1;
                true
            }
            None => false,
        }
    }

    /// A full batch is waiting: worth shipping before the next tick.
    pub(crate) fn batch_ready(&self) -> bool {
        self.fresh.len() >= self.policy.max_batch_spans || self.fresh_bytes >= self.policy.max_batch_bytes
    }

    /// The next batch to send: a retry that is due, else the oldest fresh spans. `None` when nothing is due or
    /// `max_in_flight` calls are open.
    pub(crate) fn take_batch(&mut self, now_ns: u64) -> Option<Batch> {
        self.take(now_ns, true)
    }

    /// Like [`take_batch`](Self::take_batch), but fresh spans only as a full batch. Between ticks (an export
    /// answered, a batch filled up) this keeps batches full: shipping whatever is queued after every answer would
    /// tie the export rate to the collector's round trip (hundreds of tiny exports a second on the worker thread).
    pub(crate) fn take_full_batch(&mut self, now_ns: u64) -> Option<Batch> {
        self.take(now_ns, false)
    }

    fn take(&mut self, now_ns: u64, partial_ok: bool) -> Option<Batch> {
        if self.in_flight.len() >= self.policy.max_in_flight {
            return None;
        }
        if let Some(pos) = self.retries.iter().position(|w| w.not_before_ns <= now_ns) {
            if let Some(w) = self.retries.remove(pos) {
                self.retry_bytes -= w.batch.bytes;
                self.stats.export_retries += 1;
                return Some(w.batch);
            }
        }
        if self.fresh.is_empty() || (!partial_ok && !self.batch_ready()) {
            return None;
        }
        let limit = self.policy.max_batch_bytes.min(MAX_REQUEST_BYTES);
        let mut batch = Batch {
            spans: Vec::new(),
            bytes: 0,
            attempt: 0,
        };
        while let Some(next) = self.fresh.front() {
            let full = batch.spans.len() >= self.policy.max_batch_spans || batch.bytes + next.len() > limit;
            if !batch.spans.is_empty() && full {
                break;
            }
            if let Some(span) = self.fresh.pop_front() {
                batch.bytes += span.len();
                batch.spans.push(span);
            }
        }
        self.fresh_bytes -= batch.bytes;
        Some(batch)
    }

    /// The batch was handed to the host; its answer comes back with `token`.
    pub(crate) fn dispatched(&mut self, token: u32, mut batch: Batch) {
        batch.attempt += 1;
        self.stats.export_requests += 1;
        self.in_flight.push(InFlight { token, batch });
    }

    /// The host refused the call outright (e.g. the cluster has no healthy host yet): like a connection failure.
    pub(crate) fn dispatch_refused(&mut self, mut batch: Batch, now_ns: u64) {
        batch.attempt += 1;
        self.stats.export_requests += 1;
        self.settle(batch, ExportOutcome::Retryable { retry_after_ns: None }, now_ns);
    }

    /// Settles an export call; returns false when the token is not one of ours.
    pub(crate) fn completed(&mut self, token: u32, outcome: ExportOutcome, now_ns: u64) -> bool {
        let Some(pos) = self.in_flight.iter().position(|f| f.token == token) else {
            return false;
        };
        let call = self.in_flight.swap_remove(pos);
        self.settle(call.batch, outcome, now_ns);
        true
    }

    fn settle(&mut self, batch: Batch, outcome: ExportOutcome, now_ns: u64) {
        let spans = batch.spans.len() as u64;
        match outcome {
            ExportOutcome::Delivered { rejected } => {
                let rejected = rejected.min(spans);
                self.stats.spans_rejected += rejected;
                self.stats.spans_exported += spans - rejected;
            }
            ExportOutcome::Failed => {
                self.stats.export_failures += 1;
                self.stats.spans_dropped_export_failed += spans;
            }
            ExportOutcome::Retryable { retry_after_ns } => {
                self.stats.export_failures += 1;
                let room = self.queued_bytes() + batch.bytes <= self.policy.max_queue_bytes;
                if batch.attempt >= self.policy.max_attempts || !room {
                    self.stats.spans_dropped_export_failed += spans;
                    return;
                }
                let delay = retry_after_ns.unwrap_or_else(|| self.backoff_ns(batch.attempt));
                self.retry_bytes += batch.bytes;
                self.retries.push_back(Waiting {
                    batch,
                    not_before_ns: now_ns.saturating_add(delay),
                });
            }
        }
    }

    /// Exponential backoff with full jitter: uniform in [base/2, base], base doubling per attempt up to the cap.
    fn backoff_ns(&mut self, attempt: u32) -> u64 {
        let base = self
            .policy
            .initial_backoff_ns
            .saturating_mul(1u64 << attempt.saturating_sub(1).min(30))
            .min(self.policy.max_backoff_ns);
        // xorshift64: jitter needs spread, not quality.
        let mut x = self.jitter_state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.jitter_state = x;
        base / 2 + x % (base / 2 + 1)
    }

    /// Earliest instant a waiting retry becomes due.
    #[cfg(test)]
    pub(crate) fn next_retry_ns(&self) -> Option<u64> {
        self.retries.iter().map(|w| w.not_before_ns).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(policy: ExportPolicy) -> ExportQueue {
        ExportQueue::new(policy, 42)
    }

    fn policy() -> ExportPolicy {
        ExportPolicy {
            max_batch_spans: 2,
            ..Default::default()
        }
    }

    /// Every span offered is exported, rejected, dropped, waiting or in flight.
    fn assert_accounted(q: &ExportQueue) {
        let s = q.stats;
        let settled = s.spans_exported + s.spans_rejected + s.spans_dropped_export_failed + s.spans_dropped_queue_full;
        assert_eq!(
            s.spans_offered,
            settled + q.queued_spans() as u64 + q.in_flight_spans() as u64,
            "{s:?}"
        );
    }

    #[test]
    fn between_ticks_only_full_batches_leave() {
        let mut q = queue(policy());
        assert!(q.push(vec![1; 10]));
        assert!(q.take_full_batch(0).is_none(), "a lone span waits for the tick");
        assert!(q.push(vec![2; 10]));
        assert_eq!(q.take_full_batch(0).map(|b| b.spans.len()), Some(2));
        assert!(q.push(vec![3; 10]));
        assert!(q.take_full_batch(0).is_none());
        assert_eq!(
            q.take_batch(0).map(|b| b.spans.len()),
            Some(1),
            "the tick ships a partial batch"
        );
    }

    #[test]
    fn batches_by_count_in_order() {
        let mut q = queue(policy());
        for i in 0..5u8 {
            assert!(q.push(vec![i; 10]));
        }
        assert!(q.batch_ready());
        let b1 = q.take_batch(0).unwrap();
        assert_eq!(b1.spans, vec![vec![0; 10], vec![1; 10]]);
        q.dispatched(1, b1);
        let b2 = q.take_batch(0).unwrap();
        q.dispatched(2, b2);
        let b3 = q.take_batch(0).unwrap();
        assert_eq!(b3.spans.len(), 1);
        q.dispatched(3, b3);
        assert!(q.take_batch(0).is_none());
        assert!(q.completed(1, ExportOutcome::Delivered { rejected: 0 }, 0));
        assert!(q.completed(2, ExportOutcome::Delivered { rejected: 1 }, 0));
        assert!(q.completed(3, ExportOutcome::Failed, 0));
        assert!(!q.completed(3, ExportOutcome::Failed, 0), "a token settles once");
        let s = q.stats;
        assert_eq!(
            (s.spans_exported, s.spans_rejected, s.spans_dropped_export_failed),
            (3, 1, 1)
        );
        assert_eq!((s.export_requests, s.export_failures, s.export_retries), (3, 1, 0));
        assert_accounted(&q);
    }

    #[test]
    fn batches_by_bytes() {
        let mut q = queue(ExportPolicy {
            max_batch_spans: 100,
            max_batch_bytes: 25,
            ..Default::default()
        });
        for _ in 0..3 {
            q.push(vec![0; 10]);
        }
        assert!(q.batch_ready());
        assert_eq!(q.take_batch(0).unwrap().spans.len(), 2);
        assert_eq!(q.take_batch(0).unwrap().spans.len(), 1);
        let mut q = queue(ExportPolicy {
            max_batch_bytes: 100,
            ..Default::default()
        });
        q.push(vec![0; 500]);
        assert_eq!(
            q.take_batch(0).unwrap().spans.len(),
            1,
            "a span larger than a batch still goes alone"
        );
    }

    #[test]
    fn full_queue_drops_newest_or_oldest_as_configured() {
        let mut q = queue(ExportPolicy {
            max_queue_bytes: 25,
            ..Default::default()
        });
        assert!(q.push(vec![1; 10]) && q.push(vec![2; 10]));
        assert!(!q.push(vec![3; 10]));
        assert_eq!((q.stats.spans_dropped_queue_full, q.queued_bytes()), (1, 20));
        assert_accounted(&q);
        assert_eq!(q.take_batch(0).unwrap().spans, vec![vec![1; 10], vec![2; 10]]);

        let mut q = queue(ExportPolicy {
            max_queue_bytes: 25,
            drop_oldest: true,
            ..Default::default()
        });
        q.push(vec![1; 10]);
        q.push(vec![2; 10]);
        assert!(!q.push(vec![3; 10]));
        assert_eq!(q.stats.spans_dropped_queue_full, 1);
        assert_accounted(&q);
        assert_eq!(q.take_batch(0).unwrap().spans, vec![vec![2; 10], vec![3; 10]]);
    }

    #[test]
    fn retryable_failure_waits_for_backoff_or_retry_after_then_goes_again() {
        let mut q = queue(ExportPolicy {
            initial_backoff_ns: 1_000,
            max_backoff_ns: 8_000,
            ..policy()
        });
        q.push(vec![7; 4]);
        let b = q.take_batch(0).unwrap();
        q.dispatched(1, b);
        q.completed(1, classify_http(Some(503), Some("2"), 0), 100);
        assert_eq!(
            q.next_retry_ns(),
            Some(100 + 2_000_000_000),
            "Retry-After seconds win over the backoff"
        );
        assert!(q.take_batch(1_000_000_000).is_none());
        let again = q.take_batch(2_000_000_100).unwrap();
        assert_eq!((again.attempt, q.stats.export_retries), (1, 1));
        q.dispatched(2, again);
        q.completed(2, classify_http(None, None, 0), 3_000_000_000);
        let due = q.next_retry_ns().unwrap() - 3_000_000_000;
        assert!(
            (1_000..=2_000).contains(&due),
            "second backoff {due} within [base/2, base] for base 2µs"
        );
        assert_accounted(&q);
    }

    #[test]
    fn non_retryable_and_exhausted_attempts_are_dropped_and_counted() {
        let mut q = queue(ExportPolicy {
            max_attempts: 2,
            initial_backoff_ns: 1,
            ..policy()
        });
        q.push(vec![1]);
        let b = q.take_batch(0).unwrap();
        q.dispatched(1, b);
        q.completed(1, classify_http(Some(400), None, 0), 0);
        assert_eq!(
            (q.stats.spans_dropped_export_failed, q.queued_spans()),
            (1, 0),
            "400 is never retried"
        );

        q.push(vec![2]);
        let b = q.take_batch(0).unwrap();
        q.dispatch_refused(b, 0);
        let b = q.take_batch(10).unwrap();
        q.dispatched(2, b);
        q.completed(2, classify_http(Some(429), None, 0), 10);
        assert_eq!(q.stats.spans_dropped_export_failed, 2, "second attempt was the last");
        assert_eq!(q.queued_spans(), 0);
        assert_accounted(&q);
    }

    #[test]
    fn in_flight_limit_holds_back_batches() {
        let mut q = queue(ExportPolicy {
            max_batch_spans: 1,
            max_in_flight: 2,
            ..Default::default()
        });
        for t in 0..3u32 {
            q.push(vec![1]);
            if let Some(b) = q.take_batch(0) {
                q.dispatched(t, b);
            }
        }
        assert_eq!((q.queued_spans(), q.in_flight_spans()), (1, 2));
        q.completed(0, ExportOutcome::Delivered { rejected: 0 }, 0);
        assert!(q.take_batch(0).is_some());
    }

    #[test]
    fn grpc_status_classification() {
        assert_eq!(classify_grpc(0, 2), ExportOutcome::Delivered { rejected: 2 });
        assert_eq!(classify_grpc(14, 0), ExportOutcome::Retryable { retry_after_ns: None });
        assert_eq!(classify_grpc(3, 0), ExportOutcome::Failed);
        assert_eq!(classify_http(Some(413), None, 0), ExportOutcome::Failed);
    }
}
