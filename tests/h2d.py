#!/usr/bin/python3
"""An HTTP/2 server for the tests (cleartext, prior knowledge, on
127.0.0.1), built on Debian's python3-h2, that behaves well or badly by
path, and counts what it saw. It prints "port N" once it listens.

  /ok              200 "ok"
  /echo            200, a JSON body: method, path, headers, body length
  /bytes/N         200, N bytes, as fast as flow control lets them go
  /trailers        200 "abc", then trailers (?body=0: no DATA at all)
  /bighead?n=N&size=S  200 "big", with N headers of S bytes each
  /redirect?to=P   302 to P
  /setcookie       200, Set-Cookie: s=1; Path=/
  /gzip            200, a gzip-coded body ("salvo " 100 times)
  /status/N        N, empty
  /burst?n=N       200 with N bytes, head and body in one write
                   (&frame=F: in F-byte frames)
  /interim?codes=C 1xx heads first (C: comma-separated, each with a
                   link field), then 200 "ok" with x-final: 1
                   (&trailers=1: and trailers)
  /rst             headers, then RST_STREAM INTERNAL_ERROR
  /early?status=S  S (default 413) "refused early", whole, as soon as the
                   request's head came, its body unread: no WINDOW_UPDATE
                   for it, so that a large body stalls (RFC 9113 8.1)
                   (&rst=1: then RST_STREAM NO_ERROR; its body bytes are
                   counted as "early_bytes")
  Bodies' DATA bytes sent, as flow control let them go, are counted as
  "data_sent".
  /hang            nothing, ever (the client's RST_STREAM is counted)
  /slow?ms=M       200 "slow", M ms later (&again_ms=N: N ms for a key
                   seen before)
  /refuse?key=K    RST_STREAM REFUSED_STREAM the first time for K
  /goaway?key=K    the first time for K: GOAWAY with the last stream id
                   below this one (RFC 9113 6.8: this stream and later
                   ones were not processed), then the connection closes
  /bad/upper       a header name in upper case (RFC 9113 8.2.1)
  /bad/status      a :status that is not three digits
  /bad/length      content-length 10 with 3 bytes of DATA (?over=1:
                   content-length 2; ?close=1: then the connection
                   closes; ?goaway=1: a GOAWAY below this stream first,
                   in the same write)
  /bad/space?at=A  a field value with whitespace at its start (A=lead) or
                   end (A=trail) (RFC 9113 8.2.1)
  /bad/frame       DATA on stream 0 (a connection error, RFC 9113 6.1;
                   ?close=1: then the connection closes)
  /bad/window      WINDOW_UPDATEs past 2^31-1 on its stream (RFC 9113
                   6.9.1)
  /bad/hpack       HEADERS on its stream that HPACK cannot decode (a
                   connection error, RFC 9113 4.3)
  /headclose       200 with content-length 10, then the connection closes
  Any ?key=K is counted (/_stats "keys") before the path is served.
  A connection that opens with an HTTP/1.1 request asking to upgrade
  (Upgrade: h2c, HTTP2-Settings; RFC 7540 3.2) gets 101 and that request
  answered as stream 1 (counted as "upgrades"); one that does not ask
  gets 505 and is closed. A request to /bad/switch asking so gets a 101
  whose Upgrade names h2, not h2c (RFC 9110 7.8), then HTTP/2 as asked.
  /_stats          JSON: connections, requests per path, counts per key,
                   GOAWAYs (NO_ERROR) received per key (on connections
                   that carried the key: "goaways"),
                   RST_STREAM frames and PINGs received, streams refused,
                   and the most connections at once whose preface had not
                   gone yet (peak_prefacing)

--max-streams N sends SETTINGS_MAX_CONCURRENT_STREAMS N in the preface,
and refuses a stream that would be the N+1th open at once with RST_STREAM
REFUSED_STREAM (counted as "refused"), as nginx does: requests a client
sent before the preface reached it go over the limit. --preface-delay MS
sends the preface MS ms after a connection opens, as a distant server's
arrives a round trip after the client's requests went.
"""
import argparse
import gzip
import json
import socket
import threading
import time
from urllib.parse import parse_qs, urlsplit

