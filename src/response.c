/* Responses: storage filled by the I/O thread, read by the caller, and
 * the conversions (text, JSON, parse callback) made when collected. */
#include <errno.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "field.h"
#include "redact.h"
#include "response.h"
#include "slab.h"
#include "stream.h"
#include "text.h"

void salvo__twin_release(salvo__twin *t) {
  if (atomic_fetch_sub_explicit(&t->left, 1, memory_order_acq_rel) != 1)
    return;
  if (t->slabbed)
    salvo__slab_give(t);
  else
    free(t);
}

size_t salvo__resp_size(const char *key, size_t url_bytes) {
  return salvo__align16(sizeof(salvo_response) + (key ? strlen(key) + 1 : 0) +
                        url_bytes);
}

salvo_response *salvo__resp_init(void *mem, salvo__twin *twin, uint64_t id,
                                 const char *key, void *user_data,
                                 const char *url, size_t url_len, int shared) {
  salvo_response *r = mem;
  size_t klen = key ? strlen(key) + 1 : 0;
  memset(r, 0, sizeof(*r));
  char *p = (char *)(r + 1);
  r->twin = twin;
  r->id = id;
  r->user_data = user_data;
  if (key)
    r->key = memcpy(p, key, klen);
  /* A URL's userinfo may hold a password: responses never show it. */
  if (shared) {
    r->url = (char *)url;
  } else if (url) {
    r->url = memcpy(p + klen, url, url_len + 1);
    salvo__redact_url(r->url);
  }
  return r;
}

salvo_response *salvo__resp_new(uint64_t id, const char *key, void *user_data,
                                const char *url) {
  size_t ulen = url ? strlen(url) : 0;
  void *mem = malloc(salvo__resp_size(key, url ? ulen + 1 : 0));
  return mem ? salvo__resp_init(mem, NULL, id, key, user_data, url, ulen, 0)
             : NULL;
}

/* A "Name: value" line a response could have received: 0 with the name's
 * length and where the value starts and ends (trimmed), else -1. */
static int made_line(const char *h, size_t *nlen, size_t *voff, size_t *vlen) {
  size_t n = 0;
  while (salvo__is_tchar((unsigned char)h[n]))
    n++;
  if (!n || h[n] != ':')
    return -1;
  const char *v = h + n + 1;
  size_t len = strlen(v);
  if (salvo__field_ctl(v, len, 1))
    return -1;
  salvo__ows_trim(&v, &len);
  *nlen = n;
  *voff = (size_t)(v - h);
  *vlen = len;
  return 0;
}

int salvo_response_new(salvo_response **out, int status,
                       const char *const *headers, const void *body, size_t len,
                       const char *url) {
  if (!out)
    return SALVO_EINVAL;
  *out = NULL;
  size_t nlen, voff, vlen;
  for (size_t i = 0; headers && headers[i]; i++)
    if (made_line(headers[i], &nlen, &voff, &vlen))
      return SALVO_EINVAL;
  if (status < 100 || status > 999 || (len && !body))
    return SALVO_EINVAL;
  salvo_response *r = salvo__resp_new(0, NULL, NULL, url);
  if (!r)
    return SALVO_ENOMEM;
  r->status = status;
  memcpy(r->http_version, "1.1", 4);
  int err = 0;
  for (size_t i = 0; !err && headers && headers[i]; i++) {
    made_line(headers[i], &nlen, &voff, &vlen);
    err = salvo__resp_add_line(r, headers[i], nlen, voff, vlen);
  }
  if (!err && len && !(err = salvo__resp_reserve_body(r, len, NULL))) {
    memcpy(r->body.p, body, len);
    r->body.len = len;
    r->body.p[len] = '\0';
  }
  if (err) {
    salvo_response_free(r);
    return err;
  }
  *out = r;
  return SALVO_OK;
}

/* A hop (salvo__resp_follow): r's head as it is now, without its body;
 * its URL redacted as every response's is. */
