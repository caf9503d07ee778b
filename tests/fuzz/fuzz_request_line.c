/* The command's input lines: URLs and JSON request objects. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "request_line.h"

/* Each input is parsed twice, as the command parses its lines: into a
 * request_line holding garbage but for the URL buffer, the second time
 * with the first parse's buffer lent, so that nothing read is left from
 * before and a lent buffer of any size is grown right. */
static void parse(const uint8_t *data, size_t size, url_buf *url) {
  request_line p;
  char why[256];
  memset(&p, 0xa5, sizeof(p));
  p.url = *url;
  why[0] = '\0';
  if (request_line_parse(&p, (const char *)data, size, why, sizeof(why)) == 0) {
    /* A parsed line always has a URL, with a scheme (curl's http://
     * put in front of one without; libsalvo refuses "http:/x", saying
     * so). */
    if (!p.req.url || !request_line_has_scheme(p.req.url, strlen(p.req.url)))
      __builtin_trap();
  } else if (!why[0]) {
    __builtin_trap(); /* a refusal always says why */
  }
  *url = p.url;
  p.url = (url_buf){0};
  request_line_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  url_buf url = {0};
  parse(data, size, &url);
  parse(data, size, &url);
  free(url.p);
  return 0;
}
