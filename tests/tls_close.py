#!/usr/bin/python3
"""An HTTPS/1.1 server for the tests (Python's ssl, on 127.0.0.1) that ends
each connection after one response, with TLS's close_notify or without it
(a bare TCP close, as a truncation attack would make it; RFC 9112 9.8). It
prints "port N" once it listens.

  /close?notify=1   200 "hello", its body delimited by the close
  /length?notify=1  200 "hello" with Content-Length: 5
  /chunked?notify=1 200 "hello", chunked

notify=0 closes without close_notify.

  tls_close.py CERT KEY
"""
import socket
import ssl
import sys
from urllib.parse import parse_qs, urlsplit

from rawserve import read_head, serve_forever

BODIES = {
    "/close": b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nhello",
    "/length": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    "/chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"5\r\nhello\r\n0\r\n\r\n",
}


def serve(ctx, raw):
    try:
        s = ctx.wrap_socket(raw, server_side=True)
    except (ssl.SSLError, OSError):
        raw.close()
        return
    try:
        head = read_head(s)
        if head is None:
            return
        url = urlsplit(head.split(b" ")[1].decode())
        s.sendall(BODIES.get(url.path, b"HTTP/1.1 404 Not Found\r\n"
                                       b"Content-Length: 0\r\n\r\n"))
        if parse_qs(url.query).get("notify", ["1"])[0] == "1":
            s.unwrap()  # close_notify, then the TCP close
        else:
            s.shutdown(socket.SHUT_RDWR)  # TCP's close alone
    except (ssl.SSLError, OSError, IndexError, UnicodeError):
        pass
    finally:
        s.close()


def main():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[1], sys.argv[2])
    ctx.set_alpn_protocols(["http/1.1"])
    serve_forever(lambda raw: serve(ctx, raw))


if __name__ == "__main__":
    main()
