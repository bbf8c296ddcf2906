//! Upstreams a worker stops rewriting requests for, for a while, after one refused a rewritten request (400 to an
//! added `stream_options.include_usage`, 411 to a body sent without `content-length`): a strict server costs at most
//! one failed call per worker per period, and the tracer never retries a call on the client's behalf.

/// How long a worker leaves an upstream's requests as sent after it refused a rewritten one.
pub(crate) const REWRITE_BACKOFF_NS: u64 = 10 * 60 * 1_000_000_000;

/// Upstreams a worker remembers at once; past this, the one whose back-off ends first is forgotten.
const MAX_UPSTREAMS: usize = 64;

/// Per worker: upstream (`host:port`) and the monotonic instant its back-off ends.
#[derive(Debug, Default)]
pub(crate) struct RewriteBackoff {
    until: Vec<(String, u64)>,
}

impl RewriteBackoff {
    /// Whether no upstream was ever backed off (or all were forgotten): then no call needs its upstream's key.
    pub(crate) fn is_empty(&self) -> bool {
        self.until.is_empty()
    }

    /// Whether requests to `upstream` are left as sent now.
    pub(crate) fn active(&self, upstream: &str, now_ns: u64) -> bool {
        self.until.iter().any(|(u, end)| u == upstream && *end > now_ns)
    }

    /// Starts (or restarts) the back-off for `upstream`; `true` when it was not already backed off.
    pub(crate) fn start(&mut self, upstream: &str, now_ns: u64) -> bool {
        let was_active = self.active(upstream, now_ns);
        self.until.retain(|(u, end)| u != upstream && *end > now_ns);
        if self.until.len() >= MAX_UPSTREAMS {
            if let Some(soonest) = (0..self.until.len()).min_by_key(|&i| self.until[i].1) {
                self.until.swap_remove(soonest);
            }
        }
        self.until
            .push((upstream.to_string(), now_ns.saturating_add(REWRITE_BACKOFF_NS)));
        !was_active
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backoff_lasts_its_period_per_upstream_and_the_list_stays_bounded() {
        let mut b = RewriteBackoff::default();
        assert!(b.start("strict:80", 1_000));
        assert!(!b.start("strict:80", 2_000), "already backed off");
        assert!(b.active("strict:80", 2_000 + REWRITE_BACKOFF_NS - 1));
        assert!(!b.active("strict:80", 2_000 + REWRITE_BACKOFF_NS));
        assert!(!b.active("other:80", 2_000));
        for i in 0..200 {
            b.start(&format!("host-{i}:80"), 3_000 + i);
        }
        assert_eq!(b.until.len(), MAX_UPSTREAMS);
        assert!(b.active("host-199:80", 4_000), "the newest are kept");
    }
}
