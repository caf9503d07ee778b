"""httpx's authentication classes: Auth, whose auth_flow generator may
look at a response and send the request again (DigestAuth does), and
BasicAuth, whose header libsalvo sends without a flow. _flows.py runs
the flows."""
from __future__ import annotations

import hashlib
import os
import re
from _thread import allocate_lock

TYPE_CHECKING = False
if TYPE_CHECKING:  # for the checkers only (typing costs 18 ms to import)
    from typing import Any, AsyncGenerator, Dict, Generator, List, Optional

__all__ = ["Auth", "BasicAuth", "DigestAuth"]


class Auth:
    """httpx's base class of an authentication scheme: override
    auth_flow(request), a generator that sets what the request needs,
    yields it, and gets its response back; yielding again sends the
    request again (httpx's protocol, so that an httpx Auth subclass runs
    unchanged). requires_request_body and requires_response_body ask for
    the bodies read before the flow sees them."""

    requires_request_body = False
    requires_response_body = False

    def auth_flow(self, request: Any) -> Generator[Any, Any, None]:
        yield request

    def sync_auth_flow(self, request: Any) -> Generator[Any, Any, None]:
        if self.requires_request_body:
            request.read()
        flow = self.auth_flow(request)
        request = next(flow)
        while True:
            response = yield request
            if self.requires_response_body:
                response.read()
            try:
                request = flow.send(response)
            except StopIteration:
                return

    async def async_auth_flow(self,
                              request: Any) -> AsyncGenerator[Any, Any]:
        if self.requires_request_body:
            await request.aread()
        flow = self.auth_flow(request)
        request = next(flow)
        while True:
            response = yield request
            if self.requires_response_body:
                await response.aread()
            try:
                request = flow.send(response)
            except StopIteration:
                return


class BasicAuth(Auth):
    """httpx's BasicAuth(username, password): the same as the tuple (sent
    by libsalvo, without running a flow)."""

    def __init__(self, username: Any, password: Any) -> None:
        self.username, self.password = username, password

    def auth_flow(self, request: Any) -> Generator[Any, Any, None]:
        request.headers["Authorization"] = basic_auth_value(self)
        yield request


def is_flow(auth: Any) -> bool:
    """Whether auth is run as an auth_flow (an Auth but BasicAuth, or any
    object with httpx's auth_flow), not a tuple or a function."""
    return (auth is not None and not isinstance(auth, (tuple, BasicAuth))
            and hasattr(auth, "sync_auth_flow"))


def basic_auth_value(auth: Any, what: str = "auth") -> str:
    """The Authorization value of (username, password) or a BasicAuth."""
    if hasattr(auth, "username") and hasattr(auth, "password"):
        auth = (auth.username, auth.password)
    if not (isinstance(auth, tuple) and len(auth) == 2):
        raise TypeError(f"{what} must be a (username, password) tuple, a "
                        f"salvo.BasicAuth, a salvo.Auth or a function of "
                        f"the request; "
                        f"{type(auth).__name__} is not supported")
    import base64
    u, p = (x.encode() if isinstance(x, str) else bytes(x) for x in auth)
    return "Basic " + base64.b64encode(u + b":" + p).decode()


# ---- Digest (RFC 7616) ------------------------------------------------------

# RFC 7616's three, and the SHA and SHA-512 some servers (and httpx) use.
_HASHES = {"MD5": "md5", "SHA-256": "sha256", "SHA-512-256": "sha512_256",
           "SHA": "sha1", "SHA-512": "sha512"}
# name=value, the value a token or a quoted-string (RFC 9110 11.2): a
# quote left open matches neither, and the parse stops there.
_PARAM = re.compile(r'\s*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)\s*=\s*'
                    r'("(?:[^"\\]|\\.)*"|[^,\s"]*)\s*(?:,|$)')


def _challenge(values: List[str]) -> Optional[Dict[str, str]]:
    """The auth-params of the first Digest challenge among the
    WWW-Authenticate values, names in lower case, or None."""
    for v in values:
        m = re.search(r"(?:^|,)\s*digest\s+", v, re.I)
        if not m:
            continue
        params: Dict[str, str] = {}
        pos = m.end()
        while pos < len(v):
            p = _PARAM.match(v, pos)
            if not p:
                break  # another scheme's challenge follows
            val = p.group(2)
            if val.startswith('"'):
                val = re.sub(r"\\(.)", r"\1", val[1:-1])
            params[p.group(1).lower()] = val
            pos = p.end()
        return params
    return None


