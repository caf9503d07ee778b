/* The URL check every submitted request goes through (src/url.c), fed
 * strings: whitespace and controls refused wherever they stand, with
 * their offset named (RFC 3986 2: a URI holds neither), other bytes
 * (obs-text included) left to the server; scheme, host and port read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "url.h"

/* Every byte value at every place of a long URL, against the rule byte
 * by byte (the check reads eight bytes at a time). */
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

static void test_parts(void **state) {
  (void)state;
  salvo__url u;
  char *msg = NULL;
  assert_int_equal(salvo__url_parse("HTTPS://Ex.COM:8443/a?b#c", &u, &msg), 0);
  assert_int_equal(u.scheme_len, 5);
  assert_int_equal(u.port, 8443);
  assert_int_equal(u.host_len, 6);
  char key[64];
  salvo__url_put_origin(key, "HTTPS://Ex.COM:8443/a?b#c", &u);
  assert_string_equal(key, "https://ex.com:8443");
  const char *t;
  size_t n;
  salvo__url_target("http://h/a?b#c", &t, &n);
  assert_int_equal(n, 4);
  assert_memory_equal(t, "/a?b", 4);
  assert_int_not_equal(salvo__url_parse("ftp://h/", &u, &msg), 0);
  assert_non_null(strstr(msg, "scheme"));
  free(msg);
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
      salvo__url u = {
          .scheme_len = 4, .host = url + 7, .host_len = 19, .port = 80};
      salvo__url_put_origin(key, url, &u);
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

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_control_bytes_anywhere),
      cmocka_unit_test(test_parts),
      cmocka_unit_test(test_origin_lower_case),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
