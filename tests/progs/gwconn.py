#!/usr/bin/python3
"""gwconn.py: small TCP clients for the gateway tests (run under the shim).

  connect HOST PORT block|nonblock...
      one connect() per mode given, in turn; prints, for each, "RESULT MS" where RESULT is "ok" or the errno's
      name (blocking: connect()'s error; non-blocking: EINPROGRESS, then
      poll() for POLLOUT and SO_ERROR, as curl does) and MS the time it
      took.  With "ok", also checks getpeername() names HOST:PORT.
  burst HOST PORT N
      N blocking connect()s in a row, each closed at once; prints
      "ok K ECONNREFUSED R other O".
  stream HOST PORT HTTPPORT GO OUT URLPATH
      reads a never-ending stream from HOST:PORT until it fails, prints
      "stream RESULT BYTES MS" (RESULT: the errno's name, or EOF; MS: from
      the moment the file GO+".cut" appears to the failure), then waits for
      the file GO+".again" and, in the same process, fetches URLPATH from
      HOST:HTTPPORT with HTTP/1.0 into OUT; prints "again ok MS" (MS: the
      connect and the download) or the error.
"""
import errno
import os
import select
import socket
import sys
import time


def ename(e):
    return errno.errorcode.get(e, str(e))


def now_ms():
    return time.monotonic() * 1000.0


def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def do_connect(host, port, mode):
    s = socket.socket(family(host), socket.SOCK_STREAM)
    t0 = now_ms()
    res = "ok"
    if mode == "block":
        try:
            s.connect((host, port))
        except OSError as e:
            res = ename(e.errno)
    else:
        s.setblocking(False)
        rc = s.connect_ex((host, port))
        if rc not in (0, errno.EINPROGRESS):
            res = ename(rc)
        else:
            if rc == errno.EINPROGRESS:
                p = select.poll()
                p.register(s, select.POLLOUT)
                if not p.poll(120000):
                    res = "POLLTIMEOUT"
            if res == "ok":
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    res = ename(err)
    ms = int(now_ms() - t0)
    if res == "ok":
        peer = s.getpeername()
        if peer[0] != host or peer[1] != port:
            res = "WRONGPEER(%s)" % (peer,)
    print(res, ms, flush=True)
    s.close()


def do_burst(host, port, n):
    ok = refused = other = 0
    for _ in range(n):
        s = socket.socket(family(host), socket.SOCK_STREAM)
        try:
            s.connect((host, port))
            ok += 1
        except OSError as e:
            if e.errno == errno.ECONNREFUSED:
                refused += 1
            else:
                other += 1
        s.close()
    print("ok", ok, "ECONNREFUSED", refused, "other", other, flush=True)


def wait_file(path, secs):
    t0 = time.monotonic()
    while not os.path.exists(path):
        if time.monotonic() - t0 > secs:
            return False
        time.sleep(0.02)
    return True


def do_stream(host, port, hport, go, out, urlpath):
    s = socket.create_connection((host, port))
    s.settimeout(60)
    got = 0
    res = "EOF"
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += len(b)
            if got >= 65536 and not os.path.exists(go + ".flowing"):
                open(go + ".flowing", "w").close()
    except OSError as e:
        res = ename(e.errno) if e.errno else type(e).__name__
    try:  # from the moment the cut was marked (wall clock: another process)
        ms = int(time.time() * 1000.0 - os.path.getmtime(go + ".cut") * 1000.0)
    except OSError:
        ms = -1
    print("stream", res, got, ms, flush=True)
    s.close()
    if not wait_file(go + ".again", 60):
        print("again never", flush=True)
        return
    t0 = now_ms()
    try:
        c = socket.create_connection((host, hport))
        c.settimeout(30)
        c.sendall(("GET /%s HTTP/1.0\r\nHost: x\r\n\r\n" % urlpath).encode())
        data = b""
        while True:
            b = c.recv(65536)
            if not b:
                break
            data += b
        c.close()
        head, _, body = data.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.0 200"):
            print("again bad answer", head[:40], flush=True)
            return
        with open(out, "wb") as f:
            f.write(body)
        print("again ok", int(now_ms() - t0), flush=True)
    except OSError as e:
        print("again", ename(e.errno) if e.errno else type(e).__name__, flush=True)


def main():
    cmd = sys.argv[1]
    if cmd == "connect":
        for mode in sys.argv[4:]:
            do_connect(sys.argv[2], int(sys.argv[3]), mode)
    elif cmd == "burst":
        do_burst(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif cmd == "stream":
        do_stream(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6], sys.argv[7])
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
