/* Clients: configuration, the default client, life cycle. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "transport.h"

static int dup_field(char **dst, const char *src) {
  if (!src)
    return 0;
  *dst = salvo__strdup(src);
  return *dst ? 0 : SALVO_ENOMEM;
}

static int dup_headers(char ***dst, const char *const *src) {
  size_t n = 0;
  while (src && src[n])
    n++;
  char **h = calloc(n + 1, sizeof(*h));
  if (!h)
    return SALVO_ENOMEM;
  *dst = h;
  for (size_t i = 0; i < n; i++)
    if (!(h[i] = salvo__strdup(src[i])))
      return SALVO_ENOMEM;
  return 0;
}

static const int default_retry_statuses[] = {408, 429, 500, 502, 503, 504, 0};

static int dup_statuses(int **dst, const int *src) {
  size_t n = 0;
  while (src[n])
    n++;
  int *p = calloc(n + 1, sizeof(*p));
  if (!p)
    return SALVO_ENOMEM;
  *dst = memcpy(p, src, n * sizeof(*p));
  return 0;
}

/* Why a configuration cannot be used, as a message naming the field, or
 * NULL when it can. NaN fails every comparison: `!(x >= 0)` rejects it
 * with the negatives. Every string that reaches the wire (or a file name)
 * is checked for CR and LF, which would let it add a header of its own. */
static char *config_problem(const salvo_config *in) {
  struct {
    const char *name, *value;
  } strs[] = {{"user_agent", in->user_agent},
              {"username", in->username},
              {"password", in->password},
              {"bearer_token", in->bearer_token},
              {"proxy", in->proxy},
              {"ca_file", in->ca_file},
              {"cookie_file", in->cookie_file}};
  for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
    if (salvo__ctl_in(strs[i].value))
      return salvo__fmt("%s contains CR or LF", strs[i].name);
  for (size_t i = 0; in->headers && in->headers[i]; i++) {
    const char *h = in->headers[i];
    size_t n = salvo__header_name_len(h);
    if (!n)
      return salvo__fmt("headers[%zu] \"%.100s\" is not \"Name: value\" "
                        "with a token name",
                        i, h);
    if (salvo__ctl_in(h))
      return salvo__fmt("header \"%.*s\" contains CR or LF", (int)n, h);
  }
  for (const int *s = in->no_status_retry ? NULL : in->retry_statuses; s && *s;
       s++)
    if (*s < 100 || *s > 999)
      return salvo__fmt("retry_statuses: %d is not an HTTP status", *s);
#define CHECK(cond, what)                                                      \
  if (cond)                                                                    \
  return salvo__fmt("%s", what)
  CHECK(in->concurrency < 0, "concurrency is negative");
  CHECK(in->per_host < 0, "per_host is negative");
  CHECK(in->max_redirects < 0, "max_redirects is negative");
  CHECK(in->http_version < SALVO_HTTP_AUTO ||
            in->http_version > SALVO_HTTP_2_PRIOR_KNOWLEDGE,
        "http_version is not one of enum salvo_http_version");
  CHECK(in->timeout != in->timeout, "timeout is NaN");
  CHECK(in->connect_timeout != in->connect_timeout, "connect_timeout is NaN");
  CHECK(in->deadline != in->deadline, "deadline is NaN");
  CHECK(in->queue_timeout != in->queue_timeout, "queue_timeout is NaN");
  CHECK(!(in->rate_limit >= 0), "rate_limit is negative or NaN");
  CHECK(!(in->per_host_rate >= 0), "per_host_rate is negative or NaN");
  CHECK(in->rate_burst < 0, "rate_burst is negative");
  CHECK(!(in->retry_base >= 0), "retry_base is negative or NaN");
  CHECK(!(in->retry_max_delay >= 0), "retry_max_delay is negative or NaN");
  CHECK(in->return_type < SALVO_RETURN_RESPONSE ||
            in->return_type > SALVO_RETURN_JSON,
        "return_type is not one of enum salvo_return_type");
#undef CHECK
  return NULL;
}

int salvo_config_check(const salvo_config *cfg, char *msg, size_t size) {
  static const salvo_config zero;
  char *why = config_problem(cfg ? cfg : &zero);
  if (msg && size)
    snprintf(msg, size, "%s", why ? why : "");
  free(why);
  return why ? SALVO_EINVAL : SALVO_OK;
}

