/* Retry-After values: seconds or HTTP dates, from a hostile server. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "retry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *v = malloc(size + 1);
  memcpy(v, data, size);
  v[size] = '\0';
  int64_t d = salvo__retry_after_ns(v, 1.7e9);
  if (d < -1)
    abort();
  free(v);
  return 0;
}
