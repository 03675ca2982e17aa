#!/usr/bin/env bash
# `make image-verify`: is the image reproducible? Builds it twice from the last commit, in two fresh clones at
# different paths (one deeper than the other) and at different times, each a clean release build, and compares
# the digests. If they differ, lists the differing files (scripts/image/diff_layouts.py) and, where Debian's
# diffoscope is installed, shows how each differs.
#
#   scripts/image/verify.sh [WORK]   (default: a fresh directory under /var/tmp; about 2 x (release build + 4 min))
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd -P)
work=${1:-$(mktemp -d /var/tmp/oauth3-image-verify.XXXXXX)}
commit=$(git rev-parse HEAD)
[ -z "$(git status --porcelain --untracked-files=no)" ] || echo "image-verify: uncommitted changes are left out: this builds commit $commit"

build() {
  local source=$1
  git clone --quiet --no-hardlinks "$repo" "$source"
  git -C "$source" checkout --quiet "$commit"
  (cd "$source" && scripts/image/build.sh --output "$source/.build/image") | tee "$source.log" | grep '^image digest:'
}
first=$work/first/src
second=$work/second/a/deeper/path/src
echo "image-verify: first build in $first"
build "$first"
echo "image-verify: second build in $second"
build "$second"
a=$(cat "$first/.build/image/digest") b=$(cat "$second/.build/image/digest")
if [ "$a" = "$b" ]; then
  echo "image-verify: REPRODUCIBLE: both builds of $commit give $a"
  exit 0
fi
echo "image-verify: NOT REPRODUCIBLE: $a != $b; what differs:"
python3 scripts/image/diff_layouts.py "$first/.build/image/oci" "$second/.build/image/oci" --extract "$work/differing" || true
if command -v diffoscope >/dev/null; then
  diffoscope --text "$work/differing.txt" "$work/differing/a" "$work/differing/b" >/dev/null || true
  echo "image-verify: diffoscope's report: $work/differing.txt"
else
  echo "image-verify: for how each file differs: apt-get install diffoscope, then diffoscope $work/differing/a $work/differing/b"
fi
exit 1