static salvo_response *hop_of(const salvo_response *r, const char *method,
                              const char *url) {
  salvo_response *h = salvo__resp_new(0, NULL, NULL, url);
  if (!h)
    return NULL;
  h->status = r->status;
  memcpy(h->http_version, r->http_version, sizeof(h->http_version));
  h->attempts = 1;
  int err = !(h->hist = calloc(1, sizeof(*h->hist))) ||
            !(h->hist->method = salvo__strdup(method));
  for (size_t i = 0; !err && i < r->nhdrs; i++) {
    /* Kept as "name\0<OWS>value\0", one run: the line add_line takes,
     * its colon a NUL already. */
    const char *name, *value;
    salvo_response_header_at(r, i, &name, &value);
    err = salvo__resp_add_line(h, name, strlen(name), (size_t)(value - name),
                               strlen(value));
  }
  if (err) {
    salvo_response_free(h);
    return NULL;
  }
  return h;
}

int salvo__resp_follow(salvo_response *r, const char *method, const char *url,
                       const char *next_method, const char *next_url) {
  salvo__hist *h = r->hist;
  if (!h && !(h = r->hist = calloc(1, sizeof(*h))))
    return SALVO_ENOMEM;
  size_t n = (size_t)r->redirects;
  salvo_response **hops = realloc(h->hops, (n + 1) * sizeof(*hops));
  if (!hops)
    return SALVO_ENOMEM;
  h->hops = hops;
  char *m = salvo__strdup(next_method), *u = salvo__strdup(next_url);
  salvo_response *hop = m && u ? hop_of(r, method, url) : NULL;
  if (!hop) {
    free(m);
    free(u);
    return SALVO_ENOMEM;
  }
  salvo__redact_url(u);
  hops[n] = hop;
  /* The head lives in its hop now: until the next head comes, the
   * response has none, so a next request that fails leaves no status,
   * as salvo.h says of a response without a whole head (it kept the
   * redirect's 302 and headers, beside the next one's error). */
  salvo__resp_forget(r);
  free(h->method);
  h->method = m;
  free(h->url);
  h->url = u;
  r->redirects++;
  return 0;
}

static void hist_free(salvo_response *r) {
  salvo__hist *h = r->hist;
  if (!h)
    return;
  for (int i = 0; h->hops && i < r->redirects; i++)
    salvo_response_free(h->hops[i]);
  free(h->hops);
  free(h->method);
  free(h->url);
  free(h);
  r->hist = NULL;
}

void salvo__resp_set_error(salvo_response *r, int err, char *msg) {
  free(r->errmsg);
  r->error = err;
  r->errmsg = msg;
}

/* The first homes (response.h): the engine's recycled size when a first
 * head of n headers and `bytes` bytes fits, else sized to fit it. */
static int make_home(salvo_response *r, size_t n, size_t bytes) {
  size_t offs = SALVO__HOME_OFFS, hcap = SALVO__HOME_HDRS;
  char *h;
  if (r->homes && n <= offs && bytes < hcap) {
    h = salvo__homes_take(r->homes);
  } else {
    offs = n > offs ? n : offs;
    hcap = bytes < hcap ? hcap : salvo__align16(bytes + 1);
    h = malloc(offs * sizeof(uint32_t) + hcap + SALVO__HOME_BODY);
    r->homes = NULL; /* nothing to give back to */
  }
  if (!h)
    return SALVO_ENOMEM;
  r->home = h;
  r->hdr_off = (uint32_t *)h;
  r->hdr_cap = offs;
  r->home_hdrs = h + offs * sizeof(uint32_t);
  r->home_hcap = hcap;
  r->home_body = r->home_hdrs + hcap;
  return 0;
}

