/* Digest access authentication (RFC 7616), salvo_config.auth_scheme
 * SALVO_AUTH_DIGEST, against faultd's /digest, which computes the answer
 * itself with OpenSSL's digests and counts each request under its key:
 * a challenge answered once (2 requests), the answer's algorithm, nonce
 * count and uri as the server read them, a body sent again, and hostile
 * challenges refused before anything more is sent. ctest runs it on
 * every transport: both answer the same bytes the same way. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "salvo.h"

static salvo_client *digest_client(const char *user, const char *pass) {
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.username = user;
  cfg.password = pass;
  cfg.auth_scheme = SALVO_AUTH_DIGEST;
  cfg.max_retries = 0;
  return th_client(&cfg);
}

static const char *digest_url(const char *pass, const char *alg,
                              const char *qop, const char *key) {
  return th_fmt("http://127.0.0.1:%d/digest?user=alice&pass=%s&algorithm=%s"
                "&qop=%s&key=%s",
                th_srv.port, pass, alg, qop, key);
}

/* What faultd read of the answer: the JSON it returns on success. */
static const char *field(salvo_response *r, const char *name) {
  static char out[512];
  json_t *j = json_loads(salvo_response_body(r, NULL), 0, NULL);
  const char *v = json_string_value(json_object_get(j, name));
  snprintf(out, sizeof(out), "%s", v ? v : "(none)");
  json_decref(j);
  return out;
}

/* Every algorithm, -sess or not, with qop auth, and without qop (RFC
 * 2069's form) but for -sess: one 401, one answer, 200. */
static void test_each_algorithm_answered_once(void **state) {
  (void)state;
  static const char *const algs[] = {
      "MD5",         "MD5-sess",         "SHA-256", "SHA-256-sess",
      "SHA-512-256", "SHA-512-256-sess", "SHA",     "SHA-512"};
  salvo_client *c = digest_client("alice", "s3cret");
  for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
    for (int q = !!strstr(algs[i], "-sess"); q < 2; q++) {
      const char *key = th_fmt("alg%zu-%d", i, q);
      const char *url = digest_url("s3cret", algs[i], q ? "auth" : "", key);
      salvo_response *r = th_fetch_url(c, url);
      if (salvo_response_status(r) != 200)
        fail_msg("%s, qop %s: %d %s %s", algs[i], q ? "auth" : "none",
                 salvo_response_status(r), salvo_response_body(r, NULL),
                 salvo_response_errmsg(r));
      assert_string_equal(field(r, "algorithm"), algs[i]);
      assert_string_equal(field(r, "nc"), q ? "00000001" : "");
      assert_int_equal(th_key_count(&th_srv, key), 2);
      /* The answered 401 is not a hop of the history. */
      assert_int_equal(salvo_response_redirects(r), 0);
      salvo_response_free(r);
    }
  salvo_client_free(c);
}

/* The challenge is kept for its origin (RFC 7616 3.4): later requests
 * there answer it at once, one request each, the nonce count one more
 * each time; a changed nonce (faultd's nonce=) gets a 401, answered once
 * from the new challenge, its count starting again. */
static void test_later_requests_answer_at_once(void **state) {
  (void)state;
  salvo_client *c = digest_client("alice", "s3cret");
  static const char *const want_nc[] = {"00000001", "00000002", "00000003"};
  for (int i = 0; i < 3; i++) {
    const char *key = th_fmt("again%d", i);
    salvo_response *r =
        th_fetch_url(c, digest_url("s3cret", "SHA-256", "auth", key));
    assert_int_equal(salvo_response_status(r), 200);
    assert_string_equal(field(r, "nc"), want_nc[i]);
    assert_int_equal(th_key_count(&th_srv, key), i ? 1 : 2);
    salvo_response_free(r);
  }
  salvo_response *r =
      th_fetch_url(c, th_fmt("%s&nonce=fresh",
                             digest_url("s3cret", "SHA-256", "auth", "stale")));
  assert_int_equal(salvo_response_status(r), 200);
  assert_string_equal(field(r, "nc"), "00000001");
  assert_int_equal(th_key_count(&th_srv, "stale"), 2);
  salvo_response_free(r);
  /* A preemptive answer refused for good is the 401, after one more. */
  salvo_client *wrong = digest_client("alice", "wrong");
  r = th_fetch_url(wrong, digest_url("s3cret", "MD5", "auth", "w1"));
  salvo_response_free(r);
  r = th_fetch_url(wrong, digest_url("s3cret", "MD5", "auth", "w2"));
  assert_int_equal(salvo_response_status(r), 401);
  assert_int_equal(th_key_count(&th_srv, "w2"), 2);
  salvo_response_free(r);
  salvo_client_free(wrong);
  salvo_client_free(c);
}

