"""What the tests' servers of raw sockets share (tls_close.py,
proxyd.py, alpnmix.py, h2d.py): a head read whole, bytes relayed one way, and a
listener on 127.0.0.1 that prints "port N" and serves each connection on a
thread of its own."""
import socket
import threading


def read_until(sock, data, enough):
    """data and the bytes read after it until enough(them) holds, or None
    when the peer closed first."""
    while not enough(data):
        d = sock.recv(65536)
        if not d:
            return None
        data += d
    return data


def read_head(sock, data=b""):
    """The bytes read up to the blank line that ends a head (and what came
    after it in the same reads), or None when the peer closed first."""
    return read_until(sock, data, lambda d: b"\r\n\r\n" in d)


def serve_forever(handle):
    """handle(sock) for each connection, on a daemon thread."""
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(64)
    print("port", ls.getsockname()[1], flush=True)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=handle, args=(c,), daemon=True).start()


def pipe(src, dst):
    """src's bytes to dst until src ends, then both shut down: run one
    each way for a relay."""
    try:
        while True:
            d = src.recv(65536)
            if not d:
                break
            dst.sendall(d)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