int salvo__cfg_resolve(salvo__cfg *out, const salvo_config *in, char **msg) {
  static const salvo_config zero;
  if (!in)
    in = &zero;
  memset(out, 0, sizeof(*out));
  *msg = config_problem(in);
  if (*msg)
    return SALVO_EINVAL;
  out->concurrency =
      in->concurrency ? in->concurrency : SALVO__DEFAULT_CONCURRENCY;
  out->per_host = in->per_host;
  out->timeout_ms = salvo__seconds_ms(in->timeout, SALVO__DEFAULT_TIMEOUT_MS);
  out->connect_timeout_ms =
      salvo__seconds_ms(in->connect_timeout, SALVO__DEFAULT_CONNECT_TIMEOUT_MS);
  out->insecure = in->insecure != 0;
  out->follow_redirects = !in->no_redirects;
  out->max_redirects =
      in->max_redirects ? in->max_redirects : SALVO__DEFAULT_MAX_REDIRECTS;
  out->http_version = in->http_version;
  out->max_body = in->max_body ? in->max_body : SALVO__DEFAULT_MAX_BODY;
  out->cookies = !in->no_cookies;
  out->compression = !in->no_compression;
  out->rate_limit = in->rate_limit;
  out->per_host_rate = in->per_host_rate;
  out->rate_burst = in->rate_burst ? in->rate_burst : 1;
  out->max_retries = in->max_retries < 0 ? 0
                     : in->max_retries   ? in->max_retries
                                         : 3;
  out->retry_base_ns = salvo__seconds_ms(in->retry_base, 500) * 1000000;
  out->retry_max_delay_ns =
      salvo__seconds_ms(in->retry_max_delay, 30000) * 1000000;
  out->deadline_ms = salvo__seconds_ms(in->deadline, 0);
  out->queue_timeout_ms = salvo__seconds_ms(in->queue_timeout, 0);
  out->return_type = in->return_type;
  out->parse = in->parse;
  out->parse_free = in->parse_free;
  out->parse_arg = in->parse_arg;
  int err = dup_headers(&out->headers, in->headers);
  if (!err && !in->no_status_retry)
    err = dup_statuses(&out->retry_statuses, in->retry_statuses
                                                 ? in->retry_statuses
                                                 : default_retry_statuses);
  if (!err && !in->user_agent)
    err = dup_field(&out->user_agent, "salvo/" SALVO_VERSION);
  else if (!err && *in->user_agent)
    err = dup_field(&out->user_agent, in->user_agent);
  if (!err)
    err = dup_field(&out->username, in->username);
  if (!err)
    err = dup_field(&out->password, in->password);
  if (!err)
    err = dup_field(&out->bearer_token, in->bearer_token);
  if (!err)
    err = dup_field(&out->ca_file, in->ca_file);
  if (!err)
    err = dup_field(&out->proxy, in->proxy);
  if (!err && out->cookies)
    err = dup_field(&out->cookie_file, in->cookie_file);
  if (err) {
    salvo__cfg_free(out);
    return err;
  }
  const char *sized[] = {out->user_agent, out->username, out->password,
                         out->bearer_token};
  for (size_t i = 0; i < sizeof(sized) / sizeof(sized[0]); i++)
    out->header_bytes += sized[i] ? strlen(sized[i]) * 2 + 32 : 0;
  for (size_t i = 0; out->headers[i]; i++)
    out->header_bytes += strlen(out->headers[i]) + 2;
  return 0;
}

void salvo__cfg_free(salvo__cfg *c) {
  for (size_t i = 0; c->headers && c->headers[i]; i++)
    free(c->headers[i]);
  free(c->headers);
  free(c->user_agent);
  free(c->username);
  free(c->password);
  free(c->bearer_token);
  free(c->ca_file);
  free(c->proxy);
  free(c->cookie_file);
  free(c->retry_statuses);
  memset(c, 0, sizeof(*c));
}

int salvo_client_new(salvo_client **out, const salvo_config *cfg) {
  if (!out)
    return SALVO_EINVAL;
  *out = NULL;
  int err = salvo__transport_global_init();
  if (err)
    return err;
  salvo_client *c = calloc(1, sizeof(*c));
  if (!c)
    return SALVO_ENOMEM;
  char *msg;
  err = salvo__cfg_resolve(&c->cfg, cfg, &msg);
  free(msg); /* salvo_config_check gives it to those who ask */
  if (err) {
    free(c);
    return err;
  }
  pthread_mutex_init(&c->mtx, NULL);
  pthread_cond_init(&c->cmd_cond, NULL);
  c->pool = salvo__pool_new();
  err = c->pool ? salvo__engine_start(c) : SALVO_ENOMEM;
  if (err) {
    salvo__pool_release(c->pool);
    pthread_cond_destroy(&c->cmd_cond);
    pthread_mutex_destroy(&c->mtx);
    salvo__cfg_free(&c->cfg);
    free(c);
    return err;
  }
  *out = c;
  return SALVO_OK;
}

void salvo_client_free(salvo_client *c) {
  if (!c)
    return;
  for (;;) {
    pthread_mutex_lock(&c->mtx);
    salvo_batch *b = c->batches;
    pthread_mutex_unlock(&c->mtx);
    if (!b)
      break;
    salvo_batch_close(b);
  }
  salvo__engine_stop(c);
  salvo__pool_release(c->pool); /* responses may still hold it */
  pthread_cond_destroy(&c->cmd_cond);
  pthread_mutex_destroy(&c->mtx);
  salvo__cfg_free(&c->cfg);
  free(c);
}

int salvo_client_clear_cookies(salvo_client *c) {
  if (!c)
    return SALVO_EINVAL;
  salvo__engine_clear_cookies(c);
  return SALVO_OK;
}

/* The process default client: the only global state, created on first use
 * and kept until exit (its I/O thread sleeps when idle). */
static pthread_once_t default_once = PTHREAD_ONCE_INIT;
static salvo_client *default_client;

static void default_init(void) { salvo_client_new(&default_client, NULL); }

salvo_client *salvo__default_client(void) {
  pthread_once(&default_once, default_init);
  return default_client;
}
