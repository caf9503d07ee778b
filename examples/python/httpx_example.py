"""An ordinary httpx program: requests with params, headers and JSON
bodies, auth (basic, a custom scheme, digest), connection limits,
cookies across requests, streaming lines, redirects, status checks,
timeouts, forms and files, hooks, build_request and send, and
asyncio.gather. Written for httpx; the import is the
one line changed (tests/python/test_httpx.py runs it against faultd).

    python3 httpx_example.py http://127.0.0.1:PORT
"""
import asyncio
import os
import sys

import salvo as httpx  # was: import httpx

BASE = sys.argv[1]


class TokenAuth(httpx.Auth):
    """A custom scheme, as httpx's documentation writes one."""

    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request):
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


def main() -> None:
    with httpx.Client(base_url=BASE, headers={"User-Agent": "example/1.0"},
                      auth=("alice", "s3cret"), timeout=10.0) as client:
        # Query parameters and headers.
        r = client.get("/echo", params={"q": "salvo", "page": 2},
                       headers={"X-Trace": "t1"})
        r.raise_for_status()
        echo = r.json()
        print("query", echo["query"])
        print("trace", echo["headers"]["x-trace"])
        print("agent", echo["headers"]["user-agent"])
        print("auth", echo["headers"]["authorization"].split()[0])

        # A JSON body.
        r = client.post("/echo", json={"name": "widget", "qty": 3})
        print("posted", r.json()["body"], r.json()["headers"]["content-type"])

        # Cookies across requests: the server sets one, the next sends it.
        client.get("/cookies/set", params={"session": "abc123"})
        print("cookie", client.get("/echo").json()["headers"]["cookie"])
        print("jar", dict(client.cookies))
        del client.cookies["session"]
        print("deleted", "cookie" in client.get("/echo").json()["headers"])

        # Streaming lines.
        with client.stream("GET", "/json/7") as r:
            for line in r.iter_lines():
                print("line", line)

        # Redirects, followed when asked, and status checks.
        r = client.get("/redirect/2", follow_redirects=True)
        print("redirected", r.status_code, r.url.path)
        r = client.get("/status/404")
        print("status", r.status_code, r.reason_phrase, r.is_error)
        try:
            r.raise_for_status()
        except httpx.HTTPStatusError as e:
            print("error", e.response.status_code)

        # Timeouts.
        try:
            client.get("/delay/2000", timeout=0.2)
        except httpx.TimeoutException:
            print("timeout caught")

    # A custom auth scheme, and Digest: the server's 401 answered.
    limits = httpx.Limits(max_keepalive_connections=5, max_connections=10)
    with httpx.Client(base_url=BASE, limits=limits) as client:
        r = client.get("/echo", auth=TokenAuth("t0k"))
        print("token", r.json()["headers"]["authorization"])
        r = client.get("/digest?user=bob&pass=pw",
                       auth=httpx.DigestAuth("bob", "pw"))
        print("digest", r.status_code, [h.status_code for h in r.history])


def uploads() -> None:
    # Form fields, a file, a file's bytes as the body; then hooks set on
    # a client, and a request built, then sent.
    r = httpx.post(f"{BASE}/echo", data={"on": True, "off": None},
                   verify=False)
    print("form", r.json()["body"])
    r = httpx.post(f"{BASE}/echo", files={"doc": ("notes.txt", b"hello")})
    body = r.json()["body"]
    print("file", 'filename="notes.txt"' in body,
          "Content-Type: text/plain" in body)
    with open(__file__, "rb") as f:
        r = httpx.put(f"{BASE}/echo", content=f)
    print("content", r.json()["body_len"] == os.path.getsize(__file__))
    with httpx.Client() as client:
        seen = []
        client.event_hooks = {"request": [lambda q: seen.append(q.method)],
                              "response": []}
        req = client.build_request("DELETE", f"{BASE}/echo")
        r = client.send(req)
        print("sent", r.request is req, seen, r.json()["method"])


async def gather() -> None:
    async with httpx.AsyncClient(base_url=BASE) as client:
        rs = await asyncio.gather(*(client.get(f"/json/{i}")
                                    for i in range(5)))
        print("gathered", [r.json()["id"] for r in rs])


main()
uploads()
asyncio.run(gather())
