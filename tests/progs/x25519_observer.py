#!/usr/bin/env python3
"""x25519_observer.py - a passive observer of mptcpshim subflows
(tests/integration/x25519.sh, issue 14).

  capture OUT.pcap READYFILE     capture every TCP segment seen by this
                                 network namespace (AF_PACKET, all
                                 interfaces but lo) into a pcap file until
                                 SIGTERM or SIGINT; READYFILE is created
                                 once the socket is open
  attack IN.pcap PORT            reassemble the TCP streams of the capture;
                                 the streams to PORT that open with a HELLO
                                 are first subflows (HELLO, HELLO_ACK), the
                                 streams that open with a JOIN are joins
                                 (JOIN, JOIN_ACK, JOIN_OK).  Then try to
                                 compute, from what was seen, the JOIN_ACK
                                 and JOIN_OK HMACs each observed join
                                 carried (the values the server and client
                                 accepted): the old way (keys in clear at
                                 the HELLO's key offset) and a few other
                                 guesses.  One that reproduces an accepted
                                 HMAC is a forgery (the observer could
                                 answer any nonce): print FORGED and exit 1.
                                 Exit 2 when the capture lacks a first
                                 subflow or a complete join (nothing to
                                 judge); 0 and "no forgery" otherwise.
"""
import hashlib
import hmac
import os
import signal
import socket
import struct
import sys

ETH_P_ALL = 0x0003
T_HELLO, T_HELLO_ACK, T_JOIN, T_JOIN_ACK, T_JOIN_OK = 1, 2, 6, 7, 8
MAGIC = b"MPTCPSHM"
KEEP = 4096  # bytes of each stream kept: the control frames are at its start


def capture(out, ready):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    # a big buffer: a busy machine must not make us drop the segments
    # that carry the control frames (SO_RCVBUFFORCE: root, as the tests run)
    try:
        s.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)  # SO_RCVBUFFORCE
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 20)
    s.settimeout(0.2)
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    signal.signal(signal.SIGINT, lambda *a: stop.append(1))
    n = 0
    with open(out, "wb") as f:
        # pcap file header: version 2.4, snaplen 256 KiB, linktype Ethernet
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        open(ready, "w").close()
        while not stop:
            try:
                pkt, addr = s.recvfrom(262144)
            except socket.timeout:
                continue
            except InterruptedError:
                continue
            if addr[0] == "lo":
                continue
            # only IPv4/IPv6 TCP is of interest
            if len(pkt) < 14 or pkt[12:14] not in (b"\x08\x00", b"\x86\xdd"):
                continue
            t = os.times().elapsed
            sec = int(t)
            f.write(struct.pack("<IIII", sec, int((t - sec) * 1e6), len(pkt), len(pkt)) + pkt)
            n += 1
    # PACKET_STATISTICS (SOL_PACKET 263, 6): packets the kernel dropped
    drops = struct.unpack("II", s.getsockopt(263, 6, 8))[1]
    sys.stderr.write("x25519_observer: captured %d packets, %d dropped\n" % (n, drops))


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack("<IIII", data[off:off + 16])
        yield data[off + 16:off + 16 + incl]
        off += 16 + incl


def tcp_of(pkt):
    """(src, sport, dst, dport, seq, flags, payload) or None."""
    et = pkt[12:14]
    if et == b"\x08\x00":
        ip = pkt[14:]
        ihl = (ip[0] & 15) * 4
        if ip[9] != 6:
            return None
        tot = struct.unpack(">H", ip[2:4])[0]
        src, dst = socket.inet_ntop(socket.AF_INET, ip[12:16]), socket.inet_ntop(socket.AF_INET, ip[16:20])
        tcp = ip[ihl:tot]
    elif et == b"\x86\xdd":
        ip = pkt[14:]
        if ip[6] != 6:  # no extension headers in these tests
            return None
        plen = struct.unpack(">H", ip[4:6])[0]
        src, dst = socket.inet_ntop(socket.AF_INET6, ip[8:24]), socket.inet_ntop(socket.AF_INET6, ip[24:40])
        tcp = ip[40:40 + plen]
    else:
        return None
    sport, dport, seq = struct.unpack(">HHI", tcp[:8])
    doff = (tcp[12] >> 4) * 4
    return src, sport, dst, dport, seq, tcp[13], tcp[doff:]


