#!/usr/bin/env python3
"""Writes the enclave's runtime image as an OCI image layout, byte for byte the same from the same inputs.

    oci_image.py --root ROOT.tar --epoch SECONDS --output DIR [--add SRC=DEST[:MODE]]... [--config FILE]

ROOT.tar is the Debian root mmdebstrap made (itself reproducible under SOURCE_DATE_EPOCH); each --add puts a
file (or every file below a directory) at DEST in the image, owned by 0:0, mode MODE (octal; default: the
source's executable bit decides 0755 or 0644). --config is a JSON object with the image's Env, Entrypoint, Cmd,
ExposedPorts, Volumes and User. Prints the image digest (the manifest's, which `image: NAME@sha256:…` pins)
and writes DIR/packages.txt (every Debian package in the root, name=version) beside the layout.

Why our own writer rather than umoci: what makes an image reproducible is the layer tar (entry order, owners,
modes, times), the gzip header and the JSON of config and manifest. umoci 0.4 takes file times from the disk
and stamps history and `created` with the build's wall clock; here every one of those is fixed in this one
file an auditor can read in a few minutes:
  - one layer; entries sorted by path; apt's leftover state dropped (the image has no apt); directories the path needs are made 0755 0:0;
  - times clamped to the epoch (the last commit's time), so nothing records when the build ran;
  - our files are 0:0 with fixed modes; Debian's keep the owners and modes their packages give them;
  - gzip with mtime 0 and no file name, level 6 (zlib's output is fixed for a given zlib version);
  - JSON with sorted keys and no spaces; `created` is the epoch.
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import stat
import sys
import tarfile
import time

LAYER_MEDIA = "application/vnd.oci.image.layer.v1.tar+gzip"
CONFIG_MEDIA = "application/vnd.oci.image.config.v1+json"
MANIFEST_MEDIA = "application/vnd.oci.image.manifest.v1+json"
# apt's state, which mmdebstrap leaves in the root (lock files) though the essential variant has no apt.
DROPPED = ("var/lib/apt", "var/cache/apt")


def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


class Blobs:
    """The layout's content store: blobs/sha256/<digest>."""

    def __init__(self, output):
        self.directory = os.path.join(output, "blobs", "sha256")
        os.makedirs(self.directory, exist_ok=True)

    def put(self, data, media):
        digest = hashlib.sha256(data).hexdigest()
        with open(os.path.join(self.directory, digest), "wb") as handle:
            handle.write(data)
        return {"mediaType": media, "digest": "sha256:" + digest, "size": len(data)}


def relative(path):
    """`./usr/bin/x` and `usr/bin/x/` as `usr/bin/x`; the root itself as `.`."""
    path = path[2:] if path.startswith("./") else path
    return path.rstrip("/") or "."


def normalized(member, epoch):
    """`member` with its path in `./`-less form and its time clamped; no user or group names."""
    member.name = relative(member.name)
    if member.islnk():
        member.linkname = relative(member.linkname)
    member.mtime = min(int(member.mtime), epoch)
    member.uname = member.gname = ""
    member.pax_headers = {}
    return member


def additions(specs):
    """(DEST, SRC, MODE or None) for every file the --add options name, directories walked in sorted order."""
    for spec in specs:
        source, _, destination = spec.partition("=")
        destination, _, mode = destination.partition(":")
        mode = int(mode, 8) if mode else None
        if os.path.isdir(source):
            for directory, subdirectories, files in os.walk(source):
                subdirectories.sort()
                for name in sorted(files):
                    path = os.path.join(directory, name)
                    yield os.path.join(destination, os.path.relpath(path, source)).lstrip("/"), path, mode
        else:
            yield destination.lstrip("/"), source, mode


