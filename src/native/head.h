/*
 * The HTTP/1.1 request head (RFC 9112 3, RFC 9110 7.2): the request line,
 * Host, the client's and the request's fields, credentials and cookies
 * for the hop's origin only, Content-Length. No sockets: it writes bytes
 * into a buffer, and tests read them.
 */
#ifndef SALVO_NATIVE_HEAD_H
#define SALVO_NATIVE_HEAD_H

#include <stddef.h>

#include "../buf.h"
#include "../config.h"
#include "../cookie.h"

/* The client-wide part of every head, made once per client. */
typedef struct salvo__head_writer {
  const salvo__cfg *cfg;
  char *fixed; /* User-Agent, Accept, Accept-Encoding, as the client says */
  size_t fixed_len;
  char *auth; /* "Authorization: ...\r\n", or NULL */
  size_t auth_len;
  /* The client's own headers name these: salvo writes none of its own. */
  int host, ua, accept, ae, authz;
} salvo__head_writer;

int salvo__head_writer_init(salvo__head_writer *w, const salvo__cfg *cfg);
void salvo__head_writer_free(salvo__head_writer *w);

/* One request of one hop. */
typedef struct salvo__head_args {
  const char *method;
  const char *url;    /* absolute: its target goes on the request line */
  const char *target; /* that target when known, else NULL */
  size_t target_len;
  const char *host_line; /* "Host: ...\r\n" of its origin */
  size_t host_line_len;
  const char *const *headers; /* the request's own, NULL-terminated */
  size_t nheaders;
  int creds;         /* to the request's own origin: credentials go */
  const char *authz; /* creds' Authorization line (no CRLF), else NULL */
  int send_body;     /* the request's body goes with it */
  size_t body_len;   /* of that body */
  salvo__jar *jar;   /* cookies to add, or NULL */
} salvo__head_args;

/* Writes the head into b (emptied first). 0, or SALVO_ENOMEM. */
int salvo__head_write(const salvo__head_writer *w, const salvo__head_args *a,
                      salvo__buf *b);

#endif /* SALVO_NATIVE_HEAD_H */