def streams(path):
    """{(src, sport, dst, dport): first KEEP bytes of that direction}"""
    isn, segs = {}, {}
    for pkt in read_pcap(path):
        t = tcp_of(pkt)
        if not t:
            continue
        src, sport, dst, dport, seq, flags, payload = t
        k = (src, sport, dst, dport)
        if flags & 0x02:  # SYN
            isn[k] = seq
        if payload:
            segs.setdefault(k, []).append((seq, payload))
    out = {}
    for k, lst in segs.items():
        if k not in isn:
            continue  # began before the capture
        buf = bytearray()
        base = (isn[k] + 1) & 0xFFFFFFFF
        progress = True
        while progress and len(buf) < KEEP:
            progress = False
            for seq, p in lst:
                rel = (seq - base) & 0xFFFFFFFF
                if rel <= len(buf) < rel + len(p):
                    buf += p[len(buf) - rel:]
                    progress = True
        out[k] = bytes(buf[:KEEP])
    return out


def frames(buf):
    off = 0
    while off + 4 <= len(buf):
        t, fl, ln = struct.unpack(">BBH", buf[off:off + 4])
        if off + 4 + ln > len(buf):
            return
        yield t, buf[off + 4:off + 4 + ln]
        off += 4 + ln


def first_frame(buf):
    for f in frames(buf):
        return f
    return None, None


def attack(path, port):
    st = streams(path)
    hellos, joins = [], []
    for (src, sport, dst, dport), c2s in st.items():
        s2c = st.get((dst, dport, src, sport), b"")
        t, body = first_frame(c2s)
        if t == T_HELLO and dport == port and body[:8] == MAGIC:
            t2, body2 = first_frame(s2c)
            if t2 == T_HELLO_ACK and body2[:8] == MAGIC:
                hellos.append((body, body2))
                print("first subflow %s:%d -> %s:%d: HELLO version %d (%d-byte body)"
                      % (src, sport, dst, dport, body[8], len(body)))
        elif t == T_JOIN and len(body) == 12:
            tok, r_a = struct.unpack(">II", body[:8])
            sf = list(frames(s2c))
            cf = list(frames(c2s))
            if len(sf) >= 1 and sf[0][0] == T_JOIN_ACK and len(cf) >= 2 and cf[1][0] == T_JOIN_OK:
                r_b, mac_ack = struct.unpack(">IQ", sf[0][1])
                joins.append((tok, r_a, r_b, mac_ack, cf[1][1]))
                print("join %s:%d -> %s:%d: token %08x R_A %08x R_B %08x" % (src, sport, dst, dport, tok, r_a, r_b))
    if not hellos or not joins:
        print("nothing to judge: %d first subflows, %d complete joins" % (len(hellos), len(joins)))
        return 2

    def v1_key(body):
        return body[16:24]

    def sha_token(k8):
        return struct.unpack(">I", hashlib.sha256(k8).digest()[:4])[0]

    forged = 0
    tried = 0
    for hc, hs in hellos:
        # candidate (key for JOIN_ACK, key for JOIN_OK, how)
        cands = [(v1_key(hs) + v1_key(hc), v1_key(hc) + v1_key(hs), "the old way: keys in clear")]
        pc, ps = hc[16:48], hs[16:48]
        if len(pc) == 32 and len(ps) == 32:
            cands += [(ps, pc, "public values as join keys"),
                      (ps + pc, pc + ps, "public values concatenated"),
                      (hashlib.sha256(ps).digest(), hashlib.sha256(pc).digest(), "hashes of the public values")]
            # the schedule itself, with what was seen standing in for the secret
            for name, ikm in (("pub_s", ps), ("pub_c", pc), ("pub_c xor pub_s", bytes(a ^ b for a, b in zip(pc, ps)))):
                info = b"mptcpshim kex v1" + b"\x00" + pc + ps
                prk = hmac.new(bytes(32), ikm, hashlib.sha256).digest()
                okm, t = b"", b""
                for i in range(1, 5):
                    t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
                    okm += t
                cands.append((okm[48:80], okm[16:48], "the key schedule over %s" % name))
        for tok, r_a, r_b, mac_ack, mac_ok in joins:
            for k_ack, k_ok, how in cands:
                tried += 1
                a = hmac.new(k_ack, struct.pack(">II", r_b, r_a), hashlib.sha256).digest()[:8]
                o = hmac.new(k_ok, struct.pack(">II", r_a, r_b), hashlib.sha256).digest()[:20]
                if int.from_bytes(a, "big") == mac_ack or o == mac_ok:
                    print("FORGED: %s reproduces the join's %s (token %08x%s)"
                          % (how, "JOIN_OK" if o == mac_ok else "JOIN_ACK", tok,
                             ", the token too" if sha_token(v1_key(hs)) == tok else ""))
                    forged += 1
    if forged:
        return 1
    print("no forgery: %d guesses over %d first subflows and %d joins reproduce no accepted HMAC"
          % (tried, len(hellos), len(joins)))
    return 0


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "capture":
        capture(sys.argv[2], sys.argv[3])
        return 0
    if len(sys.argv) == 4 and sys.argv[1] == "attack":
        return attack(sys.argv[2], int(sys.argv[3]))
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
