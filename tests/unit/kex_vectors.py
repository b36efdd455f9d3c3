#!/usr/bin/env python3
"""Regenerate the key schedule vectors pasted into tests/unit/check_kex.c.

Computed with Python's hashlib/hmac only (HKDF written out from RFC 5869),
independently of the C code (which uses OpenSSL's EVP_KDF HKDF):

  PRK  = HMAC-SHA256(key = salt, msg = shared)       salt = PSK or 32 zero bytes
  OKM  = T(1) | T(2) | ...   T(i) = HMAC-SHA256(PRK, T(i-1) | info | i)
  info = b"mptcpshim kex v1" | mode (0 no PSK, 1 PSK) | pub_c | pub_s
  OKM (144 bytes) = key_c u64 | key_s u64 | join_key_c 32 | join_key_s 32
                    | confirm_c 16 | confirm_s 16 | rms 32

The resumed schedule (a ticket's rms instead of the X25519 secret):

  PRK  = HMAC-SHA256(key = salt, msg = rms)
  info = b"mptcpshim res v1" | mode | pub_c | ticket (16) | nonce_c (16) | nonce_s (32)
  OKM  = the same 144-byte layout

The shared secret and public values are RFC 7748 section 6.1's (Alice is
the client, Bob the server).

Usage: python3 tests/unit/kex_vectors.py
"""

import hashlib
import hmac

PUB_C = bytes.fromhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
PUB_S = bytes.fromhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
SHARED = bytes.fromhex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")
PSK = bytes(range(0x20, 0x40))  # 20 21 .. 3f


def hkdf(salt, ikm, info, length):
    if not salt:
        salt = bytes(32)
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    okm, t, i = b"", b"", 1
    while len(okm) < length:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        okm += t
        i += 1
    return okm[:length]


def schedule(psk, pub_c=PUB_C, pub_s=PUB_S):
    info = b"mptcpshim kex v1" + bytes([1 if psk else 0]) + pub_c + pub_s
    return hkdf(psk, SHARED, info, 144)


# resumption: the no-PSK full schedule's rms is the ticket's secret
TICKET = bytes(range(0x40, 0x50))
NONCE_C = bytes(range(0x50, 0x60))
NONCE_S = bytes(range(0x60, 0x80))


def schedule_resume(psk, secret, pub_c=PUB_C):
    info = (b"mptcpshim res v1" + bytes([1 if psk else 0]) + pub_c + TICKET + NONCE_C
            + NONCE_S)
    return hkdf(psk, secret, info, 144)


def engine(psk):
    """The exchange as the engine runs it (check_kex test_engine_vectors):
    Bob is the client (Alice's public value has a CR byte, 0x0d, which a
    client's HELLO never carries: the client redraws), Alice the server.
    Prints key_c, key_s, the server's token and IDSN (SHA-256 of key_s),
    the client's IDSN (SHA-256 of its public value's first 8 bytes), the
    JOIN_ACK HMAC (64 bits) and the JOIN_OK HMAC (160 bits) for
    R_A = 0x01020304 (client) and R_B = 0x05060708 (server)."""
    assert b"\r" in PUB_C or b"\n" in PUB_C
    assert b"\r" not in PUB_S and b"\n" not in PUB_S
    okm = schedule(psk, pub_c=PUB_S, pub_s=PUB_C)
    key_c, key_s = okm[0:8], okm[8:16]
    jkc, jks = okm[16:48], okm[48:80]
    ds = hashlib.sha256(key_s).digest()
    dc = hashlib.sha256(PUB_S[:8]).digest()
    ra, rb = bytes.fromhex("01020304"), bytes.fromhex("05060708")
    ack = hmac.new(jks, rb + ra, hashlib.sha256).digest()[:8]
    ok = hmac.new(jkc, ra + rb, hashlib.sha256).digest()[:20]
    return [("key_c", key_c), ("key_s", key_s), ("token_s", ds[:4]),
            ("idsn_s", ds[-8:]), ("idsn_c", dc[-8:]), ("join_ack", ack), ("join_ok", ok),
            ("confirm_c", okm[80:96]), ("confirm_s", okm[96:112])]


def show(name, okm):
    print("/* %s */" % name)
    print("static const char *%s =" % name)
    for i in range(0, len(okm), 28):
        print('\t"%s"' % okm[i:i + 28].hex())
    print("\t;")


def main():
    # RFC 5869 A.1 (published vector) as a check of this script's HKDF.
    okm = hkdf(bytes(range(13)), bytes([0x0b] * 22), bytes(range(0xf0, 0xfa)), 42)
    assert okm.hex() == ("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db0"
                         "2d56ecc4c5bf34007208d5b887185865")
    show("okm_nopsk", schedule(None))
    show("okm_psk", schedule(PSK))
    rms = schedule(None)[112:144]
    show("okm_res_nopsk", schedule_resume(None, rms))
    show("okm_res_psk", schedule_resume(PSK, rms))
    for name, psk in (("eng_nopsk", None), ("eng_psk", PSK)):
        print("/* %s: %s */" % (name, " ".join(n for n, _ in engine(psk))))
        print("static const char *%s[] = {" % name)
        for n, v in engine(psk):
            print('\t"%s",' % v.hex())
        print("};")


if __name__ == "__main__":
    main()
