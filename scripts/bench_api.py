#!/usr/bin/env python3
"""Per-job latency through the API (`make bench`): an approved, trusted skill submitted to a live daemon,
`POST /execute` to its completed status by long-poll, against bare `deno run` of the same file,
interleaved, medians. Runs the daemon as it starts by default (a pool of prepared jails, booted for the skill's
shape once it repeats, and warm Deno caches), then with booting off (`--no-jail-boot`: Deno starts after the claim,
from a warm cache), with booting and the cache off (`--deno-cache-mib 0`: every run cold), and with no pool
(`--jail-pool 0`), and prints where the daemon's time went per step, from the "job finished" log lines
(milliseconds). Also reports the daemon's resident memory when idle, with and without its prepared jails.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from bench_load import Daemon, call, tenants, wait_final  # noqa: E402

STEPS = ["queued", "announce", "prepare", "jail", "run", "cleanup", "classify", "attest", "store", "wake"]


class LoggingDaemon(Daemon):
    """The daemon, keeping its "job finished" lines."""

    def __init__(self, enclave, root, pool, cache, deno, boot=True):
        super().__init__(enclave, root, workers=1, queue_limit=64)
        self.finished = []
        self.extra_arguments = ["--jail-pool", str(pool), "--deno-cache-mib", "256" if cache else "0", "--deno", deno]
        if not boot:
            self.extra_arguments.append("--no-jail-boot")

    def _drain(self):
        for line in self.process.stdout:
            if "job finished" in line:
                self.finished.append(dict(re.findall(r"(ms_[a-z]+|pooled|booted|deno_cache)=([0-9.a-z]+)", line)))


def rss_kib(pid):
    """Resident memory of `pid` and of every process below it (prepared jails), in KiB."""
    children = subprocess.run(["ps", "-o", "pid=,ppid=,rss=", "-A"], capture_output=True, text=True).stdout.split("\n")
    table = [tuple(int(x) for x in row.split()) for row in children if row.strip()]
    own = sum(r for p, _, r in table if p == pid)
    below, frontier = 0, {pid}
    while frontier:
        nxt = {p for p, pp, _ in table if pp in frontier}
        below += sum(r for p, _, r in table if p in nxt)
        frontier = nxt
    return own, below


def timed(command):
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin"})
    return (time.perf_counter() - start) * 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--enclave", required=True)
    parser.add_argument("--deno", required=True)
    parser.add_argument("--skill", default="bench/hello.ts")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    code = open(args.skill).read()
    results = {}
    for pool, boot, cache in ((2, True, True), (2, False, True), (2, False, False), (0, False, False)):
        with tempfile.TemporaryDirectory() as root:
            daemon = LoggingDaemon(args.enclave, root, pool, cache, os.path.abspath(args.deno), boot)
            daemon.start()
            try:
                (key,) = tenants(daemon, 1, code)
                time.sleep(1.0)  # the pool refills after the trusting run; idle memory is measured settled
                idle = rss_kib(daemon.process.pid)
                api, bare = [], []
                for index in range(args.runs + 3):
                    start = time.perf_counter()
                    status, _, reply = call(daemon.url + "/execute", "POST", {"skill_code": code}, key)
                    if status != 201 and status != 200:
                        raise SystemExit(f"submit: {status} {reply}")
                    final = reply if reply.get("status") == "completed" else wait_final(daemon, key, reply["request_id"])
                    elapsed = (time.perf_counter() - start) * 1000
                    if final["status"] != "completed":
                        raise SystemExit(f"job did not complete: {final}")
                    b = timed([args.deno, "run", "--no-prompt", args.skill])
                    if index >= 3:
                        api.append(elapsed)
                        bare.append(b)
                time.sleep(0.5)
                results[(pool, boot, cache)] = (api, bare, daemon.finished[-args.runs:], idle)
            finally:
                daemon.stop()

    print(f"skill {args.skill}, {args.runs} interleaved runs each, {os.cpu_count()} cores, one worker")
    for (pool, boot, cache), (api, bare, finished, idle) in results.items():
        a, b = statistics.median(api), statistics.median(bare)
        label = (f"pool of {pool} prepared jails" if pool else "no pool (a jail started per job)") + (
            ", booting" if boot else ", no booting" if pool else "") + (", warm Deno cache" if cache else ", no Deno cache")
        if pool and boot and cache:
            label += " (the daemon's defaults)"
        print(f"== {label}")
        print(f"  API submit -> completed   median {a:7.1f} ms")
        print(f"  bare deno run             median {b:7.1f} ms")
        print(f"  ratio                            {a / b:.2f}x")
        hits = sum(1 for f in finished if f.get("pooled") == "true")
        booted = sum(1 for f in finished if f.get("booted") == "true")
        warm = sum(1 for f in finished if f.get("deno_cache") == "hit")
        print(f"  daemon steps, median ms ({hits}/{len(finished)} jobs took a prepared jail, {booted} a booted one, {warm} a warm Deno cache):")
        for step in STEPS:
            values = [float(f[f"ms_{step}"]) for f in finished if f"ms_{step}" in f]
            if values:
                print(f"    {step:10s} {statistics.median(values):7.1f}")
        print(f"  idle RSS: daemon {idle[0] / 1024:.1f} MiB, its jails {idle[1] / 1024:.1f} MiB"
              + (f" ({idle[1] / 1024 / pool:.1f} MiB per prepared jail)" if pool else ""))


if __name__ == "__main__":
    main()
