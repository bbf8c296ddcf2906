//! One worker's quality bookkeeping, all of it bounded: feedback requests waiting for their body (each with a
//! deadline), the calls the host should make off the request path (judge calls, Phoenix annotations) waiting and in
//! flight, the judge's budget, the recent calls feedback is matched to, and the evaluation names in use.

use super::budget::Budget;
use super::config::QualityConfig;
use super::evaluation::Target;
use super::recent::RecentCalls;
use std::collections::{HashSet, VecDeque};

/// Feedback requests collecting their body at once, per worker; more get 503.
pub(crate) const MAX_LOCAL_REQUESTS: usize = 64;
/// Judge calls waiting for the host; past it a call is skipped like an exhausted budget.
const MAX_WAITING_JUDGE: usize = 16;
/// Phoenix annotations waiting for the host; past it one is dropped and counted.
const MAX_WAITING_PHOENIX: usize = 64;
/// Calls of either kind open at once.
const MAX_IN_FLIGHT: usize = 8;
/// Distinct evaluation names a worker labels its `llm.quality_score` with; more count under `other`.
pub(crate) const MAX_EVALUATION_NAMES: usize = 16;
/// A call still unanswered this long after its own timeout is given up on (a host that never answers must not
/// hold memory).
const ANSWER_GRACE_NS: u64 = 5_000_000_000;

/// An HTTP call the tracer asks the host to make off the request path: a judge call or a Phoenix annotation. Hand
/// it back with [`crate::Tracer::quality_dispatched`] (with the host's call token) or
/// [`crate::Tracer::quality_dispatch_refused`].
#[derive(Debug)]
pub struct QualityCall {
    /// The host cluster to call.
    pub cluster: String,
    /// `:method`, `:path`, `:authority`, `content-type`, then the configured headers.
    pub headers: Vec<(String, String)>,
    /// The JSON body.
    pub body: Vec<u8>,
    /// Timeout of the call.
    pub timeout_ms: u64,
    pub(crate) purpose: Purpose,
}

/// What a call is for, and what its answer needs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Purpose {
    Judge(JudgeJob),
    Phoenix,
}

/// The evaluated call, as the judge's answer needs it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JudgeJob {
    pub(crate) target: Target,
    pub(crate) response_id: Option<String>,
    /// The evaluated call's stat labels.
    pub(crate) labels: String,
}

#[derive(Debug)]
struct InFlight {
    token: u32,
    purpose: Purpose,
    dispatched_unix_ns: u64,
    give_up_ns: u64,
}

/// A call settled or given up on, for the tracer to count and export.
#[derive(Debug)]
pub(crate) struct Settled {
    pub(crate) purpose: Purpose,
    pub(crate) dispatched_unix_ns: u64,
}

#[derive(Debug, Default)]
pub(crate) struct QualityState {
    pub(crate) recent: RecentCalls,
    budget: Option<Budget>,
    waiting: VecDeque<QualityCall>,
    in_flight: Vec<InFlight>,
    /// Feedback requests collecting their body: host id and deadline (monotonic).
    local: Vec<(u32, u64)>,
    names: HashSet<String>,
    /// One-time warnings already logged.
    pub(crate) warned_body_timeout: bool,
    pub(crate) warned_unparsable: bool,
    pub(crate) judge_failing: bool,
    pub(crate) phoenix_failing: bool,
}

impl QualityState {
    pub(crate) fn new(config: &QualityConfig) -> QualityState {
        QualityState {
            budget: config.judge.as_ref().map(|j| Budget::per_minute(j.calls_per_minute)),
            ..Default::default()
        }
    }

    /// Takes one judge call from the budget.
    pub(crate) fn budget_allows(&mut self, now_ns: u64) -> bool {
        self.budget.as_mut().is_some_and(|b| b.take(now_ns))
    }

    /// Queues a call for the host; `false` (and the call dropped) when too many of its kind wait.
    pub(crate) fn queue(&mut self, call: QualityCall) -> bool {
        let judge = matches!(call.purpose, Purpose::Judge(_));
        let same_kind = self
            .waiting
            .iter()
            .filter(|c| matches!(c.purpose, Purpose::Judge(_)) == judge)
            .count();
        let cap = if judge { MAX_WAITING_JUDGE } else { MAX_WAITING_PHOENIX };
        if same_kind >= cap {
            return false;
        }
        self.waiting.push_back(call);
        true
    }

    /// The next call to make, when one waits and fewer than the most are open.
    pub(crate) fn next_call(&mut self) -> Option<QualityCall> {
        if self.in_flight.len() >= MAX_IN_FLIGHT {
            return None;
        }
        self.waiting.pop_front()
    }

    pub(crate) fn dispatched(&mut self, call: QualityCall, token: u32, now_unix_ns: u64, now_mono_ns: u64) {
        let give_up_ns = now_mono_ns
            .saturating_add(call.timeout_ms.saturating_mul(1_000_000))
            .saturating_add(ANSWER_GRACE_NS);
        self.in_flight.push(InFlight {
            token,
            purpose: call.purpose,
            dispatched_unix_ns: now_unix_ns,
            give_up_ns,
        });
    }

