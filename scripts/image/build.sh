#!/usr/bin/env bash
# `make image`: the runtime image as an OCI image layout, from this machine kind's own sources only (Debian's
# packages, PyPI, the Swift toolchain): no container registry, no Docker engine. Prints the image digest.
#
#   scripts/image/build.sh [--output DIR] [--binaries DIR]
#
#   --output DIR     where the layout goes (default .build/image): DIR/oci (the OCI image layout), DIR/packages.txt
#                    (every Debian package in the image, name=version: the manifest shipped beside the image),
#                    DIR/build-info.txt (commit, SOURCE_DATE_EPOCH, toolchain, Swift package versions), DIR/digest.
#   --binaries DIR   take oauth3-enclave and oauth3-jail from DIR (e.g. .build/debug, which `make test` already
#                    built) instead of a release build, and add the Swift runtime libraries they link where their
#                    RUNPATH looks. Such an image is for tests only: its digest is not the release digest.
#
# Inputs, each pinned:
#   - the release binaries: `swift build -c release --static-swift-stdlib` of a clean copy of the commit in one
#     fixed folder (below: why), that folder mapped to /src in what the compiler writes (-file-prefix-map,
#     -ffile-prefix-map), then stripped of debug sections and normalized (normalize_elf.py), so a checkout in
#     another folder gives the same bytes;
#   - Deno 2.9.8: the PyPI wheel by SHA-256 (dstack/deno-requirements.txt), then the binary by SHA-256;
#   - a Debian bookworm root made by mmdebstrap (--variant=essential: no apt, no package caches) from
#     deb.debian.org with SOURCE_DATE_EPOCH, which mmdebstrap makes reproducible for the same package versions;
#   - policies/ and dstack/entrypoint.sh from the checkout.
# SOURCE_DATE_EPOCH is the time of the last commit that touched the image's inputs, unless set. scripts/image/oci_image.py writes the layer and JSON.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd -P)
output=.build/image
binaries=""
while [ $# -gt 0 ]; do
  case "$1" in
    --output) output=$2; shift 2 ;;
    --binaries) binaries=$2; shift 2 ;;
    *) echo "build.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
# The time of the last commit that changed what goes into the image, not of the last commit: pinning the
# digest in the compose file (a later commit, scripts/image/pin.sh) must not change the digest it pins.
# (Only what decides the image's bytes: the test and verification scripts beside this one are not inputs.)
IMAGE_INPUTS=(Package.swift Sources policies dstack/entrypoint.sh dstack/deno-requirements.txt
  scripts/image/build.sh scripts/image/oci_image.py scripts/image/normalize_elf.py scripts/image/config.json)
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct -- "${IMAGE_INPUTS[@]}")}
DENO_SHA256=368bca08999e02c6911b8f248167b582276b1f547db5712b6e736d7eda1dbda7
# Runtime libraries only (why each: dstack/Dockerfile): the jail's libseccomp and libcap, SQLite, libstdc++,
# libcurl (FoundationNetworking), CA certificates, curl (the compose health check), mount and setpriv (the
# entrypoint; setpriv is in util-linux).
PACKAGES=libseccomp2,libcap2,libsqlite3-0,libstdc++6,libcurl4,ca-certificates,curl,mount,util-linux
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

for tool in mmdebstrap python3; do
  command -v "$tool" >/dev/null || { echo "build.sh: $tool is missing: run scripts/setup.sh" >&2; exit 1; }
done
rm -rf "$output"
mkdir -p "$output/work/bin"
work=$(cd "$output/work" && pwd -P)
started=$(date +%s)

# 1. The binaries.
# The release build runs in one fixed folder, a clean copy of the commit (`git archive`), whatever folder the
# checkout is in: -file-prefix-map alone did not make two folders give one binary. Swift 6.3.1 remaps a
# #filePath string but passes its *unmapped* length to swift_isEscapingClosureAtFileLocation (four `mov $len`
# immediates in GRDB and HummingbirdCore differed by exactly the folders' length difference), and
# `.swift_modhash` hashes LLVM modules named by absolute path. The fixed folder removes both causes;
# normalize_elf.py zeroes the hashes anyway and recomputes the build id from the content. The folder is
# emptied first (a clean build every time) and held with flock, so two builds never share it.
BUILD_ROOT=${IMAGE_BUILD_ROOT:-/var/tmp/oauth3-enclave-image-build}
if [ -z "$binaries" ]; then
  mkdir -p "$BUILD_ROOT"
  exec 9>"$BUILD_ROOT.lock"
  flock 9
  rm -rf "$BUILD_ROOT/src"
  mkdir -p "$BUILD_ROOT/src"
  git archive --format=tar HEAD | tar -x -C "$BUILD_ROOT/src"
  [ -z "$(git status --porcelain --untracked-files=no)" ] || echo "build.sh: uncommitted changes are not in the release build: it builds commit $(git rev-parse --short HEAD)"
  flags=(-c release --static-swift-stdlib -Xswiftc -file-prefix-map -Xswiftc "$BUILD_ROOT/src=/src" -Xcc "-ffile-prefix-map=$BUILD_ROOT/src=/src")
  for product in oauth3-enclave oauth3-jail; do
    (cd "$BUILD_ROOT/src" && swift build "${flags[@]}" --product "$product")
  done
  binaries=$(cd "$BUILD_ROOT/src" && swift build "${flags[@]}" --show-bin-path)
  test_runtime=""
