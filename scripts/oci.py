#!/usr/bin/env python3
"""Packages the filter's `.wasm` as an OCI image that Istio's `WasmPlugin` pulls, and pins it in the Istio manifest.

Format: the Wasm image spec's *compat* variant, which every Istio since 1.12 reads (istio/istio pkg/wasm
imagefetcher.go): an OCI image manifest whose last (here: only) layer is `application/vnd.oci.image.layer.v1.tar+gzip`
holding `plugin.wasm`, with the annotation `module.wasm.image/variant=compat`. The other variant Istio knows, the
OCI artifact with `application/vnd.module.wasm.content.layer.v1+wasm`, must have exactly two layers (Istio rejects a
single raw-wasm layer with "number of layers must be 2 but got 1"), and uses media types some registries refuse.

Output (python3 stdlib only, nothing downloaded):
  target/oci/llm-trace/      an OCI image layout: oci-layout, index.json, blobs/sha256/<digest>
  target/oci/llm-trace.tar   the same layout as one tar (an "oci-archive"), for `skopeo copy oci-archive:...`
  target/oci/llm-trace.digest  the manifest digest, `sha256:<hex>`
Reproducible: fixed mtimes (0), uid/gid 0, no user names, fixed member order, gzip without name or time, canonical
JSON; the same `.wasm` gives the same digests on any machine with the same zlib.

  python3 scripts/oci.py build [--wasm PATH] [--out DIR] [--tag TAG] [--pin FILE]
      builds, prints `manifest sha256:<hex>` (and the wasm's sha256), and with --pin rewrites the digest pinned in
      FILE (envoy/istio/llm-trace.yaml) when it differs.
  python3 scripts/oci.py check-pin [--wasm PATH] [--pin FILE] [--strict]
      builds into a temporary directory and says whether FILE pins that image; exit 1 when stale only with --strict.
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import sys
import tarfile
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_WASM = os.path.join(ROOT, "target", "wasm32-wasip1", "release", "llm_trace.wasm")
DEFAULT_OUT = os.path.join(ROOT, "target", "oci")
DEFAULT_PIN = os.path.join(ROOT, "envoy", "istio", "llm-trace.yaml")
NAME = "llm-trace"

MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
INDEX_TYPE = "application/vnd.oci.image.index.v1+json"
CONFIG_TYPE = "application/vnd.oci.image.config.v1+json"
LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"
WASM_FILE = "plugin.wasm"
VARIANT_ANNOTATION = "module.wasm.image/variant"
REF_ANNOTATION = "org.opencontainers.image.ref.name"


def canonical_json(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _tar_member(tar: tarfile.TarFile, name: str, data: bytes | None, mode: int):
    info = tarfile.TarInfo(name)
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = mode
    if data is None:
        info.type = tarfile.DIRTYPE
        tar.addfile(info)
    else:
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


def deterministic_tar(members: list[tuple[str, bytes | None]]) -> bytes:
    """A ustar archive of (name, bytes) files and (name, None) directories, in the order given."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in members:
            _tar_member(tar, name, data, 0o755 if data is None else 0o644)
    return buf.getvalue()


def deterministic_gzip(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=buf, mtime=0) as gz:
        gz.write(data)
    return buf.getvalue()


def image_blobs(wasm: bytes, tag: str) -> dict:
    """Every blob and document of the image, as bytes, with their digests."""
    if wasm[:4] != b"\0asm":
        raise ValueError("not a WebAssembly module (no \\0asm magic)")
    layer_tar = deterministic_tar([(WASM_FILE, wasm)])
    layer = deterministic_gzip(layer_tar)
    config = canonical_json({
        "architecture": "wasm",
        "os": "wasip1",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": [sha256(layer_tar)]},
    })
    manifest = canonical_json({
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": {"mediaType": CONFIG_TYPE, "digest": sha256(config), "size": len(config)},
        "layers": [{"mediaType": LAYER_TYPE, "digest": sha256(layer), "size": len(layer)}],
        "annotations": {VARIANT_ANNOTATION: "compat"},
    })
    index = canonical_json({
        "schemaVersion": 2,
        "mediaType": INDEX_TYPE,
        "manifests": [{"mediaType": MANIFEST_TYPE, "digest": sha256(manifest), "size": len(manifest),
                       "annotations": {REF_ANNOTATION: tag}}],
    })
    return {"layer": layer, "config": config, "manifest": manifest, "index": index,
            "oci-layout": canonical_json({"imageLayoutVersion": "1.0.0"}),
            "manifest_digest": sha256(manifest), "wasm_digest": sha256(wasm)}


def layout_members(image: dict) -> list[tuple[str, bytes | None]]:
    blobs = sorted({sha256(image[k]).split(":", 1)[1]: image[k] for k in ("layer", "config", "manifest")}.items())
    return ([("oci-layout", image["oci-layout"]), ("index.json", image["index"]), ("blobs/", None),
             ("blobs/sha256/", None)] + [(f"blobs/sha256/{hexdigest}", data) for hexdigest, data in blobs])


