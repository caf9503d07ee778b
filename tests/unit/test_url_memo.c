/* A client's last origin, kept (src/url_memo.c): every URL read by way
 * of the memo gives what a full parse gives (fields, errors and their
 * offsets, origin key and hash), whatever URL came before it; a URL that
 * shares the kept scheme and authority is served from the memo; one with
 * userinfo leaves no byte of it in the memo; submitters on four threads
 * at once all get their own URL's answer. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "url_memo.h"

/* url read by way of m and by a full parse: the same answer. */
static void same_as_parse(salvo__url_memo *m, const char *url) {
  salvo__url a, b;
  salvo__url_key key;
  char *ma = NULL, *mb = NULL;
  int ra = salvo__url_parse_memo(m, url, &a, &key, &ma);
  int rb = salvo__url_parse(url, &b, &mb);
  if (ra != rb) {
    print_error("%s: %d by the memo, %d parsed\n", url, ra, rb);
    fail();
  }
  if (rb) {
    assert_non_null(ma);
    assert_string_equal(ma, mb);
  } else {
    assert_int_equal(a.scheme_len, b.scheme_len);
    assert_ptr_equal(a.host, b.host);
    assert_int_equal(a.host_len, b.host_len);
    assert_int_equal(a.port, b.port);
    assert_int_equal(a.port_text_len, b.port_text_len);
    assert_memory_equal(a.port_text, b.port_text, b.port_text_len);
    assert_int_equal(a.userinfo, b.userinfo);
    assert_int_equal(a.path, b.path);
    assert_int_equal(a.len, b.len);
    assert_int_equal(a.fragment, b.fragment);
    assert_int_equal(a.at_sign, b.at_sign);
    char want[256];
    char *end = salvo__url_put_origin(want, &b);
    size_t n = (size_t)(end - want);
    if (key.len) {
      assert_int_equal(key.len, n);
      assert_string_equal(key.text, want);
      assert_int_equal(key.hash, salvo__hash_n(want, n));
    } else {
      assert_true(n >= sizeof(key.text)); /* only a key too long is not made */
    }
  }
  free(ma);
  free(mb);
}

/* URLs in an order that puts each just after one it could be mistaken
 * for: an authority that extends the kept one, a port added, a case
 * changed, the prefix alone, a control past the prefix. */
static const char *const sequence[] = {
    "http://a.test/x",
    "http://a.test/y",
    "http://a.test:8080/",
    "http://a.test/z",
    "http://a.test.evil/",
    "http://a.test",
    "http://a.test?q=1",
    "http://a.test#f",
    "http://a.testx",
    "http://a.test@b.test/",
    "http://a.test/",
    "HTTP://A.Test/",
    "http://a.test/o k",
    "http://a.test/\x01",
    "http://a.test:0080/a",
    "http://a.test:0080/b",
    "http://a.test:080/b",
    "http://a.test:",
    "http://a.test:/p",
    "http://a.test:99999/",
    "http://[::1]:8080/x",
    "http://[::1]:8080/y",
    "http://[::1]:8081/y",
    "https://b.test/",
    "https://b.test:443/",
    "http://b.test/",
    "ftp://b.test/",
    "http:///x",
    "http://",
    "http://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.test:8080/long",
    "http://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.test:8080/again",
    "http://c.test:65535/",
    "http://c.test:65535/ok",
    "http://c.test:65535/a#b@c",
    "http://c.test:65535/?next=http://u:p@d.test/#frag",
};

static void test_same_answer_as_a_parse(void **state) {
  (void)state;
  size_t n = sizeof(sequence) / sizeof(sequence[0]);
  /* Each URL after each other: every pair of kept origin and URL. */
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) {
      salvo__url_memo m;
      salvo__url_memo_init(&m);
      same_as_parse(&m, sequence[i]);
      same_as_parse(&m, sequence[j]);
      same_as_parse(&m, sequence[j]);
    }
  same_as_parse(NULL, sequence[0]);
}

/* A memo and what the last URL read by way of it gave. */
typedef struct reader {
  salvo__url_memo m;
  salvo__url u;
  salvo__url_key key;
  char msg[128]; /* the error's message, "" after a success */
} reader;

static void reader_init(reader *r) { salvo__url_memo_init(&r->m); }

