#!/usr/bin/env python3
"""Memory a background save takes, ours beside Redis 7.0.15, same run.

Each server is started fresh, loaded with compare.py's mixed dataset
(scenario g: 1,000,000 keys by default) and measured twice: a BGSAVE on an
idle server, and a BGSAVE while a redis-benchmark SET load overwrites random
existing keys (`key:%012d`, 100-byte values). Memory is sampled every 5 ms
from start to end of the save:

  ours:  VmRSS of the server process (the save is a thread in it);
  redis: VmRSS of the server plus the private pages (Private_Clean +
         Private_Dirty from smaps_rollup) of its forked child: the pages the
         child holds that the parent does not, copy-on-write included.

Prints the peak over the RSS before the save for each, and writes nothing.

    python3 tools/bench/bgsave_mem.py [--keys N] [--ours PATH]
"""
import argparse, os, shutil, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rss  # noqa: E402  (dataset generators and process helpers)


def kib_field(path, name):
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def footprint_kib(pid):
    total = kib_field(f"/proc/{pid}/status", "VmRSS")
    for c in children(pid):
        p = f"/proc/{c}/smaps_rollup"
        total += kib_field(p, "Private_Clean") + kib_field(p, "Private_Dirty")
    return total


def cli(port, *args):
    r = subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True, check=True)
    return r.stdout.strip()


def info_field(port, section, name):
    for line in cli(port, "INFO", section).splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1].strip()
    return None


def one_save(pid, port, n_keys, with_load):
    load = None
    if with_load:
        load = subprocess.Popen(["redis-benchmark", "-p", str(port), "-t", "set", "-r", str(n_keys), "-d", "100",
                                 "-n", "100000000", "-c", "20", "-q"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)  # the load is running before the save starts
    before = footprint_kib(pid)
    peak = before
    start = time.time()
    cli(port, "BGSAVE")
    deadline = start + 300
    while True:
        peak = max(peak, footprint_kib(pid))
        if info_field(port, "persistence", "rdb_bgsave_in_progress") == "0":
            break
        if time.time() > deadline:
            raise RuntimeError("BGSAVE did not finish in 300 s")
        time.sleep(0.005)
    took = time.time() - start
    if load:
        load.kill()
        load.wait()
    status = info_field(port, "persistence", "rdb_last_bgsave_status")
    if status != "ok":
        raise RuntimeError(f"BGSAVE status {status}")
    return before, peak, took


def measure(name, cmd, data, n_keys):
    p, port, d = rss.start(cmd, "bgsave-mem-")
    try:
        subprocess.run(["redis-cli", "-p", str(port), "--pipe"], input=data, capture_output=True, check=True)
        assert int(cli(port, "DBSIZE")) == n_keys
        time.sleep(0.5)
        for with_load in (False, True):
            before, peak, took = one_save(p.pid, port, n_keys, with_load)
            what = "under SET load" if with_load else "idle"
            print(f"{name:7s} BGSAVE {what:15s}: before {before/1024:7.1f} MiB, peak {peak/1024:7.1f} MiB, "
                  f"peak/before {peak/before:.3f}, {took:.2f} s", flush=True)
    finally:
        rss.stop(p, d)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--ours", default=os.path.join(os.path.dirname(__file__), "../../target/release/strata-server"))
    a = ap.parse_args()
    data = rss.mixed(a.keys)
    measure("strata", [a.ours], data, a.keys)
    measure("redis", [shutil.which("redis-server") or "redis-server"], data, a.keys)


if __name__ == "__main__":
    sys.exit(main())
