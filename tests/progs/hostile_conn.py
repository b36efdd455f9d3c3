#!/usr/bin/env python3
"""hostile_conn.py - hostile peers for hostile_join.sh and bench/hostile,
plain sockets (run it without the shim), plus the honest ends.

  joinflood HOST PORT SRCS N SECS  keep N idle connections open to HOST:PORT
                                   for SECS s from the comma-separated source
                                   addresses SRCS in turn, reopening each one
                                   the server closes; prints "ready" once N
                                   are up (or after 2 s), then "opened O
                                   closed C open N"
  halfhello HOST PORT N            open N connections, send the first 12 bytes
                                   of a HELLO (header + magic) on each, print
                                   "sent", then hold them silently until killed
  slowplain HOST PORT WAIT STALL   a slow plain client: connect, wait WAIT s,
                                   send one byte that begins a HELLO (0x01),
                                   wait STALL s, send 100 KB more; fail unless
                                   all of it comes back echoed byte-exact
  echo HOST PORT                   echo server for any number of connections
                                   (one thread, selectors)
  xfer HOST PORT FILE DELAY        connect, wait DELAY s, send FILE while
                                   reading the echo; fail unless the echo is
                                   byte-exact; print "ok BYTES SECONDS"
"""
import errno, hashlib, os, resource, selectors, socket, struct, sys, threading, time

HELLO_PREFIX = struct.pack(">BBH", 1, 0, 48) + b"MPTCPSHM"  # HELLO version 2


def die(msg):
    sys.stderr.write("hostile_conn: %s\n" % msg)
    sys.stderr.flush()
    os._exit(1)


def say(*a):
    print(*a)
    sys.stdout.flush()


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def fam_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def cmd_joinflood(host, port, srcs, n, secs):
    raise_nofile()
    srcs = srcs.split(",")
    nxt = [0]
    port, n, secs = int(port), int(n), float(secs)
    sel = selectors.DefaultSelector()
    nopen = opened = closed = 0
    ready_said = False
    t0 = time.monotonic()
    end = t0 + secs

    def start_one():
        s = socket.socket(fam_of(host), socket.SOCK_STREAM)
        s.bind((srcs[nxt[0] % len(srcs)], 0))
        nxt[0] += 1
        s.setblocking(False)
        e = s.connect_ex((host, port))
        if e not in (0, errno.EINPROGRESS):
            s.close()
            return False
        sel.register(s, selectors.EVENT_WRITE, "connecting")
        return True

    pending = 0  # connects in flight
    while time.monotonic() < end:
        made = 0
        while nopen + pending < n and made < 200:
            if not start_one():
                break
            pending += 1
            made += 1
        for key, ev in sel.select(0.05):
            s = key.fileobj
            if key.data == "connecting":
                pending -= 1
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                    sel.unregister(s)
                    s.close()
                    continue
                sel.modify(s, selectors.EVENT_READ, "open")
                nopen += 1
                opened += 1
                continue
            try:
                b = s.recv(4096)
            except OSError:
                b = b""
            if not b:  # closed or reset by the server: reopen
                sel.unregister(s)
                s.close()
                nopen -= 1
                closed += 1
        if not ready_said and (nopen >= n or time.monotonic() - t0 > 2):
            say("ready", nopen)
            ready_said = True
        if made == 0:
            time.sleep(0.01)  # do not spin when the server resets at once
    say("opened", opened, "closed", closed, "open", nopen)


def cmd_halfhello(host, port, n):
    raise_nofile()
    socks = []
    for _ in range(int(n)):
        s = socket.create_connection((host, int(port)), timeout=10)
        s.sendall(HELLO_PREFIX)
        socks.append(s)
    say("sent", len(socks))
    while True:
        time.sleep(3600)


def cmd_slowplain(host, port, wait, stall):
    data = HELLO_PREFIX[:1] + os.urandom(100000)
    c = socket.create_connection((host, int(port)), timeout=60)
    time.sleep(float(wait))
    c.sendall(data[:1])
    time.sleep(float(stall))
    c.sendall(data[1:])
    c.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        b = c.recv(1 << 16)
        if not b:
            break
        got += b
    if got != data:
        die("slowplain: echo differs: %d of %d bytes" % (len(got), len(data)))
    say("ok", len(data))


def cmd_echo(host, port):
    raise_nofile()
    ls = socket.socket(fam_of(host), socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, int(port)))
    ls.listen(1024)
    ls.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(ls, selectors.EVENT_READ, None)
    out = {}  # conn -> bytes not yet echoed

    def close(c):
        sel.unregister(c)
        out.pop(c, None)
        c.close()

    while True:
        for key, ev in sel.select():
            c = key.fileobj
            if c is ls:
                try:
                    while True:
                        a, _ = ls.accept()
                        a.setblocking(False)
                        out[a] = b""
                        sel.register(a, selectors.EVENT_READ, "c")
                except (BlockingIOError, InterruptedError):
                    pass
                continue
            if ev & selectors.EVENT_READ:
                try:
                    b = c.recv(1 << 16)
                except (BlockingIOError, InterruptedError):
                    b = None
                except OSError:
                    close(c)
                    continue
                if b == b"":
                    if not out[c]:
                        close(c)
                        continue
                elif b:
                    out[c] += b
            if out.get(c):
                try:
                    k = c.send(out[c])
                    out[c] = out[c][k:]
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    close(c)
                    continue
                # stop reading while the echo is behind (flow control)
                sel.modify(c, selectors.EVENT_WRITE if out[c] else selectors.EVENT_READ, "c")


def cmd_xfer(host, port, path, delay):
    data = open(path, "rb").read()
    c = socket.create_connection((host, int(port)), timeout=120)
    time.sleep(float(delay))
    h = hashlib.sha256()
    got = [0]

    def rx():
        while True:
            b = c.recv(1 << 16)
            if not b:
                return
            h.update(b)
            got[0] += len(b)

    t = threading.Thread(target=rx)
    t0 = time.monotonic()
    t.start()
    c.sendall(data)
    c.shutdown(socket.SHUT_WR)
    t.join()
    dt = time.monotonic() - t0
    c.close()
    if got[0] != len(data) or h.hexdigest() != hashlib.sha256(data).hexdigest():
        die("echo differs: %d of %d bytes, sha256 %s" % (got[0], len(data), h.hexdigest()))
    say("ok", len(data), "%.3f" % dt)


cmds = {k[4:]: v for k, v in list(globals().items()) if k.startswith("cmd_")}
if len(sys.argv) < 2 or sys.argv[1] not in cmds:
    die("usage: hostile_conn.py {%s} ARGS" % ",".join(sorted(cmds)))
cmds[sys.argv[1]](*sys.argv[2:])
