//! The worker's most recent calls, so feedback (which names only a trace and span) is counted under the evaluated
//! call's provider, model and operation. Bounded: the oldest call is forgotten first; feedback on a forgotten call,
//! or on a call another worker traced, counts under `unknown` labels.

use std::collections::VecDeque;

/// Calls remembered per worker (about 100 bytes each).
pub(crate) const RECENT_CALLS: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Recent {
    trace_id: [u8; 16],
    span_id: [u8; 8],
    labels: String,
}

#[derive(Debug, Default)]
pub(crate) struct RecentCalls {
    calls: VecDeque<Recent>,
}

impl RecentCalls {
    pub(crate) fn remember(&mut self, trace_id: [u8; 16], span_id: [u8; 8], labels: &str) {
        if self.calls.len() >= RECENT_CALLS {
            self.calls.pop_front();
        }
        self.calls.push_back(Recent {
            trace_id,
            span_id,
            labels: labels.to_string(),
        });
    }

    /// The stat labels of the call with this span, or (no span given) of the trace's newest call.
    pub(crate) fn labels(&self, trace_id: &[u8; 16], span_id: Option<&[u8; 8]>) -> Option<&str> {
        self.calls
            .iter()
            .rev()
            .find(|c| &c.trace_id == trace_id && span_id.is_none_or(|s| &c.span_id == s))
            .map(|c| c.labels.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_span_or_a_traces_newest_call_and_forgets_the_oldest() {
        let mut r = RecentCalls::default();
        r.remember([1; 16], [1; 8], ".a");
        r.remember([1; 16], [2; 8], ".b");
        assert_eq!(r.labels(&[1; 16], Some(&[1; 8])), Some(".a"));
        assert_eq!(r.labels(&[1; 16], None), Some(".b"));
        assert_eq!(r.labels(&[1; 16], Some(&[3; 8])), None);
        for i in 0..RECENT_CALLS {
            r.remember([2; 16], (i as u64).to_be_bytes(), ".c");
        }
        assert_eq!(r.labels(&[1; 16], None), None, "forgotten");
        assert_eq!(r.calls.len(), RECENT_CALLS);
    }
}
