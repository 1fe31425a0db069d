#!/usr/bin/env python3
"""relay_answer_seeds.py - write the seed corpus of fuzz_relay_answer.c.

Usage: python3 tests/fuzz/relay_answer_seeds.py [DIR]
(default: tests/fuzz/corpus/relay_answer next to this file).

Derived review tokens are computed as token.c's token_derive() does:
16 bytes of salt, then the first 16 bytes of HMAC-SHA256 under the gate
secret over "greenlight review token v1\\0" key\\0 team\\0 email\\0 salt,
the 32 bytes written as unpadded base64url.  KEY, SECRET and ALICE_TOKEN
must match fuzz_relay_answer.c.  Salts are fixed so the output is stable.
"""
import base64
import hashlib
import hmac
import json
import os
import sys

KEY = "6b1f0c3a9e2d4f5b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a"
OTHER_KEY = "f" * 64
SECRET = b"fuzz-gate-secret-0123456789abcdefghijklmnop"
ALICE_TOKEN = "Q2hlY2tlZC1yZXZpZXctdG9rZW4tZm9yLWFsaWNlLQA"
ID = "0123456789abcdef0123456789abcdef"
PREV_ID = "fedcba9876543210fedcba9876543210"


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def derive(key, team, email, salt_seed, secret=SECRET):
    salt = hashlib.sha256(salt_seed.encode()).digest()[:16]
    msg = (b"greenlight review token v1\0" + key.encode() + b"\0" +
           team.encode() + b"\0" + email.encode() + b"\0" + salt)
    mac = hmac.new(secret, msg, hashlib.sha256).digest()[:16]
    return b64url(salt + mac)


def decision(email, team, token, verdict="approve", at=1767140000):
    return {"email": email, "team": team, "decision": verdict,
            "reason": "", "at": at, "remote_addr": "192.0.2.7",
            "user_agent": "Mozilla/5.0", "token": token}


def request(state, decisions, **extra):
    r = {"id": ID, "gate": "release", "state": state,
         "created": 1767130000, "deadline": 1767216400,
         "decided_at": None, "notified": True,
         "teams": [{"name": "security", "approvals": 1, "approved": 0},
                   {"name": "release", "approvals": 2, "approved": 0}],
         "decisions": decisions}
    r.update(extra)
    return r


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus", "relay_answer")
    assert hashlib.sha256(ALICE_TOKEN.encode()).hexdigest() == \
        "b9bb5bf9d2bdb35337dae655480f41eea1aedeb961ad5fd1b26fcacf4ad287ed"
    bob = derive(KEY, "release", "bob@example.com", "bob")
    carol = derive(KEY, "release", "carol@example.com", "carol")
    dave = derive(KEY, "security", "dave@example.com", "dave")
    author = derive(KEY, "release", "author@example.com", "author")
    alice = decision("alice@example.com", "security", ALICE_TOKEN)
    seeds = {
        "pending.json": request("pending", []),
        "expired.json": request("expired", [decision(
            "bob@example.com", "release", bob)]),
        "approved.json": request("approved", [
            alice, decision("bob@example.com", "release", bob),
            decision("carol@example.com", "release", carol)],
            decided_at=1767140100),
        "approved-derived-only.json": request("approved", [
            decision("dave@example.com", "security", dave),
            decision("Bob@Example.com", "release",
                     derive(KEY, "release", "Bob@Example.com", "bob2")),
            decision("carol@example.com", "release", carol)]),
        "rejected.json": request("rejected", [
            decision("carol@example.com", "release", carol, "reject")]),
        "claim-no-decisions.json": request("approved", []),
        "claim-short-quorum.json": request("approved", [
            alice, decision("bob@example.com", "release", bob),
            decision("bob@example.com", "release", bob)]),
        "self-approval.json": request("approved", [
            alice, decision("bob@example.com", "release", bob),
            decision("author@example.com", "release", author)]),
        "forged-random.json": request("approved", [decision(
            "alice@example.com", "security",
            "ZmFrZS10b2tlbi1mcm9tLXRoZS1yZWxheS0xMjM0NTY")]),
        "forged-other-key.json": request("approved", [
            alice, decision("bob@example.com", "release",
                            derive(OTHER_KEY, "release", "bob@example.com", "x")),
            decision("carol@example.com", "release", carol)]),
        "forged-other-team.json": request("approved", [decision(
            "bob@example.com", "security", bob)]),
        "forged-other-secret.json": request("approved", [decision(
            "carol@example.com", "release", derive(
                KEY, "release", "carol@example.com", "c", b"x" * 32))]),
        "previous.json": request("pending", [], previous={
            "id": PREV_ID, "created": 1767000000,
            "facts": {"commit": "3f2a", "subject": "Release 1.2",
                      "results": [{"name": "unit", "ok": True}]}}),
        "previous-malformed.json": request("pending", [], previous={
            "id": PREV_ID.upper(), "created": "yesterday", "facts": []}),
        "malformed-types.json": {
            "id": ID, "state": 7, "created": -1, "deadline": 1e308,
            "decided_at": "now", "notified": "yes", "gate": ["x"],
            "decisions": [None, 1, "approve", [], {"email": 5},
                          {"email": "alice@example.com", "team": "security",
                           "decision": True, "token": None},
                          {"email": "bob@example.com", "team": "release",
                           "decision": "approve", "token": bob,
                           "at": "later", "reason": {"x": 1}}]},
        "decisions-not-array.json": request("approved", {"0": alice}),
        "bad-id.json": dict(request("approved", [alice]), id=ID[:31] + "G"),
        "long-fields.json": request("pending", [
            decision("a" * 300 + "@example.com", "release" + "x" * 100,
                     bob + "A" * 20),
            decision("alice@example.com\u0000evil", "security", ALICE_TOKEN,
                     "approve")], gate="g" * 400),
        "hostile-text.json": request("approved", [
            dict(alice, reason="ok\u001b[31m\n::error::forged\u202e",
                 user_agent="\r\n\u0007", remote_addr="\u0000\u00ff"),
            decision("bob@example.com\n", "release", bob),
            decision("carol@example.com", "release\u0001", carol)]),
        "huge-array.json": request("approved", [{}] * 1100),
        "many-decisions.json": request("approved", [
            decision("bob@example.com", "release", bob)] * 30),
    }
    os.makedirs(out, exist_ok=True)
    for name, obj in seeds.items():
        with open(os.path.join(out, name), "w") as f:
            json.dump(obj, f, separators=(",", ":"))
    with open(os.path.join(out, "not-json"), "w") as f:
        f.write('{"id":"' + ID + '","state":"approved","decisions":[{')


if __name__ == "__main__":
    main()
