#!/usr/bin/python3
"""gwflood.py HOST PORT N STOPFILE: hold N unauthenticated connections to a
gateway from this host until STOPFILE exists.

Half of them stay silent after the handshake; the other half send the first
12 bytes of a HELLO (header and magic) and stall there (a slow handshake).
Each one the gateway closes or resets is opened again at once.  At the end
prints one line:
  opened O refused R held_max H life_max_ms L
O: connections opened; R: failed or closed by the gateway (reset or EOF)
within 500 ms of their handshake (refused at accept); H: the most that were
established at once; L: the longest a connection lived before the gateway
closed it (the longest unauthenticated lifetime seen).
"""
import errno
import os
import selectors
import socket
import sys
import time

HELLO_PREFIX = bytes([0x01, 0x00, 0x00, 0x30]) + b"MPTCPSHM"


def main():
    host, port, n, stop = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    sel = selectors.DefaultSelector()
    st = {"opened": 0, "refused": 0, "held_max": 0, "life_max": 0.0, "held": 0}

    def open_one(i):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex((host, port))
        st["opened"] += 1
        sel.register(s, selectors.EVENT_WRITE, [i, "connecting", 0.0])

    for i in range(n):
        open_one(i)
    last_check = 0.0
    while True:
        now = time.monotonic()
        if now - last_check > 0.2:
            last_check = now
            if os.path.exists(stop):
                break
        for key, ev in sel.select(timeout=0.2):
            s = key.fileobj
            i, state, t_up = key.data
            if state == "connecting":
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:  # reset by the gateway at once (or never connected)
                    st["refused"] += 1
                    sel.unregister(s)
                    s.close()
                    time.sleep(0.001)
                    open_one(i)
                    continue
                if i % 2:
                    try:
                        s.send(HELLO_PREFIX)
                    except OSError:
                        pass
                st["held"] += 1
                st["held_max"] = max(st["held_max"], st["held"])
                sel.modify(s, selectors.EVENT_READ, [i, "up", time.monotonic()])
                continue
            # readable while up: the gateway closed it (it never answers)
            try:
                b = s.recv(4096)
            except OSError:
                b = b""
            if b:
                print("gateway sent bytes:", b[:16], flush=True)
                sys.exit(1)
            life = time.monotonic() - t_up
            st["held"] -= 1
            if life < 0.5:
                st["refused"] += 1
            else:
                st["life_max"] = max(st["life_max"], life)
            sel.unregister(s)
            s.close()
            time.sleep(0.0005)  # at most ~2000 new connections a second
            open_one(i)
    print("opened %d refused %d held_max %d life_max_ms %d"
          % (st["opened"], st["refused"], st["held_max"], int(st["life_max"] * 1000)), flush=True)


if __name__ == "__main__":
    main()
