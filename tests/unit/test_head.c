/* The HTTP/1.1 request head, byte by byte (src/native/head.c): no socket,
 * the writer's output compared with the bytes RFC 9112 3 and RFC 9110
 * 7.2 (Host), 8.6 (Content-Length) and 11.6.2 (Authorization) ask for. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "cookie.h"
#include "native/head.h"
#include "request.h"
#include "url.h"

static salvo__cfg cfg_of(const char *const *headers, const char *user,
                         const char *password) {
  salvo_config in;
  salvo_config_init(&in);
  in.headers = headers;
  in.username = user;
  in.password = password;
  salvo__cfg c;
  char *msg = NULL;
  assert_int_equal(salvo__cfg_resolve(&c, &in, &msg), 0);
  return c;
}

static char *head(const salvo__cfg *cfg, salvo__head_args a) {
  salvo__head_writer w;
  salvo__buf b = {0};
  assert_int_equal(salvo__head_writer_init(&w, cfg), 0);
  if (!a.host_line) {
    a.host_line = "Host: example.test\r\n";
    a.host_line_len = strlen(a.host_line);
  }
  assert_int_equal(salvo__head_write(&w, &a, &b), 0);
  salvo__head_writer_free(&w);
  assert_int_equal(salvo__buf_append(&b, "", 1), 0);
  return b.p;
}

#define UA "User-Agent: salvo/" SALVO_VERSION "\r\n"
#define AE "Accept-Encoding: deflate, gzip, br, zstd\r\n"

static void test_get(void **state) {
  (void)state;
  salvo__cfg cfg = cfg_of(NULL, NULL, NULL);
  char *h = head(&cfg, (salvo__head_args){.method = "GET",
                                          .url = "http://example.test/a?b=1"});
  assert_string_equal(h,
                      "GET /a?b=1 HTTP/1.1\r\n"
                      "Host: example.test\r\n" UA "Accept: */*\r\n" AE "\r\n");
  free(h);
  /* An empty path is "/" on the request line (RFC 9112 3.2.1). */
  h = head(&cfg,
           (salvo__head_args){.method = "GET", .url = "http://example.test"});
  assert_non_null(strstr(h, "GET / HTTP/1.1\r\n"));
  free(h);
  salvo__cfg_free(&cfg);
}

static void test_bodies_have_a_length(void **state) {
  (void)state;
  salvo__cfg cfg = cfg_of(NULL, NULL, NULL);
  char *h = head(&cfg, (salvo__head_args){.method = "POST",
                                          .url = "http://example.test/",
                                          .send_body = 1,
                                          .body_len = 5});
  assert_non_null(strstr(h, "Content-Length: 5\r\n"));
  free(h);
  /* POST and PUT without a body say 0 (RFC 9110 8.6: a user agent
   * SHOULD send it when the method defines a meaning for content). */
  h = head(&cfg,
           (salvo__head_args){.method = "PUT", .url = "http://example.test/"});
  assert_non_null(strstr(h, "Content-Length: 0\r\n"));
  free(h);
  h = head(&cfg,
           (salvo__head_args){.method = "GET", .url = "http://example.test/"});
  assert_null(strstr(h, "Content-Length"));
  free(h);
  salvo__cfg_free(&cfg);
}

static void test_own_headers_win(void **state) {
  (void)state;
  const char *client[] = {"Accept: text/plain", "X-Client: 1", NULL};
  salvo__cfg cfg = cfg_of(client, NULL, NULL);
  const char *mine[] = {"Host: other.test", "X-Client: 2", "Content-Length: 99",
                        "X-Empty:", NULL};
  char *h = head(&cfg, (salvo__head_args){.method = "GET",
                                          .url = "http://example.test/",
                                          .headers = mine,
                                          .nheaders = 4,
                                          .creds = 1});
  /* The request's Host and X-Client replace salvo's and the client's, the
   * client's Accept salvo's; the framing is salvo's alone; "Name:" asks
   * for nothing. Salvo's fields, then the client's, then the request's. */
  assert_string_equal(h, "GET / HTTP/1.1\r\n" UA AE "Accept: text/plain\r\n"
                         "Host: other.test\r\nX-Client: 2\r\n\r\n");
  free(h);
  salvo__cfg_free(&cfg);
}

