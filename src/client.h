/*
 * Clients: a configuration, a body-buffer pool, engines (one per I/O
 * thread, origins spread over them) and the parallel blocks open on it.
 * client.c owns the struct and the process default client.
 */
#ifndef SALVO_CLIENT_H
#define SALVO_CLIENT_H

#include <pthread.h>

#include "config.h"
#include "engine.h"
#include "list.h"
#include "pool.h"
#include "slab.h"
#include "url_memo.h"

/* An open parallel block's place in its client's list (batch.c embeds
 * one): the client closes what is still open when it is freed, through
 * `close`, knowing nothing else of blocks. */
typedef struct salvo__block_link {
  salvo__list node;
  void (*close)(struct salvo__block_link *l);
} salvo__block_link;

struct salvo_client {
  unsigned fork_gen; /* the process generation it was made in */
  salvo__cfg cfg;
  salvo__pool *pool;
  salvo__slab *slab;    /* paired requests' blocks */
  salvo__url_memo memo; /* the last origin submitted */
  salvo__engine **eng;  /* cfg.io_threads of them */
  salvo__cfg *eng_cfg;  /* each one's share of the client-wide limits */
  int neng;
  pthread_mutex_t mtx;
  salvo__list blocks; /* salvo__block_link.node, mtx */
};

/* The process default client, created on first use (and again in a child
 * after fork); NULL on failure. */
salvo_client *salvo__default_client(void);
/* Whether c was made in a parent before a fork(): then it has no I/O
 * thread here, and its locks may have been held by threads that are gone,
 * so it must be neither locked nor waited for. */
int salvo__client_forked(const salvo_client *c);
/* The engine (index) that runs the requests of an origin: the hash of
 * salvo_url_shard, so that one origin is always on one thread. */
int salvo__client_engine_of(const salvo_client *c, const char *origin);
/* Adds a block to, or takes it off, the client's list; thread-safe. */
void salvo__client_link(salvo_client *c, salvo__block_link *l);
void salvo__client_unlink(salvo_client *c, salvo__block_link *l);

#endif /* SALVO_CLIENT_H */
