#!/usr/bin/python3
"""HTTP/2 in front of faultd, so that the suites written against faultd run
over HTTP/2 too (cleartext, prior knowledge, on 127.0.0.1). Built on
Debian's python3-h2. It prints "PORT N" once it listens.

A connection that opens with the HTTP/2 preface is served as HTTP/2: each
stream's request is sent to faultd as HTTP/1.1 over a keep-alive connection
of its own (kept per client connection and reused, so that faultd's counts
of requests, peaks and connections read as they do over HTTP/1.1), and
faultd's response is sent back as HEADERS, DATA as it arrives (within the
client's flow-control windows), and trailers. What HTTP/1.1 can say and
HTTP/2 cannot becomes the nearest HTTP/2 error:
  - faultd closing or resetting mid-response: RST_STREAM INTERNAL_ERROR;
  - a response that is not HTTP/1.1: RST_STREAM PROTOCOL_ERROR;
  - the client resetting a stream: its faultd connection is closed.
Any other connection (faultd's /_stats, raw HTTP/1.1) is relayed to faultd
byte for byte, a reset passed on as a reset.
"""
import argparse
import asyncio
import socket
import struct
import traceback

import h2.errors
import h2.events
import h2.exceptions
import h2.settings

from h2conn import server_connection

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
HOP = {b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding",
       b"upgrade", b"te"}
MAX_HEAD = 1 << 20
UPSTREAM = ("127.0.0.1", 0)
MAX_STREAMS = 100000  # --max-streams: SETTINGS_MAX_CONCURRENT_STREAMS
REFUSE_AFTER = 0  # --refuse-after N: streams after a connection's Nth refused


def reset_close(writer):
    """Closes with a TCP reset (SO_LINGER 0), as faultd's /reset does."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                            struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.transport.abort()


async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        reset_close(writer)


async def relay_raw(reader, writer, first):
    try:
        ur, uw = await asyncio.open_connection(*UPSTREAM)
    except OSError:
        reset_close(writer)
        return
    uw.write(first)
    await asyncio.gather(pipe(reader, uw), pipe(ur, writer))
    uw.close()
    writer.close()


class Broken(Exception):
    """faultd's response cannot be carried: the stream's error code."""

    def __init__(self, code):
        super().__init__(code)
        self.code = code


def faultd_closes(headers):
    """Whether faultd closes the connection after this response without
    saying so (tests/faultd.c: close=1 in any query, and its routes of
    malformed or raw bytes): such a connection is never reused, or a
    request could go out on it before its close arrives and come back as
    a reset stream; a client of faultd's own would see the close."""
    path = dict(headers).get(b":path", b"/")
    route, _, query = path.partition(b"?")
    return (b"close=1" in query.split(b"&") or
            route.startswith((b"/bad/", b"/raw", b"/garbage", b"/close"))
            or route.endswith(b"/wire"))


def canonical(name):
    """x-custom-header -> X-Custom-Header: the case HTTP/1.1 clients send,
    which faultd's /echo reports back."""
    return b"-".join(w[:1].upper() + w[1:] for w in name.split(b"-"))


