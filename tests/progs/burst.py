"""burst.py - a burst of connections to a server that accepts late (burst.sh).

  burst.py server HOST PORT N FILE FIRST REST
      listens; after FIRST seconds accepts one connection, after REST more
      seconds the other N-1; each one gets its request line answered with
      FILE, then is closed.  Exits 0 once N were served.
  burst.py client HOST PORT N
      N threads connect at once, each sends "GET i", reads to EOF and
      prints "i SHA256 BYTES".  Exits 1 if any connection failed.
"""
import hashlib
import socket
import sys
import threading
import time


def serve(c, data):
    buf = b""
    while not buf.endswith(b"\n"):
        d = c.recv(64)
        if not d:
            raise RuntimeError("request line cut short")
        buf += d
    c.sendall(data)
    c.close()


def server(host, port, n, path, first, rest):
    data = open(path, "rb").read()
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, int(port)))
    s.listen(64)
    time.sleep(float(first))
    c, _ = s.accept()
    serve(c, data)
    time.sleep(float(rest))
    for _ in range(int(n) - 1):
        c, _ = s.accept()
        serve(c, data)


def client(host, port, n):
    out = {}

    def one(i):
        try:
            c = socket.create_connection((host, int(port)), timeout=60)
            c.sendall(b"GET %d\n" % i)
            h = hashlib.sha256()
            size = 0
            while True:
                d = c.recv(65536)
                if not d:
                    break
                h.update(d)
                size += len(d)
            c.close()
            out[i] = "%s %d" % (h.hexdigest(), size)
        except OSError as e:
            out[i] = "error %s" % e

    ts = [threading.Thread(target=one, args=(i,)) for i in range(int(n))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    bad = 0
    for i in sorted(out):
        print(i, out[i])
        bad += out[i].startswith("error")
    sys.exit(1 if bad or len(out) != int(n) else 0)


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(*sys.argv[2:8])
    else:
        client(*sys.argv[2:5])