/* Room for n more headers and `bytes` more bytes of them. */
static int room(salvo_response *r, size_t n, size_t bytes) {
  if (r->hdrs.len + bytes > UINT32_MAX || r->nhdrs + n > UINT32_MAX ||
      (!r->home && make_home(r, n, bytes)))
    return SALVO_ENOMEM;
  if (r->nhdrs + n > r->hdr_cap) {
    size_t cap = r->hdr_cap;
    while (cap < r->nhdrs + n)
      cap *= 2;
    int at_home = (char *)r->hdr_off == r->home;
    uint32_t *off = realloc(at_home ? NULL : r->hdr_off, cap * sizeof(*off));
    if (!off)
      return SALVO_ENOMEM;
    if (at_home)
      memcpy(off, r->hdr_off, r->nhdrs * sizeof(*off));
    r->hdr_off = off;
    r->hdr_cap = cap;
  }
  return salvo__buf_reserve_in(&r->hdrs, r->home_hdrs, r->home_hcap, bytes)
             ? SALVO_ENOMEM
             : 0;
}

/* Room for one more header of `bytes` bytes: its offset's and its own. */
static char *header_room(salvo_response *r, size_t bytes) {
  if (room(r, 1, bytes))
    return NULL;
  r->hdr_off[r->nhdrs++] = (uint32_t)r->hdrs.len;
  char *p = r->hdrs.p + r->hdrs.len;
  r->hdrs.len += bytes;
  return p;
}

int salvo__resp_add_line(salvo_response *r, const char *line, size_t nlen,
                         size_t voff, size_t vlen) {
  char *p = header_room(r, voff + vlen + 1);
  if (!p)
    return SALVO_ENOMEM;
  memcpy(p, line, voff + vlen);
  p[nlen] = '\0';
  p[voff + vlen] = '\0';
  if (nlen == 12 && !r->ctype && salvo__name_is(p, "content-type", 12))
    r->ctype = r->nhdrs;
  return 0;
}

int salvo__resp_add_block(salvo_response *r, const char *block, size_t len,
                          size_t n, size_t *at) {
  if (room(r, n, len))
    return SALVO_ENOMEM;
  *at = r->hdrs.len;
  memcpy(r->hdrs.p + r->hdrs.len, block, len);
  r->hdrs.len += len;
  return 0;
}

/* The value of a header kept at h - nlen - 1: v is past its name's NUL,
 * at the whitespace before the value. */
static const char *value_after(const char *v) {
  while (*v == ' ' || *v == '\t')
    v++;
  return v;
}

/* The value of the header kept at h. */
static const char *value_of(const char *h) {
  return value_after(h + strlen(h) + 1);
}

int salvo__resp_reserve_body(salvo_response *r, size_t extra,
                             salvo__pool *pool) {
  size_t need = r->body.len + extra + 1;
  if (need <= r->body.cap)
    return 0;
  if (!r->body.p && pool && need >= SALVO__POOL_MIN &&
      need <= SALVO__POOL_MAX) {
    r->body.p = salvo__pool_take(pool, need, &r->body.cap);
    if (!r->body.p)
      return SALVO_ENOMEM;
    r->pool = pool;
    return 0;
  }
  if (!r->home && make_home(r, 0, 0))
    return SALVO_ENOMEM;
  return salvo__buf_reserve_in(&r->body, r->home_body, SALVO__HOME_BODY, extra);
}

void salvo__resp_reset(salvo_response *r) {
  salvo__resp_set_error(r, 0, NULL);
  hist_free(r);
  r->redirects = 0;
  salvo__resp_forget(r);
  r->streamed = 0;
  r->total_time = r->ttfb = 0;
}

int salvo_response_error(const salvo_response *r) {
  return r ? r->error : SALVO_EINVAL;
}

const char *salvo_response_errmsg(const salvo_response *r) {
  if (!r)
    return "";
  if (r->errmsg)
    return r->errmsg;
  if (r->error)
    return salvo_strerror(r->error);
  /* Set once by the I/O thread, under the stream's lock, and kept. */
  const char *msg = r->stream ? salvo__stream_errmsg(r->stream) : NULL;
  return msg ? msg : "";
}

int salvo_response_status(const salvo_response *r) { return r ? r->status : 0; }

