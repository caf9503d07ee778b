/* HTTP/2 streams and connections that end otherwise than with their
 * answer, against tests/h2d.py, counted at the server: RST_STREAM as one
 * request's error, REFUSED_STREAM and GOAWAY (RFC 9113 6.8, 8.7) sent
 * again on a new connection, a connection broken by one stream's frame
 * (5.4.1) sparing the others, an answered stream never sent again, a
 * cancelled or timed-out stream reset alone, a PING before a request
 * that must not go twice on an idle connection (6.7), and an answer that
 * came whole before the request's body went (8.1). The native
 * transport's: libcurl's HTTP/2 answers these frames its own way
 * (docs/design.md), and the native-h2 run is this one again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "h2d_client.h"

/* RST_STREAM fails that request alone; its siblings are answered. */
static void test_reset_is_one_requests_error(void **state) {
  (void)state;
  salvo_client *c = h2_client(8);
  salvo_parallel *b = th_open(c);
  salvo_pending bad = salvo_get(b, at("/rst"));
  salvo_pending good[4];
  for (int i = 0; i < 4; i++)
    good[i] = salvo_get(b, at("/ok"));
  salvo_response *r = salvo_pending_response(b, bad);
  assert_int_equal(salvo_response_error(r), SALVO_EIO);
  print_message("%s\n", salvo_response_errmsg(r));
  salvo_response_free(r);
  for (int i = 0; i < 4; i++) {
    r = salvo_pending_response(b, good[i]);
    assert_int_equal(salvo_response_status(r), 200);
    salvo_response_free(r);
  }
  salvo_parallel_close(b);
  salvo_client_free(c);
}

/* A refused stream was not processed (RFC 9113 8.7): even a POST is sent
 * again, and the server sees it twice. */
static void test_refused_stream_sent_again(void **state) {
  (void)state;
  salvo_client *c = h2_client(4);
  salvo_request req = post_of("/refuse?key=post1");
  salvo_response *r = th_fetch(c, &req);
  print_message("%s\n", salvo_response_errmsg(r));
  assert_int_equal(salvo_response_status(r), 200);
  assert_string_equal(salvo_response_body(r, NULL), "second");
  salvo_response_free(r);
  salvo_client_free(c);
  assert_int_equal(stat_of("keys", "post1"), 2);
}

/* GOAWAY below a stream (RFC 9113 6.8): that stream goes again on a new
 * connection. */
static void test_goaway_retries_above_last_stream(void **state) {
  (void)state;
  long before = stat_of("connections", NULL);
  salvo_client *c = h2_client(4);
  salvo_response *r = th_fetch_url(c, at("/goaway?key=g1"));
  print_message("%s\n", salvo_response_errmsg(r));
  assert_int_equal(salvo_response_status(r), 200);
  assert_string_equal(salvo_response_body(r, NULL), "after goaway");
  salvo_response_free(r);
  salvo_client_free(c);
  long opened = stat_of("connections", NULL) - before - 1;
  print_message("%ld connections\n", opened);
  assert_int_equal(stat_of("keys", "g1"), 2);
  assert_int_equal(opened, 2);
}

/* A frame that breaks the connection (a header block HPACK cannot decode,
 * RFC 9113 4.3 and 5.4.1) answers the request whose stream it came on,
 * and none of those beside it: each GET whose answer had not begun goes
 * once more, on a new connection, and is answered there; the POST, sent,
 * is not sent twice (its error says so); the request the frame came with
 * fails with a protocol error, sent once. Counted by the server, key by
 * key. */
static void test_protocol_error_spares_its_siblings(void **state) {
  (void)state;
  salvo_client *c = h2_client(8);
  salvo_parallel *b = th_open(c);
  long slow = stat_of("requests", "/slow");
  salvo_pending get[3];
  for (int i = 0; i < 3; i++)
    get[i] = salvo_get(b, at(th_fmt("/slow?ms=30000&again_ms=0&key=sib%d", i)));
  salvo_request req = post_of("/slow?ms=30000&key=sibpost");
  salvo_pending post = salvo_submit(b, &req);
  /* All four on the server's connection, unanswered there (30 s) before
   * the bad frame comes, answered at once when sent again. */
  stat_reach("requests", "/slow", slow + 4, 5000);
  salvo_pending bad = salvo_get(b, at("/bad/hpack?key=sibbad"));
  salvo_response *r = salvo_pending_response(b, bad);
  print_message("bad: %s\n", salvo_response_errmsg(r));
  assert_int_equal(salvo_response_error(r), SALVO_EPROTO);
  salvo_response_free(r);
  for (int i = 0; i < 3; i++) {
    r = salvo_pending_response(b, get[i]);
    print_message("get %d: %s\n", i, salvo_response_errmsg(r));
    assert_int_equal(salvo_response_status(r), 200);
    assert_string_equal(salvo_response_body(r, NULL), "slow");
    salvo_response_free(r);
  }
  r = salvo_pending_response(b, post);
  print_message("post: %s\n", salvo_response_errmsg(r));
  assert_int_equal(salvo_response_error(r), SALVO_EPROTO);
  assert_non_null(strstr(salvo_response_errmsg(r), "not sent again"));
  salvo_response_free(r);
  salvo_parallel_close(b);
  salvo_client_free(c);
  for (int i = 0; i < 3; i++)
    assert_int_equal(stat_of("keys", th_fmt("sib%d", i)), 2);
  assert_int_equal(stat_of("keys", "sibpost"), 1);
  assert_int_equal(stat_of("keys", "sibbad"), 1);
}

