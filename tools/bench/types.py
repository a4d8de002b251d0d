#!/usr/bin/env python3
"""Collection-command throughput and server CPU per operation, ours beside
Redis 7.0.15, in the same run.

For each round and each pipeline depth, starts both servers fresh (order
alternating between rounds), runs

    redis-benchmark -t <tests> -n N -c 50 -P <p> --csv

against each, and reads the server's CPU time (utime+stime of all threads
from /proc/PID/stat) around every test. Prints per test the median
requests/s of each server, the throughput ratio ours/redis and the CPU per
operation ratio ours/redis (lower is better).

    python3 tools/bench/types.py [--rounds 3] [--n 200000] [--pipelines 1,16]
"""
import argparse, csv, io, os, shutil, socket, statistics, subprocess, sys, tempfile, time

TESTS = "lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange_100,lrange_600"
CLK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK


def ping(port):
    r = subprocess.run(["redis-cli", "-p", str(port), "PING"], capture_output=True, text=True)
    return r.stdout.strip() == "PONG"


class Server:
    def __init__(self, cmd):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="bench-types-")
        self.p = subprocess.Popen(cmd + ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                         "--appendonly", "no", "--dir", self.dir],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while not ping(self.port):
            if time.time() > deadline:
                raise RuntimeError(f"{cmd[0]} did not start")
            time.sleep(0.05)

    def stop(self):
        self.p.kill()
        self.p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def run_test(srv, test, n, pipeline, lpush_us):
    """One redis-benchmark test, run in the order a single `-t a,b,c`
    invocation would (no flush in between, so SPOP and ZPOPMIN find what
    SADD and ZADD left): (requests/s, server CPU us per request)."""
    before = cpu_s(srv.p.pid)
    out = subprocess.run(["redis-benchmark", "-p", str(srv.port), "-t", test, "-n", str(n), "-c", "50",
                          "-P", str(pipeline), "--csv"], capture_output=True, text=True, check=True).stdout
    used = (cpu_s(srv.p.pid) - before) * 1e6
    rows = [r for r in csv.reader(io.StringIO(out))][1:]
    row = next(r for r in rows if r[0].lower().startswith(test.lower()))
    # The LRANGE tests first fill the list with N LPUSHes: take their cost
    # out using the LPUSH cost measured just before on the same server.
    fill = n * lpush_us * (len(rows) - 1)
    return float(row[1]), max(used - fill, 0.0) / n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--n", type=int, default=200000)
    ap.add_argument("--pipelines", default="1,16")
    ap.add_argument("--tests", default=TESTS)
    ap.add_argument("--ours", default=os.path.join(os.path.dirname(__file__), "../../target/release/strata-server"))
    a = ap.parse_args()
    impls = {"strata": [a.ours], "redis": [shutil.which("redis-server") or "redis-server"]}
    tests = a.tests.split(",")
    results = {}
    for p in [int(x) for x in a.pipelines.split(",")]:
        n = a.n * (4 if p > 1 else 1)
        for r in range(a.rounds):
            order = list(impls) if r % 2 == 0 else list(reversed(impls))
            for name in order:
                srv = Server(impls[name])
                try:
                    lpush_us = 0.0
                    for t in tests:
                        rps, us = run_test(srv, t, n, p, lpush_us)
                        if t == "lpush":
                            lpush_us = us
                        results.setdefault((p, t, name), []).append((rps, us))
                finally:
                    srv.stop()
    print(f"{'test':12s} {'P':>3s} {'strata rps':>12s} {'redis rps':>12s} {'rps ratio':>9s} "
          f"{'strata us/op':>12s} {'redis us/op':>11s} {'cpu ratio':>9s}")
    for p in [int(x) for x in a.pipelines.split(",")]:
        for t in tests:
            s = results[(p, t, "strata")]
            r = results[(p, t, "redis")]
            s_rps = statistics.median(x[0] for x in s)
            r_rps = statistics.median(x[0] for x in r)
            s_us = statistics.median(x[1] for x in s)
            r_us = statistics.median(x[1] for x in r)
            print(f"{t:12s} {p:3d} {s_rps:12.0f} {r_rps:12.0f} {s_rps / r_rps:9.2f} {s_us:12.3f} {r_us:11.3f} "
                  f"{s_us / r_us:9.2f}")


if __name__ == "__main__":
    sys.exit(main())
