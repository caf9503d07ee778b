#!/usr/bin/env python3
"""conformance-seeds.py CORPUS DIR: writes each response of the conformance
corpus (tests/conformance/responses.jsonl) as a seed of the response
fuzzers: DIR/h1/ID for tests/fuzz/fuzz_h1 (byte 0 a piece size, byte 1
HEAD or not and the content coding, as fuzz_h1.c reads them, then the
response's bytes) and DIR/headers/ID for fuzz_headers (the bytes alone)."""
import json
import os
import sys

CODINGS = ["", "gzip", "deflate", "br", "zstd"]


def main(corpus, out):
    for d in ("h1", "headers"):
        os.makedirs(os.path.join(out, d), exist_ok=True)
    with open(corpus) as f:
        for n, line in enumerate(f):
            case = json.loads(line)
            wire = case["wire"].encode("latin-1")
            coding = next((i for i, c in enumerate(CODINGS) if i and
                           b"Content-Encoding: " + c.encode() in wire), 0)
            flags = coding << 1 | (case.get("method") == "HEAD")
            with open(os.path.join(out, "h1", case["id"]), "wb") as seed:
                seed.write(bytes([n % 64, flags]) + wire)
            with open(os.path.join(out, "headers", case["id"]), "wb") as seed:
                seed.write(wire)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
