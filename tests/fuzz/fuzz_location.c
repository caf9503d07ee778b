/* libFuzzer: a hostile server's Location resolved against the request's
 * URL (salvo__url_resolve, RFC 3986 5.2). The first byte picks the base;
 * the rest is the Location. A result must be a URL salvo parses, without
 * userinfo, every byte a URL may carry as it is (the rest
 * percent-encoded). Resolved against itself it must resolve, and that
 * URL to itself again, against the base and against itself (once: a
 * Location of only a query keeps the base's path as it is, dot segments
 * included, RFC 3986 5.2.2). A refusal says why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"
#include "url_ref.h"

static const char *const bases[] = {
    "http://a.example/x/y/z?q=1#f",
    "https://user:pw@b.example:8443/",
    "http://127.0.0.1:8080",
    "http://[::1]/a/b/../c/./d",
    "https://c.example/%7Efoo/bar;p?x#",
};
#define NBASES (sizeof(bases) / sizeof(bases[0]))

static char *resolve(const char *base, const char *url) {
  char *msg = NULL;
  char *to = salvo__url_resolve(base, url, strlen(url), &msg);
  if (!to)
    abort();
  return to;
}

static void same_again(const char *base, const char *url) {
  char *again = resolve(base, url);
  if (strcmp(again, url))
    abort();
  free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!size)
    return 0;
  const char *base = bases[data[0] % NBASES];
  char *msg = NULL;
  char *to = salvo__url_resolve(base, (const char *)data + 1, size - 1, &msg);
  if (!to) {
    if (!msg)
      abort(); /* no allocation fails here */
    free(msg);
    return 0;
  }
  salvo__url u;
  if (salvo__url_parse(to, &u, &msg) || u.userinfo)
    abort();
  for (const char *p = to; *p; p++)
    if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
      abort();
  char *once = resolve(to, to);
  same_again(base, once);
  same_again(once, once);
  free(once);
  free(to);
  return 0;
}
