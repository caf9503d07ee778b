/* HTTP/2 with prior knowledge against tests/h2d.py (python3-h2), a server
 * that behaves well or badly by path and counts connections and requests:
 * streams on one connection and connections filled to the server's
 * limit, heads and bodies both ways, malformed responses and frames as
 * protocol errors (RFC 9113 8.1.1, 5.4.1), trailers, a paused reader's
 * stream held by flow control while its siblings go on (however many
 * are paused), and the client's
 * features. Streams and connections that end otherwise are
 * test_h2_ends.c's. The native transport's: libcurl's HTTP/2 is its own
 * (its answers to these frames are libcurl's), but the malformed
 * responses and the trailers run on both, for salvo reads what libcurl
 * gives of them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "h2d_client.h"

static void test_streams_share_a_connection(void **state) {
  (void)state;
  long before = stat_of("connections", NULL);
  salvo_client *c = h2_client(64);
  salvo_parallel *b = th_open(c);
  for (int i = 0; i < 200; i++)
    salvo_get(b, at("/ok"));
  int ok = 0;
  salvo_response *r;
  while ((r = salvo_parallel_next(b))) {
    ok += salvo_response_status(r) == 200 &&
          !strcmp(salvo_response_http_version(r), "2") &&
          !strcmp(salvo_response_body(r, NULL), "ok");
    salvo_response_free(r);
  }
  salvo_parallel_close(b);
  salvo_client_free(c);
  long opened = stat_of("connections", NULL) - before - 1; /* _stats' */
  print_message("200 requests over %ld connection(s)\n", opened);
  assert_int_equal(ok, 200);
  assert_int_equal(opened, 1);
}

/* n requests at once on c to /echo?i=<i>, every other one a POST: each
 * answer is its own request's, over HTTP/2, and the server saw each
 * request once. Each carries a header whose value ends with whitespace,
 * which goes without it: over HTTP/2 such a value makes the request
 * malformed (RFC 9113 8.2.1), and libcurl 7.88 sent it as given. */
static void each_answered_once(salvo_client *c, int n) {
  long before = stat_of("requests", "/echo");
  salvo_parallel *b = th_open(c);
  salvo_pending p[200];
  assert_true(n <= 200);
  for (int i = 0; i < n; i++) {
    salvo_request req = post_of(th_fmt("/echo?i=%d", i));
    const char *headers[] = {"X-T: t \t", NULL};
    if (i % 2)
      req.method = "GET", req.body = NULL, req.body_len = 0;
    req.headers = headers;
    p[i] = salvo_submit(b, &req);
  }
  for (int i = 0; i < n; i++) {
    salvo_response *r = salvo_pending_response(b, p[i]);
    json_t *j = th_echo_of(r);
    const char *path = th_jstr(j, "path", NULL);
    if (!path || strcmp(path, th_fmt("/echo?i=%d", i)))
      fail_msg("request %d got the answer to %s", i, path ? path : "none");
    assert_string_equal(th_jstr(j, "method", NULL), i % 2 ? "GET" : "POST");
    assert_string_equal(th_jstr(j, "headers", "x-t"), "t");
    assert_string_equal(salvo_response_http_version(r), "2");
    json_decref(j);
    salvo_response_free(r);
  }
  salvo_parallel_close(b);
  assert_int_equal(stat_of("requests", "/echo") - before, n);
}

/* Many at once, on both transports. libcurl before 8.0.0 set HTTP/2 up
 * again on a prior-knowledge connection that a second request joined
 * (curl issue 10634): 195 of 200 failed with "Error in the HTTP2 framing
 * layer". */
static void test_many_at_once_each_answered_once(void **state) {
  (void)state;
  salvo_client *c = h2_client(16);
  each_answered_once(c, 200);
  salvo_client_free(c);
}

/* HTTP/2 over cleartext by upgrade (RFC 7540 3.2): SALVO_HTTP_2 on an
 * http:// URL, which the libcurl transport serves. Every answer is its
 * own and came once; each connection was upgraded once and then reused.
 * A 101 that switches to another protocol than h2c is a protocol error
 * (RFC 9110 7.8: the server MUST NOT switch to one the client did not
 * ask for). Before, every upgraded answer was refused as a 101 nobody
 * asked for. */
