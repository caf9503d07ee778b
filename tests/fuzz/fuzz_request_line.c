/* The command's input lines: URLs and JSON request objects. */
#include <stdint.h>
#include <string.h>

#include "request_line.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  request_line p;
  char why[256];
  memset(&p, 0, sizeof(p));
  if (request_line_parse(&p, (const char *)data, size, why, sizeof(why)) == 0) {
    /* A parsed line always has a URL, with a scheme. */
    if (!p.req.url || !strstr(p.req.url, "://"))
      __builtin_trap();
  } else if (!why[0]) {
    __builtin_trap(); /* a refusal always says why */
  }
  request_line_free(&p);
  return 0;
}