class Front:
    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer
        codes = h2.settings.SettingCodes
        self.h2 = server_connection({codes.MAX_CONCURRENT_STREAMS: MAX_STREAMS,
                                     codes.INITIAL_WINDOW_SIZE: 16 << 20})
        self.idle = []      # faultd connections between requests
        self.streams = {}   # stream id -> [headers, body, task]
        self.taken = 0      # streams this connection has served
        self.windows = {}   # stream id -> asyncio.Event
        self.closed = False

    def flush(self):
        data = self.h2.data_to_send()
        if data and not self.closed:
            self.writer.write(data)

    async def serve(self, first):
        self.h2.initiate_connection()
        self.h2.increment_flow_control_window(64 << 20)
        self.flush()
        data = first
        try:
            while data:
                try:
                    events = self.h2.receive_data(data)
                except h2.exceptions.ProtocolError:
                    self.flush()
                    break
                for ev in events:
                    self.event(ev)
                self.flush()
                await self.writer.drain()
                data = await self.reader.read(65536)
        except (ConnectionError, OSError):
            pass
        self.closed = True
        for st in self.streams.values():
            if st[2]:
                st[2].cancel()
        for ev in self.windows.values():
            ev.set()
        for _, uw in self.idle:
            uw.close()
        self.writer.close()

    def event(self, ev):
        if isinstance(ev, h2.events.RequestReceived):
            if REFUSE_AFTER and self.taken >= REFUSE_AFTER:
                # RFC 9113 8.7: not processed, for the client to send again.
                # Counted over the connection's life, not among the streams
                # open, so that it refuses however fast a client sends.
                self.h2.reset_stream(ev.stream_id,
                                     h2.errors.ErrorCodes.REFUSED_STREAM)
                return
            self.taken += 1
            self.streams[ev.stream_id] = [ev.headers, bytearray(), None]
            if ev.stream_ended:
                self.start(ev.stream_id)
        elif isinstance(ev, h2.events.DataReceived):
            st = self.streams.get(ev.stream_id)
            if st is not None:
                st[1] += ev.data
            self.h2.acknowledge_received_data(ev.flow_controlled_length,
                                              ev.stream_id)
        elif isinstance(ev, h2.events.StreamEnded):
            if ev.stream_id in self.streams:
                self.start(ev.stream_id)
        elif isinstance(ev, h2.events.StreamReset):
            st = self.streams.pop(ev.stream_id, None)
            if st and st[2]:
                st[2].cancel()
            w = self.windows.get(ev.stream_id)
            if w:
                w.set()
        elif isinstance(ev, h2.events.WindowUpdated):
            for sid, w in self.windows.items():
                if ev.stream_id in (0, sid):
                    w.set()

    def start(self, sid):
        st = self.streams[sid]
        if st[2] is None:
            st[2] = asyncio.ensure_future(self.stream(sid, st[0], bytes(st[1])))

    async def stream(self, sid, headers, body):
        up = None
        try:
            up = await self.upstream()
            keep = await self.exchange(sid, headers, body, up)
            if keep and not self.closed and not faultd_closes(headers):
                self.idle.append(up)
                up = None
        except Broken as e:
            self.reset(sid, e.code)
        except (ConnectionError, OSError, asyncio.IncompleteReadError,
                asyncio.LimitOverrunError):
            self.reset(sid, h2.errors.ErrorCodes.INTERNAL_ERROR)
        except asyncio.CancelledError:
            if up:
                reset_close(up[1])
                up = None
            raise
        except Exception:  # a fault of this script: said, never silent
            traceback.print_exc()
            self.reset(sid, h2.errors.ErrorCodes.INTERNAL_ERROR)
        finally:
            if up:
                up[1].close()
            self.streams.pop(sid, None)
            self.windows.pop(sid, None)

    def reset(self, sid, code):
        try:
            self.h2.reset_stream(sid, code)
        except h2.exceptions.ProtocolError:
            return
        self.flush()

    async def upstream(self):
        while self.idle:
            ur, uw = self.idle.pop()
            if not uw.is_closing() and not ur.at_eof():
                return ur, uw
            uw.close()
        return await asyncio.open_connection(*UPSTREAM, limit=MAX_HEAD)

    async def exchange(self, sid, headers, body, up):
        ur, uw = up
        uw.write(self.request_bytes(headers, body))
        method = dict(headers).get(b":method", b"GET")
        while True:
            status, fields = await self.read_head(ur)
            if status >= 200 or status == 101:
                break
        no_body = method == b"HEAD" or status in (204, 304)
        # faultd's /status/204 has a Content-Length (and a body HTTP/1.1
        # clients must not read); RFC 9110 8.6 forbids it, so a server
        # speaking HTTP/2 would not send it.
        drop = HOP | ({b"content-length"} if status == 204 else set())
        out = [(b":status", str(status).encode())]
        out += [(n.lower(), v) for n, v in fields if n.lower() not in drop]
        names = {n.lower(): v for n, v in fields}
        self.h2.send_headers(sid, out, end_stream=no_body)
        self.flush()
        if no_body:  # faultd may send one anyway: the connection is done
            return False
        ended = False
        if b"chunked" in names.get(b"transfer-encoding", b"").lower():
            ended = await self.chunked(sid, ur)
        elif b"content-length" in names:
            try:
                n = int(names[b"content-length"])
            except ValueError:
                raise Broken(h2.errors.ErrorCodes.PROTOCOL_ERROR)
            await self.counted(sid, ur, n)
        else:
            await self.until_close(sid, ur)
            return False
        if not ended:
            await self.send(sid, b"", end=True)
        return b"close" not in names.get(b"connection", b"").lower()

    @staticmethod
    def request_bytes(headers, body):
        pseudo = {n: v for n, v in headers if n.startswith(b":")}
        lines = [pseudo.get(b":method", b"GET") + b" " +
                 pseudo.get(b":path", b"/") + b" HTTP/1.1",
                 b"Host: " + pseudo.get(b":authority", b"")]
        cookies = []
        has_length = False
        for n, v in headers:
            if n.startswith(b":"):
                continue
            if n == b"cookie":
                cookies.append(v)
                continue
            has_length |= n == b"content-length"
            lines.append(canonical(n) + b": " + v)
        if cookies:
            lines.append(b"Cookie: " + b"; ".join(cookies))
        if body and not has_length:
            lines.append(b"Content-Length: " + str(len(body)).encode())
        return b"\r\n".join(lines) + b"\r\n\r\n" + body

    @staticmethod
    async def read_head(ur):
        try:
            head = await ur.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as e:
            if not e.partial:
                raise ConnectionError("closed before a response")
            raise Broken(h2.errors.ErrorCodes.PROTOCOL_ERROR)
        except asyncio.LimitOverrunError:
            raise Broken(h2.errors.ErrorCodes.PROTOCOL_ERROR)
        lines = head[:-4].split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        if (len(parts) < 2 or not parts[0].startswith(b"HTTP/1.")
                or len(parts[1]) != 3 or not parts[1].isdigit()):
            raise Broken(h2.errors.ErrorCodes.PROTOCOL_ERROR)
        fields = []
        for line in lines[1:]:
            n, sep, v = line.partition(b":")
            if not sep or not n or n != n.strip():
                raise Broken(h2.errors.ErrorCodes.PROTOCOL_ERROR)
            fields.append((n, v.strip()))
        return int(parts[1]), fields

    async def counted(self, sid, ur, n):
        while n > 0:
            data = await ur.read(min(n, 65536))
            if not data:
                raise ConnectionError("closed mid-body")
            n -= len(data)
            await self.send(sid, data)

    async def until_close(self, sid, ur):
        while True:
            data = await ur.read(65536)
            if not data:
                break
            await self.send(sid, data)
        await self.send(sid, b"", end=True)

    async def chunked(self, sid, ur):
        """A chunked body as DATA: whether trailers ended the stream."""
        while True:
            line = await ur.readuntil(b"\r\n")
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                raise Broken(h2.errors.ErrorCodes.PROTOCOL_ERROR)
            if size == 0:
                break
            await self.counted(sid, ur, size)
            if await ur.readexactly(2) != b"\r\n":
                raise Broken(h2.errors.ErrorCodes.PROTOCOL_ERROR)
        trailers = []
        while True:
            line = (await ur.readuntil(b"\r\n"))[:-2]
            if not line:
                break
            n, _, v = line.partition(b":")
            trailers.append((n.strip().lower(), v.strip()))
        if not trailers:
            return False
        self.h2.send_headers(sid, trailers, end_stream=True)
        self.flush()
        return True

    async def send(self, sid, data, end=False):
        """DATA within the client's windows; waits for WINDOW_UPDATE."""
        view = memoryview(data)
        while True:
            if self.closed or sid not in self.streams:
                raise ConnectionError("stream gone")
            room = min(self.h2.local_flow_control_window(sid),
                       self.h2.max_outbound_frame_size, len(view))
            if room > 0 or (not view and end):
                last = end and room == len(view)
                self.h2.send_data(sid, bytes(view[:room]), end_stream=last)
                self.flush()
                view = view[room:]
                await self.writer.drain()
                if not view:
                    return
                continue
            w = self.windows.setdefault(sid, asyncio.Event())
            w.clear()
            await w.wait()


async def on_client(reader, writer):
    first = b""
    try:
        while len(first) < len(PREFACE) and PREFACE.startswith(first):
            data = await reader.read(len(PREFACE) - len(first))
            if not data:
                break
            first += data
    except (ConnectionError, OSError):
        writer.close()
        return
    if first == PREFACE:
        await Front(reader, writer).serve(first)
    else:
        await relay_raw(reader, writer, first)


async def main():
    global UPSTREAM, MAX_STREAMS, REFUSE_AFTER
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", type=int, required=True)
    ap.add_argument("--max-streams", type=int, default=MAX_STREAMS)
    ap.add_argument("--refuse-after", type=int, default=0)
    args = ap.parse_args()
    UPSTREAM = ("127.0.0.1", args.upstream)
    MAX_STREAMS = args.max_streams
    REFUSE_AFTER = args.refuse_after
    server = await asyncio.start_server(on_client, "127.0.0.1", 0,
                                        backlog=4096)
    print("PORT %d" % server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