/* The answer names the request-target as sent (RFC 7616 3.4: uri), its
 * query and a byte percent-encoded included, and a POST's body goes
 * again with it: the caller chose a scheme that asks for it. */
static void test_uri_and_body_sent_again(void **state) {
  (void)state;
  salvo_client *c = digest_client("alice", "s3cret");
  char body[1000];
  memset(body, 'b', sizeof(body));
  salvo_request req;
  salvo_request_init(&req);
  req.method = "POST";
  req.url = th_fmt("http://127.0.0.1:%d/digest?user=alice&pass=s3cret"
                   "&key=post&x=%%C3%%A9",
                   th_srv.port);
  req.body = body;
  req.body_len = sizeof(body);
  salvo_response *r = th_fetch(c, &req);
  assert_int_equal(salvo_response_status(r), 200);
  assert_string_equal(field(r, "uri"),
                      "/digest?user=alice&pass=s3cret&key=post&x=%C3%A9");
  json_t *j = json_loads(salvo_response_body(r, NULL), 0, NULL);
  assert_int_equal(json_integer_value(json_object_get(j, "body_len")), 1000);
  json_decref(j);
  assert_int_equal(th_key_count(&th_srv, "post"), 2);
  salvo_response_free(r);
  salvo_client_free(c);
}

/* A wrong password: answered once, and the second 401 is the response,
 * its body whole; never a third request. */
static void test_refused_answer_is_the_401(void **state) {
  (void)state;
  salvo_client *c = digest_client("alice", "wrong");
  salvo_response *r =
      th_fetch_url(c, digest_url("s3cret", "MD5", "auth", "wrong"));
  assert_int_equal(salvo_response_status(r), 401);
  assert_int_equal(salvo_response_error(r), 0);
  assert_string_equal(salvo_response_body(r, NULL), "digest: wrong response\n");
  assert_int_equal(th_key_count(&th_srv, "wrong"), 2);
  salvo_response_free(r);
  salvo_client_free(c);
}

/* A 401 from hand-written bytes, with the given WWW-Authenticate lines. */
static salvo_response *challenged(salvo_client *c, const char *lines,
                                  const char *key) {
  char wire[1024];
  snprintf(wire, sizeof(wire),
           "HTTP/1.1 401 Unauthorized\r\n%sContent-Length: 4\r\n\r\nnope",
           lines);
  char *h = th_hex_of(wire, strlen(wire));
  salvo_response *r = th_fetch_url(
      c, th_fmt("http://127.0.0.1:%d/wire?key=%s&hex=%s", th_srv.port, key, h));
  free(h);
  return r;
}

/* Hostile or unanswerable challenges are the request's EPROTO, saying
 * why, with nothing sent after them; a 401 without a Digest challenge is
 * the response as it came. */
static void test_hostile_challenges(void **state) {
  (void)state;
  static const struct {
    const char *lines, *why;
  } bad[] = {
      {"WWW-Authenticate: Digest realm=\"r\"\r\n", "no realm or no nonce"},
      {"WWW-Authenticate: Digest realm=\"r, nonce=\"n\"\r\n",
       "no realm or no nonce"},
      {"WWW-Authenticate: Digest realm=\"r\", nonce=\"n\", algorithm=MD4\r\n",
       "algorithm is not supported"},
      {"WWW-Authenticate: Digest realm=\"r\", nonce=\"n\", "
       "qop=\"auth-int\"\r\n",
       "qop is not supported"},
      {"WWW-Authenticate: Basic realm=\"b\", Digest realm=\"r\\\"x\", "
       "nonce=n, algorithm=SHA-256, qop=\"auth-int, bogus\"\r\n",
       "qop is not supported"},
      {"WWW-Authenticate: Digest realm=r, nonce=n, algorithm=MD5-sess\r\n",
       "-sess algorithm without qop"},
  };
  salvo_client *c = digest_client("alice", "s3cret");
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    const char *key = th_fmt("bad%zu", i);
    salvo_response *r = challenged(c, bad[i].lines, key);
    if (salvo_response_error(r) != SALVO_EPROTO ||
        !strstr(salvo_response_errmsg(r), bad[i].why))
      fail_msg("challenge %zu: error %d, %s", i, salvo_response_error(r),
               salvo_response_errmsg(r));
    assert_int_equal(th_key_count(&th_srv, key), 1);
    salvo_response_free(r);
  }
  salvo_response *r =
      challenged(c, "WWW-Authenticate: Basic realm=\"only\"\r\n", "basic");
  assert_int_equal(salvo_response_status(r), 401);
  assert_string_equal(salvo_response_body(r, NULL), "nope");
  assert_int_equal(th_key_count(&th_srv, "basic"), 1);
  salvo_response_free(r);
  /* Two fields, Basic then Digest: the Digest one is answered. */
  r = challenged(c,
                 "WWW-Authenticate: Basic realm=\"b\"\r\n"
                 "WWW-Authenticate: digest REALM=r,nonce=\"n\"\r\n",
                 "second");
  assert_int_equal(th_key_count(&th_srv, "second"), 2);
  assert_int_equal(salvo_response_status(r), 401);
  salvo_response_free(r);
  salvo_client_free(c);
}

