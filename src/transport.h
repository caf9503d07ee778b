/*
 * The transport seam: the only way the engine reaches the network. The
 * libcurl implementation lives in transport_curl.c, the one file that
 * includes curl.h; a native transport can replace it by implementing these
 * functions.
 *
 * Every function runs on the client's I/O thread, except
 * salvo__transport_global_init, which may run on any thread once.
 *
 * The transport watches its sockets on the client's epoll descriptor with
 * a tag of its choosing in epoll_event.data.u64 (never UINT64_MAX, which
 * the engine keeps for its own wake-up descriptor); the engine passes
 * every other event back with its tag.
 */
#ifndef SALVO_TRANSPORT_H
#define SALVO_TRANSPORT_H

#include <stdint.h>

#include "internal.h"

/* Process-wide initialisation; idempotent and thread-safe. */
int salvo__transport_global_init(void);

int salvo__transport_new(salvo__transport **out, salvo_client *c);
/* Aborts every transfer without reporting it, then frees. */
void salvo__transport_free(salvo__transport *t);

/* Starts one attempt of r. On failure returns an error code, with a
 * message in *msg (allocated, may be NULL), and r stays the caller's. On
 * success the transport reports the end through salvo__engine_done,
 * unless salvo__transport_abort comes first. */
int salvo__transport_start(salvo__transport *t, salvo__req *r, char **msg);
/* Stops a running attempt at once (its connection is closed or its stream
 * reset) without reporting it. */
void salvo__transport_abort(salvo__transport *t, salvo__req *r);

/* An epoll event on one of the transport's descriptors. */
void salvo__transport_on_socket(salvo__transport *t, uint64_t tag,
                                uint32_t events);
/* The monotonic time (ns) at which the transport wants
 * salvo__transport_on_timer, or -1. */
int64_t salvo__transport_deadline(const salvo__transport *t);
void salvo__transport_on_timer(salvo__transport *t);
/* Reports the transfers that ended since the last call. */
void salvo__transport_reap(salvo__transport *t);
/* Forgets every cookie of the client's jar. */
void salvo__transport_clear_cookies(salvo__transport *t);

#endif /* SALVO_TRANSPORT_H */
