#!/usr/bin/env python3
"""The daemon's idle memory (`make bench`): a started release daemon, settled, read from
/proc/PID/smaps_rollup (RSS, PSS, anonymous) and /proc/PID/smaps grouped by what holds each mapping
(the daemon's binary, the Swift runtime, Foundation, ICU, other libraries, heap and anonymous memory,
thread stacks), with its thread count. Without prepared jails (`--jail-pool 0`): they are processes of
their own, which `scripts/bench_api.py` reports.
"""
import argparse
import collections
import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from bench_load import Daemon, call  # noqa: E402


def rollup(pid):
    """smaps_rollup's totals, in KiB."""
    fields = {}
    with open(f"/proc/{pid}/smaps_rollup") as text:
        for line in text:
            match = re.match(r"(\w+):\s+(\d+) kB", line)
            if match:
                fields[match.group(1)] = int(match.group(2))
    return fields


def category(path, binary):
    """What a mapping is, by its path."""
    name = os.path.basename(path)
    if path == binary:
        return "the daemon's binary"
    if name.startswith("lib_FoundationICU"):
        return "ICU (lib_FoundationICU)"
    if re.match(r"libFoundation", name):
        return "Foundation (Essentials, Internationalization, …)"
    if "/swift/" in path or name.startswith(("libswift", "libdispatch", "libBlocksRuntime")):
        return "Swift runtime and Dispatch"
    if path.startswith("[stack") or path == "[stack]":
        return "stacks"
    if path in ("", "[heap]", "[anon]") or path.startswith("[anon"):
        return "heap and anonymous"
    if path.startswith("["):
        return "kernel ([vdso], [vvar])"
    return "other libraries (libc, libstdc++, SQLite, …)"


def by_mapping(pid, binary):
    """RSS and PSS in KiB per category; thread stacks are anonymous mappings below a guard page, so the
    stacks line counts the main stack only and threads' stacks fall under heap and anonymous."""
    totals = collections.defaultdict(lambda: [0, 0])
    path = None
    with open(f"/proc/{pid}/smaps") as text:
        for line in text:
            header = re.match(r"^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$", line)
            if header:
                path = header.group(1).strip()
                continue
            match = re.match(r"(Rss|Pss):\s+(\d+) kB", line)
            if match:
                totals[category(path, binary)][0 if match.group(1) == "Rss" else 1] += int(match.group(2))
    return totals


def threads(pid):
    with open(f"/proc/{pid}/status") as text:
        return next(int(line.split()[1]) for line in text if line.startswith("Threads:"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--enclave", required=True)
    parser.add_argument("--deno", required=True)
    parser.add_argument("--settle", type=float, default=2.0, help="seconds idle before reading")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        daemon = Daemon(args.enclave, root, workers=2, queue_limit=16)
        policies = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "policies")
        daemon.extra_arguments = ["--jail-pool", "0", "--deno", os.path.abspath(args.deno), "--policies", policies]
        daemon.start()
        try:
            # One request through every layer (router, store, guest agent) before reading, as a daemon that served.
            status, _, _ = call(daemon.url + "/readyz")
            time.sleep(args.settle)
            pid = daemon.process.pid
            binary = os.path.realpath(f"/proc/{pid}/exe")
            totals = rollup(pid)
            mib = lambda kib: f"{kib / 1024:5.1f}"  # noqa: E731
            # A build with --static-swift-stdlib holds the Swift runtime, Foundation and ICU inside the binary.
            print(f"idle daemon ({os.path.getsize(binary) / 1e6:.0f} MB binary, {threads(pid)} threads, /readyz {status}):"
                  f" RSS {mib(totals['Rss'])} MiB, PSS {mib(totals['Pss'])} MiB, anonymous {mib(totals['Anonymous'])} MiB")
            for name, (rss, pss) in sorted(by_mapping(pid, binary).items(), key=lambda item: -item[1][0]):
                print(f"  {name:<46} RSS {mib(rss)} MiB  PSS {mib(pss)} MiB")
        finally:
            daemon.stop()


if __name__ == "__main__":
    main()
