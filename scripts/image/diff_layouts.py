#!/usr/bin/env python3
"""Lists what differs between two OCI image layouts, entry by entry, so a reproducibility failure names files.

    diff_layouts.py LAYOUT_A LAYOUT_B [--extract DIR]

Compares the configs (key by key) and every layer entry (type, mode, owner, time, size, SHA-256 of the
content, link target). With --extract, writes both versions of each differing regular file under
DIR/a and DIR/b, for diffoscope. Exits 1 when anything differs.
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile


def read(layout):
    def blob(digest):
        with open(os.path.join(layout, "blobs", *digest.split(":")), "rb") as handle:
            return handle.read()
    index = json.loads(open(os.path.join(layout, "index.json"), "rb").read())
    manifest = json.loads(blob(index["manifests"][0]["digest"]))
    config = json.loads(blob(manifest["config"]["digest"]))
    entries, contents = {}, {}
    for layer in manifest["layers"]:
        data = blob(layer["digest"])
        if layer["mediaType"].endswith("+gzip"):
            data = gzip.decompress(data)
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            for member in tar.getmembers():
                content = tar.extractfile(member).read() if member.isreg() else b""
                entries[member.name] = (member.type, oct(member.mode), f"{member.uid}:{member.gid}", member.mtime,
                                        member.size, hashlib.sha256(content).hexdigest()[:16], member.linkname)
                contents[member.name] = content
    return config, entries, contents


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--extract")
    arguments = parser.parse_args()
    config_a, entries_a, contents_a = read(arguments.a)
    config_b, entries_b, contents_b = read(arguments.b)
    differs = False
    for key in sorted(set(config_a) | set(config_b)):
        if config_a.get(key) != config_b.get(key):
            differs = True
            print(f"config {key}: {json.dumps(config_a.get(key))} != {json.dumps(config_b.get(key))}")
    fields = ("type", "mode", "owner", "mtime", "size", "sha256", "link")
    for name in sorted(set(entries_a) | set(entries_b)):
        a, b = entries_a.get(name), entries_b.get(name)
        if a == b:
            continue
        differs = True
        if a is None or b is None:
            print(f"{name}: only in {'B' if a is None else 'A'}")
            continue
        print(f"{name}: " + ", ".join(f"{field} {x} != {y}" for field, x, y in zip(fields, a, b) if x != y))
        if arguments.extract and contents_a[name] != contents_b[name]:
            for side, contents in (("a", contents_a), ("b", contents_b)):
                path = os.path.join(arguments.extract, side, name)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "wb") as handle:
                    handle.write(contents[name])
    sys.exit(1 if differs else 0)


if __name__ == "__main__":
    main()