static void test_upgrade_to_h2c(void **state) {
  (void)state;
  long upgrades = stat_of("upgrades", NULL);
  salvo_client *c = h2_client_as(SALVO_HTTP_2, 8);
  each_answered_once(c, 100);
  upgrades = stat_of("upgrades", NULL) - upgrades;
  print_message("100 requests over %ld upgraded connections\n", upgrades);
  assert_in_range(upgrades, 1, 8);
  salvo_client_free(c);
  c = h2_client_as(SALVO_HTTP_2, 8); /* a new connection: it asks */
  salvo_response *r = th_fetch_url(c, at("/bad/switch"));
  assert_int_equal(salvo_response_error(r), SALVO_EPROTO);
  assert_non_null(strstr(salvo_response_errmsg(r), "RFC 9110 7.8"));
  salvo_response_free(r);
  salvo_client_free(c);
}

/* An h2d of its own started with argv, and n requests of path to it
 * submitted at once by client c: their block. */
static salvo_parallel *burst(th_server *lim, char *const argv[],
                             salvo_client *c, int n, const char *path) {
  lim->pid = th_spawn_port(argv, "port %d", &lim->port);
  salvo_parallel *b = th_open(c);
  for (int i = 0; i < n; i++)
    salvo_get(b, th_fmt("http://127.0.0.1:%d%s", lim->port, path));
  return b;
}

/* A server that allows 128 streams a connection (its
 * SETTINGS_MAX_CONCURRENT_STREAMS, RFC 9113 5.1.2 and 6.5.2), and 256
 * requests it holds open at once: two connections, each filled to the
 * limit. Until a server's SETTINGS come, nghttp2 allows 100 streams on a
 * connection: a client that opened the next connection then, not waiting
 * for the limit, makes a third for the last few. */
static void test_connections_filled_to_the_limit(void **state) {
  (void)state;
  th_server lim = {0};
  char *argv[] = {"/usr/bin/python3", H2D_PY, "--max-streams", "128", NULL};
  salvo_client *c = h2_client(256);
  long calls = stat_calls;
  salvo_parallel *b = burst(&lim, argv, c, 256, "/hang");
  long held = 0; /* until the server holds them all (10 s at most) */
  for (int i = 0; i < 200; i++) {
    if ((held = stat_on(lim.port, "requests", "/hang")) == 256)
      break;
    th_sleep_ms(50);
  }
  /* Less the stats' own connections, this one's included. */
  long opened = stat_on(lim.port, "connections", NULL) - (stat_calls - calls);
  salvo_parallel_close(b);
  salvo_client_free(c);
  th_server_stop(&lim);
  print_message("%ld of 256 held over %ld connections\n", held, opened);
  assert_int_equal(held, 256);
  assert_int_equal(opened, 2);
}

/* What a server allowing 8 streams a connection saw of n requests of
 * path sent at once with no retries, its SETTINGS arriving 300 ms after a
 * connection opened (as a distant server's arrive a round trip after the
 * client's requests went): the requests answered, and the streams it
 * refused, the connections it took and the most of them at once waiting
 * for their preface. */
typedef struct late_limit {
  int ok;
  long refused, opened, peak;
} late_limit;

static late_limit late_limit_burst(int n, const char *path) {
  th_server lim = {0};
  char *argv[] = {"/usr/bin/python3",
                  H2D_PY,
                  "--max-streams",
                  "8",
                  "--preface-delay",
                  "300",
                  NULL};
  salvo_client *c = h2_client(n);
  long calls = stat_calls;
  salvo_parallel *b = burst(&lim, argv, c, n, path);
  late_limit got = {0};
  salvo_response *r;
  while ((r = salvo_parallel_next(b))) {
    if (salvo_response_status(r) == 200)
      got.ok++;
    else
      print_message("%s\n", salvo_response_errmsg(r));
    salvo_response_free(r);
  }
  salvo_parallel_close(b);
  salvo_client_free(c);
  got.peak = stat_on(lim.port, "peak_prefacing", NULL);
  got.refused = stat_on(lim.port, "refused", NULL);
  got.opened = stat_on(lim.port, "connections", NULL) - (stat_calls - calls);
  th_server_stop(&lim);
  print_message("%d of %d answered, %ld refused, over %ld connections; at "
                "most %ld waited for their prefaces at once\n",
                got.ok, n, got.refused, got.opened, got.peak);
  return got;
}

/* 40 requests at once against a server allowing 8 streams, whose
 * SETTINGS come late: every one answered. The 32 over its limit are
 * refused (RST_STREAM REFUSED_STREAM, RFC 9113 5.1.2 and 8.7: not
 * processed) and go again on new connections, each assuming the origin's
 * 8 until its own SETTINGS come. Assuming nghttp2's 100 instead, the
 * second connection took all 32 and refused 24, the third 16, the fourth
 * 8, and those 8 failed. */
