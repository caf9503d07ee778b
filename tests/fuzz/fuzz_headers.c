/* Response heads as the transports deliver them to receive.c: lines one
 * by one without their line ending (status lines, folded lines, lines
 * without a colon, bare CRs, conflicting lengths, codings), then body
 * bytes (decoded when the head says so), the end of the body, then the
 * accessors and conversions a caller would use. scripts/fuzz.sh seeds it
 * with every response of the conformance corpus. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "pool.h"
#include "receive.h"
#include "request.h"
#include "response.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static salvo__cfg cfg;
  static salvo__pool *pool;
  if (!pool) {
    char *msg = NULL;
    salvo_config c;
    salvo_config_init(&c);
    c.max_body = 1 << 16;
    if (salvo__cfg_resolve(&cfg, &c, &msg))
      abort();
    pool = salvo__pool_new();
  }
  salvo_request in;
  salvo_request_init(&in);
  in.url = "http://127.0.0.1/";
  int err;
  char *msg;
  salvo__req *r = salvo__req_new(&in, &cfg, pool, &err, &msg);
  if (!r)
    abort();
  r->resp = salvo__resp_new(1, NULL, NULL, r->url);
  salvo__req_begin_attempt(r);
  const char *p = (const char *)data, *end = p + size;
  int failed = 0;
  /* Lines end at LF (one CR before it is the line ending's), until an
   * empty one after a final status. */
  while (p < end && !failed) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
    size_t n = len && p[len - 1] == '\r' ? len - 1 : len;
    int rc = salvo__req_on_header(r, p, n);
    failed = rc < 0;
    p += len + (nl != NULL);
    if (!n && r->resp->status >= 200)
      break;
  }
  if (!failed && p < end)
    failed = salvo__req_on_body(r, p, (size_t)(end - p)) < 0;
  if (!failed)
    salvo__req_on_end(r);
  salvo_response *resp = r->resp;
  for (size_t i = 0; i < salvo_response_header_count(resp); i++) {
    const char *name, *value;
    if (salvo_response_header_at(resp, i, &name, &value) ||
        salvo_response_header(resp, name) == NULL)
      abort();
  }
  size_t tlen;
  const char *text = salvo_response_text(resp, &tlen);
  if (salvo_utf8_valid(text, tlen) != tlen)
    abort();
  salvo_response_json(resp, NULL);
  if (resp->status && (resp->status < 100 || resp->status > 999))
    abort();
  salvo__req_free(r);
  return 0;
}
