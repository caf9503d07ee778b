#!/usr/bin/python3
"""h2-seeds.py DIR: seeds for tests/fuzz/fuzz_h2.c, written with Debian's
python3-h2: what a server sends to one request on stream 1 (its SETTINGS
first), for a few kinds of answer. Each file is two bytes (piece size,
request kind) and those frames."""
import os
import sys

import h2.config
import h2.connection
import h2.errors


def server_bytes(answer, post=False):
    client = h2.connection.H2Connection(
        h2.config.H2Configuration(client_side=True))
    client.initiate_connection()
    client.send_headers(1, [(":method", "POST" if post else "GET"),
                            (":scheme", "http"), (":authority", "h2.fuzz"),
                            (":path", "/x")], end_stream=not post)
    if post:
        client.send_data(1, b"hello", end_stream=True)
    server = h2.connection.H2Connection(
        h2.config.H2Configuration(client_side=False,
                                  validate_outbound_headers=False,
                                  normalize_outbound_headers=False))
    server.initiate_connection()
    server.receive_data(client.data_to_send())
    answer(server)
    return server.data_to_send()


def ok(s):
    s.send_headers(1, [(":status", "200"), ("content-length", "5")])
    s.send_data(1, b"hello", end_stream=True)


def chunks(s):
    s.send_headers(1, [(":status", "200"), ("set-cookie", "a=b; Path=/")])
    for i in range(8):
        s.send_data(1, bytes([65 + i]) * 2000)
    s.end_stream(1)


def trailers(s):
    s.send_headers(1, [(":status", "200")])
    s.send_data(1, b"abc")
    s.send_headers(1, [("x-sum", "1")], end_stream=True)


def informational(s):
    s.send_headers(1, [(":status", "103"), ("link", "</a>; rel=preload")])
    s.send_headers(1, [(":status", "204")], end_stream=True)


def redirect(s):
    s.send_headers(1, [(":status", "301"), ("location", "/y")],
                   end_stream=True)


def reset(s):
    s.send_headers(1, [(":status", "200")])
    s.reset_stream(1, h2.errors.ErrorCodes.INTERNAL_ERROR)


def refused(s):
    s.reset_stream(1, h2.errors.ErrorCodes.REFUSED_STREAM)


def goaway(s):
    s.close_connection(last_stream_id=0)


def gzip_body(s):
    import gzip
    body = gzip.compress(b"salvo " * 100)
    s.send_headers(1, [(":status", "200"), ("content-encoding", "gzip"),
                       ("content-length", str(len(body)))])
    s.send_data(1, body, end_stream=True)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    kinds = [ok, chunks, trailers, informational, redirect, reset, refused,
             goaway, gzip_body]
    for k in kinds:
        for post in (0, 1):
            for piece, stream in ((96, 0), (7, 2)):
                name = f"{k.__name__}-{post}-{piece}-{stream}"
                with open(os.path.join(out, name), "wb") as f:
                    f.write(bytes([piece, post | stream]) +
                            server_bytes(k, bool(post)))


if __name__ == "__main__":
    main()
