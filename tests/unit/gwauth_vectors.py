#!/usr/bin/env python3
"""Regenerate the authenticator vector pasted into tests/unit/check_gwauth.c.

Computed with Python's hashlib/hmac only, independently of the C code:
  key_id = HMAC-SHA256(key, b"mptcpshim key id v1")[:8]
  mac    = HMAC-SHA256(key, b"mptcpshim gw auth v1" | key_id | nonce
                            | timestamp (u64 big-endian) | pub_c | dest TLV)
  auth   = key_id | nonce | timestamp | mac            (64 bytes)
  psk    = HMAC-SHA256(key, b"mptcpshim kex psk v1")  (the key schedule's PSK)

Usage: python3 tests/unit/gwauth_vectors.py
"""

import hashlib
import hmac

KEY = bytes(range(32))                      # 00 01 .. 1f
NONCE = bytes(range(0xa0, 0xb0))            # a0 .. af
TS = 1_800_000_000
PUB_C = bytes.fromhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
DEST = bytes.fromhex("010006c612000101bb")  # IPv4 198.18.0.1 port 443


def main():
    kid = hmac.new(KEY, b"mptcpshim key id v1", hashlib.sha256).digest()[:8]
    msg = b"mptcpshim gw auth v1" + kid + NONCE + TS.to_bytes(8, "big") + PUB_C + DEST
    mac = hmac.new(KEY, msg, hashlib.sha256).digest()
    auth = kid + NONCE + TS.to_bytes(8, "big") + mac
    print('static const char *key_id_hex = "%s";' % kid.hex())
    psk = hmac.new(KEY, b"mptcpshim kex psk v1", hashlib.sha256).digest()
    print('static const char *psk_hex = "%s";' % psk.hex())
    print('static const char *auth_hex = "%s"\n\t"%s";' % (auth[:32].hex(), auth[32:].hex()))


if __name__ == "__main__":
    main()
