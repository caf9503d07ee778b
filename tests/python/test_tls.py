"""TLS as httpx users configure it, against nginx (tests/nginxd.py):
verify= a CA file or a hashed directory, cert= a client certificate in
httpx's three shapes. nginx's answer is the evidence: the subject it
verified, or its 400 for a client without one."""
import asyncio
import os

import pytest

import salvo
from nginxd import KEY_PASSWORD


def test_verify_with_file_or_directory(nginx):
    for verify in (nginx.ca, nginx.file("capath")):
        with salvo.Client(verify=verify, max_retries=0) as c:
            assert c.get(nginx.url("/")).text == "ok\n"
    with salvo.Client(max_retries=0) as c:  # the system store
        with pytest.raises(salvo.ConnectError):
            c.get(nginx.url("/"))


def test_top_level_functions_take_client_options(nginx):
    """httpx.get(url, verify=...) and the rest take a client's options,
    httpx making a client for the call: so does salvo. The default
    client (the system store) refuses nginx's test CA."""
    url = nginx.url("/")
    with pytest.raises(salvo.ConnectError):
        salvo.get(url, max_retries=0)
    assert salvo.get(url, verify=False).text == "ok\n"
    assert salvo.post(url, verify=nginx.ca, trust_env=False).status_code \
        in (200, 405)
    with salvo.stream("GET", url, verify=nginx.ca) as r:
        assert r.read() == b"ok\n"
    r = salvo.get(nginx.url("/", port=nginx.mtls_port), verify=nginx.ca,
                  cert=nginx.file("client-both.pem"))
    assert (r.status_code, r.text) == (200, "CN=salvo client")


@pytest.mark.parametrize("transport", ["native", "libcurl"])
def test_expired_certificate_refused(nginx, transport):
    """A certificate past its validity is refused on both transports
    (RFC 9110 4.3.4: the client MUST verify it), whatever the CA that
    signed it; verify=False reaches the same server."""
    url = nginx.url("/", port=nginx.expired_port)
    with salvo.Client(verify=nginx.ca, max_retries=0,
                      transport=transport) as c:
        with pytest.raises(salvo.ConnectError, match="expired") as e:
            c.get(url)
    assert e.value.code == "ETLS"
    with salvo.Client(verify=False, transport=transport) as c:
        assert c.get(url).text == "ok\n"


@pytest.mark.parametrize("shape", ["file", "pair", "triple"])
def test_client_certificate(nginx, shape):
    cert = {"file": nginx.file("client-both.pem"),
            "pair": (nginx.file("client.pem"), nginx.file("client.key")),
            "triple": (nginx.file("client.pem"), nginx.file("client-enc.key"),
                       KEY_PASSWORD)}[shape]
    with salvo.Client(verify=nginx.ca, cert=cert) as c:
        r = c.get(nginx.url("/", port=nginx.mtls_port))
    assert (r.status_code, r.text) == (200, "CN=salvo client")


def test_without_certificate_the_server_refuses(nginx):
    with salvo.Client(verify=nginx.ca) as c:
        assert c.get(nginx.url("/", port=nginx.mtls_port)).status_code == 400


def test_wrong_password_names_the_key_not_the_password(nginx):
    cert = (nginx.file("client.pem"), nginx.file("client-enc.key"),
            "wrong-password-qzxv")
    with salvo.Client(verify=nginx.ca, cert=cert, max_retries=0) as c:
        with pytest.raises(salvo.ConnectError) as e:
            c.get(nginx.url("/", port=nginx.mtls_port))
    assert "client-enc.key" in str(e.value)
    # Letters, not digits: a port in the message held "4711" by chance.
    assert "qzxv" not in str(e.value)


def test_async_client_certificate(nginx):
    async def main():
        async with salvo.AsyncClient(
                verify=nginx.ca,
                cert=(nginx.file("client.pem"), nginx.file("client.key"))) as c:
            return await c.get(nginx.url("/", port=nginx.mtls_port))
    assert asyncio.run(main()).text == "CN=salvo client"


def test_cert_shape_checked():
    with pytest.raises(TypeError, match="cert must be"):
        salvo.Client(cert=["a", "b"])


def test_http2_by_alpn(nginx):
    """http2=True lets ALPN choose HTTP/2 (salvo's own transport, on
    libnghttp2); the default, as httpx's, is HTTP/1.1."""
    with salvo.Client(verify=nginx.ca, http2=True) as c:
        with c.parallel() as p:
            pend = [p.get(nginx.url(f"/n/{i}")) for i in range(50)]
            rs = [x.get_response() for x in pend]
    assert {(r.status_code, r.http_version) for r in rs} == {(200, "HTTP/2")}
    want = "HTTP/2" if os.environ.get("SALVO_HTTP_VERSION") else "HTTP/1.1"
    with salvo.Client(verify=nginx.ca) as c:  # native-h2 run: its version
        assert c.get(nginx.url("/")).http_version == want
