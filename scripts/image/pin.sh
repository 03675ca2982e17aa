#!/usr/bin/env bash
# The release path's last step: writes the digest `make image` produced into dstack/docker-compose.yml's
# `image:` line (and the replicas' variant, dstack/docker-compose.replicas.yml) and rebuilds dstack/app-compose.json from it, so the measured files name the image this source
# builds. `make deploy-check` rebuilds the image and refuses a compose file whose digest differs.
#
#   scripts/image/pin.sh [REPOSITORY]   (default: the repository the compose file names now, e.g. ghcr.io/YOU/oauth3-enclave)
#
# Push with the digest kept: skopeo copy --preserve-digests oci:.build/image/oci:latest docker://REPOSITORY:TAG
set -euo pipefail
cd "$(dirname "$0")/../.."
digest_file=.build/image/digest
[ -f "$digest_file" ] || { echo "pin.sh: no $digest_file: run make image first" >&2; exit 1; }
grep -q '^binaries:' .build/image/build-info.txt && { echo "pin.sh: .build/image is a TEST image (built from other binaries); run make image" >&2; exit 1; }
digest=$(cat "$digest_file")
compose=dstack/docker-compose.yml
current=$(sed -n 's/^    image: \([^@]*\)@sha256:.*/\1/p' "$compose")
repository=${1:-$current}
[ -n "$repository" ] || { echo "pin.sh: no 'image: NAME@sha256:…' line in $compose" >&2; exit 1; }
sed -i "s|^    image: .*@sha256:[0-9a-f]*\$|    image: $repository@$digest|" "$compose"
grep -q "^    image: $repository@$digest\$" "$compose" || { echo "pin.sh: could not rewrite the image line of $compose" >&2; exit 1; }
replicas=dstack/docker-compose.replicas.yml
sed -i "s|^    image: .*@sha256:[0-9a-f]*\$|    image: $repository@$digest|" "$replicas"
grep -q "^    image: $repository@$digest\$" "$replicas" || { echo "pin.sh: could not rewrite the image line of $replicas" >&2; exit 1; }
.build/debug/oauth3-enclave app-compose "$compose" -o dstack/app-compose.json
echo "pin.sh: $compose now runs $repository@$digest; dstack/app-compose.json rebuilt (its hash is the measured compose hash)"