const char *salvo_response_header(const salvo_response *r, const char *name) {
  if (!r || !name)
    return NULL;
  size_t n = strlen(name);
  if (n == 12 && salvo__name_is(name, "content-type", 12))
    return r->ctype ? value_after(r->hdrs.p + r->hdr_off[r->ctype - 1] + 13)
                    : NULL;
  /* The first bytes, case folded, before a compare: most names differ
   * there. (0x20 set on both sides may join bytes that differ; the
   * compare then tells.) The compare takes the names' NULs too, so it
   * says the lengths are the same without a strlen of each kept name;
   * it reads n + 1 bytes only where hdrs holds that many. */
  unsigned first = (unsigned char)name[0] | 0x20;
  for (size_t i = 0; i < r->nhdrs; i++) {
    const char *h = r->hdrs.p + r->hdr_off[i];
    if (((unsigned char)h[0] | 0x20) == first &&
        r->hdrs.len - r->hdr_off[i] > n && salvo__case_eq(h, name, n + 1))
      return value_after(h + n + 1);
  }
  return NULL;
}

size_t salvo_response_header_count(const salvo_response *r) {
  return r ? r->nhdrs : 0;
}

int salvo_response_header_at(const salvo_response *r, size_t i,
                             const char **name, const char **value) {
  if (!r || i >= r->nhdrs)
    return SALVO_EINVAL;
  const char *h = r->hdrs.p + r->hdr_off[i];
  if (name)
    *name = h;
  if (value)
    *value = value_of(h);
  return 0;
}

const char *salvo_response_body(const salvo_response *r, size_t *len) {
  if (len)
    *len = r ? r->body.len : 0;
  return r && r->body.p ? r->body.p : "";
}

const char *salvo_response_key(const salvo_response *r) {
  return r ? r->key : NULL;
}

void *salvo_response_user_data(const salvo_response *r) {
  return r ? r->user_data : NULL;
}

salvo_pending salvo_response_pending(const salvo_response *r) {
  salvo_pending p = {r ? r->id : 0};
  return p;
}

int salvo_response_streamed(const salvo_response *r) { return r && r->stream; }

int salvo_response_attempts(const salvo_response *r) {
  return r ? r->attempts : 0;
}

const char *salvo_response_url(const salvo_response *r) {
  return !r                        ? ""
         : r->hist && r->hist->url ? r->hist->url
         : r->url                  ? r->url
                                   : "";
}

int salvo_response_redirects(const salvo_response *r) {
  return r ? r->redirects : 0;
}

const salvo_response *salvo_response_hop(const salvo_response *r, size_t i) {
  return r && r->hist && i < (size_t)r->redirects ? r->hist->hops[i] : NULL;
}

const char *salvo_response_method(const salvo_response *r) {
  return r && r->hist ? r->hist->method : NULL;
}

const char *salvo_response_http_version(const salvo_response *r) {
  return r ? r->http_version : "";
}

double salvo_response_total_time(const salvo_response *r) {
  return r ? r->total_time : 0;
}

double salvo_response_ttfb(const salvo_response *r) { return r ? r->ttfb : 0; }

double salvo_response_elapsed(const salvo_response *r) {
  return r ? r->elapsed : 0;
}

/* The response's conversions, made when first needed; NULL when out of
 * memory. */
static salvo__conv *conv_of(salvo_response *r) {
  if (!r->conv)
    r->conv = calloc(1, sizeof(*r->conv));
  return r->conv;
}

const char *salvo_response_text(salvo_response *r, size_t *len) {
  salvo__conv *c = r ? conv_of(r) : NULL;
  if (c && !c->text_done &&
      !salvo__text_decode(r->body.p ? r->body.p : "", r->body.len,
                          salvo_response_header(r, "Content-Type"), &c->text))
    c->text_done = 1;
  if (len)
    *len = c && c->text_done ? c->text.len : 0;
  return c && c->text_done ? c->text.p : "";
}

