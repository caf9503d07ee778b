#!/usr/bin/python3
"""A DNS server for the tests and the benchmark, on 127.0.0.1 (UDP), that
answers every name of a wildcard zone at once or late, as asked:

  slow<ms>-<anything>.<zone>  A 127.0.0.1, answered <ms> milliseconds late
  two-<anything>.<zone>       A 127.0.0.2 then A 127.0.0.1 (nothing listens
                              on the first: a refused address, then one
                              that answers)
  nx-<anything>.<zone>        NXDOMAIN (slow<ms>-nx-...: late, too)
  anything else in the zone   A 127.0.0.1
  AAAA of any name            no address (NOERROR, no answer)
  a name outside the zone     REFUSED

Every answer carries --ttl. It prints "port N" once it listens and logs
each query as "<monotonic ns> <type> <name>" to --log (flushed at once),
so that a test can count lookups. One thread: late answers wait in a heap
while others are served."""
import argparse
import heapq
import select
import socket
import struct
import time

A, AAAA = 1, 28


def parse_question(msg):
    """(id, flags, name, qtype, end of the question) of a query."""
    qid, flags = struct.unpack("!HH", msg[:4])
    labels, i = [], 12
    while msg[i]:
        n = msg[i]
        labels.append(msg[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    qtype = struct.unpack("!H", msg[i + 1:i + 3])[0]
    return qid, flags, ".".join(labels).lower(), qtype, i + 5


def answer(msg, zone, ttl):
    """The reply to msg, and how many ms late it goes."""
    qid, flags, name, qtype, end = parse_question(msg)
    question = msg[12:end]
    rd = flags & 0x0100
    first = name.split(".", 1)[0]
    delay, rcode, addrs = 0, 0, []
    if not (name == zone or name.endswith("." + zone)):
        rcode = 5  # REFUSED
    elif "nx-" in first:
        rcode = 3  # NXDOMAIN
    elif qtype == A:
        addrs = ["127.0.0.2", "127.0.0.1"] if first.startswith("two-") \
            else ["127.0.0.1"]
    if first.startswith("slow") and "-" in first:
        digits = first[4:first.index("-")]
        delay = int(digits) if digits.isdigit() else 1000
    head = struct.pack("!HHHHHH", qid, 0x8000 | 0x0400 | rd | 0x0080 | rcode,
                       1, len(addrs), 0, 0)
    body = b"".join(struct.pack("!HHHIH", 0xC00C, A, 1, ttl, 4) +
                    socket.inet_aton(a) for a in addrs)
    return head + question + body, delay


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--zone", default="salvo.test")
    ap.add_argument("--ttl", type=int, default=60)
    ap.add_argument("--log")
    args = ap.parse_args()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(("127.0.0.1", args.port))
    print("port", s.getsockname()[1], flush=True)
    log = open(args.log, "a", buffering=1) if args.log else None
    late, seq = [], 0
    while True:
        now = time.monotonic()
        while late and late[0][0] <= now:
            _, _, reply, peer = heapq.heappop(late)
            s.sendto(reply, peer)
        wait = max(0.0, late[0][0] - now) if late else None
        if not select.select([s], [], [], wait)[0]:
            continue
        msg, peer = s.recvfrom(4096)
        try:
            reply, delay = answer(msg, args.zone.lower(), args.ttl)
        except (IndexError, struct.error):
            continue  # not a query
        if log:
            _, _, name, qtype, _ = parse_question(msg)
            log.write(f"{time.monotonic_ns()} "
                      f"{'A' if qtype == A else 'AAAA' if qtype == AAAA else qtype} "
                      f"{name}\n")
        if delay:
            seq += 1
            heapq.heappush(late, (now + delay / 1000, seq, reply, peer))
        else:
            s.sendto(reply, peer)


class Dnsd:
    """This server in a process of its own, for Python tests and the
    benchmark: .servers is what dns_servers takes; .queries(name) counts
    the A lookups of name."""

    def __init__(self, ttl=60, zone="salvo.test"):
        import os
        import subprocess
        import tempfile
        self.log = tempfile.mktemp(prefix="salvo-dns-", suffix=".log")
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", os.path.abspath(__file__), "--ttl",
             str(ttl), "--zone", zone, "--log", self.log],
            stdout=subprocess.PIPE, text=True)
        self.port = int(self.proc.stdout.readline().split()[1])
        self.servers = f"127.0.0.1:{self.port}"

    def queries(self, name):
        try:
            with open(self.log) as f:
                return sum(1 for ln in f if ln.split()[1:] == ["A", name])
        except FileNotFoundError:
            return 0

    def stop(self):
        import os
        self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()
        if os.path.exists(self.log):
            os.unlink(self.log)


if __name__ == "__main__":
    main()
