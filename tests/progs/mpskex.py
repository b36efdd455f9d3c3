"""mpskex.py - the mptcpshim HELLO version 2 key exchange for the test
programs that speak the protocol themselves (joinattack.sh, badinput.sh,
hostile_data.py, x25519.sh): X25519 (RFC 7748, written out here in plain
Python so no package is needed) and the key schedule of docs/DESIGN.md
"Key agreement and key schedule" (HKDF-SHA256, RFC 5869).

A client:    kp = Keypair(); send hello(1, kp.pub)
             ... HELLO_ACK body b ...  keys = kp.client_keys(hello_pub(b))
A server:    keys = kp.server_keys(pub_c)
keys: dict with key_c, key_s (ints), join_key_c, join_key_s, confirm_c,
confirm_s (bytes), token_s, idsn_s (the server's, from key_s) and idsn_c
(the client's, from its public value).
"""
import hashlib
import hmac
import os
import struct

MAGIC = b"MPTCPSHM"
VERSION = 2
HELLO_BODY = 48
P = 2**255 - 19
A24 = 121665


def _decode_scalar(k):
    b = bytearray(k)
    b[0] &= 248
    b[31] &= 127
    b[31] |= 64
    return int.from_bytes(b, "little")


def x25519(k, u):
    """RFC 7748 section 5: scalar k (32 bytes) times u-coordinate u (32 bytes)."""
    x1 = int.from_bytes(u, "little") & ((1 << 255) - 1)
    n = _decode_scalar(k)
    x2, z2, x3, z3, swap = 1, 0, x1, 1, 0
    for t in reversed(range(255)):
        bit = (n >> t) & 1
        swap ^= bit
        if swap:
            x2, x3, z2, z3 = x3, x2, z3, z2
        swap = bit
        a, b = (x2 + z2) % P, (x2 - z2) % P
        aa, bb = a * a % P, b * b % P
        e = (aa - bb) % P
        c, d = (x3 + z3) % P, (x3 - z3) % P
        da, cb = d * a % P, c * b % P
        x3 = (da + cb) ** 2 % P
        z3 = x1 * (da - cb) ** 2 % P
        x2 = aa * bb % P
        z2 = e * (aa + A24 * e) % P
    if swap:
        x2, z2 = x3, z3
    return (x2 * pow(z2, P - 2, P) % P).to_bytes(32, "little")


BASE = (9).to_bytes(32, "little")


def hkdf(salt, ikm, info, length):
    prk = hmac.new(salt or bytes(32), ikm, hashlib.sha256).digest()
    okm, t, i = b"", b"", 1
    while len(okm) < length:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        okm += t
        i += 1
    return okm[:length]


def sha_of_key(key):
    return hashlib.sha256(key.to_bytes(8, "big")).digest()


def token(key):
    return int.from_bytes(sha_of_key(key)[:4], "big")


def idsn(key):
    return int.from_bytes(sha_of_key(key)[-8:], "big")


def idsn_c(pub_c):
    return idsn(int.from_bytes(pub_c[:8], "big"))


def _keys(okm, pub_c):
    k = {
        "key_c": int.from_bytes(okm[0:8], "big"),
        "key_s": int.from_bytes(okm[8:16], "big"),
        "join_key_c": okm[16:48],
        "join_key_s": okm[48:80],
        "confirm_c": okm[80:96],
        "confirm_s": okm[96:112],
        "rms": okm[112:144],  # the resumption secret a ticket carries
    }
    k["token_s"] = token(k["key_s"])
    k["idsn_s"] = idsn(k["key_s"])
    k["idsn_c"] = idsn_c(pub_c)
    return k


def schedule(shared, pub_c, pub_s, psk=None):
    if shared == bytes(32):
        raise ValueError("all-zero shared secret")
    info = b"mptcpshim kex v1" + bytes([1 if psk else 0]) + pub_c + pub_s
    return _keys(hkdf(psk, shared, info, 144), pub_c)


def schedule_resume(secret, pub_c, ticket, nonce_c, nonce_s, psk=None):
    """A resumed connection's keys (DESIGN "Resumption"); its client IDSN
    comes from nonce_c."""
    info = (b"mptcpshim res v1" + bytes([1 if psk else 0]) + pub_c + ticket + nonce_c
            + nonce_s)
    k = _keys(hkdf(psk, secret, info, 144), pub_c)
    k["idsn_c"] = idsn_c(nonce_c)
    return k


class Keypair:
    def __init__(self, priv=None, no_line_break=True):
        while True:
            self.priv = priv or os.urandom(32)
            self.pub = x25519(self.priv, BASE)
            # a shim client's HELLO never holds CR or LF (DESIGN section 5)
            if priv or not no_line_break or (b"\r" not in self.pub and b"\n" not in self.pub):
                break

    def client_keys(self, pub_s, psk=None):
        return schedule(x25519(self.priv, pub_s), self.pub, pub_s, psk)

    def server_keys(self, pub_c, psk=None):
        return schedule(x25519(self.priv, pub_c), pub_c, self.pub, psk)


CAP_TICKET, CAP_RESUME = 0x01, 0x02


def hello(ftype, pub, wnd=1 << 20, version=VERSION, reserved=0, caps=0, tail=b""):
    """tail: the resumption fields caps call for (ticket + nonce_c in a
    HELLO with CAP_RESUME; ticket + lifetime in a HELLO_ACK with
    CAP_TICKET)."""
    body = MAGIC + struct.pack(">BBHI", version, caps, reserved, wnd) + pub + tail
    return struct.pack(">BBH", ftype, 0, len(body)) + body


def hello_prefix(ftype):
    return struct.pack(">BBH", ftype, 0, HELLO_BODY) + MAGIC


def hello_pub(body):
    """The public value of a HELLO / HELLO_ACK body (without the header)."""
    return body[16:48]


def join_ack_hmac(keys, r_b, r_a):
    """JOIN_ACK's 64 bits: HMAC-SHA256(join_key_s, R_B || R_A)."""
    m = hmac.new(keys["join_key_s"], struct.pack(">II", r_b, r_a), hashlib.sha256)
    return int.from_bytes(m.digest()[:8], "big")


def join_ok_hmac(keys, r_a, r_b):
    """JOIN_OK's 160 bits: HMAC-SHA256(join_key_c, R_A || R_B)."""
    return hmac.new(keys["join_key_c"], struct.pack(">II", r_a, r_b), hashlib.sha256).digest()[:20]


# RFC 7748 section 6.1, checked at import: a wrong ladder must not pass
# silently as "the shim refused our keys".
assert x25519(bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"),
              BASE).hex() == "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
