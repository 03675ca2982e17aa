#!/usr/bin/env python3
"""Load and fault benchmark (`make bench-load`): a live daemon on loopback under N jobs from several
tenants at concurrency C, then `kill -9` mid-run and a restart.

Reports jobs/s through the API beside bare `deno run` of the same skill with as many processes at once as
the daemon has workers, p50/p99 submit-to-result latency, how many submissions got 429 (and were retried
after Retry-After, as an orchestrator would), the daemon's peak RSS, and, after the crash and restart,
that every accepted job reached exactly one final state (its audit trail has one terminal event and the
hash chain is intact). Not a test: it measures; it fails only when a job is lost or ends twice.
"""
import argparse
import concurrent.futures
import hashlib
import json
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

TERMINAL_EVENTS = {"job.finished", "job.failed", "job.interrupted", "job.expired", "job.denied"}


class Daemon:
    """`oauth3-enclave serve` on a port the OS picks, over a data directory that survives restarts."""

    def __init__(self, enclave, root, workers, queue_limit):
        self.enclave, self.root, self.workers, self.queue_limit = enclave, root, workers, queue_limit
        self.process, self.url, self.peak_rss_kib = None, None, 0
        self.extra_arguments = []  # more `serve` flags (bench_api.py: the pool's size)

    def start(self):
        # The work directory stays the default (/dev/shm): the job's user must be able to reach it, and
        # mkdtemp's directory is private to root.
        command = [self.enclave, "serve", "--port", "0", "--data-dir", os.path.join(self.root, "data"), "--workers", str(self.workers),
                   "--queue-limit", str(self.queue_limit)] + self.extra_arguments
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "OAUTH3_QUOTA_ACTIVE_JOBS": "1000", "OAUTH3_QUOTA_LONG_POLLS": "1000"}
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
        for line in self.process.stdout:
            match = re.search(r"address=[0-9.]+:([0-9]+)", line)
            if "listening" in line and match:
                self.url = f"http://127.0.0.1:{match.group(1)}"
                break
        else:
            raise SystemExit("the daemon exited before it listened")
        threading.Thread(target=self._drain, daemon=True).start()
        threading.Thread(target=self._watch_rss, daemon=True).start()

    def _drain(self):
        for _ in self.process.stdout:
            pass

    def _watch_rss(self):
        process = self.process
        while process.poll() is None:
            try:
                with open(f"/proc/{process.pid}/status") as status:
                    for line in status:
                        if line.startswith("VmHWM:"):
                            self.peak_rss_kib = max(self.peak_rss_kib, int(line.split()[1]))
            except OSError:
                pass
            time.sleep(0.2)

    def kill9(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)


def call(url, method="GET", body=None, key=None, timeout=150):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return reply.status, dict(reply.headers), json.loads(reply.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read() or b"{}")


def tenants(daemon, count, skill):
    """Signs up `count` tenants and has each trust `skill` (one approved run each)."""
    keys = []
    for index in range(count):
        _, _, account = call(daemon.url + "/signup", "POST", {"name": f"bench-{index}"})
        key = account["api_key"]
        _, _, job = call(daemon.url + "/execute", "POST", {"skill_code": skill}, key)
        token = job["approval_url"].split("token=")[1]
        call(daemon.url + f"/approve/{job['request_id']}", "POST", {"token": token, "action": "approve", "level": "trust_code"})
        wait_final(daemon, key, job["request_id"])
        keys.append(key)
    return keys


def wait_final(daemon, key, job_id):
    while True:
        status, _, reply = call(daemon.url + f"/execute/{job_id}/status?wait=true", key=key)
        if status == 200 and reply["status"] in ("completed", "failed", "denied"):
            return reply
        if status != 200 and status != 429:
            raise SystemExit(f"status of {job_id}: {status} {reply}")


def submit(daemon, key, skill, stats):
    """Submits until accepted, honouring Retry-After on 429; returns the job id and when it was first sent."""
    first = time.perf_counter()
    while True:
        status, headers, reply = call(daemon.url + "/execute", "POST", {"skill_code": skill}, key)
        if status == 201:
            return reply["request_id"], first
        if status == 429:
            with stats["lock"]:
                stats["429"] += 1
            time.sleep(min(float(headers.get("Retry-After", "1")), 0.2))
            continue
        raise SystemExit(f"submit: {status} {reply}")


def one_job(daemon, key, skill, stats):
    job_id, first = submit(daemon, key, skill, stats)
    reply = wait_final(daemon, key, job_id)
    return job_id, reply["status"], (time.perf_counter() - first) * 1000


