//! How a reported model name maps onto price-table keys: provider prefixes, Bedrock geographies, versions and
//! vendors, dated snapshots and aliases.

/// Provider-qualified table keys: litellm prefixes some providers' models (`gemini/`, `azure/`, `bedrock/<region>/`).
pub(super) fn qualified_keys(provider: &str, region: Option<&str>, name: &str) -> Vec<String> {
    let prefix = match provider {
        "azure.ai.openai" => Some("azure"),
        "gcp.gemini" => Some("gemini"),
        "gcp.vertex_ai" => Some("vertex_ai"),
        "mistral_ai" => Some("mistral"),
        "deepseek" => Some("deepseek"),
        "x_ai" => Some("xai"),
        "groq" => Some("groq"),
        "cohere" => Some("cohere"),
        "voyage_ai" => Some("voyage"),
        "ollama" => Some("ollama"),
        "moonshot_ai" => Some("moonshot"),
        _ => None,
    };
    let mut keys = Vec::with_capacity(3);
    if let (Some(region), "aws.bedrock") = (region, provider) {
        keys.push(format!("bedrock/{region}/{name}"));
    }
    if let Some(p) = prefix {
        keys.push(format!("{p}/{name}"));
    }
    keys.push(name.to_string());
    keys
}

/// Bedrock cross-region inference profiles prefix the model id with a geography.
const BEDROCK_GEOGRAPHIES: [&str; 8] = ["us.", "eu.", "apac.", "global.", "au.", "jp.", "ca.", "us-gov."];
/// Bedrock model ids start with the vendor (`anthropic.claude-...`); the vendor's own API drops it.
const BEDROCK_VENDORS: [&str; 8] = [
    "anthropic.",
    "meta.",
    "amazon.",
    "mistral.",
    "cohere.",
    "ai21.",
    "deepseek.",
    "openai.",
];

/// The name, then progressively more general spellings of it: without a path prefix (`models/`, `openai/`), without
/// Bedrock's geography, version and vendor, without a dated snapshot suffix (`-2024-08-06`, `-20250219`,
/// `@20240620`, `-latest`, `-001`).
pub(super) fn name_variants(name: &str) -> Vec<&str> {
    let bare = name.rsplit('/').next().unwrap_or(name);
    let no_geo = BEDROCK_GEOGRAPHIES
        .iter()
        .find_map(|g| bare.strip_prefix(g))
        .unwrap_or(bare);
    let no_version = strip_bedrock_version(no_geo);
    let no_vendor = BEDROCK_VENDORS
        .iter()
        .find_map(|v| no_version.strip_prefix(v))
        .unwrap_or(no_version);
    let mut out: Vec<&str> = Vec::with_capacity(10);
    for v in [name, bare, no_geo, no_version, no_vendor] {
        if !v.is_empty() && !out.contains(&v) {
            out.push(v);
        }
    }
    for i in 0..out.len() {
        if let Some(stripped) = out.get(i).and_then(|v| strip_snapshot(v)) {
            if !out.contains(&stripped) {
                out.push(stripped);
            }
        }
    }
    out
}

/// `-v1:0`, `-v2`, `:0` at the end of a Bedrock model id.
pub(super) fn strip_bedrock_version(id: &str) -> &str {
    let id = match id.rsplit_once(':') {
        Some((head, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => head,
        _ => id,
    };
    match id.rsplit_once("-v") {
        Some((head, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => head,
        _ => id,
    }
}

/// The name without a dated snapshot or alias suffix, if it has one.
pub(super) fn strip_snapshot(name: &str) -> Option<&str> {
    // Bytes, not `str` slices: the name is the caller's and may end in any character.
    let digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
    for alias in ["-latest", "@latest"] {
        if let Some(head) = name.strip_suffix(alias) {
            return Some(head);
        }
    }
    // -2024-08-06
    let bytes = name.as_bytes();
    if bytes.len() > 11 {
        let tail = &bytes[bytes.len() - 11..];
        if tail[0] == b'-'
            && tail[5] == b'-'
            && tail[8] == b'-'
            && digits(&tail[1..5])
            && digits(&tail[6..8])
            && digits(&tail[9..])
        {
            // The tail is ASCII, so the cut is on a character boundary.
            return name.get(..name.len() - 11);
        }
    }
    // -20250219, @20240620, -001
    let (head, tail) = name.rsplit_once(['-', '@'])?;
    if (tail.len() == 8 && tail.starts_with("20") || tail.len() == 3) && digits(tail.as_bytes()) {
        return Some(head);
    }
    None
}

/// The AWS region in a Bedrock endpoint host (`bedrock-runtime.us-east-1.amazonaws.com`).
pub(super) fn bedrock_region(host: Option<&str>) -> Option<&str> {
    let rest = host?.strip_prefix("bedrock-runtime.")?;
    let region = rest.split('.').next()?;
    (!region.is_empty() && rest.contains(".amazonaws.com")).then_some(region)
}
