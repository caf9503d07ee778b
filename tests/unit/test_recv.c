/* A response's lines fed to receive.c (no transport, no socket), to show
 * that its per-request state comes from and goes back to the I/O
 * thread's cache: a request that received a head gives its state back
 * when freed, the next request takes that same state (zeroed), a full
 * cache frees instead, and draining frees what is kept (LeakSanitizer
 * checks). The lines are judged as before: a malformed one is still
 * EPROTO with its reason. And a submission's request and response,
 * made in one allocation, let go in either order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "receive.h"
#include "response.h"

static salvo__cfg cfg;

static int setup(void **state) {
  (void)state;
  salvo_config in;
  salvo_config_init(&in);
  char *msg = NULL;
  assert_int_equal(salvo__cfg_resolve(&cfg, &in, &msg), 0);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  salvo__cfg_free(&cfg);
  return 0;
}

static salvo__req *req(salvo__recv_cache *c) {
  salvo_request in;
  salvo_request_init(&in);
  in.url = "http://127.0.0.1:1/x";
  int err = 0;
  char *msg = NULL;
  salvo__req *r = salvo__req_new(&in, &cfg, NULL, &err, &msg);
  assert_non_null(r);
  salvo__req_set_response(r, salvo__resp_new(1, NULL, NULL, in.url));
  r->recv_cache = c;
  return r;
}

static int feed(salvo__req *r, const char *const *lines) {
  for (; *lines; lines++) {
    int rc = salvo__req_on_header(r, *lines, strlen(*lines));
    if (rc < 0)
      return rc;
  }
  return 0;
}

static const char *const ok_head[] = {"HTTP/1.1 200 OK", "Content-Length: 0",
                                      "", NULL};

static void test_state_goes_back_and_is_taken_again(void **state) {
  (void)state;
  salvo__recv_cache c = {0};
  salvo__req *a = req(&c);
  assert_int_equal(feed(a, ok_head), 0);
  salvo__recv *used = a->recv;
  assert_non_null(used);
  salvo__req_free(a);
  assert_int_equal(c.n, 1);
  assert_ptr_equal(c.free, used);
  /* The next request takes it, as new: its head starts from nothing. */
  salvo__req *b = req(&c);
  const char *const bad[] = {"HTTP/1.1 200 OK", "Bad Name: x", NULL};
  assert_int_equal(feed(b, bad), SALVO_EPROTO);
  assert_ptr_equal(b->recv, used);
  assert_int_equal(c.n, 0);
  char *why = salvo__req_fail_message(b);
  assert_non_null(strstr(why, "whitespace between a header name"));
  free(why);
  salvo__req_free(b);
  assert_int_equal(c.n, 1);
  salvo__recv_cache_drain(&c);
  assert_int_equal(c.n, 0);
  assert_null(c.free);
}

static void test_full_cache_frees(void **state) {
  (void)state;
  salvo__recv_cache c = {0};
  enum { N = SALVO__RECV_CACHE_MAX + 3 };
  salvo__req **rs = calloc(N, sizeof(*rs));
  for (int i = 0; i < N; i++) {
    rs[i] = req(&c);
    assert_int_equal(feed(rs[i], ok_head), 0);
  }
  for (int i = 0; i < N; i++)
    salvo__req_free(rs[i]);
  assert_int_equal(c.n, SALVO__RECV_CACHE_MAX);
  salvo__recv_cache_drain(&c);
  free(rs);
}

/* A submission's request and response share one allocation: the
 * response is ready (key, user data, the URL without its password), and
 * the block is freed once both are let go, in either order, or at once
 * when the request goes with its response still attached (a cancelled
 * request). ASan and LeakSanitizer check that nothing is freed early or
 * kept. */
static salvo__req *paired(const char *url, const char *key) {
  salvo_request in;
  salvo_request_init(&in);
  in.url = url;
  in.key = key;
  in.user_data = &cfg;
  int err = 0;
  char *msg = NULL;
  salvo__req *r = salvo__req_new_paired(&in, &cfg, NULL, &err, &msg);
  assert_non_null(r);
  assert_non_null(r->resp);
  return r;
}

static void test_paired_lifetimes(void **state) {
  (void)state;
  salvo__req *r = paired("http://u:secret@127.0.0.1:1/x", "k1");
  salvo_response *resp = r->resp;
  assert_string_equal(salvo_response_key(resp), "k1");
  assert_ptr_equal(salvo_response_user_data(resp), &cfg);
  assert_null(strstr(salvo_response_url(resp), "secret"));
  assert_int_equal((uintptr_t)resp % 16, 0);
  assert_int_equal(feed(r, ok_head), 0);
  /* The request first, as the engine lets it go; the response after. */
  resp = salvo__req_take_response(r);
  salvo__req_free(r);
  assert_int_equal(salvo_response_status(resp), 200);
  salvo_response_free(resp);
  /* The response first. */
  r = paired("http://127.0.0.1:1/y", NULL);
  resp = salvo__req_take_response(r);
  salvo_response_free(resp);
  assert_string_equal(r->url, "http://127.0.0.1:1/y");
  salvo__req_free(r);
  /* Cancelled: the request goes with its response. */
  r = paired("http://127.0.0.1:1/z", "k3");
  assert_non_null(r->twin);
  salvo__req_free(r);
  /* A request with a body over SALVO__PAIR_MAX: its own allocation, freed
   * when the request goes, not kept with the response. */
  salvo_request in;
  salvo_request_init(&in);
  in.url = "http://127.0.0.1:1/big";
  char body[SALVO__PAIR_MAX * 2];
  memset(body, 'b', sizeof(body));
  in.body = body;
  in.body_len = sizeof(body);
  int err = 0;
  char *msg = NULL;
  r = salvo__req_new_paired(&in, &cfg, NULL, &err, &msg);
  assert_non_null(r);
  assert_null(r->twin);
  assert_non_null(r->resp);
  assert_null(r->resp->twin);
  resp = salvo__req_take_response(r);
  salvo__req_free(r);
  salvo_response_free(resp);
}

/* Each header is kept from its line in one copy; its value is read back
 * without the whitespace around it (RFC 9110 5.5), empty when it is only
 * whitespace, and the names as sent. */
static void test_headers_kept(void **state) {
  (void)state;
  salvo__recv_cache c = {0};
  salvo__req *r = req(&c);
  const char *const head[] = {"HTTP/1.1 200 OK",
                              "A:  \t x y \t",
                              "Empty:",
                              "Blank: \t ",
                              "Content-Length:0",
                              "",
                              NULL};
  assert_int_equal(feed(r, head), 0);
  salvo_response *resp = r->resp;
  assert_int_equal(salvo_response_header_count(resp), 4);
  assert_string_equal(salvo_response_header(resp, "a"), "x y");
  assert_string_equal(salvo_response_header(resp, "EMPTY"), "");
  assert_string_equal(salvo_response_header(resp, "Blank"), "");
  assert_string_equal(salvo_response_header(resp, "content-length"), "0");
  const char *name, *value;
  assert_int_equal(salvo_response_header_at(resp, 0, &name, &value), 0);
  assert_string_equal(name, "A");
  assert_string_equal(value, "x y");
  assert_int_equal(salvo_response_header_at(resp, 3, &name, &value), 0);
  assert_string_equal(name, "Content-Length");
  assert_string_equal(value, "0");
  salvo__req_free(r);
  salvo__recv_cache_drain(&c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_state_goes_back_and_is_taken_again),
      cmocka_unit_test(test_full_cache_frees),
      cmocka_unit_test(test_paired_lifetimes),
      cmocka_unit_test(test_headers_kept),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
