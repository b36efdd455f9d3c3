"""gwreplay.py: a client's first flight recorded, then replayed (gwworkers.sh).

  record LHOST LPORT GHOST GPORT OUT
      relay one connection from LHOST:LPORT to the gateway GHOST:GPORT,
      both ways, and write what the client sent to OUT once it ended
  replay HOST PORT FILE N
      send FILE's bytes to HOST:PORT on N new connections (each from its
      own source port) and print how many bytes came back over all of
      them (each read until the peer closes or 3 s of silence)
"""
import select
import socket
import sys


def record(lh, lp, gh, gp, out):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((lh, lp))
    s.listen(1)
    c, _ = s.accept()
    g = socket.create_connection((gh, gp))
    sent = b""
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
                sent += b
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
    with open(out, "wb") as fh:
        fh.write(sent)


def replay(h, p, path, n):
    data = open(path, "rb").read()
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
