#!/usr/bin/env python3
"""mkcorpus.py - write the seed corpora of tests/fuzz/corpus/ (checked in;
rerun after a wire-format change: python3 tests/fuzz/mkcorpus.py).
One valid example of each input a harness understands, plus a few near
misses, so the fuzzers start from the interesting shapes."""
import os
import socket
import struct

here = os.path.dirname(os.path.abspath(__file__))


def put(name, seeds):
    d = os.path.join(here, "corpus", name)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.unlink(os.path.join(d, f))
    for label, data in seeds.items():
        if isinstance(data, str):
            data = data.encode()
        with open(os.path.join(d, label), "wb") as f:
            f.write(data)


def hdr(t, flags, body):
    return struct.pack(">BBH", t, flags, len(body)) + body


def hello(t, key=0x0102030405060708, wnd=65536, version=2):
    """version 2: the key's 8 bytes open a 32-byte public value"""
    pub = struct.pack(">Q", key) + (bytes(range(1, 25)) if key else bytes(24))
    return hdr(t, 0, b"MPTCPSHM" + struct.pack(">BBHI", version, 0, 0, wnd) + pub)


def hello_res(t, caps, tail):
    """a HELLO with resumption fields: RESUME (HELLO) or TICKET (HELLO_ACK)"""
    pub = bytes(range(1, 33))
    return hdr(t, 0, b"MPTCPSHM" + struct.pack(">BBHI", 2, caps, 0, 65536) + pub + tail)


def hello_v1(t, key=0x0102030405060708, wnd=65536):
    return hdr(t, 0, b"MPTCPSHM" + struct.pack(">BBHIQ", 1, 0, 0, wnd, key))


def data(dsn, payload, flags=1, ack=7, wnd=65536):
    if not flags & 1:
        ack = wnd = 0
    return hdr(3, flags, struct.pack(">QQI", dsn, ack, wnd) + payload)


frames = {
    "hello": hello(1),
    "hello_ack": hello(2),
    "hello_v1": hello_v1(1),
    "hello_resume": hello_res(1, 3, bytes(range(0x40, 0x60))),
    "hello_ack_ticket": hello_res(2, 3, bytes(range(0x40, 0x50)) + struct.pack(">I", 600)),
    "data": data(1000, b"hello world"),
    "data_noack": data(2**64 - 3, b"wrap", flags=0),
    "data_fin": data(5, b"", flags=3),
    "ack": hdr(4, 0, struct.pack(">QI", 99, 1 << 20)),
    "close": hdr(5, 0, struct.pack(">I", 2)),
    "join": hdr(6, 0, struct.pack(">IIBBH", 0xdeadbeef, 42, 1, 1, 0)),
    "join_ack": hdr(7, 0, struct.pack(">IQ", 7, 0x1122334455667788)),
    "join_ok": hdr(8, 0, bytes(range(20))),
    "add_addr4": hdr(9, 0, struct.pack(">BBH", 1, 4, 8080) + socket.inet_aton("198.18.0.1")),
    "add_addr6": hdr(9, 0, struct.pack(">BBH", 2, 6, 443)
                     + socket.inet_pton(socket.AF_INET6, "2001:db8::1")),
    "remove_addr": hdr(10, 0, bytes([1, 0, 0, 0])),
    "prio": hdr(11, 0, bytes([1, 0, 0, 0])),
    "gwreq": hdr(12, 0, bytes([1, 1, 0, 9, 1, 0, 6]) + socket.inet_aton("198.18.5.2")
                 + struct.pack(">H", 80)),
    "gwreply": hdr(13, 0, bytes([1, 2, 0, 4, 16, 0, 1, 0])),
}
stream = {
    "stream": hello(1) + data(1, b"abc") + hdr(4, 0, struct.pack(">QI", 4, 65536))
    + data(4, b"", flags=3),
    "bad_type": b"\x42\x00\x00\x04abcd",
    "short": data(1, b"abcdef")[:10],
}
put("frame", {**frames, **stream})

put("nego", {
    "server_hello": b"\x01" + hello(1),
    "client_hello_ack": b"\x00" + hello(2),
    "server_hello_data": b"\x09" + hello(1) + data(1, b"GET / HTTP/1.0\r\n\r\n"),
    "server_hello_resume": b"\x01" + hello_res(1, 3, bytes(range(0x40, 0x60))),
    "client_hello_ack_ticket": b"\x00" + hello_res(2, 1, bytes(range(0x40, 0x50))
                                                   + struct.pack(">I", 600)),
    "server_plain": b"\x01GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    "client_banner": b"\x00SSH-2.0-OpenSSH_9.2\r\n",
    "server_late_hello": b"\x03" + hello(1),
    "client_timeout": b"\x02" + hello(2),
    "server_eof_partial": b"\x05" + hello(1)[:12],
    "bad_magic": b"\x01" + hello(1)[:4] + b"MPTCPSHX" + hello(1)[12:],
    "zero_key": b"\x01" + hello(1, key=0),
    "server_hello_v1": b"\x01" + hello_v1(1),
    "client_hello_ack_v1": b"\x00" + hello_v1(2),
})

def ranges(base, ops):
    out = struct.pack(">Q", base)
    for op, a, ln in ops:
        out += struct.pack(">BHB", op, a, ln)
    return out

# op: bit 0 set B, (op >> 1) % 5: 0/1 add, 2 trim, 3 pop, 4 move B into A
put("ranges", {
    "adds": ranges(1000, [(0, 10, 20), (0, 40, 5), (0, 25, 20), (6, 0, 100)]),
    "wrap": ranges(2**64 - 100, [(0, 50, 100), (1, 200, 30), (8, 0, 0), (4, 400, 1), (6, 10, 50)]),
    "many": ranges(0, [(0, i * 12, 3) for i in range(80)] + [(6, 0, 255)]),
    "pop": ranges(7, [(1, 5, 10), (1, 30, 10), (7, 0, 4), (7, 0, 255), (7, 0, 255)]),
})

