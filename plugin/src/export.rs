//! The per-worker export queue: finished spans wait here, already encoded, until the root context ships a batch.
//!
//! Bounded in bytes. When full, the newest span is dropped and counted (the queue never blocks a request and never
//! grows). Batches leave by size or on the flush tick; at most a few export calls are in flight at once.

use std::collections::VecDeque;

/// OTLP receivers commonly refuse requests over 4 MiB; stay under that whatever the queue size.
pub const MAX_REQUEST_BYTES: usize = 3 << 20;
/// Export calls awaiting an answer before the queue stops handing out batches.
pub const MAX_IN_FLIGHT: usize = 4;

/// Running totals, mirrored into Envoy counters by the glue.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ExportStats {
    pub spans_queued: u64,
    pub spans_exported: u64,
    pub spans_dropped_queue_full: u64,
    pub spans_dropped_export_failed: u64,
    pub export_requests: u64,
    pub export_failures: u64,
}

#[derive(Debug)]
struct InFlight {
    token: u32,
    spans: usize,
}

/// How an export call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportOutcome {
    /// 2xx from the collector.
    Delivered,
    /// Non-2xx, timeout or reset: the batch is dropped and counted (retries come with the production exporter).
    Failed,
}

#[derive(Debug)]
pub struct ExportQueue {
    queued: VecDeque<Vec<u8>>,
    queued_bytes: usize,
    max_queue_bytes: usize,
    max_batch_spans: usize,
    in_flight: Vec<InFlight>,
    pub stats: ExportStats,
}

impl ExportQueue {
    pub fn new(max_queue_bytes: usize, max_batch_spans: usize) -> Self {
        ExportQueue {
            queued: VecDeque::new(),
            queued_bytes: 0,
            max_queue_bytes,
            max_batch_spans: max_batch_spans.max(1),
            in_flight: Vec::new(),
            stats: ExportStats::default(),
        }
    }

    /// Queues an encoded span; returns false when it was dropped because the queue is full.
    pub fn push(&mut self, encoded_span: Vec<u8>) -> bool {
        if self.queued_bytes + encoded_span.len() > self.max_queue_bytes {
            self.stats.spans_dropped_queue_full += 1;
            return false;
        }
        self.queued_bytes += encoded_span.len();
        self.queued.push_back(encoded_span);
        self.stats.spans_queued += 1;
        true
    }

    pub fn queued_spans(&self) -> usize {
        self.queued.len()
    }

    pub fn queued_bytes(&self) -> usize {
        self.queued_bytes
    }

    pub fn in_flight_spans(&self) -> usize {
        self.in_flight.iter().map(|f| f.spans).sum()
    }

    /// A full batch is waiting: worth flushing before the next tick.
    pub fn batch_ready(&self) -> bool {
        self.queued.len() >= self.max_batch_spans
    }

    /// Takes the next batch (oldest spans first), or `None` when empty or too many calls are in flight.
    pub fn take_batch(&mut self) -> Option<Vec<Vec<u8>>> {
        if self.queued.is_empty() || self.in_flight.len() >= MAX_IN_FLIGHT {
            return None;
        }
        let mut batch = Vec::new();
        let mut bytes = 0;
        while let Some(next) = self.queued.front() {
            if batch.len() >= self.max_batch_spans || (!batch.is_empty() && bytes + next.len() > MAX_REQUEST_BYTES) {
                break;
            }
            bytes += next.len();
            if let Some(span) = self.queued.pop_front() {
                batch.push(span);
            }
        }
        self.queued_bytes -= bytes;
        Some(batch)
    }

    /// The batch was handed to the host; its answer will come back with `token`.
    pub fn dispatched(&mut self, token: u32, spans: usize) {
        self.stats.export_requests += 1;
        self.in_flight.push(InFlight { token, spans });
    }

    /// The host refused the call outright (unknown cluster, no memory): the batch is lost.
    pub fn dispatch_refused(&mut self, spans: usize) {
        self.stats.export_requests += 1;
        self.stats.export_failures += 1;
        self.stats.spans_dropped_export_failed += spans as u64;
    }

    /// Settles an export call; returns false when the token is not one of ours.
    pub fn completed(&mut self, token: u32, outcome: ExportOutcome) -> bool {
        let Some(pos) = self.in_flight.iter().position(|f| f.token == token) else {
            return false;
        };
        let call = self.in_flight.swap_remove(pos);
        match outcome {
            ExportOutcome::Delivered => self.stats.spans_exported += call.spans as u64,
            ExportOutcome::Failed => {
                self.stats.export_failures += 1;
                self.stats.spans_dropped_export_failed += call.spans as u64;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_by_count_in_order_and_accounts_for_every_span() {
        let mut q = ExportQueue::new(1 << 20, 2);
        for i in 0..5u8 {
            assert!(q.push(vec![i; 10]));
        }
        assert!(q.batch_ready());
        let b1 = q.take_batch().unwrap();
        assert_eq!(b1, vec![vec![0; 10], vec![1; 10]]);
        q.dispatched(1, b1.len());
        let b2 = q.take_batch().unwrap();
        q.dispatched(2, b2.len());
        let b3 = q.take_batch().unwrap();
        assert_eq!(b3.len(), 1);
        assert!(!q.batch_ready());
        q.dispatch_refused(b3.len());
        assert!(q.completed(1, ExportOutcome::Delivered));
        assert!(q.completed(2, ExportOutcome::Failed));
        assert!(!q.completed(2, ExportOutcome::Delivered), "a token settles once");
        let s = q.stats;
        assert_eq!(
            (s.spans_queued, s.spans_exported, s.spans_dropped_export_failed),
            (5, 2, 3)
        );
        assert_eq!((s.export_requests, s.export_failures), (3, 2));
        assert_eq!(q.queued_bytes(), 0);
    }

    #[test]
    fn full_queue_drops_newest_and_counts() {
        let mut q = ExportQueue::new(25, 100);
        assert!(q.push(vec![0; 10]));
        assert!(q.push(vec![0; 10]));
        assert!(!q.push(vec![0; 10]));
        assert_eq!(q.stats.spans_dropped_queue_full, 1);
        assert_eq!((q.queued_spans(), q.queued_bytes()), (2, 20));
    }

    #[test]
    fn in_flight_limit_holds_back_batches() {
        let mut q = ExportQueue::new(1 << 20, 1);
        for t in 0..MAX_IN_FLIGHT as u32 + 1 {
            q.push(vec![1]);
            if let Some(b) = q.take_batch() {
                q.dispatched(t, b.len());
            }
        }
        assert_eq!(q.queued_spans(), 1);
        assert!(q.take_batch().is_none());
        assert_eq!(q.in_flight_spans(), MAX_IN_FLIGHT);
        q.completed(0, ExportOutcome::Delivered);
        assert!(q.take_batch().is_some());
    }

    #[test]
    fn batch_stays_under_the_request_size_limit() {
        let mut q = ExportQueue::new(16 << 20, 1000);
        for _ in 0..4 {
            q.push(vec![0; MAX_REQUEST_BYTES / 2]);
        }
        assert_eq!(q.take_batch().unwrap().len(), 2);
    }
}
