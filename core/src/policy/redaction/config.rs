//! `redaction` as written in the configuration, validated into a [`Redactor`].

use super::custom::CustomRegex;
use super::engine::Engine;
use super::names::{NAMES, PII};
use super::phones::{Regions, REGIONS};
use super::{builtin_detectors, Action, Detector, Redactor, BUDGET_EXCEEDED};
use crate::config_error::{from_serde_path, invalid, ConfigError};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;

/// Bytes × patterns the custom regexes may scan per call by default: 64 full-scan patterns over a 64 KiB prompt.
pub(super) const DEFAULT_BUDGET_BYTES: u64 = 4 << 20;

/// `redaction` as written in the plugin configuration.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawRedaction {
    enabled: bool,
    /// Per built-in detector (or group, `secrets`/`pii`): `mask` (default), `hash`, `drop` or `off`.
    detectors: BTreeMap<String, Action>,
    hmac_key: Option<String>,
    custom: Vec<RawCustom>,
    /// Run the detectors over identity values (`user.id`, `session.id`, ...).
    identity: bool,
    /// Deprecated: identity values are covered by `identity` (on by default).
    user_id: bool,
    /// Regions whose national phone formats are recognised; `["*"]` for all of them.
    phone_regions: Option<Vec<String>>,
    custom_budget_bytes: u64,
    request: RawRequestRedaction,
}

impl Default for RawRedaction {
    fn default() -> Self {
        RawRedaction {
            enabled: true,
            detectors: BTreeMap::new(),
            hmac_key: None,
            custom: Vec::new(),
            identity: true,
            user_id: false,
            phone_regions: None,
            custom_budget_bytes: DEFAULT_BUDGET_BYTES,
            request: RawRequestRedaction::default(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCustom {
    name: String,
    #[serde(default)]
    regex: Option<String>,
    #[serde(default)]
    literals: Option<Vec<String>>,
    #[serde(default = "default_action")]
    action: Action,
}

fn default_action() -> Action {
    Action::Mask
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawRequestRedaction {
    enabled: bool,
    detectors: Vec<String>,
}

/// Builds the redactor from the `redaction` JSON object (`{}` gives the defaults: every built-in detector masks).
/// Errors name the field, relative to the configuration root.
pub(crate) fn build(source: &str) -> Result<Redactor, ConfigError> {
    let value: Value = serde_json::from_str(source)
        .map_err(|e| invalid("redaction", crate::config_error::strip_position(&e.to_string())))?;
    build_from(&value)
}

fn is_pii(name: &str) -> bool {
    PII.iter().any(|d| NAMES[usize::from(*d)] == name)
}

/// [`build`] from the already parsed `redaction` object.
pub(crate) fn build_from(value: &Value) -> Result<Redactor, ConfigError> {
    let source = value.to_string();
    let raw: RawRedaction = serde_path_to_error::deserialize(value).map_err(|e| from_serde_path("redaction", &e))?;
    if !raw.enabled {
        return Ok(Redactor {
            source,
            ..Redactor::disabled()
        });
    }
    for name in raw.detectors.keys() {
        if name != "secrets" && name != "pii" && !NAMES.contains(&name.as_str()) {
            return Err(invalid(
                &format!("redaction.detectors.{name}"),
                format!(
                    "unknown detector; the groups are `secrets` and `pii`, the built-in detectors {}",
                    NAMES.join(", ")
                ),
            ));
        }
    }
    // A detector's own entry wins over its group's.
    let mut detectors = builtin_detectors(|name| {
        let group = if is_pii(name) { "pii" } else { "secrets" };
        raw.detectors
            .get(name)
            .or_else(|| raw.detectors.get(group))
            .copied()
            .unwrap_or(Action::Mask)
    });
    let regions = match &raw.phone_regions {
        None => Regions::defaults(),
        Some(codes) if codes.len() == 1 && codes[0] == "*" => Regions::all(),
        Some(codes) => {
            let mut set = 0u64;
            for (i, code) in codes.iter().enumerate() {
                let index = Regions::index_of(&code.to_ascii_uppercase()).ok_or_else(|| {
                    let known: Vec<&str> = REGIONS.iter().map(|r| r.code).collect();
                    invalid(
                        &format!("redaction.phone_regions[{i}]"),
                        format!(
                            "unknown region \"{code}\"; known: {} (or [\"*\"] for all)",
                            known.join(", ")
                        ),
                    )
                })?;
                set |= 1 << index;
            }
            Regions(set)
        }
    };
    let mut regexes = Vec::new();
    let mut literals = Vec::new();
    for (i, c) in raw.custom.into_iter().enumerate() {
        let field = format!("redaction.custom[{i}]");
        if c.name.is_empty()
            || !c
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(invalid(
                &format!("{field}.name"),
                "must be lowercase letters, digits and `_`",
            ));
        }
        if detectors.iter().any(|d| *d.name == *c.name)
            || ["secrets", "pii", BUDGET_EXCEEDED].contains(&c.name.as_str())
        {
            return Err(invalid(
                &format!("{field}.name"),
                format!("`{}` is already a detector or a reserved name", c.name),
            ));
        }
        let det = u16::try_from(detectors.len()).map_err(|_| invalid(&field, "too many custom detectors"))?;
        match (c.regex, c.literals) {
            (Some(r), None) => {
                regexes.push(CustomRegex::new(det, &r).map_err(|e| invalid(&format!("{field}.regex"), e))?);
            }
            (None, Some(l)) => {
                if l.iter().any(|s| s.trim().len() < 2) {
                    return Err(invalid(
                        &format!("{field}.literals"),
                        "every literal needs at least 2 characters",
                    ));
                }
                literals.push((det, l.iter().map(|s| s.to_ascii_lowercase().into_bytes()).collect()));
            }
            _ => return Err(invalid(&field, "needs exactly one of `regex` or `literals`")),
        }
        detectors.push(Detector {
            label: format!("[{}]", c.name.to_ascii_uppercase()),
            name: c.name.into(),
            action: c.action,
        });
    }
    let hmac_key = raw.hmac_key.unwrap_or_default().into_bytes();
    if detectors.iter().any(|d| d.action == Action::Hash) && hmac_key.len() < 16 {
        return Err(invalid(
            "redaction.hmac_key",
            "a detector uses `hash`: set a secret key of at least 16 bytes",
        ));
    }
    let export_on: Vec<bool> = detectors.iter().map(|d| d.action != Action::Off).collect();
    // Literals of a detector that is off are not looked for at all.
    literals.retain(|(det, _): &(u16, Vec<Vec<u8>>)| export_on[usize::from(*det)]);
    let mut request_on = vec![false; detectors.len()];
    if raw.request.enabled {
        let names = if raw.request.detectors.is_empty() {
            detectors
                .iter()
                .filter(|d| d.action != Action::Off)
                .map(|d| d.name.to_string())
                .collect()
        } else {
            raw.request.detectors
        };
        for name in names {
            match detectors
                .iter()
                .position(|d| *d.name == *name && d.action != Action::Off)
            {
                Some(i) => request_on[i] = true,
                None => {
                    return Err(invalid(
                        "redaction.request.detectors",
                        format!("`{name}` is not an enabled detector"),
                    ))
                }
            }
        }
    }
    Ok(Redactor {
        engine: Engine::new(regions, &literals),
        detectors,
        export_on,
        request_on,
        regexes,
        hmac_key,
        identity: raw.identity || raw.user_id,
        budget_bytes: raw.custom_budget_bytes,
        spent: AtomicU64::new(0),
        enabled: true,
        source,
    })
}
