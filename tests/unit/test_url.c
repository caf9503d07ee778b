/* The URL check every submitted request goes through (src/url.c), fed
 * strings: whitespace and controls refused wherever they stand, with
 * their offset named (RFC 3986 2: a URI holds neither), UTF-8 text
 * percent-encoded past the host and refused in it, other bytes left to
 * the server; scheme, host and port read. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "buf.h"
#include "url.h"
#include "url_ref.h"

/* Every byte value at every place of a long URL, against the rule byte
 * by byte (the check reads sixteen bytes at a time). */
static void test_control_bytes_anywhere(void **state) {
  (void)state;
  char url[64], want[80];
  const size_t start = strlen("http://h/");
  for (int c = 1; c < 256; c++) {
    int bad = c <= 0x20 || c == 0x7f;
    for (size_t at = start; at < sizeof(url) - 1; at++) {
      memcpy(url, "http://h/", start);
      memset(url + start, 'p', sizeof(url) - 1 - start);
      url[sizeof(url) - 1] = '\0';
      url[at] = (char)c;
      salvo__url u;
      char *msg = NULL;
      int err = salvo__url_parse(url, &u, &msg);
      if (bad != (err != 0)) {
        print_error("byte 0x%02x at %zu: %s\n", c, at, msg ? msg : "taken");
        fail();
      }
      if (bad) {
        snprintf(want, sizeof(want), "at offset %zu", at);
        assert_non_null(msg);
        assert_non_null(strstr(msg, want));
      }
      free(msg);
    }
  }
}

/* A byte from 0x80 anywhere is seen (u.high), in the sixteen-byte steps
 * and after them: in a path or query it is percent-encoded when the
 * request is made (RFC 3986 2.1), and in a host it is refused with a
 * message naming it, on both transports alike. */
static void test_utf8_seen_and_encoded(void **state) {
  (void)state;
  char url[64];
  const size_t start = strlen("http://h/");
  for (size_t at = start; at < sizeof(url) - 1; at++) {
    memset(url, 'p', sizeof(url) - 1);
    memcpy(url, "http://h/", start);
    url[sizeof(url) - 1] = '\0';
    salvo__url u;
    char *msg = NULL;
    assert_int_equal(salvo__url_parse(url, &u, &msg), 0);
    assert_int_equal(u.high, 0);
    url[at] = (char)0xc3;
    assert_int_equal(salvo__url_parse(url, &u, &msg), 0);
    assert_int_equal(u.high, 1);
    assert_int_equal(salvo__url_request_len(url, &u, NULL), u.len + 2);
    char out[80];
    char *end = salvo__url_put_with_params(out, url, &u, NULL);
    assert_int_equal((size_t)(end - out), u.len + 2);
    assert_memory_equal(out + at, "%C3", 3);
    assert_memory_equal(out, url, at);
  }
  salvo__url u;
  char *msg = NULL;
  assert_int_equal(salvo__url_parse("http://b\xc3\xbc"
                                    "cher.example/",
                                    &u, &msg),
                   SALVO_EINVAL);
  assert_non_null(strstr(msg, "host name in UTF-8"));
  free(msg);
}

/* The check's pass also finds the first '#' and any '@', wherever they
 * stand (in the sixteen-byte steps or the bytes after them): what the
 * request takes for its target's end and as the cue to redact. */
static void test_fragment_and_at_sign(void **state) {
  (void)state;
  char url[64];
  const size_t start = strlen("http://h/");
  for (size_t at = start; at < sizeof(url) - 1; at++)
    for (size_t len = at + 1; len < sizeof(url); len++) {
      memset(url, 'p', len);
      memcpy(url, "http://h/", start);
      url[len] = '\0';
      url[at] = '#';
      if (at + 1 < len)
        url[len - 1] = '@';
      if (at + 2 < len)
        url[len - 2] = '#'; /* a second: the first is the one */
      salvo__url u;
      char *msg = NULL;
      assert_int_equal(salvo__url_parse(url, &u, &msg), 0);
      assert_int_equal(u.fragment, at);
      assert_int_equal(u.at_sign, at + 1 < len);
      url[at] = 'p';
      assert_int_equal(salvo__url_parse(url, &u, &msg), 0);
      assert_int_equal(u.fragment, at + 2 < len ? len - 2 : len);
    }
}

