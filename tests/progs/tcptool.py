#!/usr/bin/env python3
# tcptool.py - the integration tests' TCP helper: servers and clients that
# move a file and check it by sha256 (tests/integration/lib.sh's
# write_pytool copies it into the test's directory as $PYTOOL; run it as
# "$PY" "$PYTOOL" COMMAND ARGS, the commands are the cmd_* functions).
import hashlib, os, socket, sys, threading, time

def die(msg):
    sys.stderr.write("tcptool: %s\n" % msg)
    sys.exit(1)

def listener(host, port):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, int(port)))
    s.listen(64)
    return s

def connect(host, port):
    return socket.create_connection((host, int(port)), timeout=120)

def recv_all(c):
    h = hashlib.sha256(); n = 0
    while True:
        b = c.recv(1 << 16)
        if not b:
            return h.hexdigest(), n
        h.update(b); n += len(b)

def recv_line(c):
    buf = b""
    while not buf.endswith(b"\n"):
        b = c.recv(1)
        if not b:
            break
        buf += b
    return buf

def cmd_hcserver(host, port, count="1"):
    # accept; read to EOF; reply "<sha256> <bytes>\n"; close
    s = listener(host, port)
    for _ in range(int(count)):
        c, _a = s.accept()
        d, n = recv_all(c)
        c.sendall(("%s %d\n" % (d, n)).encode())
        c.close()

def cmd_hcclient(host, port, path):
    # send file, SHUT_WR, then the reply must still arrive
    c = connect(host, port)
    h = hashlib.sha256(); n = 0
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 16)
            if not b:
                break
            c.sendall(b); h.update(b); n += len(b)
    c.shutdown(socket.SHUT_WR)
    reply = b""
    while True:
        b = c.recv(4096)
        if not b:
            break
        reply += b
    c.close()
    want = ("%s %d\n" % (h.hexdigest(), n)).encode()
    print("hcclient: sent %d B, reply %r" % (n, reply))
    if reply != want:
        die("half-close reply %r != expected %r" % (reply, want))

def cmd_bannerserver(host, port, recvlog, count="0"):
    # server-first: "220 hello\r\n" on accept; read one line; answer
    # "250 <sha256(line)>\r\n"; then record everything the client sent until
    # EOF in RECVLOG.<n> (one file per connection; COUNT 0 = forever)
    s = listener(host, port)
    i = 0
    while int(count) == 0 or i < int(count):
        c, a = s.accept()
        got = bytearray()
        note = "eof"
        try:
            c.sendall(b"220 hello\r\n")
            while not got.endswith(b"\n"):
                b = c.recv(1)
                if not b:
                    break
                got += b
            if got.endswith(b"\n"):
                c.sendall(b"250 " + hashlib.sha256(bytes(got)).hexdigest().encode() + b"\r\n")
            while True:
                b = c.recv(65536)
                if not b:
                    break
                got += b
        except OSError as e:
            note = repr(e)
        c.close()
        with open("%s.%d" % (recvlog, i), "wb") as f:
            f.write(got)
        sys.stderr.write("bannerserver: conn %d from %s: %d B, %s\n" % (i, a[0], len(got), note))
        sys.stderr.flush()
        i += 1

def cmd_bannerclient(host, port, line, recvlog):
    line = line.encode() + b"\r\n"
    c = connect(host, port)
    banner = recv_line(c)
    if banner != b"220 hello\r\n":
        die("bad banner %r" % banner)
    c.sendall(line)
    reply = recv_line(c)
    want = b"250 " + hashlib.sha256(line).hexdigest().encode() + b"\r\n"
    c.shutdown(socket.SHUT_WR)
    rest = b""
    while True:
        b = c.recv(65536)
        if not b:
            break
        rest += b
    c.close()
    with open(recvlog, "wb") as f:
        f.write(banner + reply + rest)
    if reply != want:
        die("bad reply %r, want %r" % (reply, want))
    if rest:
        die("stray bytes after reply: %r" % rest[:200])
    print("bannerclient: ok")

