/* libFuzzer: the command's JSON copy (cli/json_copy.c) against jansson
 * (json_loadb(JSON_DECODE_ANY | JSON_ALLOW_NUL), the command's own parse):
 * what it accepts jansson accepts, and what it writes parses to the same
 * value. What it refuses goes to jansson, which has the last word; the
 * two differ only where jansson reads past a NUL after a scalar ("true\0"
 * is not JSON, RFC 8259 2, but jansson takes it). What it writes is the
 * input less the whitespace outside strings, byte for byte. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_copy.h"

/* d[0..n), valid JSON, less its whitespace outside strings. */
static size_t strip(const uint8_t *d, size_t n, char *out) {
  size_t k = 0;
  int in = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = d[i];
    if (in) {
      out[k++] = (char)c;
      if (c == '\\' && i + 1 < n)
        out[k++] = (char)d[++i];
      else if (c == '"')
        in = 0;
    } else if (c == '"') {
      in = 1;
      out[k++] = (char)c;
    } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
      out[k++] = (char)c;
    }
  }
  return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *out = malloc(size ? size : 1);
  size_t n = json_compact((const char *)data, size, out);
  json_t *want = json_loadb((const char *)data, size,
                            JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
  if (n != (size_t)-1 && !want)
    abort(); /* accepted what is not JSON */
  if (n == (size_t)-1 && want && !memchr(data, '\0', size))
    abort(); /* refused JSON (the command would still print it, slower) */
  if (n != (size_t)-1) {
    char *bare = malloc(size ? size : 1);
    if (strip(data, size, bare) != n || memcmp(bare, out, n))
      abort(); /* not the input less its whitespace */
    free(bare);
  }
  if (want && n != (size_t)-1) {
    json_t *got = json_loadb(out, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (!got || !json_equal(got, want))
      abort();
    json_decref(got);
  }
  json_decref(want);
  free(out);
  return 0;
}
