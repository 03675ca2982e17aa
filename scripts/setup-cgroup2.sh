#!/usr/bin/env bash
# Installs what the cgroup v2 leg (`make test-cgroup2`, scripts/test-cgroup2.sh) needs, and says what it installs.
#   - Debian packages: qemu-system-x86 (the VM), busybox-static (the VM's init and tools), kmod (modinfo, to
#     resolve the 9p modules' dependencies), cpio (the initramfs archive)
#   - Debian's kernel, the package linux-image-amd64 points at, fetched with `apt-get download` and unpacked
#     into .tools/cgroup2/kernel (ignored by git): the VM boots its vmlinuz and loads its 9p modules. It is
#     not installed on this machine: nothing lands in /boot or /lib/modules and no initramfs hook runs.
# Idempotent: a second run installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(qemu-system-x86 busybox-static kmod cpio)
sudo_cmd=""
[ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"

missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
updated=no
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup-cgroup2: installing Debian packages: ${missing[*]}"
  $sudo_cmd apt-get update -qq
  updated=yes
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The kernel: whichever linux-image-<version>-amd64 the metapackage depends on today. The stamp records it,
# so a later run with the same answer does nothing (and never needs the network).
kernel_dir=.tools/cgroup2/kernel
stamp=$kernel_dir/.package
if [ -f "$stamp" ] && [ -n "$(ls "$kernel_dir"/boot/vmlinuz-* 2>/dev/null)" ]; then
  exit 0
fi
[ "$updated" = yes ] || $sudo_cmd apt-get update -qq
package=$(apt-cache depends linux-image-amd64 | sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -1)
[ -n "$package" ] || { echo "setup-cgroup2: cannot tell which kernel package linux-image-amd64 depends on"; exit 1; }
echo "setup-cgroup2: fetching Debian's $package with apt-get download and unpacking it into $kernel_dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download -qq "$package" 2>/dev/null)
rm -rf "$kernel_dir"
mkdir -p "$kernel_dir"
dpkg-deb -x "$tmp"/"$package"_*.deb "$kernel_dir"
echo "$package" > "$stamp"
ls "$kernel_dir"/boot/vmlinuz-*