static void test_parts(void **state) {
  (void)state;
  salvo__url u;
  char *msg = NULL;
  assert_int_equal(salvo__url_parse("HTTPS://Ex.TEST:8443/a?b#c", &u, &msg), 0);
  assert_int_equal(u.scheme_len, 5);
  assert_int_equal(u.port, 8443);
  assert_int_equal(u.host_len, 7);
  char key[64];
  salvo__url_put_origin(key, &u);
  assert_string_equal(key, "https://ex.test:8443");
  const char *t;
  size_t n;
  salvo__url_target("http://h/a?b#c", &t, &n);
  assert_int_equal(n, 4);
  assert_memory_equal(t, "/a?b", 4);
  assert_int_not_equal(salvo__url_parse("ftp://h/", &u, &msg), 0);
  assert_non_null(strstr(msg, "scheme"));
  free(msg);
  /* RFC 3986 3.1: a scheme starts the URL, a letter then letters, digits,
   * '+', '-' or '.'; a "://" further on is none ("x?next=http" was taken
   * for one). */
  static const struct {
    const char *url, *why;
  } bad[] = {{"x?next=http://y/", "no scheme in \"x?next"},
             {"1http://h/", "no scheme in"},
             {"/a?b=http://h/", "no scheme in"},
             {"h+t.x-1://h/", "unsupported scheme \"h+t.x-1\""},
             {"http:/h/", "one '/' after \"http:\""}};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    assert_int_equal(salvo__url_parse(bad[i].url, &u, &msg), SALVO_EINVAL);
    if (!strstr(msg, bad[i].why))
      fail_msg("%s: \"%s\", not \"%s\"", bad[i].url, msg, bad[i].why);
    free(msg);
  }
  assert_int_not_equal(salvo__url_parse("http://h:70000/", &u, &msg), 0);
  assert_non_null(strstr(msg, "port"));
  free(msg);
}

/* An origin's host is in lower case whatever byte sits where (the eight
 * bytes at a time and the rest alike): ASCII capitals folded, every other
 * byte as it was. */
static void test_origin_lower_case(void **state) {
  (void)state;
  char url[64], key[96];
  for (int c = 1; c < 256; c++) {
    for (size_t at = 0; at < 19; at++) {
      memset(url, 0, sizeof(url));
      memcpy(url, "http://", 7);
      memset(url + 7, 'Q', 19);
      url[7 + at] = (char)c;
      salvo__url u = {.scheme_len = 4,
                      .host = url + 7,
                      .host_len = 19,
                      .port = 80,
                      .port_text = "80",
                      .port_text_len = 2};
      salvo__url_put_origin(key, &u);
      for (size_t i = 0; i < 19; i++) {
        unsigned char in = (unsigned char)url[7 + i];
        unsigned char want = in >= 'A' && in <= 'Z' ? in + 32 : in;
        if ((unsigned char)key[7 + i] != want) {
          print_error("byte 0x%02x at %zu: 0x%02x at %zu\n", c, at,
                      (unsigned char)key[7 + i], i);
          fail();
        }
      }
      assert_string_equal(key + 26, ":80");
    }
  }
}

/* The authority as RFC 3986 3.2 reads it, written plainly: it ends at the
 * first '/', '?' or '#'; the userinfo ends at its last '@'; a port
 * follows the host's first ':' (a host in brackets aside). What the
 * one-pass reading must find. */
