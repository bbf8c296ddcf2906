"""Derives the Azure OpenAI and OpenAI-compatible (Mistral) fixtures from our OpenAI ones, applying each vendor's
real wire differences (Azure: deployment path, api-key header, no model in the body, content-filter results, an
empty first stream chunk; Mistral: its host, model naming and its plain usage object)."""
import json, os, re
here = os.path.dirname(os.path.abspath(__file__))
load = lambda n: json.load(open(os.path.join(here, n)))
def save(name, d):
    with open(os.path.join(here, name), "w") as f:
        json.dump(d, f, indent=2, ensure_ascii=False); f.write("\n")

FILTER = {"hate": {"filtered": False, "severity": "safe"}, "self_harm": {"filtered": False, "severity": "safe"},
          "sexual": {"filtered": False, "severity": "safe"}, "violence": {"filtered": False, "severity": "safe"}}
AZURE_HEADERS = {"apim-request-id": "5d1c2b3a-0f9e-4d8c-b7a6-958473621a0b", "azureml-model-session": "d241-20251010093212",
                 "x-ms-region": "Sweden Central", "x-ms-rai-invoked": "true", "x-ms-deployment-name": "gpt-4o-mini-prod",
                 "x-ratelimit-remaining-requests": "249", "x-ratelimit-remaining-tokens": "249972",
                 "x-content-type-options": "nosniff", "strict-transport-security": "max-age=31536000; includeSubDomains; preload"}
URL = "https://llmtrace-fx.openai.azure.com/openai/deployments/gpt-4o-mini-prod/chat/completions?api-version=2024-10-21"

def azure_request(d):
    body = json.loads(d["request"]["body"]); body.pop("model", None)
    text = json.dumps(body)
    h = {k: v for k, v in d["request"]["headers"].items() if not k.startswith("x-stainless")}
    h.update({"host": "llmtrace-fx.openai.azure.com", "api-key": "<redacted>", "content-length": str(len(text)),
              "user-agent": "AzureOpenAI/Python 1.109.1"})
    d["request"].update(url=URL, headers=h, body=text)

d = load("openai-chat.json")
d["name"] = "fixture-azure-openai-chat"
d["source"] = "llm-trace fixture (derive_vendors.py), Azure OpenAI wire shape as in shared/captures azure.* exchanges"
azure_request(d)
resp = json.loads(d["response"]["body"])
resp.pop("service_tier", None)
resp["prompt_filter_results"] = [{"prompt_index": 0, "content_filter_results": FILTER}]
resp["choices"][0]["content_filter_results"] = FILTER
d["response"]["body"] = json.dumps(resp)
d["response"]["headers"] = {"content-type": "application/json", "content-length": str(len(d["response"]["body"])),
                            "date": "Tue, 14 Oct 2025 09:20:01 GMT", **AZURE_HEADERS}
d["expect"].update(provider="azure.ai.openai", request_model="gpt-4o-mini-prod")
save("azure-openai-chat.json", d)

d = load("openai-chat-stream-usage-only-chunk.json")
d["name"] = "fixture-azure-openai-chat-stream"
d["source"] = "llm-trace fixture (derive_vendors.py), Azure OpenAI stream: first chunk has no choices and an empty model"
azure_request(d)
first = {"choices": [], "created": 0, "id": "", "model": "", "object": "",
         "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": FILTER}]}
body = d["response"]["body"].replace(',"obfuscation":', ',"_o":')
body = re.sub(r',"_o":"[^"]*"', "", body)
d["response"]["body"] = "data: " + json.dumps(first, separators=(",", ":")) + "\n\n" + body
d["response"]["headers"] = {"content-type": "text/event-stream; charset=utf-8", "transfer-encoding": "chunked",
                            "date": "Tue, 14 Oct 2025 09:21:01 GMT", **AZURE_HEADERS}
d["expect"].update(provider="azure.ai.openai", request_model="gpt-4o-mini-prod")
save("azure-openai-chat-stream.json", d)

d = load("openai-chat.json")
d["name"] = "fixture-mistral-chat"
d["source"] = "llm-trace fixture (derive_vendors.py), Mistral's OpenAI-compatible API as in shared/captures mistral exchanges"
body = json.loads(d["request"]["body"]); body["model"] = "mistral-small-latest"
text = json.dumps(body)
h = {k: v for k, v in d["request"]["headers"].items() if not k.startswith("x-stainless")}
h.update({"host": "api.mistral.ai", "content-length": str(len(text)), "user-agent": "mistral-client-python/1.9.11"})
d["request"].update(url="https://api.mistral.ai/v1/chat/completions", headers=h, body=text)
resp = {"id": "0f3c6a1e2b8d4c5fa7e9b1d3c5e7f901", "object": "chat.completion", "created": 1760433601,
        "model": "mistral-small-latest",
        "choices": [{"index": 0, "message": {"role": "assistant", "tool_calls": None, "content": "Titan, Saturn's largest moon."},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 21, "total_tokens": 30, "completion_tokens": 9}}
d["response"]["body"] = json.dumps(resp, separators=(",", ":"))
d["response"]["headers"] = {"content-type": "application/json", "content-length": str(len(d["response"]["body"])),
                            "date": "Tue, 14 Oct 2025 09:25:01 GMT", "server": "cloudflare",
                            "x-ratelimitbysize-remaining-minute": "499979", "x-kong-upstream-latency": "311"}
d["expect"].update(provider="mistral_ai", request_model="mistral-small-latest", response_model="mistral-small-latest",
                   input_tokens=21, output_tokens=9, input_tokens_total=21, output_tokens_total=9,
                   cache_read_tokens=None, cache_write_tokens=None, reasoning_tokens=None)
save("mistral-chat.json", d)
