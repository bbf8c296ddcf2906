#!/usr/bin/env python3
"""Regenerates core/data/prices.json from the model price table that the `litellm` package ships on PyPI.

    python3 scripts/update_prices.py                      # newest litellm, retired models from 1.80.0
    python3 scripts/update_prices.py --version 1.111.0 --retired-from 1.80.0

The table keeps token prices only (input, output, cache read, cache write, reasoning, long-context
tiers, OpenAI priority/flex service tiers) for the providers the filter understands, as integers in micro-USD per
1M tokens (which is also pico-USD per token), so the filter computes cost with integer arithmetic.
Models that the newest release dropped (retired snapshots still seen in recorded traffic) are kept from an older
release and marked `"retired": true`.
"""
import argparse
import json
import pathlib
import re
import subprocess
import sys
import tempfile
import urllib.request
import zipfile

TABLE_IN_WHEEL = "litellm/model_prices_and_context_window_backup.json"
OUT = pathlib.Path(__file__).resolve().parent.parent / "core" / "data" / "prices.json"
PROVIDERS = {
    "openai", "text-completion-openai", "azure", "anthropic", "gemini", "vertex_ai-language-models",
    "vertex_ai-anthropic_models", "vertex_ai-embedding-models", "bedrock", "bedrock_converse", "mistral", "deepseek",
    "xai", "groq", "cohere", "cohere_chat", "voyage", "ollama", "moonshot",
}
MODES = {"chat", "completion", "responses", "embedding", None}
# litellm key -> our key, for the prices charged per token.
BASE = {
    "input_cost_per_token": "input",
    "output_cost_per_token": "output",
    "cache_read_input_token_cost": "cache_read",
    "cache_creation_input_token_cost": "cache_write",
}
TIER = re.compile(r"^(input_cost_per_token|output_cost_per_token|cache_read_input_token_cost|"
                  r"cache_creation_input_token_cost)_above_(\d+)k_tokens$")


def micro_per_million(usd_per_token):
    """USD per token -> integer micro-USD per 1M tokens (exact for every price the source lists)."""
    value = round(float(usd_per_token) * 1e12)
    if abs(value - float(usd_per_token) * 1e12) > 1e-3 * max(1, value):
        sys.exit(f"price {usd_per_token} is finer than one pico-USD per token")
    return value


def convert(entry):
    price = {}
    for key, ours in BASE.items():
        if entry.get(key) is not None:
            price[ours] = micro_per_million(entry[key])
    if entry.get("mode") == "embedding":
        price.setdefault("output", 0)  # embeddings generate nothing
    if "input" not in price or "output" not in price:
        return None
    if entry.get("output_cost_per_reasoning_token") is not None:
        reasoning = micro_per_million(entry["output_cost_per_reasoning_token"])
        if reasoning != price["output"]:
            price["reasoning"] = reasoning
    tiers = {}
    for key, value in entry.items():
        m = TIER.match(key)
        if m and value is not None:
            tiers.setdefault(int(m.group(2)) * 1000, {})[BASE[m.group(1)]] = micro_per_million(value)
    if tiers:
        price["tiers"] = [{"above": above, **p} for above, p in sorted(tiers.items())]
    for tier in ("priority", "flex"):
        t = {ours: micro_per_million(entry[f"{key}_{tier}"]) for key, ours in BASE.items()
             if entry.get(f"{key}_{tier}") is not None}
        if "input" in t and "output" in t:
            price[tier] = t
    return price


def fetch(version, workdir):
    """Downloads the litellm wheel (no dependencies) and returns (version, upload date, table)."""
    spec = f"litellm=={version}" if version else "litellm"
    dest = pathlib.Path(workdir) / (version or "newest")
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(dest), spec], check=True)
    wheel = next(dest.glob("litellm-*.whl"))
    found = wheel.name.split("-")[1]
    with zipfile.ZipFile(wheel) as z:
        table = json.loads(z.read(TABLE_IN_WHEEL))
    with urllib.request.urlopen("https://pypi.org/pypi/litellm/json") as r:
        date = json.load(r)["releases"][found][0]["upload_time"][:10]
    return found, date, table


def select(table):
    out = {}
    for name, entry in table.items():
        if not isinstance(entry, dict) or entry.get("litellm_provider") not in PROVIDERS:
            continue
        if entry.get("mode") not in MODES:
            continue
        price = convert(entry)
        if price is not None:
            out[name] = price
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", help="litellm release to read (default: newest on PyPI)")
    p.add_argument("--retired-from", default="1.80.0", help="older release whose dropped models are kept")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        version, date, table = fetch(args.version, tmp)
        old_version, old_date, old_table = fetch(args.retired_from, tmp)
    models = select(table)
    retired = 0
    for name, price in select(old_table).items():
        if name not in table:
            models[name] = {**price, "retired": True}
            retired += 1
    lines = [f"    {json.dumps(name)}: {json.dumps(models[name], separators=(',', ':'))}" for name in sorted(models)]
    header = {
        "source": "litellm model_prices_and_context_window.json, from the litellm wheel on PyPI",
        "version": f"litellm-{version}",
        "date": date,
        "retired_from": {"version": f"litellm-{old_version}", "date": old_date},
        "unit": "micro-USD per 1M tokens",
        "generated_by": "scripts/update_prices.py",
    }
    text = json.dumps(header, indent=2)[:-2] + ',\n  "models": {\n' + ",\n".join(lines) + "\n  }\n}\n"
    json.loads(text)
    OUT.write_text(text)
    print(f"{OUT}: {len(models)} models ({retired} retired, from litellm {old_version}), litellm {version} of {date}")


if __name__ == "__main__":
    main()
