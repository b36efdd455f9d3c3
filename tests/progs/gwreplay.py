"""gwreplay.py: clients' first flights recorded, then replayed (gateway.sh,
gwworkers.sh).

  record LHOST LPORT GHOST GPORT OUTDIR
      relay each connection to LHOST:LPORT to the gateway GHOST:GPORT, both
      ways; once connection N has ended, write what its client sent to
      OUTDIR/c2g.N and how many bytes the gateway sent back to OUTDIR/g2c.N
  replay HOST PORT FILE N
      send FILE's bytes (FILE "-": an HTTP request, garbage to a gateway)
      to HOST:PORT on N new connections (each from its own source port)
      and print how many bytes came back over all of them (each read until
      the peer closes or 3 s of silence)
"""
import select
import socket
import sys


def relay(c, g):
    """Both ways until both sides end: what c sent, how many bytes g sent."""
    c2g, g2c = b"", 0
    peers = {c: g, g: c}
    while peers:
        r, _, _ = select.select(list(peers), [], [], 15)
        if not r:
            break
        for f in r:
            try:
                b = f.recv(65536)
            except OSError:
                b = b""
            if f is c:
                c2g += b
            else:
                g2c += len(b)
            if not b:
                try:
                    peers[f].shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                del peers[f]
                continue
            try:
                peers[f].sendall(b)
            except OSError:
                pass
    return c2g, g2c


def record(lh, lp, gh, gp, out):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((lh, lp))
    s.listen(4)
    n = 0
    while True:
        c, _ = s.accept()
        n += 1
        g = socket.create_connection((gh, gp))
        c2g, g2c = relay(c, g)
        c.close()
        g.close()
        with open("%s/c2g.%d" % (out, n), "wb") as fh:
            fh.write(c2g)
        with open("%s/g2c.%d" % (out, n), "w") as fh:
            fh.write(str(g2c))


def replay(h, p, path, n):
    data = open(path, "rb").read() if path != "-" else b"GET / HTTP/1.0\r\nHost: x\r\n\r\n"
    got = 0
    for _ in range(n):
        c = socket.create_connection((h, p), timeout=3)
        c.sendall(data)
        try:
            while True:
                b = c.recv(65536)
                if not b:
                    break
                got += len(b)
        except OSError:
            pass
        c.close()
    print(got)


if __name__ == "__main__":
    if sys.argv[1] == "record":
        record(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), sys.argv[6])
    elif sys.argv[1] == "replay":
        replay(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]))
    else:
        sys.exit("usage: gwreplay.py record ... | replay ...")