def _quoted(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


class DigestAuth(Auth):
    """httpx's DigestAuth(username, password): HTTP Digest access
    authentication (RFC 7616). The first request goes without
    credentials; a 401 with a Digest challenge is answered once, and the
    challenge is kept, so that later requests answer it at once (a new
    nonce count each), and a challenge that changed (a stale nonce) is
    answered again. MD5, SHA-256 and SHA-512-256 (and SHA and SHA-512),
    with or without -sess;
    qop "auth" (the body-covering "auth-int" is refused: ProtocolError)."""

    def __init__(self, username: Any, password: Any) -> None:
        self._user = username if isinstance(username, str) \
            else bytes(username).decode("latin-1")
        self._password = password.encode() if isinstance(password, str) \
            else bytes(password)
        self._last: Optional[Dict[str, str]] = None
        self._nc = 0
        # One DigestAuth may serve many threads: each answer its own nc.
        self._lock = allocate_lock()

    def auth_flow(self, request: Any) -> Generator[Any, Any, None]:
        with self._lock:
            last = self._last
        if last is not None:
            request.headers["Authorization"] = self._answer(request, last)
        response = yield request
        if response.status_code != 401:
            return
        challenge = _challenge(response.headers.get_list("www-authenticate"))
        if challenge is None:
            return
        with self._lock:
            self._last, self._nc = challenge, 0
        request.headers["Authorization"] = self._answer(request, challenge)
        yield request

    def _answer(self, request: Any, ch: Dict[str, str]) -> str:
        """The Authorization value answering challenge ch."""
        from ._exceptions import ProtocolError

        def refuse(why: str) -> Exception:
            return ProtocolError(f"Digest authentication: {why}",
                                 code="EPROTO", url=str(request.url))
        if "realm" not in ch or "nonce" not in ch:
            raise refuse("the challenge has no realm or no nonce")
        alg = ch.get("algorithm", "MD5")
        sess = alg.upper().endswith("-SESS")
        name = _HASHES.get(alg.upper()[:-5] if sess else alg.upper())
        if name is None:
            raise refuse(f"algorithm {alg!r} is not supported")

        def h(*parts: bytes) -> bytes:
            return hashlib.new(name, b":".join(parts)).hexdigest().encode()
        qops = [q.strip() for q in ch.get("qop", "").split(",") if q.strip()]
        if qops and "auth" not in qops:
            raise refuse(f"qop {ch['qop']!r} is not supported (only auth)")
        realm, nonce = ch["realm"].encode(), ch["nonce"].encode()
        # The target as libsalvo sends it: bytes outside printable ASCII
        # percent-encoded (url.c), which the server compares uri with.
        uri = "".join(chr(b) if 0x20 < b < 0x7f else "%%%02X" % b
                      for b in request.url.raw_path)
        with self._lock:
            self._nc += 1
            nc = b"%08x" % self._nc
        cnonce = os.urandom(8).hex().encode()
        ha1 = h(self._user.encode(), realm, self._password)
        if sess:
            ha1 = h(ha1, nonce, cnonce)
        ha2 = h(request.method.encode(), uri.encode())
        fields = [("username", _quoted(self._user)),
                  ("realm", _quoted(ch["realm"])),
                  ("nonce", _quoted(ch["nonce"])), ("uri", _quoted(uri))]
        if qops:
            digest = h(ha1, nonce, nc, cnonce, b"auth", ha2)
            fields += [("qop", "auth"), ("nc", nc.decode()),
                       ("cnonce", _quoted(cnonce.decode()))]
        else:  # RFC 2069's form, for a challenge without qop
            digest = h(ha1, nonce, ha2)
        fields.append(("response", _quoted(digest.decode())))
        if "algorithm" in ch:
            fields.append(("algorithm", alg))
        if "opaque" in ch:
            fields.append(("opaque", _quoted(ch["opaque"])))
        return "Digest " + ", ".join(f"{k}={v}" for k, v in fields)