/* A response whose head came is an answer, though its body never does:
 * the connection's end fails it (EIO, as on HTTP/1.1), and a GET is not
 * sent again as if unanswered. */
static void test_answered_stream_not_sent_again(void **state) {
  (void)state;
  salvo_client *c = h2_client(4);
  salvo_response *r = th_fetch_url(c, at("/headclose?key=hc1"));
  print_message("%s\n", salvo_response_errmsg(r));
  assert_int_equal(salvo_response_error(r), SALVO_EIO);
  salvo_response_free(r);
  salvo_client_free(c);
  assert_int_equal(stat_of("keys", "hc1"), 1);
}

/* Cancelling one request, or its timeout, resets its stream (RST_STREAM,
 * which the server counts) and leaves the connection to the others: one
 * connection in all. */
static void test_cancel_and_timeout_reset_one_stream(void **state) {
  (void)state;
  long resets = stat_of("resets", NULL);
  long conns = stat_of("connections", NULL);
  long calls = stat_calls;
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.http_version = SALVO_HTTP_2_PRIOR_KNOWLEDGE;
  cfg.max_retries = 0;
  cfg.timeout = 0.3;
  salvo_client *c = th_client(&cfg);
  salvo_parallel *b = th_open(c);
  salvo_response *r = salvo_pending_response(b, salvo_get(b, at("/ok")));
  assert_int_equal(salvo_response_status(r), 200);
  salvo_response_free(r);
  salvo_request req;
  salvo_request_init(&req);
  req.url = at("/hang");
  req.timeout = 60; /* this one is cancelled, not timed out */
  long hangs = stat_of("requests", "/hang");
  salvo_pending hung = salvo_submit(b, &req);
  /* Cancelled once the server has it (a request cancelled before its
   * HEADERS went is dropped by nghttp2 with nothing sent). */
  stat_reach("requests", "/hang", hangs + 1, 5000);
  assert_int_equal(salvo_pending_cancel(b, hung), SALVO_OK);
  salvo_pending late = salvo_get(b, at("/hang")); /* times out at 0.3 s */
  r = salvo_pending_response(b, late);
  assert_int_equal(salvo_response_error(r), SALVO_ETIMEDOUT);
  salvo_response_free(r);
  r = salvo_pending_response(b, salvo_get(b, at("/ok")));
  assert_int_equal(salvo_response_status(r), 200);
  salvo_response_free(r);
  salvo_parallel_close(b);
  salvo_client_free(c);
  long asked = stat_calls - calls + 1; /* the stats' own connections */
  long opened = stat_of("connections", NULL) - conns - asked;
  /* h2d counts a reset on its connection's thread: wait for it a while. */
  long reset = stat_reach("resets", NULL, resets + 2, 2000) - resets;
  print_message("%ld connection(s), %ld stream(s) reset\n", opened, reset);
  assert_int_equal(opened, 1);
  assert_int_equal(reset, 2);
}

/* A request that must not be sent twice, on a connection idle over a
 * second, goes after a PING's answer (RFC 9113 6.7); one on a busy or
 * fresh connection, or an idempotent one, goes at once. */
static void test_ping_before_unsafe_on_idle(void **state) {
  (void)state;
  salvo_client *c = h2_client(4);
  long pings = stat_of("pings", NULL);
  salvo_request post = post_of("/echo");
  salvo_response *r = th_fetch(c, &post); /* a new connection */
  assert_int_equal(salvo_response_status(r), 200);
  salvo_response_free(r);
  r = th_fetch(c, &post); /* idle for less than a second */
  assert_int_equal(salvo_response_status(r), 200);
  salvo_response_free(r);
  assert_int_equal(stat_of("pings", NULL), pings);
  th_sleep_ms(1200);
  r = th_fetch_url(c, at("/ok")); /* idempotent: no PING */
  assert_int_equal(salvo_response_status(r), 200);
  salvo_response_free(r);
  assert_int_equal(stat_of("pings", NULL), pings);
  th_sleep_ms(1200);
  r = th_fetch(c, &post);
  assert_int_equal(salvo_response_status(r), 200);
  salvo_response_free(r);
  salvo_client_free(c);
  assert_int_equal(stat_reach("pings", NULL, pings + 1, 2000) - pings, 1);
}

