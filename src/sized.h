/*
 * Structs that start with their size_t size and grow across versions
 * (salvo_config, salvo_request, salvo_urls): a caller built against an
 * older or newer salvo.h passes its own size.
 */
#ifndef SALVO_SIZED_H
#define SALVO_SIZED_H

#include <stddef.h>

/* dst (the caller's, dsize bytes) gets the defaults it has room for and
 * zeros past them. */
void salvo__sized_init(void *dst, size_t dsize, const void *dflt, size_t n);
/* The prefix both know is copied from src over dst, which keeps its own
 * values (the defaults) past src's end. */
void salvo__sized_read(void *dst, size_t dsize, const void *src, size_t ssize);

#endif /* SALVO_SIZED_H */