static void test_burst_over_a_low_limit_all_answered(void **state) {
  (void)state;
  late_limit got = late_limit_burst(40, "/slow?ms=1000");
  assert_int_equal(got.refused, 32); /* the first connection's, no more */
  assert_int_equal(got.ok, 40);
}

/* Once a server's SETTINGS have said how many streams a connection
 * carries (8 here), the requests that do not fit open the connections
 * they need at once, each taken to carry 8, where opening one and waiting
 * for its SETTINGS before the next cost a round trip a connection. Of 64
 * requests, the 56 the first connection refused go over 7 more, and those
 * 7 wait for their prefaces together (one at a time before, over 5). */
static void test_further_connections_opened_at_once(void **state) {
  (void)state;
  late_limit got = late_limit_burst(64, "/slow?ms=500");
  assert_int_equal(got.ok, 64);
  assert_int_equal(got.refused, 56);
  assert_int_equal(got.opened, 8);
  assert_true(got.peak >= 4); /* 7 when they open within 300 ms */
}

/* A body goes in DATA frames; the head is HTTP/2's (lower-case names, no
 * connection-specific fields, RFC 9113 8.2). */
static void test_request_head_and_body(void **state) {
  (void)state;
  salvo_client *c = h2_client(4);
  static char body[100000];
  memset(body, 'b', sizeof(body));
  const char *hdrs[] = {"X-Salvo: yes", "Connection: keep-alive", NULL};
  salvo_request req;
  salvo_request_init(&req);
  req.method = "POST";
  req.url = at("/echo");
  req.body = body;
  req.body_len = sizeof(body);
  req.headers = hdrs;
  salvo_response *r = th_fetch(c, &req);
  assert_int_equal(salvo_response_status(r), 200);
  json_t *j = salvo_response_json(r, NULL);
  json_t *h = json_object_get(j, "headers");
  assert_string_equal(json_string_value(json_object_get(j, "method")), "POST");
  assert_int_equal(json_integer_value(json_object_get(j, "body_len")), 100000);
  assert_string_equal(json_string_value(json_object_get(h, "x-salvo")), "yes");
  assert_null(json_object_get(h, "connection"));
  assert_null(json_object_get(h, "host"));
  salvo_response_free(r);
  /* Any number of fields (150 here). */
  static char names[150][16];
  const char *many[151];
  for (int i = 0; i < 150; i++) {
    snprintf(names[i], sizeof(names[i]), "X-N%d: %d", i, i);
    many[i] = names[i];
  }
  many[150] = NULL;
  salvo_request_init(&req);
  req.url = at("/echo");
  req.headers = many;
  r = th_fetch(c, &req);
  h = json_object_get(salvo_response_json(r, NULL), "headers");
  assert_string_equal(json_string_value(json_object_get(h, "x-n149")), "149");
  salvo_response_free(r);
  salvo_client_free(c);
}

/* Heads as large as HTTP/1.1 carries them. A response head of 200 KiB
 * comes in 13 CONTINUATION frames, where nghttp2 ends a connection after 8
 * unless told more (CVE-2024-28182's bound); a request header of 100 KiB
 * is more than nghttp2 sends unless told (test_hostile's request head
 * of 990 KB, in the native-h2 run, is the most salvo sends). */
static void test_big_heads(void **state) {
  (void)state;
  salvo_client *c = h2_client(4);
  salvo_response *r = th_fetch_url(c, at("/bighead?n=4&size=50000"));
  if (salvo_response_error(r))
    fail_msg("200 KiB head: %s", salvo_response_errmsg(r));
  assert_int_equal(salvo_response_status(r), 200);
  assert_int_equal(strlen(salvo_response_header(r, "x-big-3")), 50000);
  salvo_response_free(r);
  static char big[100016];
  strcpy(big, "X-Big: ");
  memset(big + 7, 'v', 100000);
  const char *hdrs[] = {big, NULL};
  salvo_request req;
  salvo_request_init(&req);
  req.url = at("/echo");
  req.headers = hdrs;
  r = th_fetch(c, &req);
  if (salvo_response_error(r))
    fail_msg("100 KiB request header: %s", salvo_response_errmsg(r));
  json_t *h = json_object_get(salvo_response_json(r, NULL), "headers");
  assert_int_equal(json_string_length(json_object_get(h, "x-big")), 100000);
  salvo_response_free(r);
  salvo_client_free(c);
}

