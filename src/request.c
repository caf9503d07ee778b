/*
 * Requests: validation and copying at submission, and the data callbacks
 * the transport feeds while a request runs.
 *
 * Everything a request needs is copied into a single allocation so that
 * submission costs one malloc and settling one free.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "request.h"
#include "slab.h"

#include "field.h"
#include "h1.h"
#include "sized.h"
#include "stream.h"
#include "url.h"

static int fail(int *err, char **msg, char *m) {
  *err = SALVO_EINVAL;
  *msg = m;
  return SALVO_EINVAL;
}

/* The list ends at a NULL where a name would be; a NULL where a value
 * would be is refused rather than read as the end, which would drop every
 * pair after it without a word. */
static int check_params(const char *const *params, int *err, char **msg) {
  for (size_t i = 0; params && params[i]; i += 2)
    if (!params[i + 1])
      return fail(err, msg,
                  salvo__fmt("params: \"%.100s\" (item %zu) has a NULL "
                             "value; end the list with NULL where a name "
                             "would be, and give a name without a value as "
                             "SALVO_NO_VALUE",
                             params[i], i));
  return 0;
}

/* Checks header h, and notes in *said what it says of the connection
 * (salvo__header_close). */
static int check_header(const char *h, int *said, int *err, char **msg) {
  size_t n = salvo__header_name_len(h);
  if (!n)
    return fail(err, msg,
                salvo__fmt("malformed header \"%.*s\" (what comes before "
                           "its colon; its value is not shown): expected "
                           "\"Name: value\" with a token name",
                           salvo__header_shown(h), h));
  const char *why = salvo__header_problem(h);
  if (why)
    return fail(err, msg, salvo__fmt("header \"%.*s\" %s", (int)n, h, why));
  *said = salvo__header_close(h, n, *said);
  return 0;
}

static int has_header(const char *const *hs, const char *name) {
  return salvo__headers_have(hs, name, strlen(name));
}

/* Headers salvo adds on the request's behalf when it says a
 * Content-Length (it has a body, or is a POST or PUT): a JSON content
 * type, the removal of curl's form content type for raw bodies and for a
 * POST or PUT without one (the native transport sends neither), and no
 * "Expect: 100-continue" round trip. */
static size_t extra_headers(const salvo_request *in, const salvo__cfg *cfg,
                            int says_length, const char *extra[3]) {
  size_t n = 0;
  const char *const *cfgh = (const char *const *)cfg->headers;
  if (!says_length)
    return 0;
  if (!has_header(in->headers, "Content-Type") &&
      (in->json || !has_header(cfgh, "Content-Type")))
    extra[n++] = in->json ? "Content-Type: application/json" : "Content-Type:";
  if (!has_header(in->headers, "Expect") && !has_header(cfgh, "Expect"))
    extra[n++] = "Expect:";
  return n;
}

/* RFC 9110's idempotent methods: safe to repeat after a failure. */
static int idempotent_method(const char *m, size_t n) {
  static const struct {
    const char *name;
    size_t len;
  } methods[] = {{"GET", 3},    {"HEAD", 4},    {"PUT", 3},
                 {"DELETE", 6}, {"OPTIONS", 7}, {"TRACE", 5}};
  for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
    if (n == methods[i].len && !memcmp(m, methods[i].name, n))
      return 1;
  return 0;
}

void salvo_request_init_size(salvo_request *req, size_t size) {
  static const salvo_request defaults = {.size = sizeof(salvo_request),
                                         .max_retries = SALVO_CLIENT_DEFAULT,
                                         .follow_redirects =
                                             SALVO_CLIENT_DEFAULT};
  salvo__sized_init(req, size, &defaults, sizeof(defaults));
}

const salvo_request *salvo__req_at(const salvo_request *reqs, size_t i) {
  size_t stride = reqs->size >= sizeof(size_t) ? reqs->size : sizeof(*reqs);
  return (const salvo_request *)((const char *)reqs + i * stride);
}

/* Seconds from the API to milliseconds: 0 gives dflt, negative gives 0
 * ("none"), anything else at least 1 ms. */
static int64_t salvo__seconds_ms(double s, int64_t dflt) {
  if (s == 0)
    return dflt;
  if (s < 0)
    return 0;
  if (s > 1e9)
    s = 1e9;
  int64_t ms = (int64_t)(s * 1000 + 0.5);
  return ms ? ms : 1;
}

const salvo_request *salvo__req_fields(const salvo_request *caller,
                                       salvo_request *copy) {
  if (caller->size < sizeof(size_t) || caller->size == sizeof(*copy))
    return caller;
  salvo_request_init(copy); /* built against another header */
  salvo__sized_read(copy, sizeof(*copy), caller, caller->size);
  return copy;
}