def pc(ctl, addr, port, now, ttl, recs):
    key = addr.ljust(16, b"\0") + struct.pack(">H", port)
    out = bytes([ctl]) + key + struct.pack(">IH", now, ttl)
    for r in recs:
        out += r
    return out

def rec(key, family, kind, flags, until):
    # key[18] family kind pad[4] (pad[0]: 1 = this netns, 2 = the probed key) netns until
    return key + bytes([family, kind, flags, 0, 0, 0]) + struct.pack("<Qq", 0, until)

v4 = socket.inet_aton("198.18.0.2")
k4 = v4.ljust(16, b"\0") + struct.pack(">H", 80)
put("peercache", {
    "empty_note": pc(0, v4, 80, 5, 300, []),
    "plain_hit": pc(6, v4, 80, 5, 300, [rec(k4, 2, 1, 3, 2**40)]),
    "suspect": pc(2, v4, 80, 5, 300, [rec(k4, 2, 3, 3, 2**40), rec(b"\1" * 18, 2, 1, 1, 2**40)]),
    "expired_dup": pc(4, v4, 80, 5, 300, [rec(k4, 2, 1, 3, 1), rec(k4, 2, 1, 3, 2**40)]),
    "v6": pc(1, socket.inet_pton(socket.AF_INET6, "2001:db8::2"), 443, 9, 60,
             [rec(b"\0" * 18, 10, 1, 3, 2**40)]),
    "full": pc(0, v4, 80, 5, 300, [rec(bytes([i]) * 18, 2, 1, 1, 2**40) for i in range(256)]),
})

put("config", {
    "all": "\n".join([
        "MPTCPSHIM_DISABLE=0", "MPTCPSHIM_LOG=debug", "MPTCPSHIM_LOG_FILE=/tmp/x.log",
        "MPTCPSHIM_PEERS=198.18.0.0/15:80,[2001:db8::1]:443,2001:db8::/32,10.0.0.1",
        "MPTCPSHIM_PLAIN_CACHE_TTL=60", "MPTCPSHIM_PEER_CACHE=/tmp/pc",
        "MPTCPSHIM_SNDBUF=1048576", "MPTCPSHIM_MAX_SUBFLOWS=4",
        "MPTCPSHIM_SUBFLOWS_PER_PATH=2", "MPTCPSHIM_INTERFACES=eth0,wlan0",
        "MPTCPSHIM_EXCLUDE=docker0", "MPTCPSHIM_ADVERTISE=eth0 198.18.0.1 2001:db8::1",
        "MPTCPSHIM_SCHEDULER=roundrobin", "MPTCPSHIM_BACKUP=wwan0",
        "MPTCPSHIM_OUTAGE_TIMEOUT=10", "MPTCPSHIM_JOIN_PORTS=40000-40100"]) + "\n",
    "bad": "\n".join([
        "MPTCPSHIM_DISABLE=maybe", "MPTCPSHIM_LOG=loud", "MPTCPSHIM_PEERS=300.1.1.1/40",
        "MPTCPSHIM_SNDBUF=-8", "MPTCPSHIM_MAX_SUBFLOWS=99", "MPTCPSHIM_INTERFACES=a/b",
        "MPTCPSHIM_ADVERTISE=1.2.3", "MPTCPSHIM_SCHEDULER=fastest",
        "MPTCPSHIM_JOIN_PORTS=9-8", "MPTCPSHIM_PEER_CACHE=relative"]) + "\n",
    "peers_none": "MPTCPSHIM_PEERS=none\nMPTCPSHIM_ADVERTISE=none\n",
    "peers_v4mapped": "MPTCPSHIM_PEERS=::ffff:198.18.0.1/120,[::1]:22\n",
    "peers_v4mapped_hex": "MPTCPSHIM_PEERS=::ffff:c612:1/120\n",
})

def sin(addr, port):
    return struct.pack("=H", socket.AF_INET) + struct.pack(">H", port) + socket.inet_aton(addr) + bytes(8)

def sin6(addr, port):
    return (struct.pack("=H", socket.AF_INET6) + struct.pack(">HI", port, 0)
            + socket.inet_pton(socket.AF_INET6, addr) + struct.pack("=I", 0))

e4 = " 3:123456:1:%s:%s" % (sin("198.18.0.1", 40000).hex(), sin("198.18.0.2", 80).hex())
e6 = " 7:99:3:%s:%s" % (sin6("2001:db8::1", 1).hex(), sin6("2001:db8::2", 443).hex())
put("inherit", {
    "v4": e4,
    "v6": e6,
    "two": e4 + e6,
    "family_mismatch": " 3:1:1:%s:%s" % (sin("198.18.0.1", 1).hex(), sin6("::1", 2).hex()),
    "zero_ino": " 3:0:1:%s:%s" % (sin("198.18.0.1", 1).hex(), sin("198.18.0.2", 2).hex()),
    "junk_after": e4 + "x",
})

# execstate: the structures are native, so the harness builds its valid
# state itself; odd first byte: that state with (u16 offset, u8) patches.
put("execstate", {
    "valid": b"\x01",
    "patch_total": b"\x01\x00\x08\x00",
    "patch_nconn": b"\x01\x00\x40\x02",
    "raw_header": b"\x00" + struct.pack("<IIQ", 0x5853504d, 1, 21) + b"\x00" * 5,
})
