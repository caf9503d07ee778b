/*
 * Happy Eyeballs (RFC 8305) as a plan without sockets: which of an
 * origin's addresses to try, and when. conn.c carries it out; tests
 * drive it on a fake clock.
 *
 * - The addresses come interleaved by family, the first family first
 *   (RFC 8305 4: the resolver's order is kept within a family).
 * - The next address is tried when an attempt fails, or 250 ms after the
 *   last one started without a connection (the "Connection Attempt
 *   Delay", RFC 8305 5), with at most SALVO__HE_RACING attempts at once,
 *   as curl does; the first to connect wins and the others are closed.
 */
#ifndef SALVO_NATIVE_EYEBALLS_H
#define SALVO_NATIVE_EYEBALLS_H

#include <stdint.h>
#include <sys/socket.h>

#define SALVO__HE_DELAY_NS ((int64_t)250000000)
#define SALVO__HE_RACING 2

/* One address of an origin. */
typedef struct salvo__addr {
  struct sockaddr_storage ss;
  socklen_t len;
} salvo__addr;

typedef struct salvo__he {
  int naddrs;      /* addresses in the plan */
  int next;        /* the next one to try */
  int racing;      /* attempts under way */
  int64_t next_at; /* when the next may start, if one is under way */
} salvo__he;

/* Reorders a (n addresses) so that the families alternate, the first
 * address's family first; the order within a family is kept. */
void salvo__he_interleave(salvo__addr *a, int n);
void salvo__he_start(salvo__he *h, int naddrs, int64_t now);
/* The address to try now, or -1: call until -1. */
int salvo__he_due(salvo__he *h, int64_t now);
/* An attempt failed: the next may start at once. */
void salvo__he_failed(salvo__he *h, int64_t now);
/* When salvo__he_due will have one to start, or 0 for never (all
 * started, or as many racing as may). */
int64_t salvo__he_wake(const salvo__he *h);
/* Nothing under way and nothing left to try. */
int salvo__he_exhausted(const salvo__he *h);

#endif /* SALVO_NATIVE_EYEBALLS_H */
