/* TLS verification and HTTP/2 multiplexing against nginx; a body
 * delimited by the close against tests/tls_close.py, which can end a
 * connection without close_notify. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "echo_each.h"
#include "harness.h"
#include "salvo.h"

static const char *https(const char *path) {
  return th_fmt("https://127.0.0.1:%d%s", th_ngx.tls_port, path);
}

static salvo_response *fetch_one(const salvo_config *cfg, const char *url) {
  salvo_client *c = th_client(cfg);
  salvo_parallel *b = th_open(c);
  salvo_response *r = salvo_pending_response(b, salvo_get(b, url));
  salvo_parallel_close(b);
  salvo_client_free(c);
  return r;
}

static void test_self_signed_fails_without_its_ca(void **state) {
  (void)state;
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.ca_file = "/nonexistent/ca.pem";
  salvo_response *r = fetch_one(&cfg, https("/"));
  assert_int_equal(salvo_response_error(r), SALVO_ETLS);
  salvo_response_free(r);

  /* The system store does not know our CA either. */
  r = fetch_one(NULL, https("/"));
  assert_int_equal(salvo_response_error(r), SALVO_ETLS);
  assert_true(strlen(salvo_response_errmsg(r)) > 0);
  salvo_response_free(r);
}

static void test_ca_file_verifies(void **state) {
  (void)state;
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.ca_file = th_ca_file(&th_ngx);
  salvo_response *r = fetch_one(&cfg, https("/"));
  assert_int_equal(salvo_response_error(r), SALVO_OK);
  assert_int_equal(salvo_response_status(r), 200);
  assert_string_equal(salvo_response_body(r, NULL), "ok\n");
  /* HTTP/2 by ALPN, on either transport. */
  assert_string_equal(salvo_response_http_version(r), "2");
  salvo_response_free(r);
  /* The certificate names 127.0.0.1 and localhost, not other names. */
  r = fetch_one(&cfg, th_fmt("https://localhost:%d/", th_ngx.tls_port));
  assert_int_equal(salvo_response_status(r), 200);
  salvo_response_free(r);
}

/* RFC 9110 4.3.4: a client MUST verify that the certificate names the
 * host the URL names. A name pinned to the server (which its certificate,
 * for 127.0.0.1 and localhost, does not carry) is refused before any
 * request goes, on every transport, HTTP/2 and HTTP/1.1 alike; skipping
 * verification reaches the same server, so that only the name failed. */
static void test_certificate_must_name_the_host(void **state) {
  (void)state;
  char pin[64];
  snprintf(pin, sizeof(pin), "elsewhere.test:%d:127.0.0.1", th_ngx.tls_port);
  const char *pins[] = {pin, NULL};
  const char *url = th_fmt("https://elsewhere.test:%d/", th_ngx.tls_port);
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.ca_file = th_ca_file(&th_ngx);
  cfg.resolve = pins;
  cfg.max_retries = 0;
  for (int v = 0; v < 2; v++) {
    cfg.http_version = v ? SALVO_HTTP_1_1 : SALVO_HTTP_AUTO;
    cfg.insecure = 0;
    salvo_response *r = fetch_one(&cfg, url);
    print_message("http_version %d: %s\n", cfg.http_version,
                  salvo_response_errmsg(r));
    assert_int_equal(salvo_response_error(r), SALVO_ETLS);
    assert_int_equal(salvo_response_status(r), 0);
    salvo_response_free(r);
    cfg.insecure = 1;
    r = fetch_one(&cfg, url);
    assert_int_equal(salvo_response_error(r), SALVO_OK);
    assert_int_equal(salvo_response_status(r), 200);
    salvo_response_free(r);
  }
}

static void test_insecure_skips_verification(void **state) {
  (void)state;
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.insecure = 1;
  salvo_response *r = fetch_one(&cfg, https("/"));
  assert_int_equal(salvo_response_error(r), SALVO_OK);
  assert_int_equal(salvo_response_status(r), 200);
  salvo_response_free(r);
}

static void test_http1_preference(void **state) {
  (void)state;
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.ca_file = th_ca_file(&th_ngx);
  cfg.http_version = SALVO_HTTP_1_1;
  salvo_response *r = fetch_one(&cfg, https("/"));
  assert_int_equal(salvo_response_status(r), 200);
  assert_string_equal(salvo_response_http_version(r), "1.1");
  salvo_response_free(r);
}