/* Malformed responses and frames are protocol errors, never a crash or a
 * quiet 200, and the client goes on: a field name in upper case and a
 * field value starting or ending with whitespace (RFC 9113 8.2.1), a
 * :status not three digits (8.3.2), DATA short of content-length or
 * past it (8.1.1; and with the close or a GOAWAY after it in the same
 * read, which are not its cause: the native transport once said EIO,
 * which a retry repeats), a stream's window taken past 2^31-1 (6.9.1),
 * DATA on stream 0 (6.1; and with the close after it in the same read),
 * 5,000 PINGs in a row, each wanting an ACK (a flood, 10.5: the
 * connection ended by nghttp2's own count). libcurl ends the connection
 * of the last three without saying why ("Empty reply from server", EIO):
 * those are the native transport's (docs/design.md). */
static void test_malformed_is_a_protocol_error(void **state) {
  (void)state;
  const char *paths[] = {"/bad/upper",           "/bad/space?at=lead",
                         "/bad/space?at=trail",  "/bad/status",
                         "/bad/length",          "/bad/length?close=1",
                         "/bad/length?goaway=1", "/bad/length?over=1&close=1",
                         "/bad/window",          "/bad/frame",
                         "/bad/frame?close=1",   "/bad/flood"};
  size_t n = th_transport_is("libcurl") ? 9 : 12;
  salvo_client *c = h2_client(4);
  for (size_t i = 0; i < n; i++) {
    salvo_response *r = th_fetch_url(c, at(paths[i]));
    print_message("%s: %s\n", paths[i], salvo_response_errmsg(r));
    assert_int_equal(salvo_response_error(r), SALVO_EPROTO);
    if (i < 4) /* a malformed head has no status, on either transport */
      assert_int_equal(salvo_response_status(r), 0);
    if (i == 11) /* it says why: the flood nghttp2 counted */
      assert_non_null(strstr(salvo_response_errmsg(r), "Flooding"));
    salvo_response_free(r);
  }
  salvo_response *r = th_fetch_url(c, at("/ok"));
  assert_int_equal(salvo_response_status(r), 200);
  salvo_response_free(r);
  salvo_client_free(c);
}

/* Trailers (RFC 9113 8.1) after a body and after none: read past, the
 * response whole. */
static void test_trailers_read_past(void **state) {
  (void)state;
  salvo_client *c = h2_client(4);
  salvo_response *r = th_fetch_url(c, at("/trailers"));
  print_message("%s\n", salvo_response_errmsg(r));
  assert_int_equal(salvo_response_error(r), SALVO_OK);
  assert_int_equal(salvo_response_status(r), 200);
  assert_string_equal(salvo_response_body(r, NULL), "abc");
  salvo_response_free(r);
  r = th_fetch_url(c, at("/trailers?body=0"));
  print_message("%s\n", salvo_response_errmsg(r));
  assert_int_equal(salvo_response_error(r), SALVO_OK);
  assert_int_equal(salvo_response_status(r), 200);
  assert_string_equal(salvo_response_body(r, NULL), "");
  assert_null(salvo_response_header(r, "x-checksum"));
  salvo_response_free(r);
  salvo_client_free(c);
}

/* Interim heads (RFC 9113 8.1: any number of 1xx before the final head)
 * are read past: the final head's status, fields and version are the
 * response's, none of the interim ones' fields are, and trailers after
 * it are trailers. (The native transport once took the final head for
 * trailers, since nghttp2 gives both one category: status 0, no error.) */
static void test_interim_heads_read_past(void **state) {
  (void)state;
  static const char *paths[] = {"/interim?codes=103", "/interim?codes=100,103",
                                "/interim?codes=103&trailers=1"};
  salvo_client *c = h2_client(4);
  for (size_t i = 0; i < sizeof(paths) / sizeof(*paths); i++) {
    salvo_response *r = th_fetch_url(c, at(paths[i]));
    print_message("%s: %d %s\n", paths[i], salvo_response_status(r),
                  salvo_response_errmsg(r));
    assert_int_equal(salvo_response_error(r), SALVO_OK);
    assert_int_equal(salvo_response_status(r), 200);
    assert_string_equal(salvo_response_http_version(r), "2");
    assert_string_equal(salvo_response_body(r, NULL), "ok");
    assert_non_null(salvo_response_header(r, "x-final"));
    assert_null(salvo_response_header(r, "link"));
    assert_null(salvo_response_header(r, "x-checksum"));
    salvo_response_free(r);
  }
  salvo_client_free(c);
}

