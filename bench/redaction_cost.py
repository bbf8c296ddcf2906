"""Redaction's Wasm instructions per byte of content (issue 15's figure), for `make bench-redaction`.

For each fixture in host-tests/testdata/redaction-cost/ (1, 16 and 60 KB of real text, clean or dense with planted
findings), `wasm-cost --per-byte` plays the exchange with full capture, full capture without redaction, and capture
off; the figure is the log callback's fuel with redaction less without it, divided by the content bytes."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = ['clean-1k', 'clean-16k', 'clean-60k', 'dense-1k', 'dense-16k', 'dense-60k']


def main():
    tool = os.path.join(ROOT, 'target/release/wasm-cost')
    print(f"{'fixture':10} {'bytes':>7} {'per byte':>9}")
    for name in FIXTURES:
        path = os.path.join(ROOT, 'host-tests/testdata/redaction-cost', name + '.json')
        out = subprocess.run([tool, '--per-byte', '--iterations', '20', path], check=True, capture_output=True,
                             text=True).stdout
        figure = json.loads(out)
        print(f"{name:10} {figure['content_bytes']:>7} {figure['redaction_fuel_per_content_byte']:>9}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
