"""A PNG of one span in Phoenix's UI, by headless Chromium (Debian's `chromium` package): by default the replayed
OpenAI call with a tool call and its result in the request, opened through Phoenix's stable
`/redirects/spans/<span id>` URL (the project's span list with that span's trace open beside it). Set PHOENIX_SCREENSHOT=path
for `make e2e-phoenix` to take it at the end of the session."""
import os
import shutil
import subprocess
import tempfile

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
    # Big enough for the span panel; all compositor stages drawn, so the panel's slide-in is finished.
    "--window-size=1920,1080", "--run-all-compositor-stages-before-draw", "--virtual-time-budget=30000",
]


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        if path := shutil.which(name):
            return path
    raise RuntimeError("no chromium: `apt-get install chromium`")


def screenshot(phoenix, run, out_path: str, feature: str = "openai--oll-openai-test_chat_tool_calls-0"):
    span = run.by_feature(feature)
    url = f"{phoenix.url}/redirects/spans/{span['context']['spanId']}"
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                        f"--screenshot={os.path.abspath(out_path)}", url],
                       check=True, timeout=120, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(f"screenshot of {url} -> {out_path}")
