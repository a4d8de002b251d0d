#!/usr/bin/env python3
"""Writes, on standard output, the RESP commands that add the collections of
rdb-dump's speed measurement (docs/tools/rdb-dump.md, "Speed") to a server
already filled with `DEBUG POPULATE 1000000`:

    redis-cli -p 7000 DEBUG POPULATE 1000000
    tools/rdb-dump/make-bench-data.py | redis-cli -p 7000 --pipe
    redis-cli -p 7000 SAVE

300 lists of 5000 elements, 300 hashes of 1000 fields, 300 sets of 1000
members, 300 intsets of 500 members, 300 sorted sets of 1000 members, 3000
small sorted sets and hashes, 20000 strings with an expiry. Seeded: the same
commands every run. Python 3 standard library only.
"""

import random
import sys


def main():
    rng = random.Random(7)
    out = sys.stdout.buffer

    def command(*args):
        parts = [b"*%d\r\n" % len(args)]
        for a in args:
            b = a.encode() if isinstance(a, str) else a
            parts.append(b"$%d\r\n%s\r\n" % (len(b), b))
        out.write(b"".join(parts))

    for i in range(300):
        command("RPUSH", f"list:{i}", *[f"element-{i}-{j}-{rng.random()}" for j in range(5000)])
    for i in range(300):
        pairs = []
        for j in range(1000):
            pairs += [f"field:{j}", f"value-{rng.random()}"]
        command("HSET", f"hash:{i}", *pairs)
    for i in range(300):
        command("SADD", f"set:{i}", *[f"member-{j}-{rng.random()}" for j in range(1000)])
    for i in range(300):
        command("SADD", f"intset:{i}", *[str(j * 7) for j in range(500)])
    for i in range(300):
        scored = []
        for j in range(1000):
            scored += [repr(rng.random() * 1000), f"zmember-{j}"]
        command("ZADD", f"zset:{i}", *scored)
    for i in range(3000):
        scored = []
        for j in range(20):
            scored += [repr(rng.random()), f"m{j}"]
        command("ZADD", f"smallz:{i}", *scored)
        command("HSET", f"smallh:{i}", "a", "1", "b", "2", "c", str(i))
    for i in range(20000):
        command("SET", f"ttl:{i}", "x" * 50, "PX", str(1000 + i * 100000))


if __name__ == "__main__":
    main()