/* 256 requests at concurrency 256 share at most 3 connections (nginx
 * allows 128 streams per connection): libcurl queues streams on one, the
 * native transport opens a second when the first is full. */
static void test_http2_multiplexes(void **state) {
  (void)state;
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.ca_file = th_ca_file(&th_ngx);
  cfg.http_version = SALVO_HTTP_2; /* libcurl's, whatever is forced */
  cfg.concurrency = 256;
  salvo_client *c = th_client(&cfg);
  long before = th_nginx_accepts(&th_ngx);
  salvo_parallel *b = th_open(c);
  for (int i = 0; i < 256; i++)
    salvo_get(b, https(th_fmt("/item/%d", i)));
  int ok = 0;
  salvo_response *r;
  while ((r = salvo_parallel_next(b))) {
    if (salvo_response_status(r) == 200 &&
        !strcmp(salvo_response_http_version(r), "2"))
      ok++;
    else
      print_error("%s: %s\n", salvo_response_url(r), salvo_response_errmsg(r));
    salvo_response_free(r);
  }
  /* The status request itself is one accepted connection. */
  long opened = th_nginx_accepts(&th_ngx) - before - 1;
  print_message("256 HTTP/2 requests over %ld connections\n", opened);
  assert_int_equal(ok, 256);
  assert_true(opened >= 1);
  assert_true(opened <= 3);
  salvo_parallel_close(b);
  salvo_client_free(c);
}

/* HTTPS over HTTP/1.1 keeps its connections: 300 requests at
 * concurrency 8 open at most 8 (nginx counts them). */
static void test_http1_keeps_connections(void **state) {
  (void)state;
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.ca_file = th_ca_file(&th_ngx);
  cfg.http_version = SALVO_HTTP_1_1;
  cfg.concurrency = 8;
  salvo_client *c = th_client(&cfg);
  long before = th_nginx_accepts(&th_ngx);
  salvo_parallel *b = th_open(c);
  for (int i = 0; i < 300; i++)
    salvo_get(b, https(th_fmt("/item/%d", i)));
  int ok = 0;
  salvo_response *r;
  while ((r = salvo_parallel_next(b))) {
    ok += salvo_response_status(r) == 200 &&
          !strcmp(salvo_response_http_version(r), "1.1");
    salvo_response_free(r);
  }
  long opened = th_nginx_accepts(&th_ngx) - before - 1;
  print_message("300 HTTP/1.1 requests over %ld TLS connections\n", opened);
  assert_int_equal(ok, 300);
  assert_true(opened >= 1 && opened <= 8);
  salvo_parallel_close(b);
  salvo_client_free(c);
}

/* An HTTP/2 connection idle longer than idle_timeout is not used again,
 * nor one without streams when max_idle is 0; one within the limit is
 * (nginx counts the connections it accepted). One wait of 1.6 s for an
 * expiry of 1 s (libcurl counts whole seconds) and for none. */
static void test_http2_idle_connections(void **state) {
  (void)state;
  salvo_client *c[3];
  double expiry[3] = {1.0, 0, 0};
  int max_idle[3] = {-1, -1, 0};
  long want[3] = {2, 1, 2};
  for (int i = 0; i < 3; i++) {
    salvo_config cfg;
    salvo_config_init(&cfg);
    cfg.ca_file = th_ca_file(&th_ngx);
    cfg.http_version = SALVO_HTTP_2;
    cfg.idle_timeout = expiry[i];
    cfg.max_idle = max_idle[i];
    c[i] = th_client(&cfg);
  }
  long opened[3] = {0};
  for (int round = 0; round < 2; round++) {
    if (round)
      th_sleep_ms(1600);
    for (int i = 0; i < 3; i++) {
      long before = th_nginx_accepts(&th_ngx);
      salvo_response *r = th_fetch_url(c[i], https("/item/1"));
      assert_int_equal(salvo_response_status(r), 200);
      assert_string_equal(salvo_response_http_version(r), "2");
      salvo_response_free(r);
      opened[i] += th_nginx_accepts(&th_ngx) - before - 1;
    }
  }
  for (int i = 0; i < 3; i++) {
    if (opened[i] != want[i])
      fail_msg("idle_timeout %g, max_idle %d: two requests 1.6 s apart "
               "took %ld connections, not %ld",
               expiry[i], max_idle[i], opened[i], want[i]);
    salvo_client_free(c[i]);
  }
}

