#!/usr/bin/env python3
"""Checks the image `make oci` builds (scripts/oci.py): the OCI layout, media types, that every blob's digest and
size match its content and descriptor, that the manifest references the config and one layer holding the .wasm as
`plugin.wasm` (extracted the way Istio's image fetcher does), that the tarball holds the same layout, that the
digest printed is the manifest's, that two builds are byte-identical, and that the Istio manifest's pin can be
rewritten. `python3 scripts/test_oci.py` (stdlib only; `make oci-check`). Uses the real .wasm when it exists
(WASM=path to choose), otherwise a synthetic module."""
import gzip
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import oci  # noqa: E402

WASM = os.environ.get("WASM", oci.DEFAULT_WASM)


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class OciImage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.wasm_path = WASM
        if not os.path.exists(cls.wasm_path):
            cls.wasm_path = os.path.join(cls.tmp.name, "synthetic.wasm")
            with open(cls.wasm_path, "wb") as f:
                f.write(b"\0asm\x01\0\0\0" + bytes(range(256)) * 4)
        with open(cls.wasm_path, "rb") as f:
            cls.wasm = f.read()
        cls.out = os.path.join(cls.tmp.name, "out")
        run = subprocess.run([sys.executable, os.path.join(HERE, "oci.py"), "build", "--wasm", cls.wasm_path,
                              "--out", cls.out, "--tag", "test"], capture_output=True, text=True, check=True)
        cls.stdout = run.stdout
        cls.layout = os.path.join(cls.out, oci.NAME)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def read(self, *parts) -> bytes:
        with open(os.path.join(self.layout, *parts), "rb") as f:
            return f.read()

    def blob(self, digest: str) -> bytes:
        algorithm, hexdigest = digest.split(":", 1)
        self.assertEqual(algorithm, "sha256")
        return self.read("blobs", "sha256", hexdigest)

    def manifest_descriptor(self) -> dict:
        index = json.loads(self.read("index.json"))
        self.assertEqual(index["schemaVersion"], 2)
        self.assertEqual(index["mediaType"], "application/vnd.oci.image.index.v1+json")
        self.assertEqual(len(index["manifests"]), 1)
        descriptor = index["manifests"][0]
        self.assertEqual(descriptor["mediaType"], "application/vnd.oci.image.manifest.v1+json")
        self.assertEqual(descriptor["annotations"]["org.opencontainers.image.ref.name"], "test")
        return descriptor

    def manifest(self) -> dict:
        descriptor = self.manifest_descriptor()
        data = self.blob(descriptor["digest"])
        self.assertEqual(len(data), descriptor["size"])
        return json.loads(data)

    def test_layout_marker(self):
        self.assertEqual(json.loads(self.read("oci-layout")), {"imageLayoutVersion": "1.0.0"})

    def test_every_blob_is_named_by_the_digest_of_its_content(self):
        blobs = os.listdir(os.path.join(self.layout, "blobs", "sha256"))
        self.assertEqual(len(blobs), 3, "manifest, config and one layer")
        for name in blobs:
            self.assertRegex(name, r"^[0-9a-f]{64}$")
            self.assertEqual(hashlib.sha256(self.read("blobs", "sha256", name)).hexdigest(), name)

    def test_manifest_references_the_config_and_a_single_wasm_layer(self):
        manifest = self.manifest()
        self.assertEqual(manifest["schemaVersion"], 2)
        self.assertEqual(manifest["mediaType"], "application/vnd.oci.image.manifest.v1+json")
        self.assertEqual(manifest["annotations"], {"module.wasm.image/variant": "compat"})
        self.assertEqual(manifest["config"]["mediaType"], "application/vnd.oci.image.config.v1+json")
        config = self.blob(manifest["config"]["digest"])
        self.assertEqual(len(config), manifest["config"]["size"])
        self.assertEqual(len(manifest["layers"]), 1)
        layer = manifest["layers"][0]
        self.assertEqual(layer["mediaType"], "application/vnd.oci.image.layer.v1.tar+gzip")
        data = self.blob(layer["digest"])
        self.assertEqual(len(data), layer["size"])
        referenced = {manifest["config"]["digest"], layer["digest"], self.manifest_descriptor()["digest"]}
        on_disk = {"sha256:" + n for n in os.listdir(os.path.join(self.layout, "blobs", "sha256"))}
        self.assertEqual(referenced, on_disk, "no blob missing, none unreferenced")
        # The config's diff_id is the digest of the uncompressed layer.
        self.assertEqual(json.loads(config)["rootfs"], {"type": "layers", "diff_ids": [digest_of(gzip.decompress(data))]})

    def test_the_layer_yields_the_wasm_the_way_istio_extracts_it(self):
        # istio/istio pkg/wasm/imagefetcher.go, compat variant: the last layer, of the OCI tar+gzip media type,
        # gunzipped, the first tar member whose base name is plugin.wasm; then the \0asm magic is checked.
        layer = self.manifest()["layers"][-1]
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(self.blob(layer["digest"]))), mode="r:") as tar:
            members = tar.getmembers()
            self.assertEqual([m.name for m in members], ["plugin.wasm"])
            self.assertTrue(members[0].isfile())
            self.assertEqual(tar.extractfile(members[0]).read(), self.wasm)
        self.assertEqual(self.wasm[:4], b"\0asm")

    def test_printed_digest_is_the_manifests(self):
        printed = re.search(r"^manifest (sha256:[0-9a-f]{64})$", self.stdout, re.M).group(1)
        self.assertEqual(printed, self.manifest_descriptor()["digest"])
        self.assertEqual(printed, digest_of(self.blob(printed)))
        with open(os.path.join(self.out, f"{oci.NAME}.digest")) as f:
            self.assertEqual(f.read().strip(), printed)
        self.assertIn(f"wasm     {digest_of(self.wasm)}", self.stdout)

    def test_tarball_holds_the_layout(self):
        with tarfile.open(os.path.join(self.out, f"{oci.NAME}.tar"), mode="r:") as tar:
            members = tar.getmembers()
            files = {m.name: tar.extractfile(m).read() for m in members if m.isfile()}
        self.assertEqual(members[0].name, "oci-layout", "an oci-archive: the layout at the root of the tar")
        on_disk = {}
        for dirpath, _, names in os.walk(self.layout):
            for name in names:
                path = os.path.join(dirpath, name)
                with open(path, "rb") as f:
                    on_disk[os.path.relpath(path, self.layout)] = f.read()
        self.assertEqual(files, on_disk)
        for m in members:
            self.assertEqual((m.mtime, m.uid, m.gid, m.uname, m.gname), (0, 0, 0, "", ""), m.name)

    def test_same_wasm_same_bytes(self):
        other = os.path.join(self.tmp.name, "again")
        os.makedirs(other)
        result = oci.build(self.wasm_path, other, "test")
        for name in (f"{oci.NAME}.tar", f"{oci.NAME}.digest"):
            with open(os.path.join(self.out, name), "rb") as a, open(os.path.join(other, name), "rb") as b:
                self.assertEqual(a.read(), b.read(), name)
        self.assertEqual(result["manifest_digest"], self.manifest_descriptor()["digest"])

    def test_a_different_wasm_gives_a_different_digest(self):
        changed = oci.image_blobs(self.wasm + b"\0", "test")["manifest_digest"]
        self.assertNotEqual(changed, self.manifest_descriptor()["digest"])

    def test_the_istio_manifest_pin_is_rewritten(self):
        with open(oci.DEFAULT_PIN) as f:
            text = f.read()
        oci.pinned(text)  # the committed manifest has the lines `make oci` rewrites
        digest = self.manifest_descriptor()["digest"]
        new = oci.rewrite_pin(text, digest, digest_of(self.wasm))
        self.assertTrue(oci.pin_is_current(new, digest))
        self.assertIn(f"/llm-trace@{digest}\n", new)
        self.assertIn(f"sha256: {digest.split(':')[1]}\n", new)
        self.assertEqual(oci.rewrite_pin(new, digest, digest_of(self.wasm)), new, "idempotent")
        self.assertEqual(len(new.splitlines()), len(text.splitlines()), "only the pinned lines change")


if __name__ == "__main__":
    unittest.main(verbosity=2)
