#!/usr/bin/env python3
"""Latency seen by other clients while a big collection is freed, ours
beside Redis 7.0.15.

For each server and each way of freeing (DEL, UNLINK, FLUSHALL ASYNC,
FLUSHALL), fills a set of --members integers-as-strings (hashtable
encoding) with SADD batches, then starts a probe thread that sends PING
on its own connection back to back and records each round trip, runs the
freeing command on another connection, and reports the freeing command's
own time and the slowest PING while it ran.

    python3 tools/bench/free_latency.py [--members 1000000] [--ours PATH]
"""
import argparse, os, shutil, socket, subprocess, sys, tempfile, threading, time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.f = self.s.makefile("rb")

    def send(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.s.sendall(out)

    def read(self):
        line = self.f.readline()
        if line[:1] == b"$":
            n = int(line[1:])
            if n >= 0:
                self.f.read(n + 2)
        elif line[:1] == b"*":
            for _ in range(int(line[1:])):
                self.read()
        return line

    def call(self, *args):
        self.send(*args)
        return self.read()


def fill(c, members):
    batch = 10000
    for start in range(0, members, batch):
        c.call("SADD", "big", *[b"member:%d" % i for i in range(start, min(members, start + batch))])


def measure(port, how, members):
    c = Conn(port)
    fill(c, members)
    stop = threading.Event()
    worst = [0.0]

    def probe():
        p = Conn(port)
        while not stop.is_set():
            t = time.perf_counter()
            p.call("PING")
            worst[0] = max(worst[0], time.perf_counter() - t)

    th = threading.Thread(target=probe)
    th.start()
    time.sleep(0.2)
    worst[0] = 0.0
    t = time.perf_counter()
    c.call(*how.split())
    took = time.perf_counter() - t
    time.sleep(0.2)
    stop.set()
    th.join()
    return took * 1000, worst[0] * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--members", type=int, default=1_000_000)
    ap.add_argument("--ours", default=os.path.join(os.path.dirname(__file__), "../../target/release/strata-server"))
    a = ap.parse_args()
    for name, cmd in (("strata", a.ours), ("redis", shutil.which("redis-server") or "redis-server")):
        for how in ("DEL big", "UNLINK big", "FLUSHALL ASYNC", "FLUSHALL"):
            port = free_port()
            d = tempfile.mkdtemp(prefix="free-lat-")
            p = subprocess.Popen([cmd, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                  "--dir", d], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                deadline = time.time() + 10
                while True:
                    try:
                        Conn(port).call("PING")
                        break
                    except OSError:
                        if time.time() > deadline:
                            raise
                        time.sleep(0.05)
                took, worst = measure(port, how, a.members)
                print(f"{name:7s} {how:15s} command {took:8.2f} ms, slowest PING meanwhile {worst:8.2f} ms")
            finally:
                p.kill()
                p.wait()
                shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