static int reference(const char *url, salvo__url *u) {
  const char *c = strstr(url, "://");
  if (!c || c == url)
    return -1;
  size_t sl = (size_t)(c - url);
  if (!((sl == 4 && !strncasecmp(url, "http", 4)) ||
        (sl == 5 && !strncasecmp(url, "https", 5))))
    return -1;
  const char *auth = c + 3, *end = auth + strcspn(auth, "/?#"), *at = NULL;
  for (const char *p = auth; p < end; p++)
    if (*p == '@')
      at = p;
  const char *h = at ? at + 1 : auth, *hend = h;
  if (*h == '[') {
    if (!(hend = memchr(h, ']', (size_t)(end - h))))
      return -1;
    char a[64];
    struct in6_addr in6;
    snprintf(a, sizeof(a), "%.*s", (int)(hend - h - 1), h + 1);
    if (hend - h - 1 >= 46 || strchr(a, '%') ||
        inet_pton(AF_INET6, a, &in6) != 1)
      return -1; /* not an address, or one with a zone */
    hend++;
  } else {
    while (hend < end && *hend != ':')
      if (strchr("!{}[]\\$'\"^`*<>=;,+&()%", *hend++))
        return -1; /* a byte no host name holds (libcurl's list) */
  }
  if (hend == h || (hend < end && *hend != ':'))
    return -1;
  char four[64];
  struct in_addr in4;
  snprintf(four, sizeof(four), "%.*s", (int)(hend - h), h);
  if (*h >= '0' && *h <= '9' && inet_aton(four, &in4) &&
      inet_pton(AF_INET, four, &in4) != 1)
    return -1; /* IPv4 in a form two readers read apart */
  unsigned port = sl == 5 ? 443 : 80;
  if (hend + 1 < end) {
    port = 0;
    for (const char *p = hend + 1; p < end; p++) {
      if (*p < '0' || *p > '9' || port > 65535)
        return -1;
      port = port * 10 + (unsigned)(*p - '0');
    }
    if (port == 0 || port > 65535)
      return -1;
  }
  *u = (salvo__url){.scheme_len = sl,
                    .host = h,
                    .host_len = (size_t)(hend - h),
                    .port = port,
                    .userinfo = at != NULL,
                    .path = (size_t)(end - url)};
  return 0;
}

/* url read by salvo__url_parse and by the reference: accepted or not
 * alike, with the same parts and, when accepted, the origin key (scheme
 * and host in lower case, the port in decimal: a leading 0 dropped, the
 * scheme's when none). Returns whether it was accepted. */
static int same_reading(const char *url) {
  salvo__url a = {0}, b = {0};
  char *msg = NULL;
  int ra = salvo__url_parse(url, &a, &msg) == 0;
  free(msg);
  int rb = reference(url, &b) == 0;
  if (ra != rb || (ra && (a.scheme_len != b.scheme_len || a.host != b.host ||
                          a.host_len != b.host_len || a.port != b.port ||
                          a.userinfo != b.userinfo || a.path != b.path))) {
    print_error("%s: parse %d, reference %d\n", url, ra, rb);
    fail();
  }
  if (!ra)
    return 0;
  char key[96], want[96];
  *salvo__url_put_origin(key, &a) = '\0';
  snprintf(want, sizeof(want), "%s://%.*s:%u",
           a.scheme_len == 5 ? "https" : "http", (int)a.host_len, a.host,
           a.port);
  for (char *w = want; *w; w++)
    *w = (char)(*w >= 'A' && *w <= 'Z' ? *w + 32 : *w);
  assert_string_equal(key, want);
  assert_true(strlen(key) <= salvo__url_origin_len(&a));
  return 1;
}

/* Every URL of up to 5 bytes of an alphabet of what an authority turns on
 * after each of several beginnings, read alike by salvo__url_parse and
 * the reference: accepted or not, and the same parts. */