json_t *salvo_response_json(salvo_response *r, const char **errmsg) {
  if (!r) {
    if (errmsg)
      *errmsg = "no response";
    return NULL;
  }
  salvo__conv *c = conv_of(r);
  if (c && !c->json && !c->json_err) {
    json_error_t e;
    c->json = json_loadb(r->body.p ? r->body.p : "", r->body.len,
                         JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    if (!c->json)
      c->json_err =
          salvo__fmt("line %d, column %d: %s", e.line, e.column, e.text);
  }
  if (!(c && c->json) && errmsg)
    *errmsg = c && c->json_err ? c->json_err : "out of memory";
  return c ? c->json : NULL;
}

void *salvo_response_value(const salvo_response *r) {
  return r && r->conv ? r->conv->value : NULL;
}

void salvo__resp_finalize(salvo_response *r, const salvo__cfg *cfg) {
  if (r->error || r->status < 200 || r->status > 299 || r->streamed)
    return;
  const char *why;
  if (cfg->return_type == SALVO_RETURN_JSON && !salvo_response_json(r, &why)) {
    salvo__resp_set_error(r, SALVO_EPARSE,
                          salvo__fmt("body is not JSON: %s", why));
    return;
  }
  if (cfg->return_type == SALVO_RETURN_TEXT)
    salvo_response_text(r, NULL);
  if (!cfg->parse)
    return;
  why = NULL;
  void *v = cfg->parse(r, cfg->parse_arg, &why);
  if (why) {
    if (v && cfg->parse_free)
      cfg->parse_free(v);
    salvo__resp_set_error(r, SALVO_ECALLBACK,
                          salvo__fmt("parse callback: %s", why));
    return;
  }
  salvo__conv *c = conv_of(r);
  if (!c) {
    if (v && cfg->parse_free)
      cfg->parse_free(v);
    salvo__resp_set_error(r, SALVO_ENOMEM, NULL);
    return;
  }
  c->value = v;
  c->value_free = cfg->parse_free;
}

/* A body kept in memory reads from a cursor; a streamed one from its
 * stream. */
static long read_body(salvo_response *r, void *buf, size_t len, int wait) {
  if (!r || (!buf && len))
    return SALVO_EINVAL;
  if (r->stream)
    return salvo__stream_read(r->stream, buf, len, wait);
  if (r->error)
    return r->error;
  size_t n = r->body.len - r->read_pos;
  n = n < len ? n : len;
  if (n)
    memcpy(buf, r->body.p + r->read_pos, n);
  r->read_pos += n;
  return (long)n;
}

long salvo_response_read(salvo_response *r, void *buf, size_t len) {
  return read_body(r, buf, len, 1);
}

long salvo_response_read_nowait(salvo_response *r, void *buf, size_t len) {
  return read_body(r, buf, len, 0);
}

int salvo_response_read_fd(salvo_response *r) {
  if (!r || !r->stream) {
    errno = EINVAL;
    return -1;
  }
  return salvo__stream_fd(r->stream);
}

void salvo_response_close(salvo_response *r) {
  if (r && r->stream)
    salvo__stream_close(r->stream);
  else if (r)
    r->read_pos = r->body.len;
}

static void conv_free(salvo__conv *c) {
  if (!c)
    return;
  if (c->value && c->value_free)
    c->value_free(c->value);
  json_decref(c->json);
  free(c->json_err);
  salvo__buf_free(&c->text);
  free(c);
}

void salvo_response_free(salvo_response *r) {
  if (!r)
    return;
  /* A stream still being written: the I/O thread frees it all when its
   * transfer lets go. */
  if (r->stream && !salvo__stream_release(r->stream))
    return;
  /* Most responses have none of these: one test, not five calls. */
  if (r->conv || r->errmsg || r->hist) {
    conv_free(r->conv);
    free(r->errmsg);
    hist_free(r);
  }
  if ((char *)r->hdr_off != r->home)
    free(r->hdr_off);
  if (r->pool)
    salvo__pool_give(r->pool, r->body.p, r->body.cap);
  else if (r->body.p != r->home_body)
    salvo__buf_free(&r->body);
  if (r->hdrs.p != r->home_hdrs)
    salvo__buf_free(&r->hdrs);
  if (r->home && r->homes)
    salvo__homes_give(r->homes, r->home);
  else
    free(r->home);
  if (r->twin)
    salvo__twin_release(r->twin);
  else
    free(r);
}