/* A new connection to an origin resumes the TLS session of the last one:
 * nginx says so ($ssl_session_reused) and closes after each request. */
static void test_tls_session_resumed(void **state) {
  (void)state;
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.ca_file = th_ca_file(&th_ngx);
  cfg.http_version = SALVO_HTTP_1_1;
  cfg.concurrency = 1;
  salvo_client *c = th_client(&cfg);
  char seen[4] = "";
  for (int i = 0; i < 3; i++) {
    salvo_parallel *b = th_open(c);
    salvo_response *r =
        salvo_pending_response(b, salvo_get(b, https("/session")));
    assert_int_equal(salvo_response_status(r), 200);
    const char *body = salvo_response_body(r, NULL);
    seen[i] = body[0];
    salvo_response_free(r);
    salvo_parallel_close(b);
  }
  print_message("session reused: \"%s\"\n", seen);
  assert_string_equal(seen, ".rr");
  salvo_client_free(c);
}

/* RFC 9112 9.8: a response with neither Content-Length nor chunked
 * coding is complete only if a valid closure alert (close_notify) came; a
 * bare TCP close may be a truncation attack. One with Content-Length or
 * its last chunk is complete however TLS closed. Both transports alike
 * (libcurl 7.88 takes a bare close for the end: the libcurl transport
 * watches for the alert itself). */
static void test_close_without_close_notify(void **state) {
  (void)state;
  char *argv[] = {"/usr/bin/python3", TLS_CLOSE_PY,
                  (char *)th_tls_file(&th_ngx, "server.pem"),
                  (char *)th_tls_file(&th_ngx, "server.key"), NULL};
  th_server srv = {0};
  srv.pid = th_spawn_port(argv, "port %d", &srv.port);
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.ca_file = th_ca_file(&th_ngx);
  cfg.max_retries = 0;
  salvo_client *c = th_client(&cfg);
  const char *paths[] = {"/close?notify=1", "/length?notify=0",
                         "/chunked?notify=0", "/length?notify=1"};
  for (size_t i = 0; i < 4; i++) {
    salvo_response *r =
        th_fetch_url(c, th_fmt("https://127.0.0.1:%d%s", srv.port, paths[i]));
    print_message("%s: %s\n", paths[i], salvo_response_errmsg(r));
    assert_int_equal(salvo_response_error(r), SALVO_OK);
    assert_string_equal(salvo_response_body(r, NULL), "hello");
    salvo_response_free(r);
  }
  salvo_response *r =
      th_fetch_url(c, th_fmt("https://127.0.0.1:%d/close?notify=0", srv.port));
  print_message("/close?notify=0: %s\n", salvo_response_errmsg(r));
  assert_int_equal(salvo_response_error(r), SALVO_EIO);
  assert_non_null(strstr(salvo_response_errmsg(r), "close_notify"));
  salvo_response_free(r);
  salvo_client_free(c);
  th_server_stop(&srv);
}

/* A proxy's answer to CONNECT (RFC 9110 9.3.6), tests/proxyd.py's by the
 * client's User-Agent: what is not a 2xx is the proxy's failure (SALVO_EPROXY),
 * never the origin's answer, and says what the proxy did. A proxy that
 * closes before answering failed for now (SALVO_EIO, which a retry may
 * mend); one that speaks something else, or more than a head holds, will
 * not mend. Through a proxy, salvo goes by libcurl on every transport. */
