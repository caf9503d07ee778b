/* URL checking, params merging and UTF-8 percent-encoding
 * (salvo__req_new): the input is a URL, then NUL-separated params; a param
 * of one byte 0x01 stands for SALVO_NO_VALUE, and an odd count leaves a
 * NULL value (refused). The URL
 * is also read by way of a client's memo (url_memo.h) that the first
 * param's URL filled: the answer must be a full parse's. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "request.h"
#include "url_memo.h"

static void memo_agrees(const char *url, const char *before) {
  salvo__url_memo m;
  salvo__url_memo_init(&m);
  salvo__url a, b;
  salvo__url_key key;
  char *ma = NULL, *mb = NULL;
  if (!salvo__url_parse_memo(&m, before, &a, &key, &ma) && !key.len &&
      salvo__url_origin_len(&a) < sizeof(key.text))
    abort();
  free(ma);
  ma = NULL;
  int ra = salvo__url_parse_memo(&m, url, &a, &key, &ma);
  int rb = salvo__url_parse(url, &b, &mb);
  if (ra != rb || (ma && mb && strcmp(ma, mb)))
    abort();
  if (!rb) {
    char want[4096 + 64];
    if (salvo__url_origin_len(&b) < sizeof(want)) {
      char *end = salvo__url_put_origin(want, &b);
      if (key.len && (key.len != (size_t)(end - want) ||
                      memcmp(key.text, want, key.len + 1)))
        abort();
    }
    /* The check's one pass finds what memchr would. */
    const char *hash = memchr(url, '#', b.len);
    int high = 0;
    for (size_t i = 0; i < b.len; i++)
      high |= (unsigned char)url[i] >= 0x80;
    if (b.fragment != (hash ? (size_t)(hash - url) : b.len) ||
        b.at_sign != (memchr(url, '@', b.len) != NULL) || b.high != high)
      abort();
    if (a.fragment != b.fragment || a.at_sign != b.at_sign || a.high != b.high)
      abort();
    if (a.host != b.host || a.host_len != b.host_len || a.port != b.port ||
        a.path != b.path || a.userinfo != b.userinfo || a.len != b.len ||
        a.port_text_len != b.port_text_len ||
        memcmp(a.port_text, b.port_text, b.port_text_len))
      abort();
  }
  free(ma);
  free(mb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static salvo__cfg cfg;
  static int ready;
  if (!ready) {
    char *msg = NULL;
    if (salvo__cfg_resolve(&cfg, NULL, &msg))
      abort();
    ready = 1;
  }
  char *buf = malloc(size + 1);
  memcpy(buf, data, size);
  buf[size] = '\0';
  const char *parts[34];
  size_t n = 0;
  for (size_t i = 0; i <= size && n < 33; i++)
    if (i == 0 || buf[i - 1] == '\0')
      parts[n++] = buf + i;
  for (size_t i = 1; i < n; i++)
    if (!strcmp(parts[i], "\x01"))
      parts[i] = SALVO_NO_VALUE;
  memo_agrees(parts[0], n > 1 ? parts[1] : "http://a.test:8080/");
  const char **params = calloc(n + 2, sizeof(*params));
  memcpy(params, parts + 1, (n - 1) * sizeof(*params));
  salvo_request in;
  salvo_request_init(&in);
  in.url = parts[0];
  in.params = params;
  int err;
  char *msg;
  salvo__req *r = salvo__req_new(&in, &cfg, NULL, &err, &msg);
  if (r) {
    /* What goes to the wire has no control character or space. */
    for (const char *p = r->url; *p; p++)
      if ((unsigned char)*p <= 0x20 || *p == 0x7f)
        abort();
    if (strncmp(r->origin, "http", 4))
      abort();
    /* Its target is ASCII (UTF-8 text percent-encoded) and ends where the
     * URL does or at its fragment. */
    const char *t = r->url + r->target_off;
    for (size_t i = 0; i < r->target_len; i++)
      if ((unsigned char)t[i] >= 0x80 || t[i] == '#')
        abort();
    if (t[r->target_len] != '\0' && t[r->target_len] != '#')
      abort();
  } else if (err != SALVO_EINVAL && err != SALVO_ENOMEM) {
    abort();
  }
  salvo__req_free(r);
  free(msg);
  free(params);
  free(buf);
  return 0;
}
