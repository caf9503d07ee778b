/*
 * Clients: a configuration, a body-buffer pool, an engine (the I/O
 * thread) and the parallel blocks open on it. client.c owns the struct
 * and the process default client.
 */
#ifndef SALVO_CLIENT_H
#define SALVO_CLIENT_H

#include <pthread.h>

#include "config.h"
#include "engine.h"
#include "pool.h"

/* A parallel block's place in its client's list (batch.c embeds one). */
typedef struct salvo__batch_link {
  struct salvo__batch_link *next;
  struct salvo__batch_link *prev;
  salvo_batch *batch;
} salvo__batch_link;

struct salvo_client {
  salvo__cfg cfg;
  salvo__pool *pool;
  salvo__engine *eng;
  pthread_mutex_t mtx;
  salvo__batch_link *batches; /* mtx */
};

/* The process default client, created on first use; NULL on failure. */
salvo_client *salvo__default_client(void);
/* Adds a block to, or takes it off, the client's list; thread-safe. */
void salvo__client_link(salvo_client *c, salvo__batch_link *l);
void salvo__client_unlink(salvo_client *c, salvo__batch_link *l);

#endif /* SALVO_CLIENT_H */
