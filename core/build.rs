//! Compiles `data/prices.json` (made by `scripts/update_prices.py`) into a compact static table sorted by model name:
//! no parsing at start-up, no heap per worker, about 60 bytes per model in the `.wasm`.
//!
//! Prices are `u32` micro-USD per 1M tokens (the largest listed is 600,000,000); `u32::MAX` marks a missing price.

use serde_json::{Map, Value};
use std::error::Error;
use std::fmt::Write as _;

const RATE_FIELDS: [&str; 4] = ["input", "output", "cache_read", "cache_write"];

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo::rerun-if-changed=data/prices.json");
    let text = std::fs::read_to_string("data/prices.json")?;
    let table: Value = serde_json::from_str(&text)?;
    let models = table["models"]
        .as_object()
        .ok_or("data/prices.json: `models` is not an object")?;
    let mut names: Vec<&String> = models.keys().collect();
    names.sort();

    let mut out = String::new();
    for key in ["version", "date"] {
        let value = table[key]
            .as_str()
            .ok_or(format!("data/prices.json: `{key}` missing"))?;
        writeln!(out, "pub(crate) const TABLE_{}: &str = {value:?};", key.to_uppercase())?;
    }
    let retired = table["retired_from"]["version"]
        .as_str()
        .ok_or("data/prices.json: `retired_from` missing")?;
    writeln!(out, "pub(crate) const RETIRED_VERSION: &str = {retired:?};")?;
    let mut rows = String::new();
    let mut extras = String::new();
    let mut extra_count = 0u16;
    for name in names {
        let m = models[name].as_object().ok_or(format!("{name}: not an object"))?;
        let has_extra = m.contains_key("tiers") || m.contains_key("priority") || m.contains_key("flex");
        let extra = if has_extra {
            writeln!(
                extras,
                "Extra {{ tiers: &[{}], priority: {}, flex: {} }},",
                tiers(m)?,
                sub_rates(m.get("priority"))?,
                sub_rates(m.get("flex"))?
            )?;
            extra_count += 1;
            extra_count - 1
        } else {
            u16::MAX
        };
        let mut rates = rate_list(m)?;
        rates.push(price(m.get("reasoning"))?);
        let retired = m.get("retired").and_then(Value::as_bool).unwrap_or(false);
        writeln!(rows, "Row({name:?}, [{}], {extra}, {retired}),", rates.join(", "))?;
    }
    writeln!(out, "pub(crate) static MODELS: &[Row] = &[\n{rows}];")?;
    writeln!(out, "pub(crate) static EXTRAS: &[Extra] = &[\n{extras}];")?;
    let dest = std::path::Path::new(&std::env::var("OUT_DIR")?).join("price_table.rs");
    std::fs::write(dest, out)?;
    Ok(())
}

fn price(v: Option<&Value>) -> Result<String, Box<dyn Error>> {
    Ok(match v {
        None | Some(Value::Null) => "NONE".to_string(),
        Some(v) => {
            let n = v.as_u64().ok_or(format!("price {v} is not a whole number"))?;
            let n = u32::try_from(n)
                .ok()
                .filter(|n| *n != u32::MAX)
                .ok_or(format!("price {n} is too large"))?;
            n.to_string()
        }
    })
}

fn rate_list(m: &Map<String, Value>) -> Result<Vec<String>, Box<dyn Error>> {
    RATE_FIELDS.iter().map(|k| price(m.get(*k))).collect()
}

fn sub_rates(v: Option<&Value>) -> Result<String, Box<dyn Error>> {
    match v.and_then(Value::as_object) {
        None => Ok("[NONE; 4]".to_string()),
        Some(m) => Ok(format!("[{}]", rate_list(m)?.join(", "))),
    }
}

fn tiers(m: &Map<String, Value>) -> Result<String, Box<dyn Error>> {
    let mut out = String::new();
    for t in m.get("tiers").and_then(Value::as_array).into_iter().flatten() {
        let above = t["above"]
            .as_u64()
            .and_then(|a| u32::try_from(a).ok())
            .ok_or("tier without `above`")?;
        let t = t.as_object().ok_or("tier is not an object")?;
        write!(out, "({above}, [{}]),", rate_list(t)?.join(", "))?;
    }
    Ok(out)
}
