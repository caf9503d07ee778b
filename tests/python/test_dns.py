"""dns_servers= on the Python clients: names of a zone only tests/dnsd.py
knows, looked up without blocking (c-ares in libsalvo's I/O thread)."""
import asyncio
import os

import pytest

import salvo
from dnsd import Dnsd

LIBCURL = os.environ.get("SALVO_TRANSPORT") == "libcurl"


@pytest.fixture(scope="module")
def dns():
    d = Dnsd()
    yield d
    d.stop()


def test_names_from_given_servers(srv, dns):
    if LIBCURL:  # forced by the environment: libcurl asks the system
        with pytest.raises(ValueError, match="dns_servers"):
            salvo.Client(dns_servers=dns.servers)
        return
    urls = [f"http://py{i}.salvo.test:{srv.port}/json/{i}" for i in range(20)]
    with salvo.Client(dns_servers=dns.servers, max_retries=0) as c:
        with c.parallel() as p:
            pend = [p.get(u) for u in urls]
            bad = p.get(f"http://nx-py.salvo.test:{srv.port}/json/1")
            assert [x.get_response().json()["id"] for x in pend] == list(range(20))
            with pytest.raises(salvo.ConnectError, match="nx-py.salvo.test"):
                bad.get_response()
    assert dns.queries("py7.salvo.test") == 1


def test_async_client(srv, dns):
    if LIBCURL:
        return

    async def main():
        async with salvo.AsyncClient(dns_servers=dns.servers) as c:
            return await c.get(f"http://apy.salvo.test:{srv.port}/json/5")
    assert asyncio.run(main()).json()["id"] == 5
