/*
 * Responses' first homes (response.h) recycled to the I/O thread that
 * made them. A home is taken on the I/O thread when a response's first
 * head arrives and given back by whichever thread frees the response, most
 * often the caller's: with malloc, each such free crosses to the I/O
 * thread's arena (about 270 instructions a response for the pair). Here it
 * is a push onto a list the I/O thread takes whole. The struct is private
 * to home.c.
 */
#ifndef SALVO_HOME_H
#define SALVO_HOME_H

#include <stddef.h>

typedef struct salvo__homes salvo__homes;

/* [16 header offsets][256 bytes of header lines][256 body bytes] */
#define SALVO__HOME_OFFS 16
#define SALVO__HOME_HDRS 256
#define SALVO__HOME_BODY 256
#define SALVO__HOME_BYTES                                                      \
  (SALVO__HOME_OFFS * 4 + SALVO__HOME_HDRS + SALVO__HOME_BODY)

/* A cache with one reference, its engine's; NULL when out of memory. */
salvo__homes *salvo__homes_new(void);
/* The engine lets go (its I/O thread, at its end): what is cached is freed,
 * and homes given back later are freed by their giver. NULL is accepted. */
void salvo__homes_close(salvo__homes *h);
/* A home of SALVO__HOME_BYTES, cached or new, holding a reference to h
 * until given back. The I/O thread of h's engine only. NULL: no memory. */
void *salvo__homes_take(salvo__homes *h);
/* Gives back a home from salvo__homes_take, from any thread. */
void salvo__homes_give(salvo__homes *h, void *home);

#endif /* SALVO_HOME_H */
