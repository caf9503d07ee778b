#!/usr/bin/python3
"""A CONNECT proxy for the tests (on 127.0.0.1) that answers CONNECT
127.0.0.1:PORT by the request's User-Agent (which libcurl carries into
CONNECT), and tunnels to 127.0.0.1:PORT when it answers 2xx. It prints
"port N" once it listens.

  ok        200, then the tunnel
  interim   100 Continue, then 200, then the tunnel (RFC 9110 15.2)
  refuse    407 with a Proxy-Authenticate challenge
  garbage   bytes that are not an HTTP response
  huge      200 with a field line of 64 KiB (more than a proxy's head
            takes)
  close     the connection closed before any answer
"""
import socket
import threading

from rawserve import pipe, read_head, serve_forever

ANSWERS = {
    "ok": b"HTTP/1.1 200 Connection established\r\n\r\n",
    "interim": b"HTTP/1.1 100 Continue\r\n\r\n"
               b"HTTP/1.1 200 Connection established\r\n\r\n",
    "refuse": b"HTTP/1.1 407 Proxy Authentication Required\r\n"
              b"Proxy-Authenticate: Basic realm=t\r\nContent-Length: 0\r\n\r\n",
    "garbage": b"SSH-2.0-OpenSSH_9.2\r\n\r\n",
    "huge": b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 65536 + b"\r\n\r\n",
    "close": b"",
}


def serve(c):
    try:
        head = read_head(c)
        if head is None:
            return
        port = int(head.split(b" ")[1].rsplit(b":", 1)[1])
        how = ""
        for line in head.split(b"\r\n\r\n")[0].split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"user-agent":
                how = value.strip().decode()
        c.sendall(ANSWERS.get(how, ANSWERS["garbage"]))
        if how not in ("ok", "interim"):
            return
        up = socket.create_connection(("127.0.0.1", port))
        threading.Thread(target=pipe, args=(up, c), daemon=True).start()
        pipe(c, up)
        up.close()
    except (OSError, IndexError, ValueError, UnicodeError):
        pass
    finally:
        c.close()


def main():
    serve_forever(serve)


if __name__ == "__main__":
    main()