static salvo__req *make(const salvo_request *caller, const salvo__cfg *cfg,
                        salvo__pool *pool, salvo__slab *slab,
                        salvo__url_memo *memo, int with_resp, int *err,
                        char **msg) {
  salvo__url u;
  salvo__url_key key;
  *err = 0;
  *msg = NULL;
  salvo_request full;
  if (caller->size < sizeof(size_t)) {
    fail(err, msg,
         salvo__fmt("salvo_request.size is 0: set the request up with "
                    "salvo_request_init"));
    return NULL;
  }
  const salvo_request *in = salvo__req_fields(caller, &full);
  if (!in->url) {
    fail(err, msg, salvo__fmt("request has no URL"));
    return NULL;
  }
  if (salvo__url_parse_memo(memo, in->url, &u, &key, msg)) {
    *err = SALVO_EINVAL;
    return NULL;
  }
  if (check_params(in->params, err, msg))
    return NULL;
  if (in->max_retries < SALVO_CLIENT_DEFAULT) {
    fail(err, msg,
         salvo__fmt("max_retries is %d: give a count, 0 for none, or "
                    "SALVO_CLIENT_DEFAULT",
                    in->max_retries));
    return NULL;
  }
  if (in->follow_redirects < SALVO_CLIENT_DEFAULT || in->follow_redirects > 1) {
    fail(err, msg,
         salvo__fmt("follow_redirects is %d: give 0, 1 or "
                    "SALVO_CLIENT_DEFAULT",
                    in->follow_redirects));
    return NULL;
  }
  const char *method = in->method;
  const void *body = in->json ? (const void *)in->json : in->body;
  size_t body_len = in->json ? strlen(in->json) : in->body_len;
  int has_body = in->json || in->body;
  if (method) {
    if (!*method) {
      fail(err, msg, salvo__fmt("empty method"));
      return NULL;
    }
    for (const char *p = method; *p; p++)
      if (!salvo__is_tchar((unsigned char)*p)) {
        fail(err, msg, salvo__fmt("bad method token \"%.40s\"", method));
        return NULL;
      }
  } else {
    method = has_body ? "POST" : "GET";
  }
  size_t nh = 0, hbytes = 0;
  int said = -1; /* the request's own Connection: none yet */
  for (; in->headers && in->headers[nh]; nh++) {
    if (check_header(in->headers[nh], &said, err, msg))
      return NULL;
    hbytes += strlen(in->headers[nh]) + 1;
  }
  const char *extra[3];
  size_t nextra = extra_headers(
      in, cfg, has_body || salvo__method_says_length(method), extra);
  for (size_t i = 0; i < nextra; i++)
    hbytes += strlen(extra[i]) + 1;

  size_t url_len = salvo__url_request_len(in->url, &u, in->params);
  if (url_len + hbytes + cfg->header_bytes > SALVO__MAX_HEAD) {
    fail(err, msg,
         salvo__fmt("request too large: a URL of %zu bytes and headers of "
                    "%zu bytes; the request line and headers may take %d "
                    "bytes at most",
                    url_len, hbytes + cfg->header_bytes, SALVO__MAX_HEAD));
    return NULL;
  }
  size_t origin_len = salvo__url_origin_len(&u);
  size_t method_len = strlen(method);
  const char *out_path = in->on_data ? NULL : in->output_path;
  size_t path_len = out_path ? strlen(out_path) + 1 : 0;
  if (out_path && !*out_path) {
    fail(err, msg, salvo__fmt("empty output_path"));
    return NULL;
  }
  size_t total = sizeof(salvo__req) + (nh + nextra + 1) * sizeof(char *) +
                 url_len + 1 + origin_len + 1 + method_len + 1 + hbytes +
                 path_len + (has_body ? body_len + 1 : 0);
  /* Paired: [twin][the request][its response], the response aligned. A
   * large request (a body) is not kept until its response goes. */
  int paired = with_resp && total <= SALVO__PAIR_MAX;
  size_t head = paired ? salvo__align16(sizeof(salvo__twin)) : 0;
  size_t req_bytes = salvo__align16(total);
  /* Its response shares the URL when there is no userinfo to hide. */
  int share = paired && !u.at_sign && !in->params;
  size_t resp_bytes =
      paired ? salvo__resp_size(in->key, share ? 0 : url_len + 1) : 0;
  size_t bytes = head + req_bytes + resp_bytes;
  int slabbed = paired && slab && bytes <= SALVO__SLAB_BLOCK;
  char *block = slabbed ? salvo__slab_take(slab, bytes) : NULL;
  /* A slab that cannot map a chunk (an address-space limit) leaves the
   * request to malloc, which may still have room. */
  if (!block) {
    slabbed = 0;
    block = malloc(bytes);
  }
  if (!block) {
    *err = SALVO_ENOMEM;
    return NULL;
  }
  salvo__req *r = (salvo__req *)(block + head);
  memset(r, 0, total);
  if (paired) {
    r->twin = (salvo__twin *)block;
    atomic_init(&r->twin->left, 2);
    r->twin->slabbed = slabbed;
  }
  r->headers = (char **)(r + 1);
  char *p = (char *)(r->headers + nh + nextra + 1);
  r->url = p;
  p = salvo__url_put_with_params(p, in->url, &u, in->params);
  /* Params go after the path: the URL's path starts where it did. */
  r->target_off = (uint32_t)u.path;
  /* Params go before any fragment, and encoded bytes move it: without
   * either it stays where it was. */
  const char *hash =
      !in->params && !u.high
          ? r->url + u.fragment
          : memchr(r->url + u.path, '#', (size_t)(p - r->url) - u.path);
  r->target_len = (uint32_t)((size_t)((hash ? hash : p) - r->url) - u.path);
  p++;
  r->origin = p;
  if (key.len) {
    p = (char *)memcpy(p, key.text, key.len + 1) + key.len;
    r->origin_hash = key.hash;
  } else {
    p = salvo__url_put_origin(p, &u);
    r->origin_hash = salvo__hash_n(r->origin, (size_t)(p - r->origin));
  }
  p++;
  r->method = p;
  memcpy(p, method, method_len + 1);
  p += method_len + 1;
  for (size_t i = 0; i < nh + nextra; i++) {
    const char *h = i < nh ? in->headers[i] : extra[i - nh];
    size_t n = salvo__header_kept_len(h);
    r->headers[i] = memcpy(p, h, n);
    p[n] = '\0';
    p += n + 1;
  }
  r->nheaders = (uint32_t)(nh + nextra);
  if (out_path) {
    r->output_path = memcpy(p, out_path, path_len);
    p += path_len;
  }
  r->on_data = in->on_data;
  r->stream = in->stream && !in->on_data && !out_path;
  if (has_body) {
    r->body = p;
    if (body_len)
      memcpy(p, body, body_len);
    p[body_len] = '\0';
    r->body_len = body_len;
  }
  r->is_head = method_len == 4 && !memcmp(method, "HEAD", 4);
  r->conn_close = (uint8_t)(said < 0 ? cfg->conn_close : said);
  r->userinfo = u.userinfo;
  r->pool = pool;
  r->max_body = cfg->max_body;
  r->timeout_ms = salvo__seconds_ms(in->timeout, cfg->timeout_ms);
  r->deadline_ms = salvo__seconds_ms(in->deadline, cfg->deadline_ms);
  r->queue_timeout_ms =
      salvo__seconds_ms(in->queue_timeout, cfg->queue_timeout_ms);
  r->max_retries = in->max_retries == SALVO_CLIENT_DEFAULT ? cfg->max_retries
                                                           : in->max_retries;
  r->idempotent = in->idempotent || idempotent_method(method, method_len);
  r->follow_redirects = in->follow_redirects == SALVO_CLIENT_DEFAULT
                            ? cfg->follow_redirects
                            : in->follow_redirects;
  r->decode = cfg->compression;
  if (paired)
    r->resp = salvo__resp_init((char *)r + req_bytes, r->twin, 0, in->key,
                               in->user_data, r->url, url_len, share);
  else if (with_resp &&
           !(r->resp = salvo__resp_new(0, in->key, in->user_data, r->url))) {
    salvo__req_free(r);
    *err = SALVO_ENOMEM;
    return NULL;
  }
  return r;
}

