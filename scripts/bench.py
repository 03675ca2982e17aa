#!/usr/bin/env python3
"""Times `oauth3-enclave run SKILL` against bare `deno run SKILL`, interleaved, and prints the medians.

The enclave run includes everything a job costs: policy loading, reading Deno's version, the per-job
directory, the jail, Deno with all its flags, classification and redaction, and the JSON result.
"""
import argparse
import os
import statistics
import subprocess
import time


def timed(command, env):
    start = time.perf_counter()
    done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = (time.perf_counter() - start) * 1000
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return elapsed


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
    enclave = [args.enclave, "run", skill, "--deno", args.deno]
    for _ in range(3):  # warm the page cache and Deno's code cache for the bare run
        timed(bare, env)
        timed(enclave, env)
    bare_ms, enclave_ms = [], []
    for _ in range(args.runs):
        bare_ms.append(timed(bare, env))
        enclave_ms.append(timed(enclave, env))
    b, e = statistics.median(bare_ms), statistics.median(enclave_ms)
    print(f"skill: {skill}, {args.runs} interleaved runs each, {os.cpu_count()} cores")
    print(f"bare deno run        median {b:7.1f} ms  (min {min(bare_ms):.1f}, max {max(bare_ms):.1f})")
    print(f"oauth3-enclave run   median {e:7.1f} ms  (min {min(enclave_ms):.1f}, max {max(enclave_ms):.1f})")
    print(f"median ratio         {e / b:.2f}x   (overhead {e - b:+.1f} ms)")


if __name__ == "__main__":
    main()
