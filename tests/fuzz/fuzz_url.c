/* URL checking and params merging (salvo__req_new): the input is a URL,
 * then NUL-separated params; a param of one byte 0x01 stands for
 * SALVO_NO_VALUE, and an odd count leaves a NULL value (refused). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "request.h"

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
  } else if (err != SALVO_EINVAL && err != SALVO_ENOMEM) {
    abort();
  }
  salvo__req_free(r);
  free(msg);
  free(params);
  free(buf);
  return 0;
}