static void test_authority_reading(void **state) {
  (void)state;
  static const char *starts[] = {"http://", "HTTPS://",  "hTtP://", "https:/",
                                 "x://",    "http://a@", ""};
  static const char alpha[] = "a:@/?#[]10";
  const size_t na = sizeof(alpha) - 1;
  char url[64];
  size_t accepted = 0;
  for (size_t s = 0; s < sizeof(starts) / sizeof(starts[0]); s++) {
    for (size_t len = 0; len <= 5; len++) {
      size_t total = 1;
      for (size_t i = 0; i < len; i++)
        total *= na;
      for (size_t c = 0; c < total; c++) {
        size_t x = c, n = strlen(starts[s]);
        memcpy(url, starts[s], n);
        for (size_t i = 0; i < len; i++, x /= na)
          url[n++] = alpha[x % na];
        url[n] = '\0';
        accepted += same_reading(url);
      }
    }
  }
  assert_true(accepted > 1000);
  /* Authorities of 16 bytes and more, read sixteen at a time: random
   * ones, mostly host bytes, with what it turns on here and there. */
  srand(7);
  accepted = 0;
  for (int round = 0; round < 300000; round++) {
    size_t n = (size_t)sprintf(url, "http%s://", round & 1 ? "s" : "");
    size_t len = 12 + (size_t)rand() % 40;
    for (size_t i = 0; i < len; i++)
      url[n++] = rand() % 6 ? "a1.0b"[rand() % 5] : alpha[(size_t)rand() % na];
    url[n] = '\0';
    accepted += same_reading(url);
  }
  assert_true(accepted > 10000);
}

/* A host name holding a byte libcurl refuses is refused here, on both
 * transports alike (the native one looked "a%20b" up in the DNS), and so
 * is a bracketed host that is not an IPv6 address (or has a zone); a
 * redirect's Location is judged as a request's URL, its authority never
 * percent-encoded into such a name, its path's spaces encoded. */
static void test_host_bytes_and_a_location_authority(void **state) {
  (void)state;
  const char *bad[] = {"http://a%20b/",  "http://x(y)/", "http://a,b/",
                       "http://a+b:80/", "http://{a}/",  "http://a\\b/",
                       "http://a]b/"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
    salvo__url u;
    char *msg = NULL;
    assert_int_equal(salvo__url_parse(bad[i], &u, &msg), SALVO_EINVAL);
    assert_non_null(strstr(msg, "a host name holding"));
    free(msg);
  }
  salvo__url u;
  char *msg = NULL;
  assert_int_equal(salvo__url_parse("http://a_b-c.d~e/", &u, &msg), 0);
  assert_int_equal(salvo__url_parse("http://[::1]:8/", &u, &msg), 0);
  /* IPv4 in the forms inet_aton reads and inet_pton does not: libcurl
   * took 0177 as octal (127), the native resolver as decimal (177). */
  const char *odd4[] = {"http://127.1/",         "http://0x7f.0.0.1/",
                        "http://2130706433:80/", "http://0177.0.0.1/",
                        "http://127.0.0.010/",   "http://123/"};
  for (size_t i = 0; i < sizeof(odd4) / sizeof(*odd4); i++) {
    assert_int_equal(salvo__url_parse(odd4[i], &u, &msg), SALVO_EINVAL);
    assert_non_null(strstr(msg, "read two ways"));
    free(msg);
  }
  const char *fine[] = {"http://127.0.0.1/", "http://10.1.2.3:8/",
                        "http://1password.com/", "http://1.2.3.4.example/"};
  for (size_t i = 0; i < sizeof(fine) / sizeof(*fine); i++)
    assert_int_equal(salvo__url_parse(fine[i], &u, &msg), 0);
  const char *not6[] = {"http://[1]/", "http://[zz]:80/", "http://[]/",
                        "http://[fe80::1%25eth0]/", "http://[::1x]/"};
  for (size_t i = 0; i < sizeof(not6) / sizeof(*not6); i++) {
    assert_int_equal(salvo__url_parse(not6[i], &u, &msg), SALVO_EINVAL);
    assert_non_null(strstr(msg, "is not an IPv6 address"));
    free(msg);
  }
  const char *refused[][2] = {{"http://a b/", "whitespace"},
                              {"http://b\xc3\xbc"
                               "cher.de/",
                               "UTF-8"},
                              {"http://a%20b/", "holding '%'"}};
  for (size_t i = 0; i < 3; i++) {
    char *to = salvo__url_resolve("http://h/p", refused[i][0],
                                  strlen(refused[i][0]), &msg);
    assert_null(to);
    assert_non_null(strstr(msg, refused[i][1]));
    free(msg);
  }
  char *to = salvo__url_resolve("http://h/p", "/a b?c d", 8, &msg);
  assert_string_equal(to, "http://h/a%20b?c%20d");
  free(to);
}

