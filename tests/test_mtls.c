/* TLS as its users configure it, against nginx: client certificates
 * (mutual TLS), a CA directory, the oldest TLS version. Each suite runs on
 * both transports; what nginx answers is the evidence (the client's
 * subject it verified, the protocol it spoke). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "salvo.h"

static const char *at(int port) {
  return th_fmt("https://127.0.0.1:%d/", port);
}

/* The run's CA trusted, a client certificate as given. */
static salvo_config mtls(const char *cert, const char *key, const char *pw) {
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.ca_file = th_ca_file(&th_ngx);
  cfg.client_cert = cert ? th_tls_file(&th_ngx, cert) : NULL;
  cfg.client_key = key ? th_tls_file(&th_ngx, key) : NULL;
  cfg.client_key_password = pw;
  cfg.max_retries = 0;
  return cfg;
}

static salvo_response *get(const salvo_config *cfg, const char *url) {
  salvo_client *c = th_client(cfg);
  salvo_response *r = th_fetch_url(c, url);
  salvo_client_free(c);
  return r;
}

/* nginx names the subject it verified: the certificate went, and the key
 * signed the handshake with it. */
static void expect_verified(const salvo_config *cfg) {
  salvo_response *r = get(cfg, at(th_ngx.mtls_port));
  assert_int_equal(salvo_response_error(r), SALVO_OK);
  assert_int_equal(salvo_response_status(r), 200);
  assert_string_equal(salvo_response_body(r, NULL), "CN=salvo client");
  salvo_response_free(r);
}

static void test_client_certificate(void **state) {
  (void)state;
  salvo_config cfg = mtls("client.pem", "client.key", NULL);
  expect_verified(&cfg);
  cfg = mtls("client-both.pem", NULL, NULL); /* the key in the same file */
  expect_verified(&cfg);
  cfg = mtls("client.pem", "client-enc.key", "salvo-key-pw");
  expect_verified(&cfg);
}

/* Without a certificate, or with one of a CA nginx does not trust, nginx
 * answers 400: the client's side of the handshake is not the failure. */
static void test_server_refuses_others(void **state) {
  (void)state;
  const char *certs[][2] = {{NULL, NULL}, {"other.pem", "other.key"}};
  for (size_t i = 0; i < 2; i++) {
    salvo_config cfg = mtls(certs[i][0], certs[i][1], NULL);
    salvo_response *r = get(&cfg, at(th_ngx.mtls_port));
    assert_int_equal(salvo_response_error(r), SALVO_OK);
    assert_int_equal(salvo_response_status(r), 400);
    salvo_response_free(r);
  }
}

/* A key that cannot be used fails the request with SALVO_ETLS naming the
 * file, before anything is sent, and the password never shows. */
static void test_bad_keys(void **state) {
  (void)state;
  struct {
    const char *cert, *key, *pw, *named;
  } cases[] = {
      {"client.pem", "client-enc.key", NULL, "client-enc.key"},
      {"client.pem", "client-enc.key", "wrong-pw-4711", "client-enc.key"},
      {"client.pem", "other.key", NULL, "other.key"},
      {"missing.pem", "client.key", NULL, "missing.pem"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    salvo_config cfg = mtls(cases[i].cert, cases[i].key, cases[i].pw);
    salvo_response *r = get(&cfg, at(th_ngx.mtls_port));
    const char *msg = salvo_response_errmsg(r);
    print_message("case %zu: %s\n", i, msg);
    assert_int_equal(salvo_response_error(r), SALVO_ETLS);
    assert_non_null(strstr(msg, cases[i].named));
    assert_null(strstr(msg, "4711"));
    salvo_response_free(r);
  }
}

/* A hashed CA directory verifies in place of the file; an empty one
 * verifies nothing (the system store is not consulted behind it). */
static void test_ca_path(void **state) {
  (void)state;
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.ca_path = th_tls_file(&th_ngx, "capath");
  salvo_response *r = get(&cfg, at(th_ngx.tls_port));
  assert_int_equal(salvo_response_error(r), SALVO_OK);
  assert_int_equal(salvo_response_status(r), 200);
  salvo_response_free(r);
  cfg.ca_path = th_tls_file(&th_ngx, "tmp"); /* nginx's, empty */
  cfg.max_retries = 0;
  r = get(&cfg, at(th_ngx.tls_port));
  assert_int_equal(salvo_response_error(r), SALVO_ETLS);
  salvo_response_free(r);
}

/* The default speaks TLS 1.2 to a server that has nothing later; with
 * SALVO_TLS_1_3 that server is refused, and one that has 1.3 speaks it
 * (nginx names the protocol it spoke). */
static void test_tls_min_version(void **state) {
  (void)state;
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.ca_file = th_ca_file(&th_ngx);
  cfg.max_retries = 0;
  salvo_response *r = get(&cfg, at(th_ngx.tls12_port));
  assert_int_equal(salvo_response_status(r), 200);
  assert_string_equal(salvo_response_body(r, NULL), "TLSv1.2");
  salvo_response_free(r);
  cfg.tls_min_version = SALVO_TLS_1_3;
  r = get(&cfg, at(th_ngx.tls12_port));
  assert_int_equal(salvo_response_error(r), SALVO_ETLS);
  salvo_response_free(r);
  r = get(&cfg, th_fmt("https://127.0.0.1:%d/proto", th_ngx.tls_port));
  assert_int_equal(salvo_response_status(r), 200);
  assert_string_equal(salvo_response_body(r, NULL), "TLSv1.3");
  salvo_response_free(r);
}

static void test_config_checked(void **state) {
  (void)state;
  salvo_config cfg;
  char msg[256];
  salvo_config_init(&cfg);
  cfg.tls_min_version = 11;
  assert_int_equal(salvo_config_check(&cfg, msg, sizeof(msg)), SALVO_EINVAL);
  assert_non_null(strstr(msg, "tls_min_version"));
  salvo_config_init(&cfg);
  cfg.client_key = "k.pem";
  assert_int_equal(salvo_config_check(&cfg, msg, sizeof(msg)), SALVO_EINVAL);
  assert_non_null(strstr(msg, "client_key"));
  salvo_config_init(&cfg);
  cfg.client_cert = "c.pem\r\nX: y";
  assert_int_equal(salvo_config_check(&cfg, msg, sizeof(msg)), SALVO_EINVAL);
  assert_non_null(strstr(msg, "client_cert"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_client_certificate),
      cmocka_unit_test(test_server_refuses_others),
      cmocka_unit_test(test_bad_keys),
      cmocka_unit_test(test_ca_path),
      cmocka_unit_test(test_tls_min_version),
      cmocka_unit_test(test_config_checked),
  };
  return cmocka_run_group_tests(tests, th_nginx_setup, th_nginx_teardown);
}
