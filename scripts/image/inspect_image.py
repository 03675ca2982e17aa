#!/usr/bin/env python3
"""Facts about an OCI image layout that an auditor checks, as one JSON object on stdout.

    inspect_image.py LAYOUT

  digest            the manifest's digest (what a compose file pins)
  entries           how many entries the layers hold
  compilers         paths of compilers, assemblers or linkers (none may be there)
  caches            package caches and lists (apt archives and lists, pip caches)
  histories         shell or tool history files
  owners            every uid:gid that owns an entry, with a count
  our_files         the files the build adds, with owner and mode
  build_user_files  entries owned by the user running this (when that is not root)
  config            the image configuration's `config` object
"""
import collections
import gzip
import hashlib
import json
import os
import sys
import tarfile

COMPILERS = ("cc", "gcc", "g++", "c++", "clang", "clang++", "swift", "swiftc", "swift-frontend", "ld", "ld.bfd", "ld.gold", "ld.lld", "as", "rustc", "go", "tcc")
OURS = ("usr/local/bin/", "usr/share/oauth3-enclave/")


def blob(layout, digest):
    with open(os.path.join(layout, "blobs", *digest.split(":")), "rb") as handle:
        data = handle.read()
    assert hashlib.sha256(data).hexdigest() == digest.split(":")[1], f"blob {digest} does not match its digest"
    return data


def main():
    layout = sys.argv[1]
    index = json.loads(open(os.path.join(layout, "index.json"), "rb").read())
    descriptor = index["manifests"][0]
    manifest = json.loads(blob(layout, descriptor["digest"]))
    config = json.loads(blob(layout, manifest["config"]["digest"]))
    facts = {"digest": descriptor["digest"], "entries": 0, "compilers": [], "caches": [], "histories": [],
             "owners": collections.Counter(), "our_files": {}, "build_user_files": [], "config": config.get("config", {})}
    me = os.getuid()
    for layer in manifest["layers"]:
        data = blob(layout, layer["digest"])
        if layer["mediaType"].endswith("+gzip"):
            data = gzip.decompress(data)
        with tarfile.open(fileobj=__import__("io").BytesIO(data)) as tar:
            for member in tar.getmembers():
                name = member.name
                facts["entries"] += 1
                facts["owners"][f"{member.uid}:{member.gid}"] += 1
                base = os.path.basename(name)
                if (member.isfile() or member.issym()) and "/bin/" in "/" + name and base in COMPILERS:
                    facts["compilers"].append(name)
                if member.isfile() and (name.startswith(("var/cache/apt/archives/", "var/lib/apt/lists/", "root/.cache/")) or name.endswith(".deb")):
                    facts["caches"].append(name)
                if base in (".bash_history", ".python_history", ".sh_history", ".zsh_history", ".lesshst", ".viminfo"):
                    facts["histories"].append(name)
                if member.isfile() and name.startswith(OURS):
                    facts["our_files"][name] = f"{member.uid}:{member.gid} {oct(member.mode)}"
                if me != 0 and (member.uid == me or member.gid == os.getgid()):
                    facts["build_user_files"].append(name)
    json.dump(facts, sys.stdout, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
