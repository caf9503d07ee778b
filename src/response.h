/*
 * Responses: filled while their request runs, read by the caller.
 *
 * Writers: request.c fills status, version, headers and body from what
 * the transport delivers during an attempt; the redirect policy (redirect.c:
 * salvo__resp_follow) the redirects, their hops, the final URL and method as
 * each redirect is followed; the engine sets the outcome (error, attempts,
 * elapsed, timings) when the request settles; batch.c links it into the ready
 * list; the collecting thread makes the conversions. One writer per field, one
 * at a time: a response moves from the I/O thread to the collector under the
 * batch lock.
 */
#ifndef SALVO_RESPONSE_H
#define SALVO_RESPONSE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "field.h"
#include "home.h"
#include "list.h"
#include "pool.h"

struct json_t;

/* The head of one allocation holding a request and its response (a
 * submission's: request.c's salvo__req_new_paired), so that each
 * submission costs one malloc and one free, both on the caller's thread:
 * the request is let go first on the I/O thread, the response later by
 * whoever collected it; whichever goes last frees the block. */
typedef struct salvo__twin {
  _Atomic int left; /* halves not let go yet: 2, 1, then freed */
  int slabbed;      /* a block of the client's slab, else malloc's */
} salvo__twin;
/* Lets one half go; frees the block after the second. */
void salvo__twin_release(salvo__twin *t);

/* What the collecting thread makes of a response on first use: its text,
 * its JSON, the parse callback's value. Most responses need none of it,
 * so it is an allocation of its own, made then, not bytes that every
 * pending response holds (each fresh page a caller submitting thousands
 * at once touches is one the kernel zeroes). */
typedef struct salvo__conv {
  salvo__buf text;
  int text_done;
  struct json_t *json;
  char *json_err;
  void *value;
  void (*value_free)(void *);
} salvo__conv;

struct salvo_response {
  /* The first 192 bytes (up to hdr_cap) hold what the I/O thread touches
   * when it admits a request (id, homes) and starts an attempt (the
   * reset): with thousands pending, each response is cold by then, and a
   * cache line fewer is a miss fewer. */
  salvo_response *next; /* the engine's outbox, then the hand-over */
  salvo__list in_ready; /* its batch's ready list */
  uint64_t id;
  /* Where a home comes from: its engine's cache, set at admission (NULL:
   * malloc). Once home is taken from it, a reference that home gives back
   * when the response is freed; set to NULL when home is malloc's. */
  salvo__homes *homes;
  int error;
  int status;
  int attempts;
  int redirects;
  char *errmsg;             /* NULL = "" */
  struct salvo__hist *hist; /* made at the first redirect, or NULL */
  char http_version[4];
  int streamed; /* the body went to on_data or output_path */
  double total_time;
  double ttfb;
  size_t nhdrs;
  salvo__buf body;
  salvo__buf hdrs;   /* "name\0<OWS>value\0" at each hdr_off, and
                      * bytes between them no offset points to */
  uint32_t *hdr_off; /* offset of each name in hdrs */
  size_t hdr_cap;
  /* 1 + the index of the head's first Content-Type, 0 while it has
   * none: what salvo_response_header answers without a search, for the
   * command and the text decoding that ask it of every response. Set as
   * headers are kept (a head read whole names it for salvo__resp_keep,
   * which compares no name), cleared with them (salvo__resp_clear_head). */
  size_t ctype;
  char *key; /* in this allocation */
  void *user_data;
  char *url; /* the requested URL, in this allocation */
  double elapsed;
  uint64_t tag;
  salvo__pool *pool;            /* the body buffer came from this pool */
  struct salvo__stream *stream; /* a body the caller reads, or NULL */
  size_t read_pos;              /* salvo_response_read of a kept body */
  struct salvo__conv *conv;     /* made on first use, NULL before */
  salvo__twin *twin; /* its block when made with its request, else NULL */
  /* The first homes of hdr_off, hdrs and body: one allocation, made by
   * the I/O thread when the first head arrives, NULL before. A pending
   * response holds none of it, so a caller submitting 20,000 requests at
   * once touches a third less fresh memory (each new page a fault); most
   * heads and small bodies need nothing more. */
  char *home;      /* [hdr_off's][hdrs'][body's] */
  char *home_hdrs; /* hdrs' first home, home_hcap bytes */
  char *home_body; /* body's first home, SALVO__HOME_BODY bytes */
  size_t home_hcap;
};