def build_layer(root_tar, specs, epoch):
    """The layer's tar bytes: the Debian root's entries and ours, one list sorted by path."""
    entries = {}
    with tarfile.open(root_tar) as root:
        for member in root.getmembers():
            member = normalized(member, epoch)
            if member.name == "." or member.name.startswith(DROPPED):
                continue
            data = root.extractfile(member).read() if member.isreg() else None
            entries[member.name] = (member, data)
    for destination, source, mode in additions(specs):
        with open(source, "rb") as handle:
            data = handle.read()
        if mode is None:
            mode = 0o755 if os.stat(source).st_mode & stat.S_IXUSR else 0o644
        info = tarfile.TarInfo(destination)
        info.size, info.mode, info.mtime, info.uid, info.gid = len(data), mode, epoch, 0, 0
        entries[destination] = (info, data)
        parent = os.path.dirname(destination)
        while parent and parent not in entries:
            directory = tarfile.TarInfo(parent)
            directory.type, directory.mode, directory.mtime = tarfile.DIRTYPE, 0o755, epoch
            entries[parent] = (directory, None)
            parent = os.path.dirname(parent)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as layer:
        for name in sorted(entries):
            member, data = entries[name]
            layer.addfile(member, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue(), entries


def packages(entries):
    """name=version (architecture) for every installed package in the root's dpkg status file."""
    status = entries.get("var/lib/dpkg/status", (None, b""))[1].decode()
    found = []
    for paragraph in status.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in paragraph.splitlines() if ": " in line and not line.startswith(" "))
        if fields.get("Status", "").endswith(" installed"):
            found.append(f"{fields['Package']}={fields['Version']} ({fields['Architecture']})")
    return sorted(found)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True)
    parser.add_argument("--epoch", required=True, type=int)
    parser.add_argument("--output", required=True)
    parser.add_argument("--add", action="append", default=[])
    parser.add_argument("--config", help="JSON file: Env, Entrypoint, Cmd, ExposedPorts, Volumes, User")
    parser.add_argument("--tag", default="latest")
    arguments = parser.parse_args()

    started = time.monotonic()
    if os.path.exists(arguments.output) and os.listdir(arguments.output):
        sys.exit(f"oci_image: {arguments.output} is not empty")
    layer, entries = build_layer(arguments.root, arguments.add, arguments.epoch)
    compressed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=compressed, mtime=0, compresslevel=6) as stream:
        stream.write(layer)

    blobs = Blobs(arguments.output)
    layer_descriptor = blobs.put(compressed.getvalue(), LAYER_MEDIA)
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(arguments.epoch))
    config = {
        "architecture": "amd64", "os": "linux", "created": created,
        "config": json.load(open(arguments.config)) if arguments.config else {},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]},
        "history": [{"created": created, "created_by": "scripts/image/build.sh (Debian root by mmdebstrap, then oci_image.py)"}],
    }
    config_descriptor = blobs.put(canonical(config), CONFIG_MEDIA)
    manifest = {"schemaVersion": 2, "mediaType": MANIFEST_MEDIA, "config": config_descriptor, "layers": [layer_descriptor]}
    manifest_descriptor = blobs.put(canonical(manifest), MANIFEST_MEDIA)
    manifest_descriptor["annotations"] = {"org.opencontainers.image.ref.name": arguments.tag}
    with open(os.path.join(arguments.output, "index.json"), "wb") as handle:
        handle.write(canonical({"schemaVersion": 2, "manifests": [manifest_descriptor]}))
    with open(os.path.join(arguments.output, "oci-layout"), "wb") as handle:
        handle.write(canonical({"imageLayoutVersion": "1.0.0"}))
    with open(os.path.join(os.path.dirname(os.path.abspath(arguments.output)), "packages.txt"), "w") as handle:
        handle.write("".join(line + "\n" for line in packages(entries)))
    print(f"oci_image: {len(entries)} entries, layer {len(layer) >> 20} MiB ({layer_descriptor['size'] >> 20} MiB gzip), "
          f"{time.monotonic() - started:.0f} s", file=sys.stderr)
    print(manifest_descriptor["digest"])


if __name__ == "__main__":
    main()