    /// The call `token` answered, if it is one of ours.
    pub(crate) fn answered(&mut self, token: u32) -> Option<Settled> {
        let at = self.in_flight.iter().position(|f| f.token == token)?;
        let call = self.in_flight.swap_remove(at);
        Some(Settled {
            purpose: call.purpose,
            dispatched_unix_ns: call.dispatched_unix_ns,
        })
    }

    /// Whether `token` is one of our calls, and what of its answer to read: the judge's body, Phoenix's status.
    pub(crate) fn awaits(&self, token: u32) -> Option<&Purpose> {
        self.in_flight.iter().find(|f| f.token == token).map(|f| &f.purpose)
    }

    /// Calls the host never answered, long past their timeout.
    pub(crate) fn abandoned(&mut self, now_mono_ns: u64) -> Vec<Purpose> {
        let mut gone = Vec::new();
        self.in_flight.retain(|f| {
            let keep = f.give_up_ns > now_mono_ns;
            if !keep {
                gone.push(f.purpose.clone());
            }
            keep
        });
        gone
    }

    /// Registers a feedback request collecting its body; `false` when too many already do.
    pub(crate) fn open_local(&mut self, id: u32, deadline_ns: u64) -> bool {
        if self.local.len() >= MAX_LOCAL_REQUESTS {
            return false;
        }
        self.local.retain(|(i, _)| *i != id);
        self.local.push((id, deadline_ns));
        true
    }

    /// Forgets a feedback request; `false` when it was not waiting (answered already, e.g. past its deadline).
    pub(crate) fn close_local(&mut self, id: u32) -> bool {
        let before = self.local.len();
        self.local.retain(|(i, _)| *i != id);
        self.local.len() < before
    }

    /// Feedback requests past their deadline, forgotten.
    pub(crate) fn overdue_local(&mut self, now_mono_ns: u64) -> Vec<u32> {
        let mut overdue = Vec::new();
        self.local.retain(|(id, deadline)| {
            let keep = *deadline > now_mono_ns;
            if !keep {
                overdue.push(*id);
            }
            keep
        });
        overdue
    }

    /// The name's `llm.quality_score` label, and whether it overflowed the cap (then `other`).
    pub(crate) fn name_label(&mut self, name: &str) -> (String, bool) {
        if self.names.contains(name) {
            return (name.to_string(), false);
        }
        if self.names.len() < MAX_EVALUATION_NAMES {
            self.names.insert(name.to_string());
            return (name.to_string(), false);
        }
        ("other".to_string(), true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(purpose: Purpose) -> QualityCall {
        QualityCall {
            cluster: "c".into(),
            headers: Vec::new(),
            body: Vec::new(),
            timeout_ms: 1_000,
            purpose,
        }
    }

    fn job() -> Purpose {
        Purpose::Judge(JudgeJob {
            target: Target {
                trace_id: [1; 16],
                span_id: Some([2; 8]),
                flags: 1,
            },
            response_id: None,
            labels: String::new(),
        })
    }

    #[test]
    fn waiting_and_open_calls_are_bounded_per_kind() {
        let mut s = QualityState::default();
        for _ in 0..MAX_WAITING_JUDGE {
            assert!(s.queue(call(job())));
        }
        assert!(!s.queue(call(job())), "judge calls waiting are capped");
        assert!(s.queue(call(Purpose::Phoenix)), "a Phoenix post has its own cap");
        for token in 0..MAX_IN_FLIGHT as u32 {
            let c = s.next_call().unwrap();
            s.dispatched(c, token, 0, 0);
        }
        assert!(s.next_call().is_none(), "open calls are capped");
        assert!(s.awaits(3).is_some() && s.awaits(99).is_none());
        assert!(s.answered(3).is_some());
        assert!(s.answered(3).is_none(), "a token settles once");
        assert!(s.next_call().is_some());
    }

    #[test]
    fn unanswered_calls_are_given_up_after_their_timeout_and_a_grace() {
        let mut s = QualityState::default();
        s.queue(call(job()));
        let c = s.next_call().unwrap();
        s.dispatched(c, 7, 0, 0);
        assert!(s.abandoned(1_000_000_000 + ANSWER_GRACE_NS - 1).is_empty());
        assert_eq!(s.abandoned(1_000_000_000 + ANSWER_GRACE_NS).len(), 1);
        assert!(s.answered(7).is_none());
    }

    #[test]
    fn feedback_requests_have_a_deadline_and_a_cap() {
        let mut s = QualityState::default();
        assert!(s.open_local(1, 100));
        assert!(s.open_local(2, 200));
        assert_eq!(s.overdue_local(150), vec![1]);
        assert!(!s.close_local(1), "answered at its deadline already");
        assert!(s.close_local(2));
        for id in 0..MAX_LOCAL_REQUESTS as u32 {
            assert!(s.open_local(id, 1));
        }
        assert!(!s.open_local(999, 1));
    }

    #[test]
    fn evaluation_names_past_the_cap_count_as_other() {
        let mut s = QualityState::default();
        for i in 0..MAX_EVALUATION_NAMES {
            assert_eq!(s.name_label(&format!("n{i}")), (format!("n{i}"), false));
        }
        assert_eq!(s.name_label("n3"), ("n3".to_string(), false));
        assert_eq!(s.name_label("new"), ("other".to_string(), true));
    }
}
