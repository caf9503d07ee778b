/* libFuzzer: the command's JSON copy (cli/json_copy.c) against jansson
 * (json_loadb(JSON_DECODE_ANY | JSON_ALLOW_NUL), the command's own parse):
 * what it accepts jansson accepts, and what it writes parses to the same
 * value. What it refuses goes to jansson, which has the last word; the
 * two differ only where jansson reads past a NUL after a scalar ("true\0"
 * is not JSON, RFC 8259 2, but jansson takes it). */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_copy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *out = malloc(size ? size : 1);
  size_t n = json_compact((const char *)data, size, out);
  json_t *want = json_loadb((const char *)data, size,
                            JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
  if (n != (size_t)-1 && !want)
    abort(); /* accepted what is not JSON */
  if (n == (size_t)-1 && want && !memchr(data, '\0', size))
    abort(); /* refused JSON (the command would still print it, slower) */
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