static int read_url(reader *r, const char *url) {
  char *msg = NULL;
  int rc = salvo__url_parse_memo(&r->m, url, &r->u, &r->key, &msg);
  snprintf(r->msg, sizeof(r->msg), "%s", msg ? msg : "");
  free(msg);
  return rc;
}

/* The offset an error names is the URL's, not the part the memo read. */
static void test_error_offset_past_the_prefix(void **state) {
  (void)state;
  reader r;
  reader_init(&r);
  assert_int_equal(read_url(&r, "http://a.test/ok"), 0);
  assert_int_equal(read_url(&r, "http://a.test/o k"), SALVO_EINVAL);
  assert_non_null(strstr(r.msg, "at offset 15"));
}

/* A URL of the kept origin is served from the memo: a key altered in the
 * memo is what comes back. (White-box: proves the hit, not only the
 * answer.) Another origin replaces the kept one. */
static void test_served_from_the_memo(void **state) {
  (void)state;
  reader r;
  reader_init(&r);
  assert_int_equal(read_url(&r, "http://a.test/1"), 0);
  assert_int_equal(r.m.len, strlen("http://a.test"));
  r.m.key.text[0] = 'X';
  assert_int_equal(read_url(&r, "http://a.test/2"), 0);
  assert_string_equal(r.key.text, "Xttp://a.test:80");
  assert_int_equal(read_url(&r, "http://b.test/1"), 0);
  assert_string_equal(r.key.text, "http://b.test:80");
  assert_int_equal(r.m.len, strlen("http://b.test"));
}

/* Userinfo is a secret: a URL with it is parsed but not kept, and the
 * origin kept before it stays. */
static void test_userinfo_never_kept(void **state) {
  (void)state;
  reader r;
  reader_init(&r);
  assert_int_equal(read_url(&r, "http://a.test/1"), 0);
  assert_int_equal(read_url(&r, "http://user:s3cret@a.test/2"), 0);
  assert_true(r.u.userinfo);
  assert_string_equal(r.key.text, "http://a.test:80");
  const char *bytes = (const char *)&r.m;
  for (size_t i = 0; i + 6 <= sizeof(r.m); i++)
    assert_false(!memcmp(bytes + i, "s3cret", 6));
  assert_int_equal(r.m.len, strlen("http://a.test"));
}

/* Four submitters, three origins in turn, one memo: each gets its own
 * URL's key (ThreadSanitizer sees the memo's flag). */
#define THREADS 4
#define ROUNDS 20000
static const char *const origins[] = {"http://a.test:1", "http://b.test:2",
                                      "https://c.test"};
static const char *const keys[] = {"http://a.test:1", "http://b.test:2",
                                   "https://c.test:443"};

struct worker {
  salvo__url_memo *m;
  int seed, wrong;
};

static void *submitter(void *arg) {
  struct worker *w = arg;
  for (int i = 0; i < ROUNDS; i++) {
    int o = (i + w->seed) % 3;
    char url[64];
    snprintf(url, sizeof(url), "%s/%d", origins[o], i);
    salvo__url u;
    salvo__url_key key;
    char *msg = NULL;
    if (salvo__url_parse_memo(w->m, url, &u, &key, &msg) ||
        strcmp(key.text, keys[o]) ||
        key.hash != salvo__hash_n(keys[o], strlen(keys[o])) ||
        u.host != url + strlen(o == 2 ? "https://" : "http://"))
      w->wrong++;
    free(msg);
  }
  return NULL;
}

static void test_four_submitters(void **state) {
  (void)state;
  salvo__url_memo m;
  salvo__url_memo_init(&m);
  pthread_t t[THREADS];
  struct worker w[THREADS];
  for (int i = 0; i < THREADS; i++) {
    w[i] = (struct worker){.m = &m, .seed = i};
    assert_int_equal(pthread_create(&t[i], NULL, submitter, &w[i]), 0);
  }
  for (int i = 0; i < THREADS; i++) {
    pthread_join(t[i], NULL);
    assert_int_equal(w[i].wrong, 0);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_same_answer_as_a_parse),
      cmocka_unit_test(test_error_offset_past_the_prefix),
      cmocka_unit_test(test_served_from_the_memo),
      cmocka_unit_test(test_userinfo_never_kept),
      cmocka_unit_test(test_four_submitters),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
