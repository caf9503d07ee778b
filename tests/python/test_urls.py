"""salvo.URL as httpx's: normalized as RFC 3986 6.2 says (httpx 0.23.3
gave each expected value here, run side by side), a password never
shown, a port that is none refused; and Headers' repr, which shows no
credentials."""
import pytest

import salvo


def test_scheme_host_and_default_port_normalized():
    """The scheme and host in lower case, the scheme's own port not
    written (RFC 3986 6.2.2.1, 6.2.3): str() kept 'HTTP://EXAMPLE.com',
    ':80' and ':443', so that equal URLs compared unequal."""
    u = salvo.URL("HTTP://EXAMPLE.com:80/A?q#f")
    assert (str(u), u.scheme, u.host, u.port) == (
        "http://example.com/A?q#f", "http", "example.com", None)
    assert u == salvo.URL("http://example.com/A?q#f")
    assert str(salvo.URL("https://h:443/")) == "https://h/"
    assert str(salvo.URL("http://h:443/")) == "http://h:443/"
    assert str(salvo.URL("http://U:P@[::1]:80/")) == "http://U:P@[::1]/"
    assert str(salvo.URL("http://h:8080/a%2F")) == "http://h:8080/a%2F"


def test_join_empty_drops_the_fragment():
    """An empty reference is the base without its fragment (RFC 3986
    5.2.2, 5.4.1); join kept the fragment."""
    base = salvo.URL("http://h/a/b?x=1#f")
    assert str(base.join("")) == "http://h/a/b?x=1"
    assert str(base.join("#g")) == "http://h/a/b?x=1#g"


def test_a_port_that_is_none_refused():
    for bad in ("http://h:99999/", "http://h:ab/"):
        with pytest.raises(salvo.InvalidURL, match="invalid port"):
            salvo.URL(bad)


def test_a_relative_url_with_a_url_in_its_query(srv):
    """A "://" in a relative URL's query (a redirect target, a callback)
    leaves it relative to base_url, as httpx has it: salvo took it for an
    absolute URL and refused its "scheme" ("x?next=http")."""
    with salvo.Client(base_url=srv.url("/echo/")) as c:
        e = c.get("x?next=http://y/").json()
    assert (e["path"], e["query"]) == ("/echo/x", "next=http://y/")
    with pytest.raises(salvo.InvalidURL, match="no scheme in"):
        salvo.get("x?next=http://y/")


def test_password_never_shown():
    u = salvo.URL("http://me:s3cret@h/")
    assert repr(u) == "URL('http://me:[secure]@h/')"
    assert "s3cret" not in repr(salvo.Request("GET", u))
    assert u.netloc == b"h" and u.password == "s3cret"


def test_headers_repr_hides_credentials():
    """As httpx's repr: Authorization and Proxy-Authorization as
    [secure] (salvo's showed the token), names in lower case, a dict when
    no name repeats."""
    h = salvo.Headers({"Authorization": "Bearer tok", "X": "1"})
    assert repr(h) == "Headers({'authorization': '[secure]', 'x': '1'})"
    h = salvo.Headers([("a", "1"), ("a", "2"),
                       ("Proxy-Authorization", "Basic eDp5")])
    assert repr(h) == ("Headers([('a', '1'), ('a', '2'), "
                       "('proxy-authorization', '[secure]')])")
    r = salvo.Request("GET", "http://h/", headers={"Authorization": "t0k"})
    assert "t0k" not in repr(r.headers)
