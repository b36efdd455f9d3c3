#!/usr/bin/env python3
"""Regenerate the test vectors pasted into tests/unit/check_crypto.c.

Computed with Python's hashlib/hmac only, independently of the C code:

  key derivation (RFC 8684 section 3.1):
    digest = SHA-256(key as 8 big-endian bytes)
    token  = most significant 32 bits of digest
    idsn   = least significant 64 bits of digest

  join HMAC (RFC 8684 section 3.2):
    HMAC-SHA256(key = key_a || key_b, msg = nonce_a || nonce_b), all big-endian

Usage: python3 tests/unit/vectors.py
"""

import hashlib
import hmac

KEYS = [
    0x0000000000000001,
    0x0123456789ABCDEF,
    0xFFFFFFFFFFFFFFFF,
    0x8000000000000000,
    0x00000000FFFFFFFF,
    0xDEADBEEFCAFEBABE,
    0x0102030405060708,
]

JOINS = [
    # key_a, key_b, nonce_a, nonce_b
    (0x0123456789ABCDEF, 0xFEDCBA9876543210, 0x01020304, 0xA0B0C0D0),
    (0x0000000000000001, 0xFFFFFFFFFFFFFFFF, 0x00000000, 0xFFFFFFFF),
    (0xDEADBEEFCAFEBABE, 0x8000000000000000, 0x80000000, 0x00000001),
]


def derive(key):
    d = hashlib.sha256(key.to_bytes(8, "big")).digest()
    return int.from_bytes(d[:4], "big"), int.from_bytes(d[24:], "big")


def join(key_a, key_b, nonce_a, nonce_b):
    k = key_a.to_bytes(8, "big") + key_b.to_bytes(8, "big")
    m = nonce_a.to_bytes(4, "big") + nonce_b.to_bytes(4, "big")
    return hmac.new(k, m, hashlib.sha256).hexdigest()


def main():
    print("/* key, token, idsn */")
    print("static const struct derive_vec derive_vecs[] = {")
    for k in KEYS:
        token, idsn = derive(k)
        print("\t{ 0x%016xULL, 0x%08xU, 0x%016xULL }," % (k, token, idsn))
    print("};")
    print()
    print("/* key_a, key_b, nonce_a, nonce_b, hmac */")
    print("static const struct join_vec join_vecs[] = {")
    for ka, kb, na, nb in JOINS:
        print('\t{ 0x%016xULL, 0x%016xULL, 0x%08xU, 0x%08xU,\n\t  "%s" },'
              % (ka, kb, na, nb, join(ka, kb, na, nb)))
    print("};")


if __name__ == "__main__":
    main()
