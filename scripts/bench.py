#!/usr/bin/env python3
"""Times `oauth3-enclave run SKILL` against bare `deno run SKILL`, interleaved, and prints the medians.

The enclave run includes everything a job costs: loading the binary, policy loading, the machine's
inspection (remembered per boot), the per-job directory, the jail, Deno with all its flags, classification
and redaction, the JSON result, and the process's exit. With `--timings` the command says where its own
time went, so the CLI's overhead (loading and leaving the process, its start) is reported apart from the
sandbox's (the jail, Deno inside it, cleanup). `oauth3-enclave --help` alone times loading and leaving.
"""
import argparse
import os
import re
import statistics
import subprocess
import time


def timed(command, env):
    start = time.perf_counter()
    done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = (time.perf_counter() - start) * 1000
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return elapsed, done.stderr.decode()


def steps(report):
    """`run --timings`'s lines as {name: ms}."""
    return {name.strip(): float(ms) for name, ms in re.findall(r"([A-Za-z +]+?)(?: \([^)]*\))?: ([0-9.]+) ms", report)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--enclave", required=True)
    parser.add_argument("--deno", required=True)
    parser.add_argument("--skill", default="bench/hello.ts")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    skill = args.skill
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root"), "NO_COLOR": "1"}
    bare = [args.deno, "run", "--no-prompt", skill]
    enclave = [args.enclave, "run", skill, "--deno", args.deno, "--timings"]
    empty = [args.enclave, "--help"]
    for _ in range(3):  # warm the page cache and Deno's code cache for the bare run
        timed(bare, env)
        timed(enclave, env)
    bare_ms, enclave_ms, empty_ms, inside = [], [], [], []
    for _ in range(args.runs):
        bare_ms.append(timed(bare, env)[0])
        elapsed, report = timed(enclave, env)
        enclave_ms.append(elapsed)
        inside.append(steps(report))
        empty_ms.append(timed(empty, env)[0])
    b, e = statistics.median(bare_ms), statistics.median(enclave_ms)

    def step(*names):
        return statistics.median(sum(run.get(name, 0) for name in names) for run in inside)

    outside = statistics.median(wall - run["total"] for wall, run in zip(enclave_ms, inside))
    print(f"skill: {skill}, {args.runs} interleaved runs each, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print(f"bare deno run        median {b:7.1f} ms  (min {min(bare_ms):.1f}, max {max(bare_ms):.1f})")
    print(f"oauth3-enclave run   median {e:7.1f} ms  (min {min(enclave_ms):.1f}, max {max(enclave_ms):.1f})")
    print(f"median ratio         {e / b:.2f}x   (overhead {e - b:+.1f} ms)")
    print("where `run`'s time went (medians):")
    print(f"  the CLI's own: loading and leaving the process {outside:6.1f} ms (`--help` alone: {statistics.median(empty_ms):.1f} ms),"
          f" its start (policy, skill, host inspection) {step('start'):.1f} ms")
    print(f"  the sandbox's: jail start {step('jail start'):.1f} ms, jail setup + Deno {step('jail setup + Deno'):.1f} ms,"
          f" cleanup {step('cleanup'):.1f} ms, classify + redact {step('classify + redact'):.1f} ms")


if __name__ == "__main__":
    main()