salvo__req *salvo__req_new(const salvo_request *in, const salvo__cfg *cfg,
                           salvo__pool *pool, int *err, char **msg) {
  return make(in, cfg, pool, NULL, NULL, 0, err, msg);
}

salvo__req *salvo__req_new_paired(const salvo_request *in,
                                  const salvo__cfg *cfg, salvo__pool *pool,
                                  salvo__slab *slab, salvo__url_memo *memo,
                                  int *err, char **msg) {
  return make(in, cfg, pool, slab, memo, 1, err, msg);
}

void salvo__req_free(salvo__req *r) {
  if (!r)
    return;
  if (r->recv)
    r->recv_free(r->recv);
  salvo_response_free(r->resp);
  if (r->twin)
    salvo__twin_release(r->twin);
  else
    free(r);
}

int salvo__req_streams(const salvo__req *r) {
  return r->on_data || r->output_path;
}

void salvo__req_begin_attempt(salvo__req *r) {
  salvo__resp_reset(r->resp);
  r->resp->attempts++;
}

int salvo__req_attempts(const salvo__req *r) { return r->resp->attempts; }

void salvo__req_set_response(salvo__req *r, salvo_response *resp) {
  r->resp = resp;
}

salvo_response *salvo__req_take_response(salvo__req *r) {
  salvo_response *resp = r->resp;
  r->resp = NULL;
  return resp;
}

uint64_t salvo__req_id(const salvo__req *r) { return r->resp->id; }

size_t salvo__req_body_len(const salvo__req *r) { return r->resp->body.len; }

int salvo__req_delivered(const salvo__req *r) {
  return (r->on_data && r->resp->streamed) || r->resp->stream;
}
