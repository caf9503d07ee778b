/* libFuzzer: the cookie jar (src/cookie.c) as a hostile server and a
 * hostile cookie file reach it. The input is lines: "D" and a cookie date,
 * "F" and the rest of the input as a cookie file to load, or a byte that
 * picks a URL and a Set-Cookie value received from it. Then, for every
 * URL: the Cookie field is one line of visible text ("Cookie: ", no
 * control, CRLF), and the jar saved and loaded again gives the same
 * fields. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cookie.h"
#include "cookie_date.h"

static const char *const urls[] = {
    "http://a.example.com/x/y",
    "https://example.com/",
    "http://127.0.0.1:8080/p/q",
    "https://sub.github.io/a/",
    "http://u@a.example.com@example.com/",
    "http://[::1]:80/",
    "https://www.example.co.uk/deep/er/path?q=1",
};
#define NURLS (sizeof(urls) / sizeof(urls[0]))

static int64_t mono(void *ctx) {
  (void)ctx;
  return 0;
}
static int64_t wall(void *ctx) {
  (void)ctx;
  return 1700000000;
}
static const salvo__clock fixed = {mono, wall, NULL};

/* The Cookie field of j for url, allocated ("" when none); aborts when it
 * is not one line of visible text. */
static char *field(salvo__jar *j, const char *url) {
  salvo__buf b = {0};
  if (salvo__jar_header(j, url, NULL, &b))
    abort();
  char *s = calloc(1, b.len + 1);
  if (!s)
    abort();
  if (b.len) {
    if (b.len < 10 || memcmp(b.p, "Cookie: ", 8) ||
        memcmp(b.p + b.len - 2, "\r\n", 2))
      abort();
    for (size_t i = 0; i < b.len - 2; i++)
      if ((unsigned char)b.p[i] < 0x20 || b.p[i] == 0x7f)
        abort();
    memcpy(s, b.p, b.len);
  }
  salvo__buf_free(&b);
  return s;
}

static void load_file(salvo__jar *j, const char *path, const char *p,
                      size_t n) {
  FILE *f = fopen(path, "w");
  if (!f)
    abort();
  fwrite(p, 1, n, f);
  fclose(f);
  if (salvo__jar_load(j, path) == SALVO_EINVAL)
    abort();
  unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static char path[64];
  if (!path[0])
    snprintf(path, sizeof(path), "/tmp/fuzz_cookie.%ld", (long)getpid());
  const char *p = (const char *)data, *end = p + size;
  salvo__jar *j = salvo__jar_new(&fixed);
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl : end;
    size_t n = (size_t)(le - p);
    if (n && p[0] == 'D') {
      int64_t t = salvo__cookie_date(p + 1, n - 1);
      if (t < -11644473600LL && t != -1) /* before 1601 */
        abort();
    } else if (n && p[0] == 'F') {
      load_file(j, path, p + 1, (size_t)(end - p - 1));
      break;
    } else if (n) {
      const char *url = urls[(unsigned char)p[0] % NURLS];
      if (salvo__jar_set(j, url, p + 1, n - 1))
        abort();
    }
    p = le + 1;
  }
  if (salvo__jar_count(j) > 3000)
    abort();
  /* Saved and loaded again: the same cookies go to every URL. */
  if (salvo__jar_save(j, path))
    abort();
  salvo__jar *again = salvo__jar_new(&fixed);
  if (salvo__jar_load(again, path))
    abort();
  unlink(path);
  for (size_t i = 0; i < NURLS; i++) {
    char *a = field(j, urls[i]), *b = field(again, urls[i]);
    if (strcmp(a, b))
      abort();
    free(a);
    free(b);
  }
  salvo__jar_free(again);
  salvo__jar_free(j);
  return 0;
}