def build(wasm_path: str, out_dir: str, tag: str) -> dict:
    with open(wasm_path, "rb") as f:
        image = image_blobs(f.read(), tag)
    members = layout_members(image)
    layout_dir = os.path.join(out_dir, NAME)
    shutil.rmtree(layout_dir, ignore_errors=True)
    os.makedirs(layout_dir)
    for name, data in members:
        path = os.path.join(layout_dir, name)
        if data is None:
            os.makedirs(path, exist_ok=True)
        else:
            with open(path, "wb") as f:
                f.write(data)
    tar_path = os.path.join(out_dir, f"{NAME}.tar")
    with open(tar_path, "wb") as f:
        f.write(deterministic_tar(members))
    with open(os.path.join(out_dir, f"{NAME}.digest"), "w") as f:
        f.write(image["manifest_digest"] + "\n")
    return {"layout": layout_dir, "tar": tar_path, "manifest_digest": image["manifest_digest"],
            "wasm_digest": image["wasm_digest"], "tag": tag}


# The pin in the Istio manifest: `url: oci://<registry>/<path>/llm-trace@sha256:<hex>` and `sha256: <hex>`, both the
# *manifest* digest. Istio compares `sha256` with the pulled image's manifest digest for oci:// URLs (it is the
# checksum of the .wasm only for http(s) URLs), so the wasm's own sha256 goes in a comment.
URL_RE = re.compile(r"^(?P<head>\s*url:\s*oci://\S+?/" + NAME + r")(?:[:@]\S*)?\s*$", re.M)
SHA_RE = re.compile(r"^(?P<head>\s*sha256:\s*)(?P<hex>\S*)(?P<tail>.*)$", re.M)
WASM_RE = re.compile(r"^(?P<head>\s*#\s*wasm sha256:\s*)(?P<hex>\S*)\s*$", re.M)


def pinned(text: str) -> dict:
    url, sha, wasm = URL_RE.search(text), SHA_RE.search(text), WASM_RE.search(text)
    if not (url and sha and wasm):
        raise ValueError("no `url: oci://.../llm-trace@sha256:...`, `sha256:` and `# wasm sha256:` lines to pin")
    digest = re.search(r"@(sha256:[0-9a-f]{64})\s*$", url.group(0))
    return {"url_digest": digest.group(1) if digest else None, "sha256": sha.group("hex"),
            "wasm": wasm.group("hex")}


def rewrite_pin(text: str, manifest_digest: str, wasm_digest: str) -> str:
    pinned(text)  # fails loudly when the lines are missing
    hexdigest = manifest_digest.split(":", 1)[1]
    text = URL_RE.sub(lambda m: f"{m.group('head')}@{manifest_digest}", text, count=1)
    text = SHA_RE.sub(lambda m: f"{m.group('head')}{hexdigest}{m.group('tail')}", text, count=1)
    return WASM_RE.sub(lambda m: f"{m.group('head')}{wasm_digest.split(':', 1)[1]}", text, count=1)


def pin_is_current(text: str, manifest_digest: str) -> bool:
    p = pinned(text)
    return p["url_digest"] == manifest_digest and p["sha256"] == manifest_digest.split(":", 1)[1]


def default_tag() -> str:
    with open(os.path.join(ROOT, "Cargo.toml")) as f:
        match = re.search(r'^\[workspace\.package\][^\[]*?^version\s*=\s*"([^"]+)"', f.read(), re.M | re.S)
    return match.group(1) if match else "latest"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("build", "check-pin"):
        p = sub.add_parser(name)
        p.add_argument("--wasm", default=DEFAULT_WASM)
        p.add_argument("--tag", default=None)
        p.add_argument("--pin", default=None if name == "build" else DEFAULT_PIN)
        if name == "build":
            p.add_argument("--out", default=DEFAULT_OUT)
        else:
            p.add_argument("--strict", action="store_true", help="exit 1 when the pin is stale")
    args = parser.parse_args(argv)
    if not os.path.exists(args.wasm):
        print(f"{args.wasm} is missing: run `make wasm` first", file=sys.stderr)
        return 2
    tag = args.tag or default_tag()
    if args.command == "build":
        os.makedirs(args.out, exist_ok=True)
        result = build(args.wasm, args.out, tag)
        print(f"image    {os.path.relpath(result['layout'], os.getcwd())} (OCI layout), "
              f"{os.path.relpath(result['tar'], os.getcwd())} (oci-archive), tag {tag}")
        print(f"wasm     {result['wasm_digest']}")
        print(f"manifest {result['manifest_digest']}")
        if args.pin:
            with open(args.pin) as f:
                text = f.read()
            new = rewrite_pin(text, result["manifest_digest"], result["wasm_digest"])
            if new != text:
                with open(args.pin, "w") as f:
                    f.write(new)
                print(f"pinned   {os.path.relpath(args.pin, os.getcwd())} to {result['manifest_digest']}")
            else:
                print(f"pinned   {os.path.relpath(args.pin, os.getcwd())} already pins this image")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        result = build(args.wasm, tmp, tag)
    with open(args.pin) as f:
        text = f.read()
    if pin_is_current(text, result["manifest_digest"]):
        print(f"oci pin: {os.path.relpath(args.pin, ROOT)} pins the image of this build ({result['manifest_digest']})")
        return 0
    print(f"oci pin: {os.path.relpath(args.pin, ROOT)} pins {pinned(text)['url_digest']}, this build is "
          f"{result['manifest_digest']}: run `make oci` and commit the manifest when releasing", file=sys.stderr)
    return 1 if args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