/* A head and its body in one write: the whole body, at once. libcurl
 * 7.88 left the last bytes of a cleartext read larger than the transfer's
 * buffer unread until the timeout (16,383 bytes in one frame, or 20,000
 * in two: ETIMEDOUT every time). */
static void test_body_in_one_burst(void **state) {
  (void)state;
  static const char *qs[] = {"n=16383", "n=20000&frame=10000", "n=20000",
                             "n=100000&frame=5000"};
  const size_t n = sizeof(qs) / sizeof(*qs);
  /* Prior knowledge, then by upgrade (each request its own connection's
   * first, so that every one is upgraded: SALVO_HTTP_2 on cleartext), but
   * the last: an upgraded stream starts with the default window, 65,535
   * bytes (RFC 9113 6.9.2), which /burst does not wait on. */
  for (size_t i = 0; i < 2 * n - 1; i++) {
    int upgrade = i >= n;
    salvo_client *c =
        h2_client_as(upgrade ? SALVO_HTTP_2 : SALVO_HTTP_2_PRIOR_KNOWLEDGE, 1);
    const char *q = qs[i % n];
    salvo_request req;
    salvo_request_init(&req);
    req.url = at(th_fmt("/burst?%s", q));
    req.timeout = 5; /* failing, not 30 s each */
    salvo_response *r = th_fetch(c, &req);
    size_t len = 0;
    salvo_response_body(r, &len);
    print_message("%s%s: %zu bytes over %s %s\n", q,
                  upgrade ? " (upgrade)" : "", len,
                  salvo_response_http_version(r), salvo_response_errmsg(r));
    assert_int_equal(salvo_response_error(r), SALVO_OK);
    assert_string_equal(salvo_response_http_version(r), "2");
    assert_int_equal(len, strtol(q + 2, NULL, 10));
    salvo_response_free(r);
    salvo_client_free(c);
  }
}

/* A streamed 32 MiB body nobody reads stops at its windows; requests on
 * the same connection are answered meanwhile; then it is read whole. */
static void test_paused_reader_holds_only_its_stream(void **state) {
  (void)state;
  salvo_client *c = h2_client(8);
  salvo_parallel *b = th_open(c);
  salvo_request req;
  salvo_request_init(&req);
  req.url = at("/bytes/33554432");
  req.stream = 1;
  salvo_pending big = salvo_submit(b, &req);
  salvo_response *rb = salvo_pending_response(b, big);
  assert_int_equal(salvo_response_status(rb), 200);
  for (int i = 0; i < 20; i++) {
    salvo_response *r = salvo_pending_response(b, salvo_get(b, at("/ok")));
    assert_int_equal(salvo_response_status(r), 200);
    salvo_response_free(r);
  }
  static char buf[65536];
  long n, total = 0;
  while ((n = salvo_response_read(rb, buf, sizeof(buf))) > 0)
    total += n;
  assert_int_equal(n, 0);
  assert_int_equal(total, 33554432);
  salvo_response_free(rb);
  salvo_parallel_close(b);
  salvo_client_free(c);
}

/* Streamed bodies nobody reads yet, more than the connection's window
 * holds at the streams' (20 at 4 MiB against 64 MiB): each read in turn,
 * whole. A paused stream's bytes once kept the connection's window too,
 * and with 16 paused the one being read stalled for good (ETIMEDOUT
 * after 4 of its 6 MB). Then the same, dropped unread with their block
 * once h2d has sent what their windows took: the connection they leave
 * goes on answering (kept, their bytes had left it no window). */
