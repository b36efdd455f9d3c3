#!/usr/bin/python3
"""hostile_data.py: a hostile mptcpshim client, plain python sockets.

Completes a valid HELLO with a shim server, then sends crafted DATA frames
(docs/DESIGN.md, "Wire protocol"):

  fragment STOPFILE  100,000 one-byte DATA frames, each leaving a one-byte
                     gap; again on a new connection until STOPFILE exists.
                     Prints "connections=N resets=R".
  finpast            DATA_FIN at x after 100 bytes, then 92 bytes past x.
  finahead           10 bytes, a DATA_FIN at x = 100 (ahead of a gap), then
                     data from 10 to 192 (past x).
  finbelow           200 bytes, a DATA_FIN at 100 (below them), then a
                     valid DATA_FIN at 200.
  dupfin             100 bytes with a DATA_FIN, the same frame again and a
                     lone DATA_FIN at the same DSN.
  Each single case prints its local port and how the server ended it.
  prefix N           print the sha256 of the stream's first N bytes (the
                     bytes these cases send at stream offsets 0..N).

Usage: hostile_data.py HOST PORT CASE [ARG]  (or: hostile_data.py prefix N)
"""
import hashlib
import os
import socket
import struct
import sys
import time

import mpskex

MAGIC = b"MPTCPSHM"
STREAM = bytes((i * 7 + (i >> 8)) & 0xFF for i in range(4096))


def hello(pub, wnd=1 << 20):
    """HELLO version 2: pub is our X25519 public value (tests/progs/mpskex.py)"""
    return mpskex.hello(1, pub, wnd)


def idsn(pub):
    """our IDSN: from our public value (the server's keys are not needed)"""
    return mpskex.idsn_c(pub)


def data(dsn, payload, fin=False):
    body = struct.pack(">QQI", dsn & (2**64 - 1), 0, 0) + payload
    return struct.pack(">BBH", 3, 2 if fin else 0, len(body)) + body


def finish(s, secs=20):
    """Read the server's frames up to its DATA_FIN, acknowledge it (so the
    connection ends gracefully), then read to the end."""
    s.settimeout(secs)
    buf = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                return "closed before the server's DATA_FIN"
            buf += b
            while len(buf) >= 4:
                ftype, flags, blen = struct.unpack(">BBH", buf[:4])
                if len(buf) < 4 + blen:
                    break
                if ftype == 3 and flags & 2:
                    dsn = struct.unpack(">Q", buf[4:12])[0]
                    fin = (dsn + blen - 20 + 1) & (2**64 - 1)
                    s.sendall(struct.pack(">BBHQI", 4, 0, 12, fin, 1 << 20))
                    return wait_verdict(s, secs)
                buf = buf[4 + blen:]
    except ConnectionResetError:
        return "reset"
    except OSError as e:
        return "error %s" % e


def new_key():
    return mpskex.Keypair().pub


def connect(host, port, key=None):
    """A connection past the handshake: (socket, first DSN, server window)."""
    s = socket.create_connection((host, port))
    if key is None:
        key = new_key()
    s.sendall(hello(key))
    reply = b""
    while len(reply) < 52:
        b = s.recv(52 - len(reply))
        if not b:
            sys.exit("server closed during the handshake")
        reply += b
    if reply[:12] != mpskex.hello_prefix(2):
        sys.exit("not a HELLO_ACK: %r" % reply)
    return s, idsn(key) + 1, struct.unpack(">I", reply[16:20])[0]


def wait_verdict(s, secs=20):
    """Read until the server closes or resets: 'reset' or 'closed'."""
    s.settimeout(secs)
    try:
        while s.recv(65536):
            pass
    except ConnectionResetError:
        return "reset"
    except OSError as e:
        return "error %s" % e
    return "closed"


def fragment(host, port, stopfile):
    conns = resets = 0
    # One key for every connection (it only sets the DSNs), so the flood is
    # built once: the attacker's own CPU is not the test's load.
    key = new_key()
    first = idsn(key) + 1
    # byte `first` is never sent: nothing can be delivered
    flood = b"".join(data(first + 1 + 2 * i, b"x") for i in range(100000))
    while not os.path.exists(stopfile):
        s, first, wnd = connect(host, port, key)
        assert 2 * 100000 < wnd, "the attack must fit the window (%d)" % wnd
        conns += 1
        try:
            s.sendall(flood)
        except OSError:
            pass  # reset while sending: the cap worked
        v = wait_verdict(s, 30)
        resets += v == "reset"
        s.close()
        with open(stopfile + ".progress", "w") as f:
            f.write("%d %d\n" % (conns, resets))
    print("connections=%d resets=%d" % (conns, resets))


def main():
    if sys.argv[1] == "prefix":
        n = int(sys.argv[2])
        print(hashlib.sha256(STREAM[:n]).hexdigest())
        return
    host, port, case = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if case == "fragment":
        fragment(host, port, sys.argv[4])
        return
    s, x, _ = connect(host, port)
    if case == "finpast":
        frames = [data(x, STREAM[:100], fin=True), data(x + 101, STREAM[101:193])]
    elif case == "finahead":
        frames = [data(x, STREAM[:10]), data(x + 100, b"", fin=True),
                  data(x + 10, STREAM[10:192])]
    elif case == "finbelow":
        frames = [data(x, STREAM[:200]), data(x + 100, b"", fin=True),
                  data(x + 200, b"", fin=True)]
    elif case == "dupfin":
        frames = [data(x, STREAM[:100], fin=True), data(x, STREAM[:100], fin=True),
                  data(x + 100, b"", fin=True)]
    else:
        sys.exit("unknown case " + case)
    port = s.getsockname()[1]
    try:
        for fr in frames:
            s.sendall(fr)
            time.sleep(0.05)  # one frame per read: the order is the point
    except OSError:
        print(port, "reset while sending")  # the server judged already
        return
    print(port, finish(s) if case == "dupfin" else wait_verdict(s))


if __name__ == "__main__":
    main()
