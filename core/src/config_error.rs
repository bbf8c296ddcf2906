//! The one error type of configuration loading: the dotted path of the offending field and the problem, so one log
//! line tells the operator what to fix. Every section's validation returns it.

use std::fmt;

/// A configuration the tracer refuses, with the dotted path of the offending field.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    /// Dotted path of the field (`exporter.timeout_ms`, `redaction.custom[0].regex`); empty for the whole document.
    pub field: String,
    /// What is wrong with it.
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let problem = one_line(&self.problem);
        if self.field.is_empty() || self.field == "." {
            write!(f, "Invalid llm-trace configuration: {problem}.")
        } else {
            write!(
                f,
                "Invalid llm-trace configuration: `{}`: {problem}.",
                one_line(&self.field)
            )
        }
    }
}

/// Control characters escaped (`\n`, `\u{1b}`): field names and values come from the configuration, and the
/// error must stay one log line whatever they hold.
fn one_line(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return text.into();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
}

impl std::error::Error for ConfigError {}

/// The error for `field`.
pub(crate) fn invalid(field: &str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        field: field.to_string(),
        problem: problem.into(),
    }
}

/// Rejects `value` outside `min..=max`.
pub(crate) fn check_range(field: &str, value: u64, min: u64, max: u64) -> Result<(), ConfigError> {
    if value < min || value > max {
        return Err(invalid(
            field,
            format!("{value} is out of range; allowed {min}..={max}"),
        ));
    }
    Ok(())
}

/// serde_json appends " at line L column C"; the field path already locates the problem.
pub(crate) fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// A serde error of a section parsed on its own, located by its path inside `section`.
pub(crate) fn from_serde_path(section: &str, e: &serde_path_to_error::Error<serde_json::Error>) -> ConfigError {
    let path = e.path().to_string();
    let field = if path.is_empty() || path == "." {
        section.to_string()
    } else {
        format!("{section}.{path}")
    };
    invalid(&field, strip_position(&e.inner().to_string()))
}

#[cfg(test)]
mod tests {
    /// Found by the `config` fuzz target: an unknown field named with a newline split the error over two lines.
    #[test]
    fn an_error_stays_one_line_whatever_the_configuration_holds() {
        let json = "{\"exporter\":{\"cluster\":\"c\"},\"capture\":{\"rules\":[{\"a\\nb\\u001b\":1}]}}";
        let message = crate::Config::from_json(json.as_bytes()).unwrap_err().to_string();
        assert!(!message.chars().any(char::is_control), "{message:?}");
        assert!(message.contains("`capture.rules[0].a\\nb\\u{1b}`"), "{message}");
    }
}
