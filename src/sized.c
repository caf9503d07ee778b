/* Structs that grow across versions. */
#include <string.h>

#include "sized.h"

void salvo__sized_init(void *dst, size_t dsize, const void *dflt, size_t n) {
  if (!dst || dsize < sizeof(size_t))
    return;
  salvo__sized_read(dst, dsize, dflt, n);
  if (dsize > n) /* a caller built against a later header */
    memset((char *)dst + n, 0, dsize - n);
}

void salvo__sized_read(void *dst, size_t dsize, const void *src, size_t ssize) {
  memcpy(dst, src, ssize < dsize ? ssize : dsize);
  *(size_t *)dst = dsize;
}