import h2.errors
import h2.events
import h2.exceptions
import h2.settings

from h2conn import server_connection
from rawserve import read_head, read_until

LOCK = threading.Lock()
SETTINGS = {}  # the preface's, from the command line
DELAY = [0.0]  # --preface-delay, in seconds
STATS = {"connections": 0, "requests": {}, "keys": {}, "resets": 0,
         "pings": 0, "refused": 0, "prefacing": 0, "peak_prefacing": 0,
         "upgrades": 0, "goaways": {}, "early_bytes": 0, "data_sent": 0}
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def limit():
    """--max-streams, or 0."""
    return SETTINGS.get(h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS, 0)


def count_key(key):
    with LOCK:
        STATS["keys"][key] = STATS["keys"].get(key, 0) + 1
        return STATS["keys"][key]


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.h2 = server_connection(SETTINGS)
        self.reqs = {}     # stream id -> (headers, body length)
        self.active = set()  # streams taken and not yet answered
        self.lock = threading.Lock()  # the connection's, for /slow's timer
        self.sending = {}  # stream id -> bytes left to send
        self.keys = set()  # the ?key=K its requests carried
        self.early = set()  # streams answered before their body came

    def flush(self):
        data = self.h2.data_to_send()
        if data:
            self.sock.sendall(data)

    def close_after(self, raw):
        """What is queued, then raw, then the close, corked so that the
        close comes with them, not after a client's read of them; then
        what the client sends is read and dropped, as nginx's lingering
        close does, so that no reset takes the frames with it."""
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
        self.flush()
        self.sock.sendall(raw)
        self.sock.shutdown(socket.SHUT_WR)
        self.sock.settimeout(5)
        try:
            while self.sock.recv(65536):
                pass
        except OSError:
            pass
        raise ConnectionAbortedError

    def later(self, sid):
        """/slow's answer, from its timer's thread."""
        with self.lock:
            try:
                self.respond(sid, 200, b"slow")
                self.flush()
            except (h2.exceptions.ProtocolError, OSError):
                pass  # the stream or the connection is gone

    def taken(self, sid):
        """Whether stream sid is within --max-streams; refused if not."""
        if limit() and len(self.active) >= limit():
            self.h2.reset_stream(sid, h2.errors.ErrorCodes.REFUSED_STREAM)
            with LOCK:
                STATS["refused"] += 1
            return False
        self.active.add(sid)
        return True

    def respond(self, sid, status, body=b"", headers=()):
        self.active.discard(sid)
        hs = [(":status", str(status)), ("content-length", str(len(body))),
              *headers]
        self.h2.send_headers(sid, hs, end_stream=not body)
        if body:
            self.queue(sid, body)

    def queue(self, sid, body, end=True):
        self.sending[sid] = [memoryview(body), end]
        self.pump()

    def pump(self):
        for sid in list(self.sending):
            buf, end = self.sending[sid]
            while buf:
                n = min(len(buf), self.h2.local_flow_control_window(sid),
                        self.h2.max_outbound_frame_size)
                if n <= 0:
                    break
                self.h2.send_data(sid, bytes(buf[:n]))
                buf = buf[n:]
                with LOCK:
                    STATS["data_sent"] += n
            self.sending[sid][0] = buf
            if not buf:
                del self.sending[sid]
                if end:
                    self.h2.end_stream(sid)

    def answer_early(self, sid, headers):
        """/early's answer, before the request's body: whole, then with
        ?rst=1 a reset asking the client to stop sending (RFC 9113 8.1)."""
        url = urlsplit(dict(headers).get(b":path", b"/").decode())
        if url.path != "/early":
            return
        q = parse_qs(url.query)
        self.early.add(sid)
        self.respond(sid, int(q.get("status", ["413"])[0]), b"refused early")
        if q.get("rst", ["0"])[0] == "1":
            self.h2.reset_stream(sid, h2.errors.ErrorCodes.NO_ERROR)

    def request(self, sid, headers, body_len):
        h = {k.decode() if isinstance(k, bytes) else k:
             v.decode() if isinstance(v, bytes) else v for k, v in headers}
        url = urlsplit(h[":path"])
        path, q = url.path, parse_qs(url.query)
        key = q.get("key", [""])[0]
        seen = count_key(key) if key else 0  # this one included
        if key:
            self.keys.add(key)
        with LOCK:
            STATS["requests"][path] = STATS["requests"].get(path, 0) + 1
        if path == "/ok":
            self.respond(sid, 200, b"ok")
        elif path == "/echo":
            body = json.dumps({"method": h[":method"], "path": h[":path"],
                               "headers": {k: v for k, v in h.items()
                                           if not k.startswith(":")},
                               "body_len": body_len}).encode()
            self.respond(sid, 200, body,
                         [("content-type", "application/json")])
        elif path.startswith("/bytes/"):
            n = int(path[7:])
            self.h2.send_headers(sid, [(":status", "200"),
                                       ("content-length", str(n))])
            self.queue(sid, b"x" * n)
        elif path == "/bighead":
            n, size = int(q["n"][0]), int(q["size"][0])
            self.respond(sid, 200, b"big",
                         [("x-big-%d" % i, "h" * size) for i in range(n)])
        elif path == "/redirect":
            self.respond(sid, 302, b"", [("location", q.get("to", ["/ok"])[0])])
        elif path == "/setcookie":
            self.respond(sid, 200, b"set", [("set-cookie", "s=1; Path=/")])
        elif path == "/gzip":
            self.respond(sid, 200, gzip.compress(b"salvo " * 100),
                         [("content-encoding", "gzip")])
        elif path == "/trailers":
            self.h2.send_headers(sid, [(":status", "200")])
            if q.get("body", ["1"])[0] != "0":
                self.h2.send_data(sid, b"abc")
            self.h2.send_headers(sid, [("x-checksum", "1")], end_stream=True)
        elif path == "/interim":
            for code in q.get("codes", ["103"])[0].split(","):
                self.h2.send_headers(sid, [(":status", code),
                                           ("link", "</s.css>; rel=preload")])
            self.h2.send_headers(sid, [(":status", "200"), ("x-final", "1"),
                                       ("content-length", "2")])
            trailers = q.get("trailers", ["0"])[0] == "1"
            self.h2.send_data(sid, b"ok", end_stream=not trailers)
            if trailers:
                self.h2.send_headers(sid, [("x-checksum", "1")],
                                     end_stream=True)
        elif path == "/burst":
            # Its head and an N-byte body in one write, frames as large
            # as allowed (&frame=F: F-byte frames).
            n = int(q.get("n", ["20000"])[0])
            size = int(q.get("frame", [self.h2.max_outbound_frame_size])[0])
            self.h2.send_headers(sid, [(":status", "200")])
            for i in range(0, n, size):
                self.h2.send_data(sid, b"b" * min(size, n - i),
                                  end_stream=i + size >= n)
            self.flush()
        elif path.startswith("/status/"):
            self.respond(sid, int(path[8:]))
        elif path == "/hang":
            pass
        elif path == "/slow":
            ms = q.get("ms", ["100"])[0]
            if seen > 1:
                ms = q.get("again_ms", [ms])[0]
            t = threading.Timer(int(ms) / 1000, self.later, (sid,))
            t.daemon = True
            t.start()
        elif path == "/rst":
            self.h2.send_headers(sid, [(":status", "200")])
            self.h2.reset_stream(sid, h2.errors.ErrorCodes.INTERNAL_ERROR)
        elif path == "/refuse" and seen == 1:
            self.h2.reset_stream(sid, h2.errors.ErrorCodes.REFUSED_STREAM)
        elif path == "/refuse":
            self.respond(sid, 200, b"second")
        elif path == "/goaway" and seen == 1:
            self.h2.close_connection(last_stream_id=max(sid - 2, 0))
            self.flush()
            raise ConnectionAbortedError
        elif path == "/goaway":
            self.respond(sid, 200, b"after goaway")
        elif path == "/headclose":
            self.h2.send_headers(sid, [(":status", "200"),
                                       ("content-length", "10")])
            self.flush()
            raise ConnectionAbortedError
        elif path == "/bad/upper":
            self.respond(sid, 200, b"x", [("X-Upper", "1")])
        elif path == "/bad/space":
            v = " v" if q.get("at", ["lead"])[0] == "lead" else "v\t"
            self.respond(sid, 200, b"x", [("x-v", v)])
        elif path == "/bad/status":
            self.h2.send_headers(sid, [(":status", "2x0")], end_stream=True)
        elif path == "/bad/length":
            over = q.get("over", ["0"])[0] == "1"
            self.h2.send_headers(sid, [(":status", "200"),
                                       ("content-length",
                                        "2" if over else "10")])
            self.h2.send_data(sid, b"abc", end_stream=True)
            if q.get("goaway", ["0"])[0] == "1":
                self.h2.close_connection(last_stream_id=0)
            if "1" in (q.get("close", ["0"])[0], q.get("goaway", ["0"])[0]):
                self.close_after(b"")
        elif path == "/bad/frame":
            # A DATA frame on stream 0: length 1, type 0, flags 0, stream 0.
            frame = b"\x00\x00\x01\x00\x00\x00\x00\x00\x00x"
            if q.get("close", ["0"])[0] == "1":
                self.close_after(frame)
            self.flush()
            self.sock.sendall(frame)
        elif path == "/bad/window":
            self.flush()
            # Two WINDOW_UPDATEs on this stream that take its window past
            # 2^31-1 (a stream error, RFC 9113 6.9.1).
            wu = (b"\x00\x00\x04\x08\x00" + sid.to_bytes(4, "big") +
                  b"\x7f\xff\xff\xff")
            self.sock.sendall(wu + wu)
        elif path == "/bad/hpack":
            self.flush()
            # HEADERS on this stream whose block indexes 63, past HPACK's
            # tables (a connection error, RFC 9113 4.3).
            self.sock.sendall(b"\x00\x00\x01\x01\x04" +
                              sid.to_bytes(4, "big") + b"\xbf")
        elif path == "/bad/flood":
            self.flush()
            # 5,000 PINGs at once, each asking for an ACK: more than a
            # client should queue (RFC 9113 10.5, nghttp2's 1,000).
            ping = b"\x00\x00\x08\x06\x00\x00\x00\x00\x00" + b"p" * 8
            self.sock.sendall(ping * 5000)
        elif path == "/_stats":
            with LOCK:
                body = json.dumps(STATS).encode()
            self.respond(sid, 200, body)
        else:
            self.respond(sid, 404, b"not found")

    def prefacing(self, d):
        """Connections whose preface has not gone yet, and their peak."""
        with LOCK:
            STATS["prefacing"] += d
            STATS["peak_prefacing"] = max(STATS["peak_prefacing"],
                                          STATS["prefacing"])

    def upgrade(self):
        """The bytes read past the start, and whether an HTTP/1.1 request
        asking to upgrade came first (answered as stream 1); or None when
        the connection ends (a request that did not ask: 505)."""
        data = read_until(self.sock, b"", lambda d: len(d) >= len(PREFACE)
                          or not PREFACE.startswith(d))
        if data is not None and data.startswith(PREFACE):
            return data, False
        data = data and read_head(self.sock, data)  # a request of HTTP/1.1
        if data is None:
            return None
        head, data = data.split(b"\r\n\r\n", 1)
        line, *fields = head.decode("latin-1").split("\r\n")
        h = {}
        for f in fields:
            name, _, value = f.partition(":")
            h[name.strip().lower()] = value.strip()
        if h.get("upgrade") != "h2c" or "http2-settings" not in h:
            self.sock.sendall(b"HTTP/1.1 505 HTTP Version Not Supported\r\n"
                              b"Content-Length: 0\r\nConnection: close"
                              b"\r\n\r\n")
            return None
        body_len = int(h.get("content-length", "0"))
        data = read_until(self.sock, data, lambda d: len(d) >= body_len)
        if data is None:
            return None
        method, target, _ = line.split(" ", 2)
        to = b"h2" if target.startswith("/bad/switch") else b"h2c"
        self.sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\n"
                          b"Connection: Upgrade\r\nUpgrade: " + to +
                          b"\r\n\r\n")
        with LOCK:
            STATS["upgrades"] += 1
        with self.lock:
            self.h2.initiate_upgrade_connection(
                h["http2-settings"].encode())
            hop = ("connection", "upgrade", "http2-settings", "host")
            headers = [(":method", method), (":path", target),
                       (":scheme", "http"), (":authority", h.get("host", ""))]
            headers += [(k, v) for k, v in h.items() if k not in hop]
            self.active.add(1)
            self.request(1, headers, body_len)
            self.flush()
        return data[body_len:], True

    def start(self):
        """The preface sent (after --preface-delay, and after the 101 of
        an upgrade): the bytes read past it, or None when the connection
        ended first."""
        self.prefacing(1)
        try:
            time.sleep(DELAY[0])
            read = self.upgrade()
            if read is None:
                return None
            data, upgraded = read
            with self.lock:
                if not upgraded:  # else the preface went with stream 1
                    self.h2.initiate_connection()
                if limit():
                    # The limit went out in the preface; what goes over it
                    # is refused here (taken), where python3-h2, holding
                    # the client to it at once, would end the connection.
                    self.h2.local_settings = \
                        server_connection().local_settings
                self.flush()
            return data
        finally:
            self.prefacing(-1)

    def serve(self):
        data = self.start()
        if data is None:
            return
        while True:
            if not data:
                data = self.sock.recv(65536)
            if not data:
                return
            with self.lock:
                if not self.events(data):
                    return
                self.pump()
                self.flush()
            data = b""

    def events(self, data):
        """What data brought, handled; False when the connection ends."""
        for ev in self.h2.receive_data(data):
            if isinstance(ev, h2.events.RequestReceived):
                if not self.taken(ev.stream_id):
                    continue
                self.reqs[ev.stream_id] = [ev.headers, 0]
                if ev.stream_ended:
                    self.request(ev.stream_id, ev.headers, 0)
                else:
                    self.answer_early(ev.stream_id, ev.headers)
            elif isinstance(ev, h2.events.DataReceived) and \
                    ev.stream_id in self.early:
                with LOCK:
                    STATS["early_bytes"] += len(ev.data)
            elif isinstance(ev, h2.events.DataReceived):
                self.h2.acknowledge_received_data(
                    ev.flow_controlled_length, ev.stream_id)
                if ev.stream_id not in self.reqs:
                    continue  # a refused stream's body
                self.reqs[ev.stream_id][1] += len(ev.data)
                if ev.stream_ended:
                    self.request(ev.stream_id, *self.reqs[ev.stream_id])
            elif isinstance(ev, h2.events.StreamReset):
                self.sending.pop(ev.stream_id, None)
                self.active.discard(ev.stream_id)
                if ev.remote_reset:
                    with LOCK:
                        STATS["resets"] += 1
            elif isinstance(ev, h2.events.PingReceived):
                with LOCK:
                    STATS["pings"] += 1
            elif isinstance(ev, h2.events.WindowUpdated):
                self.pump()
            elif isinstance(ev, h2.events.ConnectionTerminated):
                if ev.error_code == h2.errors.ErrorCodes.NO_ERROR:
                    with LOCK:
                        for k in self.keys:
                            STATS["goaways"][k] = \
                                STATS["goaways"].get(k, 0) + 1
                self.flush()
                return False
        return True


def handle(sock):
    with LOCK:
        STATS["connections"] += 1
    try:
        Conn(sock).serve()
    except (ConnectionError, OSError, h2.exceptions.ProtocolError):
        pass
    finally:
        sock.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--max-streams", type=int)
    ap.add_argument("--preface-delay", type=int, default=0)
    args = ap.parse_args()
    if args.max_streams is not None:
        SETTINGS[h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS] = \
            args.max_streams
    DELAY[0] = args.preface_delay / 1000
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", args.port))
    ls.listen(128)
    print("port", ls.getsockname()[1], flush=True)
    while True:
        s, _ = ls.accept()
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=handle, args=(s,), daemon=True).start()


if __name__ == "__main__":
    main()
