#!/usr/bin/env python3
"""Latency other clients see while the AOF is rewritten, ours beside Redis
7.0.15.

Each server is started fresh, loaded with compare.py's mixed dataset
(1,000,000 keys by default), switched to `appendonly yes` (the first base
is written and waited for), then probed: one connection sends GET of a
random existing key at a paced rate (2000 a second by default) for
--secs seconds while nothing else runs, then again while BGREWRITEAOF runs
back to back, started from another process (so a stall while a rewrite
starts or ends reaches the probe too). Prints the p50, p99 and max of the probe's round trips in
both phases and the p99 ratio (during / idle) of each server.

    python3 tools/bench/rewrite_latency.py [--keys N] [--secs S] [--rounds R] [--only strata|redis] [--ours PATH]
"""
import argparse, multiprocessing, os, random, shutil, socket, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rss  # noqa: E402  (dataset generator and process helpers)
from bgsave_mem import cli, info_field  # noqa: E402

COMMAND = "BGREWRITEAOF"


def wait_rewrite_done(port, deadline_s=600):
    deadline = time.time() + deadline_s
    while True:
        if info_field(port, "persistence", "aof_rewrite_in_progress") == "0" and \
                info_field(port, "persistence", "aof_rewrite_scheduled") == "0":
            return
        if time.time() > deadline:
            raise RuntimeError("rewrite did not finish")
        time.sleep(0.01)


class Ctl:
    """A second connection for INFO and the rewrite commands."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.f = self.s.makefile("rb")

    def call(self, *args):
        self.s.sendall(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
        line = self.f.readline()
        if line.startswith(b"$") and not line.startswith(b"$-1"):
            return self.f.read(int(line[1:]) + 2)
        return line


def keep_rewriting(port, command, stop, started):
    """Runs `command` back to back until `stop`: looks at INFO every 20 ms on
    its own connection and starts the next one as soon as none runs."""
    ctl = Ctl(port)
    while not stop.is_set():
        info = ctl.call(b"INFO", b"persistence")
        if b"aof_rewrite_in_progress:0" in info and b"rdb_bgsave_in_progress:0" in info:
            ctl.call(command.encode())
            with started.get_lock():
                started.value += 1
        stop.wait(0.02)


def probe(port, n_keys, secs, rate):
    """Paced GETs of random existing keys for `secs`."""
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    f = s.makefile("rb")
    rnd = random.Random(7)
    lat = []
    period = 1.0 / rate
    start = time.perf_counter()
    next_at = start
    while True:
        now = time.perf_counter()
        if now - start >= secs:
            break
        if now < next_at:
            time.sleep(next_at - now)
        next_at += period
        key = b"key:%012d" % rnd.randrange(int(n_keys * 0.8))
        t0 = time.perf_counter()
        s.sendall(b"*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n" % (len(key), key))
        line = f.readline()
        if line.startswith(b"$") and not line.startswith(b"$-1"):
            f.read(int(line[1:]) + 2)
        lat.append((time.perf_counter() - t0) * 1000)
    s.close()
    lat.sort()
    return lat[len(lat) // 2], lat[int(len(lat) * 0.99)], lat[-1], len(lat)


def measure(name, cmd, data, n_keys, secs, rate, rounds=1):
    p, port, d = rss.start(cmd, "rewrite-lat-")
    try:
        subprocess.run(["redis-cli", "-p", str(port), "--pipe"], input=data, capture_output=True, check=True)
        assert int(cli(port, "DBSIZE")) == n_keys
        cli(port, "CONFIG", "SET", "auto-aof-rewrite-percentage", "0")
        cli(port, "CONFIG", "SET", "appendonly", "yes")
        wait_rewrite_done(port)
        time.sleep(0.5)
        for _ in range(rounds):
            idle = probe(port, n_keys, secs, rate)
            # The rewrites are started from another process, so that a
            # server that stalls while starting or finishing one shows it in
            # the probe's replies too.
            stop = multiprocessing.Event()
            started = multiprocessing.Value("i", 0)
            driver = multiprocessing.Process(target=keep_rewriting, args=(port, COMMAND, stop, started))
            driver.start()
            busy = probe(port, n_keys, secs, rate)
            stop.set()
            driver.join()
            rewrites = [started.value]
            wait_rewrite_done(port)
            print(f"{name:7s} idle: p50 {idle[0]:.3f} ms p99 {idle[1]:.3f} ms max {idle[2]:.2f} ms ({idle[3]} GETs) | "
                  f"during {rewrites[0]} rewrites: p50 {busy[0]:.3f} ms p99 {busy[1]:.3f} ms max {busy[2]:.2f} ms | "
                  f"p99 during/idle {busy[1] / idle[1]:.2f}", flush=True)
    finally:
        rss.stop(p, d)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--secs", type=float, default=5.0)
    ap.add_argument("--rate", type=int, default=2000)
    ap.add_argument("--command", default="BGREWRITEAOF", help="BGSAVE to compare with a snapshot")
    ap.add_argument("--rounds", type=int, default=1, help="idle and busy phases per server start")
    ap.add_argument("--only", choices=["strata", "redis"], help="measure one server")
    ap.add_argument("--ours", default=os.path.join(os.path.dirname(__file__), "../../target/release/strata-server"))
    a = ap.parse_args()
    global COMMAND
    COMMAND = a.command
    data = rss.mixed(a.keys)
    if a.only != "redis":
        measure("strata", [a.ours], data, a.keys, a.secs, a.rate, a.rounds)
    if a.only != "strata":
        measure("redis", [shutil.which("redis-server") or "redis-server"], data, a.keys, a.secs, a.rate, a.rounds)


if __name__ == "__main__":
    sys.exit(main())