static void test_credentials_stay_with_their_origin(void **state) {
  (void)state;
  salvo__cfg cfg = cfg_of(NULL, "user", "secret");
  const char *mine[] = {"Authorization: Bearer mine", "Cookie: a=1",
                        "Host: mine.test", NULL};
  char *h = head(&cfg, (salvo__head_args){.method = "GET",
                                          .url = "http://example.test/",
                                          .creds = 1});
  assert_non_null(strstr(h, "Authorization: Basic dXNlcjpzZWNyZXQ=\r\n"));
  free(h);
  /* A redirect to another origin carries no credentials of any kind, and
   * that origin's Host, not the caller's (RFC 9112 3.2). */
  h = head(&cfg, (salvo__head_args){.method = "GET",
                                    .url = "http://elsewhere.test/",
                                    .host_line = "Host: elsewhere.test\r\n",
                                    .host_line_len = 22,
                                    .headers = mine,
                                    .nheaders = 3,
                                    .creds = 0});
  assert_null(strstr(h, "Authorization"));
  assert_null(strstr(h, "Cookie"));
  assert_non_null(strstr(h, "Host: elsewhere.test\r\n"));
  assert_null(strstr(h, "mine.test"));
  free(h);
  salvo__cfg_free(&cfg);
}

static void test_one_cookie_field(void **state) {
  (void)state;
  salvo__cfg cfg = cfg_of(NULL, NULL, NULL);
  salvo__jar *jar = salvo__jar_new(&salvo__system_clock);
  const char *set = "s=2; Path=/";
  assert_int_equal(
      salvo__jar_set(jar, "http://example.test/", set, strlen(set)), 0);
  const char *mine[] = {"Cookie: a=1", NULL};
  char *h = head(&cfg, (salvo__head_args){.method = "GET",
                                          .url = "http://example.test/x",
                                          .headers = mine,
                                          .nheaders = 1,
                                          .creds = 1,
                                          .jar = jar});
  /* RFC 6265 5.4: one Cookie field, the caller's value first. */
  assert_non_null(strstr(h, "Cookie: a=1; s=2\r\n"));
  assert_null(strstr(strstr(h, "Cookie:") + 1, "Cookie:"));
  free(h);
  salvo__jar_free(jar);
  salvo__cfg_free(&cfg);
}

/* The request target kept when the URL was checked is the one its request
 * line would find again (RFC 9112 3.2.1: origin-form, no fragment), with
 * and without params, a query, a fragment, userinfo, a port, IPv6. */
static void test_target_kept(void **state) {
  (void)state;
  salvo__cfg cfg = cfg_of(NULL, NULL, NULL);
  static const char *const urls[] = {"http://h",
                                     "http://h/",
                                     "http://h/a/b?q=1",
                                     "http://h?q",
                                     "http://h#f",
                                     "http://u:p@h:81/p?q#f",
                                     "https://[::1]:8443/x#y?z",
                                     "http://h/p#",
                                     "HTTP://H/%41?a=b&c"};
  static const char *const params[] = {"k", "v w", NULL};
  for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
    for (int with = 0; with < 2; with++) {
      salvo_request in;
      salvo_request_init(&in);
      in.url = urls[i];
      in.params = with ? params : NULL;
      int err = 0;
      char *msg = NULL;
      salvo__req *r = salvo__req_new(&in, &cfg, NULL, &err, &msg);
      assert_non_null(r);
      const char *t;
      size_t n;
      salvo__url_target(r->url, &t, &n);
      if (t != r->url + r->target_off || n != r->target_len) {
        print_error("%s (params %d): kept %zu+%zu, found %zu+%zu\n", r->url,
                    with, (size_t)r->target_off, (size_t)r->target_len,
                    (size_t)(t - r->url), n);
        fail();
      }
      salvo__req_free(r);
    }
  }
  salvo__cfg_free(&cfg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_get),
      cmocka_unit_test(test_bodies_have_a_length),
      cmocka_unit_test(test_own_headers_win),
      cmocka_unit_test(test_credentials_stay_with_their_origin),
      cmocka_unit_test(test_one_cookie_field),
      cmocka_unit_test(test_target_kept),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