def bare_deno(deno, skill_path, jobs, parallel):
    """Jobs/s of `deno run` with `parallel` processes at once."""
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root"), "NO_COLOR": "1"}
    run = lambda _: subprocess.run([deno, "run", "--no-prompt", skill_path], env=env, stdout=subprocess.DEVNULL, check=True)
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(parallel) as pool:
        list(pool.map(run, range(jobs)))
    return jobs / (time.perf_counter() - start)


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def check_final_states(database, accepted):
    """Every accepted job is final with exactly one terminal audit event; the audit chain is intact."""
    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    problems = []
    for job_id in accepted:
        row = db.execute("SELECT status FROM job WHERE id = ?", (job_id,)).fetchone()
        if row is None or row[0] not in ("completed", "failed"):
            problems.append(f"{job_id}: {row}")
            continue
        events = [event for (event,) in db.execute("SELECT event FROM audit WHERE jobId = ? ORDER BY seq", (job_id,))]
        terminal = [event for event in events if event in TERMINAL_EVENTS]
        if len(terminal) != 1:
            problems.append(f"{job_id}: terminal events {terminal}")
    previous = "0" * 64
    for seq, tenant, job, event, detail, at, prev, digest in db.execute(
            "SELECT seq, tenantId, jobId, event, detail, at, previousHash, hash FROM audit ORDER BY seq"):
        text = "\n".join([previous, event, tenant or "", job or "", str(at), detail])
        if prev != previous or digest != hashlib.sha256(text.encode()).hexdigest():
            problems.append(f"audit chain broken at {seq}")
            break
        previous = digest
    return problems


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--enclave", required=True)
    parser.add_argument("--deno", required=True)
    parser.add_argument("--skill", default="bench/hello.ts")
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--tenants", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--queue-limit", type=int, default=64)
    args = parser.parse_args()
    skill = open(args.skill).read()
    root = tempfile.mkdtemp(prefix="oauth3-bench-load-")
    daemon = Daemon(args.enclave, root, args.workers, args.queue_limit)
    stats = {"429": 0, "lock": threading.Lock()}
    try:
        daemon.start()
        keys = tenants(daemon, args.tenants, skill)
        print(f"skill: {args.skill}; {args.jobs} jobs from {args.tenants} tenants, {args.concurrency} at a time; "
              f"{args.workers} workers, queue limit {args.queue_limit}; {os.cpu_count()} cores")

        start = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(args.concurrency) as pool:
            results = list(pool.map(lambda i: one_job(daemon, keys[i % len(keys)], skill, stats), range(args.jobs)))
        elapsed = time.perf_counter() - start
        latencies = [latency for _, _, latency in results]
        completed = sum(1 for _, status, _ in results if status == "completed")
        bare = bare_deno(args.deno, args.skill, args.jobs, args.workers)
        print(f"through the API    {args.jobs / elapsed:6.1f} jobs/s   ({completed}/{args.jobs} completed, {stats['429']} answers 429 retried)")
        print(f"bare deno run      {bare:6.1f} jobs/s   ({args.workers} at once)")
        print(f"submit to result  p50 {statistics.median(latencies):7.1f} ms   p99 {percentile(latencies, 0.99):7.1f} ms")
        print(f"daemon peak RSS    {daemon.peak_rss_kib / 1024:6.1f} MiB")
        if completed != args.jobs:
            raise SystemExit(f"{args.jobs - completed} jobs did not complete")

        # The fault: kill -9 while jobs run and wait, restart, and account for every accepted job.
        crash_jobs = max(args.jobs // 4, args.workers * 4)
        accepted, lock = [], threading.Lock()

        def submit_only(index):
            job_id, _ = submit(daemon, keys[index % len(keys)], skill, stats)
            with lock:
                accepted.append((keys[index % len(keys)], job_id))

        with concurrent.futures.ThreadPoolExecutor(args.concurrency) as pool:
            list(pool.map(submit_only, range(crash_jobs)))
        daemon.kill9()
        daemon.start()
        for key, job_id in accepted:
            wait_final(daemon, key, job_id)
        daemon.stop()
        problems = check_final_states(os.path.join(root, "data", "enclave.sqlite"), [job_id for _, job_id in accepted])
        db = sqlite3.connect(f"file:{os.path.join(root, 'data', 'enclave.sqlite')}?mode=ro", uri=True)
        outcomes = dict(db.execute(
            "SELECT COALESCE(outcome, status), COUNT(*) FROM job WHERE id IN (%s) GROUP BY 1" % ",".join("?" * len(accepted)),
            [job_id for _, job_id in accepted]).fetchall())
        print(f"kill -9 with {len(accepted)} accepted jobs in flight, then a restart: outcomes {outcomes}")
        if problems:
            print("LOST OR DOUBLED: " + "; ".join(problems[:10]))
            sys.exit(1)
        print("every accepted job reached exactly one final state; the audit chain is intact")
    finally:
        daemon.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