/* RFC 9113 8.1: a server may answer whole before the request's body
 * came, and then ask with RST_STREAM NO_ERROR that the client stop
 * sending; clients MUST NOT discard that answer. Without the reset the
 * answer is as whole: the rest of the body is not needed, and waiting to
 * send it through a window the server never opens again ended in the
 * timeout (ETIMEDOUT after 10 s) where libcurl answered at once. Either
 * way the upload stops: h2d got less than the body, and without its own
 * reset, one from the client. */
static void test_early_answer_ends_the_upload(void **state) {
  (void)state;
  static char body[1 << 20];
  memset(body, 'b', sizeof(body));
  const char *paths[] = {"/early", "/early?rst=1"};
  for (int i = 0; i < 2; i++) {
    salvo_client *c = h2_client_within(1, 10);
    long resets = stat_of("resets", NULL), got = stat_of("early_bytes", NULL);
    salvo_request req = post_of(paths[i]);
    req.body = body;
    req.body_len = sizeof(body);
    salvo_response *r = th_fetch(c, &req);
    print_message("%s: status %d, %s (%s), after %.3f s\n", paths[i],
                  salvo_response_status(r),
                  salvo_errname(salvo_response_error(r)),
                  salvo_response_errmsg(r), salvo_response_elapsed(r));
    assert_int_equal(salvo_response_error(r), 0);
    assert_int_equal(salvo_response_status(r), 413);
    assert_string_equal(salvo_response_body(r, NULL), "refused early");
    assert_int_equal(salvo_response_attempts(r), 1);
    salvo_response_free(r);
    salvo_client_free(c);
    long sent = stat_of("early_bytes", NULL) - got;
    long reset = stat_reach("resets", NULL, resets + !i, 2000) - resets;
    print_message("%s: %ld of %zu body bytes reached h2d, %ld reset(s)\n",
                  paths[i], sent, sizeof(body), reset);
    assert_true(sent < (long)sizeof(body));
    assert_int_equal(reset, !i);
  }
}

/* GOAWAYs (NO_ERROR) h2d received on connections that carried key,
 * waited for up to 2 s to reach want: the client writes its GOAWAY and
 * closes at once, and h2d reads it on a thread of its own. */
static long goaways_reach(const char *key, long want) {
  return stat_reach("goaways", key, want, 2000);
}

/* RFC 9113 6.8: an endpoint SHOULD send a GOAWAY before it closes a
 * connection. The client closes an idle one when it expired
 * (idle_timeout) and when the client is freed: each gets one, with
 * NO_ERROR, and one still in use gets none. */
static void test_goaway_before_closing_idle(void **state) {
  (void)state;
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.http_version = SALVO_HTTP_2_PRIOR_KNOWLEDGE;
  cfg.max_retries = 0;
  cfg.idle_timeout = 1;
  salvo_client *c = th_client(&cfg);
  salvo_response *r = th_fetch_url(c, at("/ok?key=idle1"));
  assert_int_equal(salvo_response_status(r), 200);
  salvo_response_free(r);
  th_sleep_ms(1600);
  r = th_fetch_url(c, at("/ok?key=idle2")); /* idle1's has expired */
  assert_int_equal(salvo_response_status(r), 200);
  salvo_response_free(r);
  long n = goaways_reach("idle1", 1);
  if (n != 1)
    fail_msg("the expired connection got %ld GOAWAYs, not 1", n);
  assert_int_equal(stat_of("goaways", "idle2"), 0);
  salvo_client_free(c);
  if ((n = goaways_reach("idle2", 1)) != 1)
    fail_msg("the connection open at salvo_client_free got %ld GOAWAYs, "
             "not 1",
             n);
  assert_int_equal(stat_of("goaways", "idle1"), 1);
}

int main(void) {
  if (th_transport_is("libcurl") || getenv("SALVO_HTTP_VERSION")) {
    printf("skipped: the native transport's HTTP/2, run once as native\n");
    return 0;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reset_is_one_requests_error),
      cmocka_unit_test(test_refused_stream_sent_again),
      cmocka_unit_test(test_goaway_retries_above_last_stream),
      cmocka_unit_test(test_protocol_error_spares_its_siblings),
      cmocka_unit_test(test_answered_stream_not_sent_again),
      cmocka_unit_test(test_cancel_and_timeout_reset_one_stream),
      cmocka_unit_test(test_ping_before_unsafe_on_idle),
      cmocka_unit_test(test_goaway_before_closing_idle),
      cmocka_unit_test(test_early_answer_ends_the_upload),
  };
  return cmocka_run_group_tests(tests, h2d_setup, h2d_teardown);
}