else
  test_runtime=1
fi
for program in oauth3-enclave oauth3-jail; do
  if [ -z "$test_runtime" ]; then
    objcopy --strip-debug --remove-section=.comment "$binaries/$program" "$work/bin/$program"
    /usr/bin/python3 scripts/image/normalize_elf.py "$work/bin/$program"
  else
    cp "$binaries/$program" "$work/bin/$program"
  fi
done

# What an auditor needs to repeat the build later: the toolchain and the Swift packages' resolved versions
# (Package.resolved is not committed; the machine's package copies fix them), beside the image.
{
  echo "commit $(git rev-parse HEAD)$([ -z "$(git status --porcelain --untracked-files=no)" ] || echo ' (with uncommitted changes)')"
  echo "SOURCE_DATE_EPOCH $SOURCE_DATE_EPOCH"
  echo "swift $(swift --version 2>/dev/null | head -1)"
  if [ -n "$test_runtime" ]; then echo "binaries: $binaries (a TEST image)"; fi
  if [ -f Package.resolved ]; then
    /usr/bin/python3 -c 'import json; [print("package", p["location"], p["state"].get("version") or p["state"].get("revision")) for p in json.load(open("Package.resolved"))["pins"]]'
  fi
} > "$output/build-info.txt"

# 2. Deno, by the wheel's hash and then the binary's.
cache=.build/image-cache
mkdir -p "$cache"
python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: --require-hashes \
  -r dstack/deno-requirements.txt -d "$cache"
python3 - "$cache"/deno-2.9.8-py3-none-manylinux_2_27_x86_64.whl "$work/bin/deno" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, open(sys.argv[2], "wb") as out:
    out.write(wheel.read("deno-2.9.8.data/scripts/deno"))
PY
echo "$DENO_SHA256  $work/bin/deno" | sha256sum -c --quiet -

# 3. The Debian root.
echo "build.sh: making the Debian bookworm root with mmdebstrap (SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH)"
mmdebstrap --quiet --variant=essential --include="$PACKAGES" \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  bookworm "$work/root.tar" "$MIRROR"

# 4. The layout.
adds=(
  "$work/bin/oauth3-enclave=/usr/local/bin/oauth3-enclave:0755"
  "$work/bin/oauth3-jail=/usr/local/bin/oauth3-jail:0755"
  "$work/bin/deno=/usr/local/bin/deno:0755"
  "policies=/usr/share/oauth3-enclave/policies:0644"
  "dstack/entrypoint.sh=/usr/local/bin/oauth3-enclave-entrypoint:0755"
)
if [ -n "$test_runtime" ]; then
  # The Swift runtime a non-static build links, at the path its RUNPATH names.
  while read -r library; do
    adds+=("$library=$library:0644")
  done < <(ldd "$work/bin/oauth3-enclave" "$work/bin/oauth3-jail" | awk '$3 ~ "^/opt/swift/" {print $3}' | sort -u)
fi
arguments=()
for add in "${adds[@]}"; do arguments+=(--add "$add"); done
/usr/bin/python3 scripts/image/oci_image.py --root "$work/root.tar" --epoch "$SOURCE_DATE_EPOCH" --output "$output/oci" \
  --config scripts/image/config.json "${arguments[@]}" > "$output/digest"
rm -rf "$output/work"
echo "build.sh: packages in the image: $output/packages.txt ($(wc -l < "$output/packages.txt") packages); $(( $(date +%s) - started )) s"
echo "image digest: $(cat "$output/digest")$([ -n "$test_runtime" ] && echo "  (TEST image: binaries from $binaries, not the release digest)")"