/* A Location with a scheme salvo does not fetch, or with no authority,
 * is refused in the words a request's URL is, quoted as the server sent
 * it ("mailto:a@b" had read as "mailto://a@b", with no host); and text
 * before a colon that is no RFC 3986 3.1 scheme starts a relative path,
 * as browsers read it. */
static void test_location_scheme(void **state) {
  (void)state;
  const char *refused[][2] = {
      {"mailto:a@b", "(unsupported scheme \"mailto\": only http and https "
                     "are): \"mailto:a@b\""},
      {"javascript:alert(1)", "(unsupported scheme \"javascript\""},
      {"FTP://127.0.0.1/x", "(unsupported scheme \"FTP\""},
      {"http:x", "(no host): \"http:x\""},
      {"https:/x", "(no host): \"https:/x\""},
  };
  char *msg = NULL;
  for (size_t i = 0; i < sizeof(refused) / sizeof(*refused); i++) {
    char *to = salvo__url_resolve("http://h/d/p", refused[i][0],
                                  strlen(refused[i][0]), &msg);
    assert_null(to);
    if (!strstr(msg, refused[i][1]))
      fail_msg("%s: %s", refused[i][0], msg);
    free(msg);
  }
  const char *paths[][2] = {
      {"127.0.0.1:8080/x", "http://h/d/127.0.0.1:8080/x"},
      {"a b:c", "http://h/d/a%20b:c"},
      {"1a:b", "http://h/d/1a:b"},
      {"HTTPS://h2/x", "https://h2/x"},
  };
  for (size_t i = 0; i < sizeof(paths) / sizeof(*paths); i++) {
    char *to = salvo__url_resolve("http://h/d/p", paths[i][0],
                                  strlen(paths[i][0]), &msg);
    assert_non_null(to);
    assert_string_equal(to, paths[i][1]);
    free(to);
  }
}

/* The tables' hash (salvo__hash_n) spreads origins that differ in a
 * port or a byte of the host over a table's buckets as a hash should:
 * 4096 origins in 1024 buckets, none holding more than a dozen (a fair
 * spread has 4 a bucket, and 12 or more in about none). */
static void test_origin_hash_spread(void **state) {
  (void)state;
  for (int form = 0; form < 2; form++) {
    int count[1024] = {0}, most = 0;
    for (int i = 0; i < 4096; i++) {
      char key[64];
      int n = form ? snprintf(key, sizeof(key), "http://127.0.0.1:%d", i + 1)
                   : snprintf(key, sizeof(key), "https://h%d.test:443", i);
      uint32_t h = salvo__hash_n(key, (size_t)n);
      if (++count[h & 1023] > most)
        most = count[h & 1023];
    }
    if (most > 12) {
      print_error("form %d: %d origins in one bucket\n", form, most);
      fail();
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_control_bytes_anywhere),
      cmocka_unit_test(test_parts),
      cmocka_unit_test(test_fragment_and_at_sign),
      cmocka_unit_test(test_utf8_seen_and_encoded),
      cmocka_unit_test(test_authority_reading),
      cmocka_unit_test(test_host_bytes_and_a_location_authority),
      cmocka_unit_test(test_location_scheme),
      cmocka_unit_test(test_origin_lower_case),
      cmocka_unit_test(test_origin_hash_spread),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
