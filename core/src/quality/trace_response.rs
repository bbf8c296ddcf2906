//! The caller learns the trace: the LLM span's context on the response, so an application can attach feedback with
//! no SDK. The Trace Context draft's current form is a Server-Timing metric named `trace` whose `desc` is the
//! `traceparent` value (it replaced the `traceresponse` header in October 2025); a header configured under any other
//! name (say `traceresponse`) carries the bare value.

/// The header to add to a traced LLM response, given the LLM span's `traceparent` value. It is added, not set, so
/// a Server-Timing the upstream sent stays (several Server-Timing lines are one list in HTTP).
pub(crate) fn header(configured: Option<&str>, traceparent: String) -> Option<(String, String)> {
    let name = configured?;
    let value = if name == "server-timing" {
        let mut value = String::with_capacity(11 + traceparent.len());
        value.push_str("trace;desc=");
        value.push_str(&traceparent);
        value
    } else {
        traceparent
    };
    Some((name.to_string(), value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_timing_wraps_the_traceparent_and_other_names_carry_it_bare() {
        let tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".to_string();
        assert_eq!(
            header(Some("server-timing"), tp.clone()),
            Some((
                "server-timing".into(),
                "trace;desc=00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into()
            ))
        );
        assert_eq!(header(Some("traceresponse"), tp.clone()).map(|h| h.1), Some(tp.clone()));
        assert_eq!(header(None, tp), None);
    }
}