def cmd_bannertime(host, port, conns, limit):
    # CONNS connections one after another to a bannerserver, as Python's
    # connect with a timeout makes them (non-blocking connect, poll for
    # POLLOUT, SO_ERROR) then a wait for the banner: the time from the
    # connect to the banner, of every connection but the first; fails when
    # one took LIMIT seconds or more, or any exchange differs
    worst = 0.0
    for i in range(int(conns)):
        t0 = time.monotonic()
        c = connect(host, port)
        banner = recv_line(c)
        took = time.monotonic() - t0
        if banner != b"220 hello\r\n":
            die("conn %d: bad banner %r" % (i, banner))
        line = b"QUIT %d\r\n" % i
        c.sendall(line)
        if recv_line(c) != b"250 " + hashlib.sha256(line).hexdigest().encode() + b"\r\n":
            die("conn %d: bad reply" % i)
        c.close()
        if i > 0:
            worst = max(worst, took)
    print("bannertime: %d connections, the slowest banner after %.3f s" % (int(conns), worst))
    if worst >= float(limit):
        die("a banner took %.3f s (limit %s s)" % (worst, limit))

def cmd_bidiclient(host, port, sendpath, recvpath):
    # send a file and receive concurrently (the server does the same)
    c = connect(host, port)
    err = []
    def tx():
        try:
            with open(sendpath, "rb") as f:
                while True:
                    b = f.read(1 << 16)
                    if not b:
                        break
                    c.sendall(b)
            c.shutdown(socket.SHUT_WR)
        except Exception as e:
            err.append(e)
    t = threading.Thread(target=tx); t.start()
    with open(recvpath, "wb") as f:
        while True:
            b = c.recv(1 << 16)
            if not b:
                break
            f.write(b)
    t.join(); c.close()
    if err:
        die("send: %r" % err)

def cmd_getclient(host, port, line="GET"):
    # send LINE and a newline, read to EOF; print "SHA256 BYTES" of it
    c = connect(host, port)
    c.sendall(line.encode() + b"\n")
    print("%s %d" % recv_all(c))

def cmd_acceptclose(host, port):
    # accept and close immediately, forever (connection-rate server)
    s = listener(host, port)
    while True:
        c, _a = s.accept()
        c.close()

def cmd_cps(host, port, seconds):
    # open/close connections for SECONDS; print connections per second
    end = time.monotonic() + float(seconds)
    n = 0; t0 = time.monotonic()
    while time.monotonic() < end:
        c = socket.create_connection((host, int(port)), timeout=10)
        c.recv(1)  # wait for the server's close: full open/close cycle
        c.close()
        n += 1
    dt = time.monotonic() - t0
    print("%.1f" % (n / dt))

def _xfer(c, mode, path, ack=None):
    # send: FILE, SHUT_WR, read to EOF (nothing expected); recv: read to
    # EOF into FILE, answering each read (64 KiB at most then) with ACK if
    # given.  Both ends thus see the whole close sequence.
    n = 0
    if mode == "send":
        with open(path, "rb") as f:
            while True:
                b = f.read(1 << 18)
                if not b:
                    break
                c.sendall(b); n += len(b)
        c.shutdown(socket.SHUT_WR)
        extra = 0
        while True:
            b = c.recv(1 << 16)
            if not b:
                break
            extra += len(b)
        if extra:
            die("%d unexpected bytes from the peer" % extra)
    elif mode == "recv":
        with open(path, "wb") as f:
            while True:
                b = c.recv(1 << 16 if ack else 1 << 18)
                if not b:
                    break
                f.write(b); n += len(b)
                if ack:
                    c.sendall(ack)
    else:
        die("mode must be send or recv")
    c.close()
    return n

def cmd_xfserver(host, port, mode, path, delay="0"):
    # accept one connection; [wait DELAY seconds;] MODE send|recv FILE (see _xfer)
    s = listener(host, port)
    c, a = s.accept()
    s.close()
    time.sleep(float(delay))
    n = _xfer(c, mode, path)
    sys.stderr.write("xfserver: %s %d B with %s\n" % (mode, n, a[0]))

def cmd_xfclient(host, port, mode, path, delay="0"):
    # connect; [wait DELAY seconds;] MODE send|recv FILE (see _xfer)
    c = connect(host, port)
    time.sleep(float(delay))
    n = _xfer(c, mode, path)
    sys.stderr.write("xfclient: %s %d B\n" % (mode, n))

