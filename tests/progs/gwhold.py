"""gwhold.py: hold connections open, for gwdirect.sh (issue 14).

  gwhold.py echo HOST PORT          echo every connection (one thread), forever
  gwhold.py hold HOST PORT N READY  open N connections one after another,
                                    each echoes one byte; then write
                                    "OK FAILED" to READY and sleep until killed
"""
import selectors
import socket
import sys
import time


def echo(host, port):
    sel = selectors.DefaultSelector()
    ls = socket.create_server((host, port), backlog=1024)
    ls.setblocking(False)
    sel.register(ls, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            if s is ls:
                try:
                    c, _ = ls.accept()
                except OSError:
                    continue
                c.setblocking(False)
                sel.register(c, selectors.EVENT_READ)
                continue
            try:
                b = s.recv(65536)
            except OSError:
                b = b""
            if b:
                try:
                    s.sendall(b)
                    continue
                except OSError:
                    pass
            sel.unregister(s)
            s.close()


def hold(host, port, n, ready):
    held, bad = [], 0
    for _ in range(n):
        try:
            s = socket.create_connection((host, port), timeout=20)
            s.sendall(b"x")
            if s.recv(1) != b"x":
                raise OSError("no echo")
            held.append(s)
        except OSError:
            bad += 1
    with open(ready + ".tmp", "w") as f:
        f.write("%d %d\n" % (len(held), bad))
    import os
    os.rename(ready + ".tmp", ready)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    if sys.argv[1] == "echo":
        echo(sys.argv[2], int(sys.argv[3]))
    else:
        hold(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
