#!/usr/bin/env bash
# Installs what building and running the enclave needs, and says what it installs.
#   - Debian packages: libseccomp-dev, libcap-dev (the jail's C libraries), pkg-config;
#     chromium and chromium-driver (the approval page's browser test); iproute2 (the egress tests'
#     network namespaces and veth pairs)
#   - Deno 2.9.8, from PyPI's `deno` wheel, into .tools/deno (ignored by git)
#   - Selenium and dcap-qvl, from PyPI, into .tools/python (the browser test; the DCAP cross-check and benchmark)
# Idempotent: a second run installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

DENO_VERSION=2.9.8
SELENIUM_VERSION=4.35.0
DCAP_QVL_VERSION=0.7.0
APT_PACKAGES=(libseccomp-dev libcap-dev pkg-config curl chromium chromium-driver iproute2)

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