/* Digest is the caller's choice: Basic (the default) is not answered, nor
 * a request carrying its own Authorization; credentials never follow a
 * redirect to another origin, and a redirect within it is answered at its
 * new target. */
static void test_only_when_asked(void **state) {
  (void)state;
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.username = "alice";
  cfg.password = "s3cret";
  salvo_client *basic = th_client(&cfg);
  salvo_response *r =
      th_fetch_url(basic, digest_url("s3cret", "MD5", "auth", "basic-scheme"));
  assert_int_equal(salvo_response_status(r), 401);
  assert_int_equal(th_key_count(&th_srv, "basic-scheme"), 1);
  salvo_response_free(r);
  salvo_client_free(basic);
  salvo_client *c = digest_client("alice", "s3cret");
  salvo_request req;
  salvo_request_init(&req);
  req.url = digest_url("s3cret", "MD5", "auth", "own");
  const char *own[] = {"Authorization: Bearer mine", NULL};
  req.headers = own;
  r = th_fetch(c, &req);
  assert_int_equal(salvo_response_status(r), 401);
  assert_int_equal(th_key_count(&th_srv, "own"), 1);
  salvo_response_free(r);
  r = th_fetch_url(c, th_fmt("http://127.0.0.1:%d/redirect-to?url=/digest"
                             "%%3Fuser=alice%%26pass=s3cret%%26key=moved",
                             th_srv.port));
  assert_int_equal(salvo_response_status(r), 200);
  assert_int_equal(salvo_response_redirects(r), 1);
  assert_int_equal(th_key_count(&th_srv, "moved"), 2);
  salvo_response_free(r);
  r = th_fetch_url(c, th_fmt("http://127.0.0.1:%d/redirect-to?url=http://"
                             "localhost:%d/digest%%3Fuser=alice%%26pass=s3cret"
                             "%%26key=elsewhere",
                             th_srv.port, th_srv.port));
  assert_int_equal(salvo_response_status(r), 401);
  assert_int_equal(th_key_count(&th_srv, "elsewhere"), 1);
  salvo_response_free(r);
  salvo_client_free(c);
}

/* Each wrong configuration is refused, naming the field. */
static void test_configuration_checked(void **state) {
  (void)state;
  salvo_config cfg;
  char msg[256];
  salvo_config_init(&cfg);
  cfg.auth_scheme = 7;
  assert_int_equal(salvo_config_check(&cfg, msg, sizeof(msg)), SALVO_EINVAL);
  assert_non_null(strstr(msg, "auth_scheme"));
  cfg.auth_scheme = SALVO_AUTH_DIGEST;
  assert_int_equal(salvo_config_check(&cfg, msg, sizeof(msg)), SALVO_EINVAL);
  assert_non_null(strstr(msg, "without a username"));
  cfg.username = "u";
  cfg.bearer_token = "t";
  assert_int_equal(salvo_config_check(&cfg, msg, sizeof(msg)), SALVO_EINVAL);
  assert_non_null(strstr(msg, "bearer_token"));
  cfg.bearer_token = NULL;
  assert_int_equal(salvo_config_check(&cfg, msg, sizeof(msg)), SALVO_OK);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_each_algorithm_answered_once),
      cmocka_unit_test(test_later_requests_answer_at_once),
      cmocka_unit_test(test_uri_and_body_sent_again),
      cmocka_unit_test(test_refused_answer_is_the_401),
      cmocka_unit_test(test_hostile_challenges),
      cmocka_unit_test(test_only_when_asked),
      cmocka_unit_test(test_configuration_checked),
  };
  return cmocka_run_group_tests(tests, th_faultd_setup, th_faultd_teardown);
}
