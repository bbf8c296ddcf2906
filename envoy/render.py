#!/usr/bin/env python3
"""Fills `${NAME}` placeholders of an Envoy config template: render.py TEMPLATE OUTPUT NAME=VALUE..."""
import re
import sys


def render(template: str, values: dict) -> str:
    def substitute(match):
        name = match.group(1)
        if name not in values:
            raise KeyError(f"no value for ${{{name}}}")
        return values[name]

    return re.sub(r"\$\{([A-Z0-9_]+)\}", substitute, template)


if __name__ == "__main__":
    template_path, output_path, *pairs = sys.argv[1:]
    values = dict(pair.split("=", 1) for pair in pairs)
    with open(template_path) as f:
        text = render(f.read(), values)
    with open(output_path, "w") as f:
        f.write(text)
