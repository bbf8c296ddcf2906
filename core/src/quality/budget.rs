//! The judge's budget: a token bucket of calls per minute per worker. It starts full, so a burst of up to a
//! minute's calls goes at once, then refills continuously. Integer arithmetic on the monotonic clock.

/// One call's worth of bucket units: the bucket gains `calls_per_minute` units per nanosecond.
const CALL: u64 = 60_000_000_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Budget {
    calls_per_minute: u64,
    level: u64,
    last_ns: Option<u64>,
}

impl Budget {
    pub(crate) fn per_minute(calls_per_minute: u32) -> Budget {
        let calls_per_minute = u64::from(calls_per_minute);
        Budget {
            calls_per_minute,
            level: calls_per_minute.saturating_mul(CALL),
            last_ns: None,
        }
    }

    /// Takes one call from the bucket at `now_ns`; `false` when the budget is spent.
    pub(crate) fn take(&mut self, now_ns: u64) -> bool {
        let capacity = self.calls_per_minute.saturating_mul(CALL);
        if let Some(last) = self.last_ns {
            let gained = now_ns.saturating_sub(last).saturating_mul(self.calls_per_minute);
            self.level = self.level.saturating_add(gained).min(capacity);
        }
        self.last_ns = Some(now_ns);
        if self.level < CALL {
            return false;
        }
        self.level -= CALL;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: u64 = 1_000_000_000;

    #[test]
    fn a_minutes_calls_at_once_then_one_per_refill_interval() {
        let mut b = Budget::per_minute(3);
        let t0 = 100 * SECOND;
        assert!(b.take(t0) && b.take(t0) && b.take(t0));
        assert!(!b.take(t0), "spent");
        assert!(!b.take(t0 + 19 * SECOND), "one call refills in 20 s");
        assert!(b.take(t0 + 20 * SECOND));
        assert!(!b.take(t0 + 21 * SECOND));
        // A long pause refills to the cap, not beyond.
        let later = t0 + 3600 * SECOND;
        assert!(b.take(later) && b.take(later) && b.take(later));
        assert!(!b.take(later));
    }

    #[test]
    fn large_budgets_do_not_overflow() {
        let mut b = Budget::per_minute(100_000);
        assert!(b.take(u64::MAX / 2));
        assert!(b.take(u64::MAX));
    }
}