def cmd_ackserver(host, port, path):
    # accept one connection; read to EOF into FILE, answering each read
    # with a 4-byte acknowledgement (an ssh-like upload: the sender reads
    # small window updates while it sends)
    s = listener(host, port)
    c, a = s.accept()
    s.close()
    n = _xfer(c, "recv", path, b"ack\n")
    sys.stderr.write("ackserver: %d B\n" % n)

def cmd_paceclient(host, port, path, chunk="65536", pause="0.005"):
    # connect; send FILE in CHUNK-byte writes PAUSE seconds apart, after
    # each one reading what acknowledgements came (ackserver), then
    # SHUT_WR and read to EOF: an upload the kernel's send buffer always
    # takes at once, with small reads in between
    c = connect(host, port)
    n = acks = 0
    with open(path, "rb") as f:
        while True:
            b = f.read(int(chunk))
            if not b:
                break
            c.sendall(b); n += len(b)
            time.sleep(float(pause))
            try:
                acks += len(c.recv(4096, socket.MSG_DONTWAIT))
            except BlockingIOError:
                pass
    c.shutdown(socket.SHUT_WR)
    while True:
        b = c.recv(4096)
        if not b:
            break
        acks += len(b)
    if acks % 4:
        die("%d acknowledgement bytes" % acks)
    c.close()
    sys.stderr.write("paceclient: sent %d B\n" % n)

def _recvn(c, n):
    buf = bytearray()
    while len(buf) < n:
        b = c.recv(min(n - len(buf), 1 << 18))
        if not b:
            break
        buf += b
    return bytes(buf)

def cmd_echoserver(host, port):
    # accept one connection; echo each block (4-byte length, then the
    # bytes) back whole, until EOF
    s = listener(host, port)
    c, a = s.accept()
    s.close()
    n = 0
    while True:
        h = _recvn(c, 4)
        if not h:
            break
        if len(h) < 4:
            die("echoserver: a cut length")
        k = int.from_bytes(h, "big")
        b = _recvn(c, k)
        if len(b) != k:
            die("echoserver: block of %d B cut at %d" % (k, len(b)))
        c.sendall(b); n += 1
    c.close()
    sys.stderr.write("echoserver: %d block(s) echoed\n" % n)

def cmd_bigechoserver(host, port, conns="1"):
    # accept CONNS connections one after another; on each, echo whatever
    # each blocking recv (up to 1 MiB) returns, until EOF
    s = listener(host, port)
    n = 0
    for _ in range(int(conns)):
        c, a = s.accept()
        while True:
            b = c.recv(1 << 20)
            if not b:
                break
            c.sendall(b); n += len(b)
        c.close()
    s.close()
    sys.stderr.write("bigechoserver: %d B echoed\n" % n)

def cmd_pingclient(host, port, path, rounds, size, pause):
    # ROUNDS blocks of SIZE B of FILE echoed and compared, PAUSE seconds
    # between them (the server's thread asleep in its recv meanwhile)
    data = open(path, "rb").read()
    k = int(size)
    c = connect(host, port)
    for i in range(int(rounds)):
        off = (i * 7919) % max(1, len(data) - k)
        b = data[off:off + k]
        c.sendall(b)
        got = _recvn(c, len(b))
        if got != b:
            die("round %d: echo differs (%d B back)" % (i, len(got)))
        time.sleep(float(pause))
    c.shutdown(socket.SHUT_WR)
    if c.recv(1):
        die("pingclient: bytes after the last echo")
    c.close()
    sys.stderr.write("pingclient: %s round(s) echoed\n" % rounds)

def cmd_pauseclient(host, port, path, rounds, pause, first="0"):
    # ROUNDS blocks of FILE (1 B, 70001 B, all of it, in turn, each from
    # another offset), each echoed back and compared byte for byte, with
    # PAUSE seconds of silence before each but the first (FIRST seconds
    # before that one: the server accepts before the client speaks)
    data = open(path, "rb").read()
    c = connect(host, port)
    for i in range(int(rounds)):
        time.sleep(float(pause if i else first))
        k = (1, 70001, len(data))[i % 3]
        off = (i * 7919) % max(1, len(data) - k + 1)
        b = data[off:off + k]
        c.sendall(len(b).to_bytes(4, "big") + b)
        got = _recvn(c, len(b))
        if got != b:
            die("round %d: %d B echoed as %d B, %s" % (i, len(b), len(got),
                "the same length but different bytes" if len(got) == len(b) else "cut"))
    c.shutdown(socket.SHUT_WR)
    if c.recv(1):
        die("pauseclient: bytes after the last echo")
    c.close()
    sys.stderr.write("pauseclient: %s round(s) echoed\n" % rounds)