static void test_paused_readers_never_starve_the_connection(void **state) {
  (void)state;
  enum { N = 20, SIZE = 6000000 };
  salvo_client *c = h2_client_within(32, 10);
  long conns = stat_of("connections", NULL), calls = stat_calls;
  for (int drop = 0; drop < 2; drop++) {
    long sent = stat_of("data_sent", NULL);
    salvo_parallel *b = th_open(c);
    salvo_pending p[N];
    salvo_request req;
    salvo_request_init(&req);
    req.url = at(th_fmt("/bytes/%d", SIZE));
    req.stream = 1;
    for (int i = 0; i < N; i++)
      p[i] = salvo_submit(b, &req);
    for (int i = 0; i < N && !drop; i++) {
      salvo_response *r = salvo_pending_response(b, p[i]);
      static char buf[1 << 16];
      long n, total = 0;
      while ((n = salvo_response_read(r, buf, sizeof(buf))) > 0)
        total += n;
      if (n || total != SIZE)
        fail_msg("stream %d: %ld of %d bytes, then %s (%s)", i, total, SIZE,
                 salvo_errname((int)n), salvo_response_errmsg(r));
      salvo_response_free(r);
    }
    /* Until more than the connection's window went: each stream's 1 MiB
     * buffer full and the rest kept. */
    if (drop)
      stat_reach("data_sent", NULL, sent + (65 << 20), 10000);
    salvo_parallel_close(b);
  }
  salvo_response *r = th_fetch_url(c, at("/ok"));
  assert_int_equal(salvo_response_error(r), 0);
  assert_int_equal(salvo_response_status(r), 200);
  salvo_response_free(r);
  salvo_client_free(c);
  long asked = stat_calls - calls + 1; /* the stats' own connections */
  assert_int_equal(stat_of("connections", NULL) - conns - asked, 1);
}

/* Redirects, cookies, credentials and decoding go as on HTTP/1.1: the
 * same code reads both protocols' responses. */
static void test_client_features(void **state) {
  (void)state;
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.http_version = SALVO_HTTP_2_PRIOR_KNOWLEDGE;
  cfg.username = "user";
  cfg.password = "pw";
  salvo_client *c = th_client(&cfg);
  salvo_response *r = th_fetch_url(c, at("/redirect?to=/echo"));
  assert_int_equal(salvo_response_status(r), 200);
  assert_non_null(strstr(salvo_response_url(r), "/echo"));
  assert_int_equal(salvo_response_redirects(r), 1);
  assert_string_equal(salvo_response_http_version(salvo_response_hop(r, 0)),
                      "2");
  assert_int_equal(salvo_response_status(salvo_response_hop(r, 0)), 302);
  json_t *h = json_object_get(salvo_response_json(r, NULL), "headers");
  assert_string_equal(json_string_value(json_object_get(h, "authorization")),
                      "Basic dXNlcjpwdw==");
  salvo_response_free(r);
  r = th_fetch_url(c, at("/setcookie"));
  assert_int_equal(salvo_response_status(r), 200);
  salvo_response_free(r);
  r = th_fetch_url(c, at("/echo"));
  h = json_object_get(salvo_response_json(r, NULL), "headers");
  assert_string_equal(json_string_value(json_object_get(h, "cookie")), "s=1");
  assert_non_null(json_object_get(h, "accept-encoding"));
  salvo_response_free(r);
  r = th_fetch_url(c, at("/gzip"));
  size_t len;
  const char *body = salvo_response_body(r, &len);
  assert_int_equal(len, 600);
  assert_memory_equal(body, "salvo salvo ", 12);
  salvo_response_free(r);
  salvo_client_free(c);
}

int main(void) {
  /* libcurl's HTTP/2 is its own, but what salvo reads of the lines it
   * gives is salvo's (a malformed response, and trailers), and which
   * connections it gives libcurl. */
  const struct CMUnitTest shared[] = {
      cmocka_unit_test(test_malformed_is_a_protocol_error),
      cmocka_unit_test(test_trailers_read_past),
      cmocka_unit_test(test_interim_heads_read_past),
      cmocka_unit_test(test_body_in_one_burst),
      cmocka_unit_test(test_many_at_once_each_answered_once),
      cmocka_unit_test(test_upgrade_to_h2c), /* the native transport
                                                never upgrades */
  };
  if (th_transport_is("libcurl"))
    return cmocka_run_group_tests(shared, h2d_setup, h2d_teardown);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_streams_share_a_connection),
      cmocka_unit_test(test_many_at_once_each_answered_once),
      cmocka_unit_test(test_connections_filled_to_the_limit),
      cmocka_unit_test(test_burst_over_a_low_limit_all_answered),
      cmocka_unit_test(test_further_connections_opened_at_once),
      cmocka_unit_test(test_request_head_and_body),
      cmocka_unit_test(test_big_heads),
      cmocka_unit_test(test_malformed_is_a_protocol_error),
      cmocka_unit_test(test_trailers_read_past),
      cmocka_unit_test(test_interim_heads_read_past),
      cmocka_unit_test(test_body_in_one_burst),
      cmocka_unit_test(test_paused_reader_holds_only_its_stream),
      cmocka_unit_test(test_paused_readers_never_starve_the_connection),
      cmocka_unit_test(test_client_features),
  };
  return cmocka_run_group_tests(tests, h2d_setup, h2d_teardown);
}
