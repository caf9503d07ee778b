/*
 * Body buffers recycled between the responses of one client (pool.c says
 * why). The pool's struct is private to pool.c.
 */
#ifndef SALVO_POOL_H
#define SALVO_POOL_H

#include <stddef.h>

typedef struct salvo__pool salvo__pool;

#define SALVO__POOL_BYTES ((size_t)8 << 20) /* cached at most per client */
#define SALVO__POOL_MIN ((size_t)4096)      /* smaller bodies use malloc */
#define SALVO__POOL_MAX ((size_t)1 << 20)

/* A new pool with one reference (the client's). */
salvo__pool *salvo__pool_new(void);
void salvo__pool_release(salvo__pool *p);
/* A buffer of at least `want` bytes (its size in *cap), cached or new; it
 * holds a reference until given back. NULL when out of memory. */
char *salvo__pool_take(salvo__pool *p, size_t want, size_t *cap);
/* Takes back a buffer from salvo__pool_take (grown or not): cached when
 * there is room, freed otherwise; drops its reference. */
void salvo__pool_give(salvo__pool *p, char *buf, size_t cap);

#endif /* SALVO_POOL_H */