def cmd_mixclient(host, port, path, seed="1"):
    # send FILE in pieces of random sizes, each by one of send(), write(),
    # sendmsg() of two or of 40 spans (the shim takes these on the app's
    # thread when it can, part of a large one) and sendfile() (no hook:
    # through the socketpair), with
    # short pauses between some; then SHUT_WR, a send() that must fail
    # with EPIPE as on TCP, and read to EOF
    import random
    rnd = random.Random(int(seed))
    data = open(path, "rb").read()
    c = connect(host, port)
    fd = c.fileno()
    off, uses = 0, {}
    with open(path, "rb") as f:
        while off < len(data):
            k = rnd.choice((1, 100, 1460, 8192, 65536, 200001))
            if rnd.random() < 0.03:
                k = 3000017  # more than the shim takes on the app's thread at once
            k = min(len(data) - off, k)
            how = rnd.choice(("send", "write", "sendmsg", "sendfile", "sendmsg40"))
            uses[how] = uses.get(how, 0) + 1
            if how == "send":
                c.sendall(data[off:off + k]); n = k
            elif how == "write":
                n = os.write(fd, data[off:off + k])
            elif how == "sendmsg":
                h = k // 2
                n = c.sendmsg([data[off:off + h], data[off + h:off + k]])
            elif how == "sendmsg40":
                # many spans: a write larger than what the shim takes on
                # the app's thread leaves the rest to the socketpair
                cut = sorted(rnd.randrange(k + 1) for _ in range(39))
                b = [0] + cut + [k]
                n = c.sendmsg([data[off + b[i]:off + b[i + 1]] for i in range(40)])
            else:
                n = os.sendfile(fd, f.fileno(), off, k)
            if n <= 0:
                die("mixclient: %s wrote %d" % (how, n))
            off += n
            if rnd.random() < 0.05:
                time.sleep(0.02)
    c.shutdown(socket.SHUT_WR)
    try:
        c.send(b"x")
        die("mixclient: send() after shutdown(SHUT_WR) succeeded")
    except BrokenPipeError:
        pass
    if c.recv(1):
        die("mixclient: bytes from the peer")
    c.close()
    sys.stderr.write("mixclient: %d B %s\n" % (off, sorted(uses.items())))

def _rr_serve(c):
    # echo blocks (4-byte length, then the bytes) until EOF
    n = 0
    while True:
        h = _recvn(c, 4)
        if not h:
            break
        k = int.from_bytes(h, "big")
        if k > (1 << 20):
            die("rrserver: a block of %d B: the stream is corrupt" % k)
        b = _recvn(c, k)
        if len(b) != k:
            die("rrserver: block of %d B cut at %d" % (k, len(b)))
        c.sendall(b); n += 1
    c.close()
    return n

def cmd_rrserver(host, port, conns):
    # serve CONNS connections, each on its own thread, echoing blocks
    s = listener(host, port)
    ts = []
    for _ in range(int(conns)):
        c, a = s.accept()
        t = threading.Thread(target=_rr_serve, args=(c,)); t.start(); ts.append(t)
    for t in ts:
        t.join()
    s.close()

