#!/usr/bin/python3
"""TLS in front of tests/h2front.py (Python's ssl, on 127.0.0.1) whose
connections take turns at the protocol ALPN chooses: the first h2, the
next http/1.1, and so on, as behind a load balancer whose servers differ.
Each connection's bytes are relayed to h2front as they are, which serves
HTTP/2 and passes HTTP/1.1 on to faultd. It prints "port N" once it
listens.

  alpnmix.py CERT KEY H2FRONT_PORT
"""
import itertools
import socket
import ssl
import sys
import threading

from rawserve import pipe, serve_forever


def serve(ctx, raw, port):
    try:
        s = ctx.wrap_socket(raw, server_side=True)
        up = socket.create_connection(("127.0.0.1", port))
    except (ssl.SSLError, OSError):
        raw.close()
        return
    threading.Thread(target=pipe, args=(up, s), daemon=True).start()
    pipe(s, up)


def main():
    ctxs = []
    for proto in ("h2", "http/1.1"):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[1], sys.argv[2])
        ctx.set_alpn_protocols([proto])
        ctxs.append(ctx)
    turn = itertools.cycle(ctxs)
    port = int(sys.argv[3])
    serve_forever(lambda raw: serve(next(turn), raw, port))


if __name__ == "__main__":
    main()
