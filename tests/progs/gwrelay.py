# gwrelay.py: the programs of tests/integration/gwrelay.sh.
#   pairsrv HOST PORT         answers each request "p?" (2 bytes, maybe in 2
#                             pieces) with the same 2 bytes, a thread per
#                             connection, forever
#   pairs HOST PORT N         N requests on one connection, each written as
#                             "p", a 5 ms pause, then "q": prints "ok N"
#   streamsrv HOST PORT       streams 64 KiB every 10 ms to each connection
#                             for up to 60 s
#   hcsrv HOST PORT           half-close: reads each connection to its EOF,
#                             then sends the SHA-256 (hex) of what it read, a
#                             newline, 1 MiB of random bytes and their SHA-256,
#                             and closes
#   halfclose HOST PORT       sends 1 MiB, shuts its write side, reads to EOF
#                             and checks both digests: prints "ok"
#   limit GWPID HOST PORT N   holds N connections to pairsrv (one request
#                             each), reads the gateway's thread count, tries
#                             one more (refused, the gateway's --max-per-client
#                             being N), closes one and connects again within
#                             10 s: prints "threads T refused R again A"
#   abortsrv HOST PORT OUT    sends "x" to each connection, then reads it
#                             to its end: writes "EOF" or the errno name
#                             (ECONNRESET) to OUT
#   abort HOST PORT           reads the "x", then closes with SO_LINGER
#                             {1, 0} (an abortive close): prints "ok"
#   socksread PROXYPORT HOST PORT FLOWING
#                             (no preload) SOCKS5 CONNECT through the proxy
#                             on 127.0.0.1:PROXYPORT to HOST:PORT, read;
#                             touches FLOWING after 1 MiB; prints
#                             "end EOF BYTES" or "end ERR <errno name> BYTES"
import errno, hashlib, os, socket, struct, sys, threading, time

cmd = sys.argv[1]


def serve(host, port, fn):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(64)
    while True:
        c, _ = s.accept()
        threading.Thread(target=fn, args=(c,), daemon=True).start()


def pair_conn(c):
    buf = b""
    try:
        while True:
            b = c.recv(16)
            if not b:
                break
            buf += b
            while len(buf) >= 2:
                c.sendall(buf[:2])
                buf = buf[2:]
    except OSError:
        pass
    c.close()


def stream_conn(c):
    chunk = os.urandom(1 << 16)
    end = time.monotonic() + 60
    try:
        while time.monotonic() < end:
            c.sendall(chunk)
            time.sleep(0.01)
    except OSError:
        pass
    c.close()


def hc_conn(c):
    h = hashlib.sha256()
    try:
        while True:
            b = c.recv(1 << 16)
            if not b:
                break
            h.update(b)
        data = os.urandom(1 << 20)
        c.sendall(h.hexdigest().encode() + b"\n" + data + hashlib.sha256(data).hexdigest().encode())
    except OSError:
        pass
    c.close()


def pair_once(c):
    c.sendall(b"pq")
    got = b""
    while len(got) < 2:
        b = c.recv(2 - len(got))
        if not b:
            return False
        got += b
    return got == b"pq"


def connect(host, port):
    try:
        c = socket.create_connection((host, port), timeout=20)
    except ConnectionRefusedError:
        return None
    if not pair_once(c):
        sys.exit("limit: no answer")
    return c


def abort_conn(c, out):
    res = "EOF"
    try:
        c.sendall(b"x")
        while c.recv(1 << 16):
            pass
    except OSError as e:
        res = errno.errorcode.get(e.errno, str(e.errno))
    c.close()
    with open(out + ".tmp", "w") as f:
        f.write(res + "\n")
    os.rename(out + ".tmp", out)


if cmd == "abortsrv":
    out = sys.argv[4]
    serve(sys.argv[2], int(sys.argv[3]), lambda c: abort_conn(c, out))
elif cmd == "abort":
    c = socket.create_connection((sys.argv[2], int(sys.argv[3])), timeout=20)
    if c.recv(1) != b"x":
        sys.exit("abort: no greeting")
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
    print("ok")
elif cmd == "hcsrv":
    serve(sys.argv[2], int(sys.argv[3]), hc_conn)
elif cmd == "halfclose":
    c = socket.create_connection((sys.argv[2], int(sys.argv[3])), timeout=20)
    data = os.urandom(1 << 20)
    c.sendall(data)
    c.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        b = c.recv(1 << 16)
        if not b:
            break
        got += b
    c.close()
    if len(got) != 64 + 1 + (1 << 20) + 64:
        sys.exit("halfclose: %d bytes back" % len(got))
    if got[:64] != hashlib.sha256(data).hexdigest().encode():
        sys.exit("halfclose: the server read other bytes than sent")
    if got[-64:] != hashlib.sha256(got[65:-64]).hexdigest().encode():
        sys.exit("halfclose: the bytes after the half-close differ")
    print("ok")
elif cmd == "limit":
    gwpid, host, port, n = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    held = []
    for i in range(n):
        c = connect(host, port)
        if c is None:
            sys.exit("limit: connection %d of %d refused" % (i + 1, n))
        held.append(c)
    with open("/proc/%s/status" % gwpid) as f:
        threads = [l.split()[1] for l in f if l.startswith("Threads:")][0]
    extra = connect(host, port)
    refused = 1 if extra is None else 0
    held.pop(0).close()
    again, end, refusals = None, time.monotonic() + 10, refused
    while again is None and time.monotonic() < end:
        again = connect(host, port)
        if again is None:
            refusals += 1
            time.sleep(0.1)
    print("threads %s refused %d again %d refusals %d" %
          (threads, refused, again is not None, refusals))
elif cmd == "pairsrv":
    serve(sys.argv[2], int(sys.argv[3]), pair_conn)
elif cmd == "streamsrv":
    serve(sys.argv[2], int(sys.argv[3]), stream_conn)
elif cmd == "pairs":
    n = int(sys.argv[4])
    c = socket.create_connection((sys.argv[2], int(sys.argv[3])), timeout=20)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for i in range(n):
        c.sendall(b"p")
        time.sleep(0.005)
        c.sendall(b"q")
        got = b""
        while len(got) < 2:
            b = c.recv(2 - len(got))
            if not b:
                sys.exit("pairs: closed after %d requests" % i)
            got += b
        if got != b"pq":
            sys.exit("pairs: answer %r" % got)
    c.close()
    print("ok %d" % n)
else:
    pp, host, port, flowing = int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
    c = socket.create_connection(("127.0.0.1", pp), timeout=20)
    c.sendall(b"\x05\x01\x00")
    if c.recv(2) != b"\x05\x00":
        sys.exit("socksread: method refused")
    c.sendall(b"\x05\x01\x00\x01" + socket.inet_aton(host) + struct.pack("!H", port))
    rep = b""
    while len(rep) < 10:
        b = c.recv(10 - len(rep))
        if not b:
            sys.exit("socksread: no reply")
        rep += b
    if rep[1] != 0:
        sys.exit("socksread: reply %d" % rep[1])
    c.settimeout(30)
    n, told = 0, False
    try:
        while True:
            b = c.recv(1 << 16)
            if not b:
                print("end EOF %d" % n)
                break
            n += len(b)
            if n >= (1 << 20) and not told:
                open(flowing, "w").close()
                told = True
    except OSError as e:
        print("end ERR %s %d" % (errno.errorcode.get(e.errno, str(e.errno)), n))
