/*
 * A client's last origin, parsed: the URLs of a run mostly share one, so
 * their scheme and authority are read, and their origin key made and
 * hashed, once per change of origin instead of once per request.
 */
#ifndef SALVO_URL_MEMO_H
#define SALVO_URL_MEMO_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "url.h"

/* The longest "scheme://authority" kept: most are under 40 bytes. */
#define SALVO__URL_MEMO_MAX 80

/* A URL's origin key ("scheme://host:port", lower case) and its hash. */
typedef struct salvo__url_key {
  size_t len;    /* 0: not made here (longer than text holds) */
  uint32_t hash; /* salvo__hash_n(text, len) */
  char text[SALVO__URL_MEMO_MAX + 8];
} salvo__url_key;

/* Held by whichever submitter sets busy; one that finds it set parses on
 * its own rather than wait. A URL with userinfo is never kept: the memo
 * holds no secret. */
typedef struct salvo__url_memo {
  atomic_flag busy;
  size_t len;      /* of prefix, "scheme://authority"; 0 when empty */
  salvo__url u;    /* prefix's, its pointers unset: */
  size_t host_off; /* u.host's offset in a URL */
  size_t port_off; /* u.port_text's, or SIZE_MAX: the scheme's literal */
  salvo__url_key key;
  char prefix[SALVO__URL_MEMO_MAX];
} salvo__url_memo;

/* An empty memo (a zeroed one is not: atomic_flag has its own init). */
void salvo__url_memo_init(salvo__url_memo *m);

/* salvo__url_parse, and the URL's origin key at *key, by way of m (NULL
 * for none): a URL whose scheme and authority are m's byte for byte is
 * only checked for controls (salvo__url_check), its authority and key
 * taken from m. Any thread. */
int salvo__url_parse_memo(salvo__url_memo *m, const char *url, salvo__url *u,
                          salvo__url_key *key, char **msg);

#endif /* SALVO_URL_MEMO_H */