def _rr_read(c, n, how, rnd):
    # n bytes by one of the ways an app reads
    import select
    buf = bytearray()
    while len(buf) < n:
        want = n - len(buf)
        if how == "small":
            b = c.recv(min(want, rnd.choice((1, 7, 100))))
        elif how == "osread":
            p = select.poll(); p.register(c.fileno(), select.POLLIN)
            if not p.poll(30000):
                die("rrclient: poll timed out")
            b = os.read(c.fileno(), min(want, 1 << 16))
        elif how == "into":
            m = memoryview(bytearray(min(want, 1 << 16)))
            k = c.recv_into(m); b = bytes(m[:k])
        elif how == "poll":
            p = select.poll(); p.register(c.fileno(), select.POLLIN)
            if not p.poll(30000):
                die("rrclient: poll timed out")
            try:
                b = c.recv(min(want, 1 << 16), socket.MSG_DONTWAIT)
            except BlockingIOError:
                continue  # readable with no app byte yet (a lone frame): poll again
        elif how == "epoll":
            # poll first (an inline socket's look-ahead may take the
            # bytes into the shim's queue), then a new epoll set: it
            # must still report them (epoll_ctl promotes such a socket)
            p = select.poll(); p.register(c.fileno(), select.POLLIN)
            if not p.poll(30000):
                die("rrclient: poll timed out")
            e = select.epoll(); e.register(c.fileno(), select.EPOLLIN)
            ready = e.poll(30)
            e.close()
            if not ready:
                die("rrclient: epoll after poll saw nothing (bytes read ahead hidden)")
            try:
                b = c.recv(min(want, 1 << 16), socket.MSG_DONTWAIT)
            except BlockingIOError:
                continue
        else:
            b = c.recv(min(want, 1 << 18))
        if not b:
            die("rrclient: EOF after %d of %d B (%s)" % (len(buf), n, how))
        buf += b
    return bytes(buf)

def cmd_rrclient(host, port, conns, rounds, seed="1"):
    # CONNS connections one after another from this one process (after the
    # first, the shim knows the server runs it), each ROUNDS blocks of
    # random sizes echoed back and compared, each read by another way
    # (recv with a timeout: non-blocking + poll; blocking; tiny reads;
    # os.read; recv_into; poll + MSG_DONTWAIT; poll, then a new epoll set);
    # now and then a write by
    # sendfile or a fork in the middle
    import random
    rnd = random.Random(int(seed))
    data = os.urandom(1 << 20)
    for i in range(int(conns)):
        c = connect(host, port)
        mode = rnd.choice(("timeout", "blocking"))
        if mode == "blocking":
            c.settimeout(None)
        # half the connections only small messages (what may stay inline)
        small = rnd.random() < 0.5
        # a fifth read by poll then a new epoll set now and then
        with_epoll = rnd.random() < 0.2
        for r in range(int(rounds)):
            k = rnd.choice((1, 10, 500, 1460) if small else (1, 10, 500, 1460, 9000, 70001, 300000))
            off = rnd.randrange(len(data) - k)
            b = data[off:off + k]
            hdr = len(b).to_bytes(4, "big")
            if rnd.random() < 0.05 and k > 1 and not small:
                import tempfile
                with tempfile.TemporaryFile() as f:
                    f.write(b); f.flush()
                    c.sendall(hdr)
                    c.setblocking(True)
                    sent = 0
                    while sent < k:
                        sent += os.sendfile(c.fileno(), f.fileno(), sent, k - sent)
                    c.settimeout(None if mode == "blocking" else 120)
            else:
                c.sendall(hdr + b)
            how = rnd.choice(("recv", "recv", "recv", "osread", "into", "poll") if small else
                             ("recv", "recv", "recv", "small", "osread", "into", "poll"))
            if with_epoll and rnd.random() < 0.3:
                how = "epoll"  # (promotes when a look-ahead holds bytes)
            if os.environ.get("RR_TRACE"):
                sys.stderr.write("conn %d round %d: %d B, %s, %s\n" % (i, r, k, how, mode)); sys.stderr.flush()
            got = _rr_read(c, k, how, rnd)
            if got != b:
                die("conn %d round %d: %d B echoed wrong (%s, %s)" % (i, r, k, how, mode))
            if rnd.random() < 0.02 and not small:
                pid = os.fork()
                if pid == 0:
                    os._exit(0)
                os.waitpid(pid, 0)
        c.shutdown(socket.SHUT_WR)
        if c.recv(1):
            die("rrclient: bytes after the last echo")
        c.close()
    sys.stderr.write("rrclient: %s connection(s) x %s round(s) echoed\n" % (conns, rounds))

cmds = {k[4:]: v for k, v in list(globals().items()) if k.startswith("cmd_")}
if len(sys.argv) < 2 or sys.argv[1] not in cmds:
    die("usage: tcptool.py {%s} ARGS" % ",".join(sorted(cmds)))
cmds[sys.argv[1]](*sys.argv[2:])
