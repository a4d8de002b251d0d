#!/usr/bin/env python3
"""RSS of 1,000,000 keys holding 100-byte strings, ours beside Redis 7.0.15.

Starts each server on a free port in a temp dir, loads the same keys with
redis-cli --pipe, and reports VmRSS before and after, and the ratio.

    python3 tools/bench/rss.py [--keys N] [--size BYTES] [--ours PATH]
"""
import argparse, os, shutil, socket, subprocess, sys, tempfile, time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def vmrss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def ping(port):
    r = subprocess.run(["redis-cli", "-p", str(port), "PING"], capture_output=True, text=True)
    return r.stdout.strip() == "PONG"


def payload(n, size):
    out = bytearray()
    value = b"v" * size
    for i in range(n):
        key = b"key:%012d" % i
        out += b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(key), key, size, value)
    return bytes(out)


def measure(cmd, data, n):
    port = free_port()
    d = tempfile.mkdtemp(prefix="rss-")
    p = subprocess.Popen(cmd + ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", d],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 10
        while not ping(port):
            if time.time() > deadline:
                raise RuntimeError(f"{cmd[0]} did not start")
            time.sleep(0.05)
        empty = vmrss_kib(p.pid)
        subprocess.run(["redis-cli", "-p", str(port), "--pipe"], input=data, capture_output=True, check=True)
        size = int(subprocess.run(["redis-cli", "-p", str(port), "DBSIZE"], capture_output=True, text=True).stdout)
        assert size == n, f"DBSIZE {size} != {n}"
        full = vmrss_kib(p.pid)
        return empty, full
    finally:
        p.kill()
        p.wait()
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--size", type=int, default=100)
    ap.add_argument("--ours", default=os.path.join(os.path.dirname(__file__), "../../target/release/strata-server"))
    a = ap.parse_args()
    data = payload(a.keys, a.size)
    res = {}
    for name, cmd in (("strata", [a.ours]), ("redis", [shutil.which("redis-server") or "redis-server"])):
        empty, full = measure(cmd, data, a.keys)
        res[name] = (empty, full)
        print(f"{name:7s} VmRSS empty {empty/1024:7.1f} MiB, loaded {full/1024:7.1f} MiB, "
              f"{(full-empty)*1024/a.keys:6.1f} B/key")
    ratio = res["strata"][1] / res["redis"][1]
    print(f"ratio strata/redis (loaded VmRSS): {ratio:.3f}")


if __name__ == "__main__":
    sys.exit(main())
