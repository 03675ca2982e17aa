#!/usr/bin/env python3
"""Replicas benchmark (`make bench-replicas`): jobs/s through the API with the SQLite store (one daemon), and
with the PostgreSQL store with one daemon and with two daemons (replicas) sharing one database, all on this
machine. Requests go round-robin over the daemons, as dstack's gateway would spread them.

Besides jobs/s it reports what the capacity model in docs/benchmarks.md needs: the database's work per job
(committed transactions, and the PostgreSQL server's CPU time, summed over its processes from /proc).
Everything shares this machine's cores (daemons, Deno, PostgreSQL, the load generator): the numbers show the
cost per job and whether a second replica adds throughput here, not what N CVMs would do.

PostgreSQL 15 is started from Debian's binaries on a temporary data directory and a free port (as Debian's
`postgres` user when run as root) and stopped at the end.
"""
import argparse
import concurrent.futures
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time

from bench_load import Daemon, call, one_job, percentile, tenants

PG_BIN = "/usr/lib/postgresql/15/bin"


class Postgres:
    def __init__(self, root):
        self.root, self.password, self.user = root, "bench-password", "oauth3"
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        os.makedirs(root, exist_ok=True)
        with open(os.path.join(root, "pw"), "w") as f:
            f.write(self.password)
        self.as_server = []
        if os.getuid() == 0:
            subprocess.run(["chown", "-R", "postgres:postgres", root], check=True)
            self.as_server = ["runuser", "-u", "postgres", "--"]
        data = os.path.join(root, "data")
        subprocess.run(self.as_server + [f"{PG_BIN}/initdb", "-D", data, "-U", self.user, "--auth=scram-sha-256",
                                         f"--pwfile={root}/pw", "-E", "UTF8"], check=True, stdout=subprocess.DEVNULL)
        # Durable commits (fsync on), as a deployment has them; 200 connections for two daemons' pools.
        subprocess.run(self.as_server + [f"{PG_BIN}/pg_ctl", "-D", data, "-l", f"{root}/log", "-w", "start", "-o",
                                         f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories={root} -c max_connections=200"],
                       check=True, stdout=subprocess.DEVNULL)
        self.data = data

    def database(self, name):
        env = dict(os.environ, PGPASSWORD=self.password)
        subprocess.run([f"{PG_BIN}/createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, name], check=True, env=env)
        return f"postgres://{self.user}:{self.password}@127.0.0.1:{self.port}/{name}?sslmode=disable"

    def psql(self, database, sql):
        env = dict(os.environ, PGPASSWORD=self.password)
        return subprocess.run([f"{PG_BIN}/../bin/psql" if os.path.exists(f"{PG_BIN}/psql") else "psql", "-h", "127.0.0.1", "-p", str(self.port),
                               "-U", self.user, "-d", database, "-tAc", sql], check=True, env=env, capture_output=True, text=True).stdout.strip()

    def cpu_seconds(self):
        """User + system CPU of every server process (the postmaster and its children)."""
        ticks = os.sysconf("SC_CLK_TCK")
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            postmaster = int(f.readline())
        total = 0
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(pid) == postmaster or int(fields[1]) == postmaster:
                    total += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
            except (OSError, IndexError, ValueError):
                continue
        return total / ticks

    def stop(self):
        subprocess.run(self.as_server + [f"{PG_BIN}/pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop"], stdout=subprocess.DEVNULL)


class RoundRobin:
    """The daemons as one URL would serve them: each call goes to the next."""

    def __init__(self, daemons):
        self.daemons, self.next, self.lock = daemons, 0, threading.Lock()

    @property
    def url(self):
        with self.lock:
            self.next += 1
            return self.daemons[self.next % len(self.daemons)].url


def run(label, daemons, args, skill, postgres=None, database=None):
    stats = {"429": 0, "lock": threading.Lock()}
    front = RoundRobin(daemons)
    keys = tenants(daemons[0], args.tenants, skill)
    commits = int(postgres.psql(database, f"SELECT xact_commit FROM pg_stat_database WHERE datname = '{database}'")) if postgres else 0
    cpu = postgres.cpu_seconds() if postgres else 0
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(args.concurrency) as pool:
        results = list(pool.map(lambda i: one_job(front, keys[i % len(keys)], skill, stats), range(args.jobs)))
    elapsed = time.perf_counter() - start
    completed = sum(1 for _, status, _ in results if status == "completed")
    latencies = [latency for _, _, latency in results]
    line = (f"{label:34} {args.jobs / elapsed:6.1f} jobs/s  p50 {percentile(latencies, 0.5):6.0f} ms  p99 {percentile(latencies, 0.99):6.0f} ms"
            f"  ({completed}/{args.jobs} completed, {stats['429']} × 429)")
    if postgres:
        commits = int(postgres.psql(database, f"SELECT xact_commit FROM pg_stat_database WHERE datname = '{database}'")) - commits
        cpu = postgres.cpu_seconds() - cpu
        line += f"\n{'':34} database: {commits / args.jobs:.1f} transactions/job, {cpu / args.jobs * 1000:.2f} ms server CPU/job"
    print(line, flush=True)
    if completed != args.jobs:
        raise SystemExit(f"{label}: {args.jobs - completed} jobs did not complete")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--enclave", required=True)
    parser.add_argument("--skill", default="bench/hello.ts")
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--tenants", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="workers per daemon")
    args = parser.parse_args()
    skill = open(args.skill).read()
    root = tempfile.mkdtemp(prefix="oauth3-bench-replicas-")
    postgres, daemons = None, []
    print(f"skill: {args.skill}; {args.jobs} jobs from {args.tenants} tenants, {args.concurrency} at a time; "
          f"{args.workers} workers per daemon; {os.cpu_count()} cores shared by everything")
    try:
        daemon = Daemon(args.enclave, os.path.join(root, "sqlite"), args.workers, 1000)
        daemons.append(daemon)
        daemon.start()
        run("SQLite, one daemon", [daemon], args, skill)
        daemon.stop()

        postgres = Postgres(tempfile.mkdtemp(prefix="oauth3-bench-pg-"))  # its own folder: the server's user owns it
        for count in (1, 2):
            database = f"bench{count}"
            url = postgres.database(database)
            group = []
            for index in range(count):
                replica = Daemon(args.enclave, os.path.join(root, f"pg{count}-{index}"), args.workers, 1000)
                replica.extra_arguments = ["--database", url]
                if group:  # the same development app key: the same vault key, as dstack's KMS gives replicas
                    os.makedirs(os.path.join(replica.root, "data"), exist_ok=True)
                    shutil.copy(os.path.join(group[0].root, "data", "dev-guest-agent.seed"), os.path.join(replica.root, "data"))
                replica.start()
                group.append(replica)
                daemons.append(replica)
            run(f"PostgreSQL, {count} daemon{'s' if count > 1 else ''}", group, args, skill, postgres, database)
            for replica in group:
                replica.stop()
    finally:
        for daemon in daemons:
            daemon.stop()
        if postgres:
            postgres.stop()
            shutil.rmtree(postgres.root, ignore_errors=True)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
