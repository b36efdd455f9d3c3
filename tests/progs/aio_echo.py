"""aio_echo.py: an asyncio echo server and client that both check SHA-256.

Used by tests/integration/apps_lang.sh to run a plain asyncio program (event
loop, non-blocking sockets, StreamReader/StreamWriter flow control) under
the shim.  The client sends a header line "<bytes> <sha256>\\n" and then the
bytes of FILE, reading the echo concurrently; the server checks what it read
against the header and echoes the data (not the header) back.  Each side
exits 1 on any mismatch.

    python3 aio_echo.py server HOST PORT [CONNECTIONS]
    python3 aio_echo.py client HOST PORT FILE
"""

import asyncio
import hashlib
import os
import sys

CHUNK = 1 << 16


def note(msg):
    sys.stderr.write("aio_echo: %s\n" % msg)
    sys.stderr.flush()


async def serve_one(reader, writer, results):
    header = await reader.readline()
    try:
        want_n, want_h = header.split()
        want_n = int(want_n)
        want_h = want_h.decode()
    except ValueError:
        note("server: bad header %r" % header[:80])
        results.append(False)
        writer.close()
        return
    h = hashlib.sha256()
    n = 0
    while True:
        b = await reader.read(CHUNK)
        if not b:
            break
        h.update(b)
        n += len(b)
        writer.write(b)
        await writer.drain()
    if writer.can_write_eof():
        writer.write_eof()
    await writer.drain()
    writer.close()
    await writer.wait_closed()
    ok = n == want_n and h.hexdigest() == want_h
    note("server: received %d B sha256 %s: %s" % (n, h.hexdigest(), "ok" if ok else "MISMATCH, want %d B %s" % (want_n, want_h)))
    results.append(ok)


async def server(host, port, count=1):
    results = []
    done = asyncio.Event()

    async def handle(reader, writer):
        await serve_one(reader, writer, results)
        if len(results) >= count:
            done.set()

    srv = await asyncio.start_server(handle, host, int(port))
    async with srv:
        await done.wait()
    return all(results)


async def client(host, port, path):
    size = os.path.getsize(path)
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(CHUNK), b""):
            h.update(b)
    want = h.hexdigest()
    reader, writer = await asyncio.open_connection(host, int(port))

    async def send():
        writer.write(b"%d %s\n" % (size, want.encode()))
        with open(path, "rb") as f:
            for b in iter(lambda: f.read(CHUNK), b""):
                writer.write(b)
                await writer.drain()
        writer.write_eof()

    async def recv():
        g = hashlib.sha256()
        n = 0
        while True:
            b = await reader.read(CHUNK)
            if not b:
                return n, g.hexdigest()
            g.update(b)
            n += len(b)

    _, (n, got) = await asyncio.gather(send(), recv())
    writer.close()
    await writer.wait_closed()
    ok = n == size and got == want
    note("client: sent %d B, echo %d B sha256 %s: %s" % (size, n, got, "ok" if ok else "MISMATCH, want " + want))
    return ok


def main(argv):
    if len(argv) >= 4 and argv[1] == "server":
        ok = asyncio.run(server(argv[2], argv[3], int(argv[4]) if len(argv) > 4 else 1))
    elif len(argv) == 5 and argv[1] == "client":
        ok = asyncio.run(client(argv[2], argv[3], argv[4]))
    else:
        note("usage: aio_echo.py server HOST PORT [CONNECTIONS] | client HOST PORT FILE")
        return 2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