static void test_proxy_answers(void **state) {
  (void)state;
  char *argv[] = {"/usr/bin/python3", PROXYD_PY, NULL};
  th_server px = {0};
  px.pid = th_spawn_port(argv, "port %d", &px.port);
  static const struct {
    const char *how;
    int err;
    const char *says;
  } cases[] = {
      {"ok", SALVO_OK, NULL},
      {"refuse", SALVO_EPROXY, "answered CONNECT with 407"},
      {"garbage", SALVO_EPROXY, "not an HTTP response"},
      {"huge", SALVO_EPROXY, "too large"},
      {"close", SALVO_EIO, "closed the connection before answering CONNECT"},
      /* RFC 9110 15.2: a client reads past a 1xx to the final answer.
       * libcurl 7.88 takes it for the final one; salvo says so. */
      {"interim", SALVO_EPROXY, "an interim answer"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    salvo_config cfg;
    salvo_config_init(&cfg);
    cfg.proxy = th_fmt("http://127.0.0.1:%d", px.port);
    cfg.user_agent = cases[i].how;
    cfg.ca_file = th_ca_file(&th_ngx);
    cfg.max_retries = 0;
    salvo_client *c = th_client(&cfg);
    salvo_response *r = th_fetch_url(c, https("/"));
    const char *msg = salvo_response_errmsg(r);
    print_message("%s: %s\n", cases[i].how, msg);
    if (strcmp(cases[i].how, "interim") || salvo_response_error(r))
      assert_int_equal(salvo_response_error(r), cases[i].err);
    if (cases[i].says && salvo_response_error(r))
      assert_non_null(strstr(msg, cases[i].says));
    else
      assert_string_equal(salvo_response_body(r, NULL), "ok\n");
    salvo_response_free(r);
    salvo_client_free(c);
  }
  th_server_stop(&px);
}

#define MIXED 120

/* One HTTPS server whose connections ALPN gives different protocols
 * (tests/alpnmix.py: h2 and http/1.1 in turn, as behind a load balancer
 * whose servers differ): every answer is its own request's, and no request
 * goes on an HTTP/1.1 connection still waiting for its answer (faultd
 * counts them; RFC 9112 9.3.2). libcurl 7.88 takes a server for one that
 * multiplexes once any of its connections speaks HTTP/2, and would send
 * requests on its busy HTTP/1.1 connections too. */
static void test_alpn_differs_by_connection(void **state) {
  (void)state;
  th_server up, mix = {0};
  /* Four streams at once on an HTTP/2 connection, so that more open: the
   * native transport keeps to SETTINGS. libcurl sends its first streams
   * before they come, so it is made to open more by refusal (RFC 9113
   * 8.7): a connection's streams after its fourth. Not those beyond four
   * open: a client slow enough (ASan, a busy machine) to have each answer
   * before its next request never had five open, and used one connection. */
  th_faultd_fronted(
      &up, th_transport_is("libcurl") ? "--refuse-after" : "--max-streams",
      "4");
  char fport[16];
  snprintf(fport, sizeof(fport), "%d", up.port);
  char *argv[] = {"/usr/bin/python3",
                  ALPNMIX_PY,
                  (char *)th_tls_file(&th_ngx, "server.pem"),
                  (char *)th_tls_file(&th_ngx, "server.key"),
                  fport,
                  NULL};
  mix.pid = th_spawn_port(argv, "port %d", &mix.port);
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.ca_file = th_ca_file(&th_ngx);
  cfg.http_version = SALVO_HTTP_2; /* ALPN chooses, in every run */
  cfg.concurrency = MIXED;
  cfg.max_retries = 0;
  cfg.timeout = 10; /* an answer taken by another request: not 30 s */
  salvo_client *c = th_client(&cfg);
  int h2 = echo_each(c, th_fmt("https://127.0.0.1:%d", mix.port), MIXED);
  int h1 = MIXED - h2;
  long piped = th_stat(&up, "pipelined");
  print_message("HTTP/2 %d, HTTP/1.1 %d, pipelined %ld\n", h2, h1, piped);
  if (piped)
    fail_msg("%ld of %d requests sent before the answer ahead of them", piped,
             MIXED);
  assert_true(h2 > 0 && h1 > 0); /* both kinds of connection served */
  salvo_client_free(c);
  th_server_stop(&mix);
  th_server_stop(&up);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_self_signed_fails_without_its_ca),
      cmocka_unit_test(test_ca_file_verifies),
      cmocka_unit_test(test_certificate_must_name_the_host),
      cmocka_unit_test(test_insecure_skips_verification),
      cmocka_unit_test(test_http1_preference),
      cmocka_unit_test(test_http2_multiplexes),
      cmocka_unit_test(test_http1_keeps_connections),
      cmocka_unit_test(test_http2_idle_connections),
      cmocka_unit_test(test_tls_session_resumed),
      cmocka_unit_test(test_close_without_close_notify),
      cmocka_unit_test(test_proxy_answers),
      cmocka_unit_test(test_alpn_differs_by_connection),
  };
  return cmocka_run_group_tests(tests, th_nginx_setup, th_nginx_teardown);
}
