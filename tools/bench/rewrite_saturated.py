#!/usr/bin/env python3
"""BGREWRITEAOF under saturating clients, ours beside Redis 7.0.15.

Each server is started fresh, loaded with compare.py's mixed dataset
(1,000,000 keys), switched to `appendonly yes`, then 50 `redis-benchmark`
clients send GETs of random keys without pause while three rewrites run
one after another. Prints each rewrite's duration and the GETs a second
served meanwhile.

    python3 tools/bench/rewrite_saturated.py [--ours PATH] [--only strata|redis]
"""
import argparse, os, shutil, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rss  # noqa: E402
from bgsave_mem import cli, info_field  # noqa: E402
from rewrite_latency import wait_rewrite_done  # noqa: E402


def measure(name, cmd, data, rounds=3):
    p, port, d = rss.start(cmd, "rewrite-sat-")
    try:
        subprocess.run(["redis-cli", "-p", str(port), "--pipe"], input=data, capture_output=True, check=True)
        cli(port, "CONFIG", "SET", "auto-aof-rewrite-percentage", "0")
        cli(port, "CONFIG", "SET", "appendonly", "yes")
        wait_rewrite_done(port)
        bench = subprocess.Popen(["redis-benchmark", "-p", str(port), "-c", "50", "-n", "100000000", "-t", "get",
                                  "-r", "800000", "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(2)
            out = []
            for _ in range(rounds):
                c0 = int(info_field(port, "stats", "total_commands_processed"))
                t = time.time()
                cli(port, "BGREWRITEAOF")
                time.sleep(0.05)
                wait_rewrite_done(port)
                dt = time.time() - t
                c1 = int(info_field(port, "stats", "total_commands_processed"))
                out.append("%.2f s (%.0f GETs/s)" % (dt, (c1 - c0) / dt))
                time.sleep(1)
        finally:
            bench.kill()
            bench.wait()
        print(f"{name:7s} rewrite under 50 GET clients: " + ", ".join(out), flush=True)
    finally:
        rss.stop(p, d)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", choices=["strata", "redis"])
    ap.add_argument("--ours", default=os.path.join(os.path.dirname(__file__), "../../target/release/strata-server"))
    a = ap.parse_args()
    data = rss.mixed(1_000_000)
    if a.only != "redis":
        measure("strata", [a.ours], data)
    if a.only != "strata":
        measure("redis", [shutil.which("redis-server") or "redis-server"], data)


if __name__ == "__main__":
    sys.exit(main())