/* What following redirects adds to a response: the URL fetched last and
 * the method sent there, and the response each redirect came as, oldest
 * first (`redirects` of them). A hop's own holds only its method. */
typedef struct salvo__hist {
  char *url;
  char *method;
  salvo_response **hops;
} salvo__hist;

/* One allocation holds the response, its key and the requested URL. */
salvo_response *salvo__resp_new(uint64_t id, const char *key, void *user_data,
                                const char *url);
/* The bytes a response with key and url_bytes of its URL takes (a
 * multiple of 16), and one made at mem, half of twin's block
 * (salvo__resp_new's, in place). Its URL is url copied and redacted, or,
 * when shared, url itself: its twin request's, which lives as long as
 * the block, and holds no '@' to redact (url_bytes 0). */
size_t salvo__resp_size(const char *key, size_t url_bytes);
salvo_response *salvo__resp_init(void *mem, salvo__twin *twin, uint64_t id,
                                 const char *key, void *user_data,
                                 const char *url, size_t url_len, int shared);
/* Records that r, holding a redirect's head, was sent on: a copy of that
 * head (status, version, headers; no body) becomes hop number
 * r->redirects, answering `method` at `url`, and r then stands for the
 * request `next_method` makes at `next_url` (redacted as every URL a
 * response shows). 0, or SALVO_ENOMEM with r unchanged. */
int salvo__resp_follow(salvo_response *r, const char *method, const char *url,
                       const char *next_method, const char *next_url);
/* Records an error; takes ownership of msg (may be NULL: strerror used). */
void salvo__resp_set_error(salvo_response *r, int err, char *msg);
/* Keeps a header from its field line as read (salvo__h1_read_line):
 * line[0..nlen) the name, line[nlen] its colon, only SP and HTAB before
 * voff, the value line[voff..voff+vlen). Headers are kept as
 * "name\0", that whitespace, "value\0", each at hdr_off[i], with one
 * copy; the accessors skip the whitespace (values are kept trimmed, so
 * none starts with it). */
int salvo__resp_add_line(salvo_response *r, const char *line, size_t nlen,
                         size_t voff, size_t vlen);
/* A head's field lines kept with one copy: salvo__resp_add_block copies
 * the lines block[0..len) (each with its line ending) and makes room for
 * n more headers, returning where the copy starts in hdrs (its offset);
 * salvo__resp_keep then keeps the line at offset `at` of hdrs as
 * salvo__resp_add_line would, cutting it in place (is_ctype: its name,
 * as the head's reading found it, is Content-Type). A copy not kept in
 * full (a line refused) only holds bytes no offset points to. */
int salvo__resp_add_block(salvo_response *r, const char *block, size_t len,
                          size_t n, size_t *at);
/* Forgets r's headers, as a new head begins. */
static inline void salvo__resp_clear_head(salvo_response *r) {
  r->nhdrs = 0;
  r->hdrs.len = 0;
  r->ctype = 0;
}
/* Forgets r's head and body, as a new head begins and as a hop that is
 * followed leaves it: a next request that fails then leaves no status. */
static inline void salvo__resp_forget(salvo_response *r) {
  r->status = 0;
  r->http_version[0] = '\0';
  salvo__resp_clear_head(r);
  r->body.len = 0;
}
static inline void salvo__resp_keep(salvo_response *r, size_t at, size_t nlen,
                                    size_t vend, int is_ctype) {
  r->hdrs.p[at + nlen] = '\0';
  r->hdrs.p[at + vend] = '\0';
  r->hdr_off[r->nhdrs++] = (uint32_t)at;
  if (is_ctype && !r->ctype)
    r->ctype = r->nhdrs;
}
void salvo__resp_reset(salvo_response *r);
/* Makes room for `extra` more body bytes, from the pool when the body is
 * large enough to be worth keeping warm. */
int salvo__resp_reserve_body(salvo_response *r, size_t extra,
                             salvo__pool *pool);
/* Applies the return type and the parse callback, on the collecting
 * thread, once per response. */
void salvo__resp_finalize(salvo_response *r, const salvo__cfg *cfg);

#endif /* SALVO_RESPONSE_H */
