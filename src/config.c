/*
 * Configuration: the defaults (their one home), checking, and the resolved
 * form the other modules read.
 *
 * A caller's salvo_config may be older (smaller) or newer (larger) than
 * this library's: its size field says which. Only the fields both know are
 * read; the others keep their defaults.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "field.h"
#include "servers.h"
#include "sized.h"

static const int default_retry_statuses[] = {408, 429, 500, 502, 503, 504, 0};

/* Every default of salvo_config: the header documents these values, and
 * the command's --help prints them from here. */
static const salvo_config defaults = {
    .size = sizeof(salvo_config),
    .concurrency = 100,
    .timeout = 30,
    .connect_timeout = 10,
    .max_redirects = 10,
    .max_body = (size_t)64 << 20,
    .rate_burst = 1,
    .max_retries = 3,
    .retry_statuses = default_retry_statuses,
    .retry_base = 0.5,
    .retry_max_delay = 30,
    .io_threads = 1,
    .max_idle = -1,
};

void salvo_config_init_size(salvo_config *cfg, size_t size) {
  salvo__sized_init(cfg, size, &defaults, sizeof(defaults));
}

/* The caller's configuration as this library's struct: the fields it knows
 * copied over the defaults. NULL in = all defaults; NULL out = size 0. */
static const salvo_config *complete(salvo_config *full,
                                    const salvo_config *in) {
  *full = defaults;
  if (!in)
    return full;
  if (in->size < sizeof(size_t))
    return NULL;
  salvo__sized_read(full, sizeof(*full), in, in->size);
  return full;
}

/* Seconds to milliseconds, literally: 0 stays 0 ("none"), anything above
 * is at least 1 ms. */
static int64_t ms_of(double s) {
  if (s <= 0)
    return 0;
  if (s > 1e9)
    s = 1e9;
  int64_t ms = (int64_t)(s * 1000 + 0.5);
  return ms ? ms : 1;
}

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
    if (!(h[i] = salvo__strndup(src[i], salvo__header_kept_len(src[i]))))
      return SALVO_ENOMEM;
  return 0;
}

/* The statuses of a 0-terminated list (checked: 100 to 999) as bits. */
static void status_bits(unsigned char *bits, const int *list) {
  for (; list && *list; list++)
    bits[*list / 8] |= (unsigned char)(1u << (*list % 8));
}

/* "HOST:PORT:ADDR" taken apart (into *pin when not NULL, allocated);
 * 0, or -1 when it is not one. */
static int parse_pin(const char *e, salvo__pin *pin) {
  const char *hend = *e == '[' ? strchr(e, ']') : strchr(e, ':');
  if (!hend || hend == e)
    return -1;
  if (*e == '[')
    hend++;
  if (*hend != ':')
    return -1;
  unsigned port = 0;
  const char *p = hend + 1;
  for (; *p >= '0' && *p <= '9' && port <= 65535; p++)
    port = port * 10 + (unsigned)(*p - '0');
  if (*p != ':' || p == hend + 1 || port == 0 || port > 65535)
    return -1;
  const char *a = p + 1;
  size_t an = strlen(a);
  if (an > 2 && a[0] == '[' && a[an - 1] == ']')
    a++, an -= 2;
  char addr[INET6_ADDRSTRLEN + 1];
  unsigned char bin[16];
  if (an >= sizeof(addr))
    return -1;
  memcpy(addr, a, an);
  addr[an] = '\0';
  if (inet_pton(AF_INET, addr, bin) != 1 && inet_pton(AF_INET6, addr, bin) != 1)
    return -1;
  for (const char *q = e; q < hend; q++)
    if ((unsigned char)*q <= 0x20 || *q == 0x7f)
      return -1;
  if (!pin)
    return 0;
  pin->port = port;
  pin->host = salvo__strndup(e, (size_t)(hend - e));
  pin->addr = salvo__strdup(addr);
  for (char *q = pin->host; q && *q; q++)
    if (*q >= 'A' && *q <= 'Z')
      *q = (char)(*q + 32);
  return 0;
}

static int dup_pins(salvo__cfg *out, const char *const *src) {
  size_t n = 0;
  while (src && src[n])
    n++;
  if (!n)
    return 0;
  if (!(out->pins = calloc(n, sizeof(*out->pins))))
    return SALVO_ENOMEM;
  for (; out->npins < n; out->npins++) {
    salvo__pin *p = &out->pins[out->npins];
    parse_pin(src[out->npins], p);
    if (!p->host || !p->addr)
      return SALVO_ENOMEM;
  }
  return 0;
}

const char *salvo__cfg_pinned(const salvo__cfg *c, const char *host,
                              size_t host_len, unsigned port) {
  for (size_t i = 0; i < c->npins; i++)
    if (c->pins[i].port == port && strlen(c->pins[i].host) == host_len &&
        !salvo__casecmp_n(c->pins[i].host, host, host_len))
      return c->pins[i].addr;
  return NULL;
}

/* A name's value in a table of them: SALVO_OK, or SALVO_EINVAL when the
 * name (which may be NULL) is not there. */
typedef struct named {
  const char *name;
  int value;
} named;

static int by_name(const named *t, size_t n, const char *name, int *out) {
  for (size_t i = 0; name && i < n; i++)
    if (!strcmp(name, t[i].name)) {
      *out = t[i].value;
      return SALVO_OK;
    }
  return SALVO_EINVAL;
}

/* SALVO_TRANSPORT in the environment forces a transport on clients that
 * leave the choice to salvo: the test suite runs once with each. */
static int transport_of(int asked) {
  int t;
  const char *env =
      asked == SALVO_TRANSPORT_AUTO ? getenv("SALVO_TRANSPORT") : NULL;
  return env && !salvo_transport_parse(env, &t) ? t : asked;
}

/* SALVO_HTTP_VERSION does the same for clients that leave the version to
 * salvo: the suites run a third time over HTTP/2 with prior knowledge. */
static int http_version_of(int asked) {
  static const named versions[] = {
      {"1.1", SALVO_HTTP_1_1},
      {"2", SALVO_HTTP_2},
      {"2-prior-knowledge", SALVO_HTTP_2_PRIOR_KNOWLEDGE}};
  int v = asked;
  if (asked == SALVO_HTTP_AUTO)
    by_name(versions, sizeof(versions) / sizeof(versions[0]),
            getenv("SALVO_HTTP_VERSION"), &v);
  return v;
}

/* Why a configuration cannot be used, as a message naming the field, or
 * NULL when it can. NaN fails every comparison: `!(x >= 0)` rejects it
 * with the negatives. Every string that reaches the wire (or a file name)
 * is checked for CR and LF, which would let it add a header of its own. */
static char *config_problem(const salvo_config *in) {
  if (!in)
    return salvo__fmt("salvo_config.size is 0: set the struct up with "
                      "salvo_config_init before changing it");
  /* in_field: sent in a field as it is, where a control but HTAB is
   * refused too (Basic credentials go in base64: any bytes). */
  struct {
    const char *name, *value;
    int in_field;
  } strs[] = {{"user_agent", in->user_agent, 1},
              {"bearer_token", in->bearer_token, 1},
              {"username", in->username, 0},
              {"password", in->password, 0},
              {"proxy", in->proxy, 0},
              {"ca_file", in->ca_file, 0},
              {"ca_path", in->ca_path, 0},
              {"client_cert", in->client_cert, 0},
              {"client_key", in->client_key, 0},
              {"client_key_password", in->client_key_password, 0},
              {"cookie_file", in->cookie_file, 0},
              {"dns_servers", in->dns_servers, 0}};
  for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
    if (salvo__ctl_in(strs[i].value))
      return salvo__fmt("%s contains CR or LF", strs[i].name);
    if (strs[i].in_field && strs[i].value &&
        salvo__field_ctl(strs[i].value, strlen(strs[i].value), 1))
      return salvo__fmt("%s %s", strs[i].name, SALVO__CTL_IN_VALUE);
  }
  for (size_t i = 0; in->headers && in->headers[i]; i++) {
    const char *h = in->headers[i];
    size_t n = salvo__header_name_len(h);
    if (!n)
      return salvo__fmt("headers[%zu] \"%.*s\" (what comes before its "
                        "colon; its value is not shown) is not \"Name: "
                        "value\" with a token name",
                        i, salvo__header_shown(h), h);
    const char *why = salvo__header_problem(h);
    if (why)
      return salvo__fmt("header \"%.*s\" %s", (int)n, h, why);
  }
  for (size_t i = 0; in->resolve && in->resolve[i]; i++)
    if (parse_pin(in->resolve[i], NULL))
      return salvo__fmt("resolve[%zu] \"%.100s\" is not HOST:PORT:ADDR (a "
                        "host name, a port from 1 to 65535, an IPv4 or IPv6 "
                        "address)",
                        i, in->resolve[i]);
  for (const int *s = in->no_status_retry ? NULL : in->retry_statuses; s && *s;
       s++)
    if (*s < 100 || *s > 999)
      return salvo__fmt("retry_statuses: %d is not an HTTP status", *s);
#define CHECK(cond, what)                                                      \
  if (cond)                                                                    \
  return salvo__fmt("%s", what)
  CHECK(in->concurrency < 1, "concurrency must be at least 1");
  CHECK(in->per_host < 0, "per_host is negative");
  CHECK(in->max_redirects < 0, "max_redirects is negative");
  CHECK(in->http_version < SALVO_HTTP_AUTO ||
            in->http_version > SALVO_HTTP_2_PRIOR_KNOWLEDGE,
        "http_version is not one of enum salvo_http_version");
  CHECK(in->io_threads < 1 || in->io_threads > 64,
        "io_threads must be from 1 to 64");
  CHECK(in->io_threads > 1 && in->cookie_file && !in->no_cookies,
        "a cookie_file needs io_threads 1 (each I/O thread keeps the "
        "cookies of its own origins)");
  CHECK(in->transport < SALVO_TRANSPORT_AUTO ||
            in->transport > SALVO_TRANSPORT_NATIVE,
        "transport is not one of enum salvo_transport");
  CHECK(!(in->timeout >= 0), "timeout is negative or NaN (0 = no limit)");
  CHECK(!(in->connect_timeout >= 0),
        "connect_timeout is negative or NaN (0 = no limit)");
  CHECK(!(in->deadline >= 0), "deadline is negative or NaN (0 = none)");
  CHECK(!(in->queue_timeout >= 0),
        "queue_timeout is negative or NaN (0 = no limit)");
  CHECK(!(in->rate_limit >= 0), "rate_limit is negative or NaN");
  CHECK(!(in->per_host_rate >= 0), "per_host_rate is negative or NaN");
  CHECK(in->rate_burst < 1, "rate_burst must be at least 1");
  CHECK(in->max_idle < -1,
        "max_idle is below -1 (-1 = the default, 0 = keep none)");
  CHECK(!(in->idle_timeout >= 0),
        "idle_timeout is negative or NaN (0 = no limit)");
  CHECK(in->auth_scheme != SALVO_AUTH_BASIC &&
            in->auth_scheme != SALVO_AUTH_DIGEST,
        "auth_scheme is not SALVO_AUTH_BASIC or SALVO_AUTH_DIGEST");
  CHECK(in->auth_scheme == SALVO_AUTH_DIGEST && !in->username,
        "auth_scheme is SALVO_AUTH_DIGEST without a username");
  CHECK(in->auth_scheme == SALVO_AUTH_DIGEST && in->bearer_token,
        "auth_scheme is SALVO_AUTH_DIGEST with a bearer_token");
  CHECK(in->max_retries < 0, "max_retries is negative (0 = none)");
  CHECK(!(in->retry_base >= 0), "retry_base is negative or NaN");
  CHECK(!(in->retry_max_delay >= 0), "retry_max_delay is negative or NaN");
  CHECK(in->tls_min_version != SALVO_TLS_DEFAULT &&
            in->tls_min_version != SALVO_TLS_1_2 &&
            in->tls_min_version != SALVO_TLS_1_3,
        "tls_min_version is not one of enum salvo_tls_version (12 or 13; "
        "TLS 1.0 and 1.1 are not offered)");
  char *servers = salvo__servers_problem(in->dns_servers);
  if (servers)
    return servers;
  /* libcurl here asks the system's resolver: what it serves cannot. */
  CHECK(in->dns_servers && in->proxy,
        "dns_servers is served by the native transport: it cannot go with a "
        "proxy (libcurl serves proxies, and asks the system's resolver)");
  CHECK(in->dns_servers &&
            transport_of(in->transport) == SALVO_TRANSPORT_LIBCURL,
        "dns_servers is served by the native transport: it cannot go with "
        "the libcurl transport (transport, or SALVO_TRANSPORT=libcurl in the "
        "environment)");
  CHECK(in->client_key && !in->client_cert,
        "client_key is set without client_cert");
  CHECK(in->client_key_password && !in->client_cert,
        "client_key_password is set without client_cert");
  CHECK(in->return_type < SALVO_RETURN_RESPONSE ||
            in->return_type > SALVO_RETURN_JSON,
        "return_type is not one of enum salvo_return_type");
#undef CHECK
  return NULL;
}

int salvo_config_check(const salvo_config *cfg, char *msg, size_t size) {
  salvo_config full;
  char *why = config_problem(complete(&full, cfg));
  if (msg && size)
    snprintf(msg, size, "%s", why ? why : "");
  free(why);
  return why ? SALVO_EINVAL : SALVO_OK;
}

int salvo_transport_parse(const char *name, int *out) {
  static const named transports[] = {{"auto", SALVO_TRANSPORT_AUTO},
                                     {"native", SALVO_TRANSPORT_NATIVE},
                                     {"libcurl", SALVO_TRANSPORT_LIBCURL}};
  return by_name(transports, sizeof(transports) / sizeof(transports[0]), name,
                 out);
}

/* RFC 4648 base64 of s[0..n), allocated. */
static char *base64(const char *s, size_t n) {
  static const char a[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  char *out = malloc(4 * ((n + 2) / 3) + 1), *d = out;
  if (!out)
    return NULL;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)(unsigned char)s[i] << 16;
    if (i + 1 < n)
      v |= (uint32_t)(unsigned char)s[i + 1] << 8;
    if (i + 2 < n)
      v |= (unsigned char)s[i + 2];
    *d++ = a[v >> 18];
    *d++ = a[(v >> 12) & 63];
    *d++ = i + 1 < n ? a[(v >> 6) & 63] : '=';
    *d++ = i + 2 < n ? a[v & 63] : '=';
  }
  *d = '\0';
  return out;
}

/* Overwrites a secret before it is freed. */
static void wipe(char *s) {
  if (s)
    explicit_bzero(s, strlen(s));
  free(s);
}

/* The Authorization field the credentials make, or NULL without any. */
static int make_auth(salvo__cfg *out) {
  if (out->username && out->auth_scheme == SALVO_AUTH_DIGEST) {
    return 0; /* answered per 401 (redirect.c's authentication hop) */
  } else if (out->username) {
    char *plain =
        salvo__fmt("%s:%s", out->username, out->password ? out->password : "");
    char *enc = plain ? base64(plain, strlen(plain)) : NULL;
    out->auth_header = enc ? salvo__fmt("Authorization: Basic %s", enc) : NULL;
    wipe(plain);
    wipe(enc);
  } else if (out->bearer_token) {
    out->auth_header =
        salvo__fmt("Authorization: Bearer %s", out->bearer_token);
  } else {
    return 0;
  }
  return out->auth_header ? 0 : SALVO_ENOMEM;
}

int salvo__cfg_resolve(salvo__cfg *out, const salvo_config *cfg, char **msg) {
  salvo_config full;
  const salvo_config *in = complete(&full, cfg);
  memset(out, 0, sizeof(*out));
  *msg = config_problem(in);
  if (*msg)
    return SALVO_EINVAL;
  out->concurrency = in->concurrency;
  out->per_host = in->per_host;
  out->timeout_ms = ms_of(in->timeout);
  out->connect_timeout_ms = ms_of(in->connect_timeout);
  out->insecure = in->insecure != 0;
  out->follow_redirects = !in->no_redirects;
  out->max_redirects = in->max_redirects;
  out->http_version = http_version_of(in->http_version);
  out->transport = transport_of(in->transport);
  out->io_threads = in->io_threads;
  out->max_body = in->max_body;
  out->cookies = !in->no_cookies;
  out->compression = !in->no_compression;
  out->rate_limit = in->rate_limit;
  out->per_host_rate = in->per_host_rate;
  out->rate_burst = in->rate_burst;
  out->max_retries = in->max_retries;
  out->retry_base_ns =
      (int64_t)(in->retry_base > 1e9 ? 1e18 : in->retry_base * 1e9);
  out->retry_max_delay_ns =
      (int64_t)(in->retry_max_delay > 1e9 ? 1e18 : in->retry_max_delay * 1e9);
  out->deadline_ms = ms_of(in->deadline);
  out->queue_timeout_ms = ms_of(in->queue_timeout);
  out->max_idle = in->max_idle >= 0     ? (size_t)in->max_idle
                  : in->concurrency < 8 ? 16
                                        : 2 * (size_t)in->concurrency;
  out->idle_timeout_ms = ms_of(in->idle_timeout);
  out->auth_scheme = in->auth_scheme;
  out->return_type = in->return_type;
  out->parse = in->parse;
  out->parse_free = in->parse_free;
  out->parse_arg = in->parse_arg;
  int err = dup_headers(&out->headers, in->headers);
  int said = -1;
  for (size_t i = 0; !err && out->headers[i]; i++)
    said = salvo__header_close(out->headers[i],
                               salvo__header_name_len(out->headers[i]), said);
  out->conn_close = said == 1;
  if (!in->no_status_retry)
    status_bits(out->retry_status, in->retry_statuses ? in->retry_statuses
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
    err = dup_field(&out->ca_path, in->ca_path);
  if (!err)
    err = dup_field(&out->client_cert, in->client_cert);
  if (!err)
    err = dup_field(&out->client_key, in->client_key);
  if (!err)
    err = dup_field(&out->client_key_password, in->client_key_password);
  if (!err)
    err = dup_field(&out->dns_servers, in->dns_servers);
  out->tls_min_version =
      in->tls_min_version ? in->tls_min_version : SALVO_TLS_1_2;
  if (!err)
    err = dup_field(&out->proxy, in->proxy);
  if (!err && out->cookies)
    err = dup_field(&out->cookie_file, in->cookie_file);
  if (!err)
    err = make_auth(out);
  if (!err)
    err = dup_pins(out, in->resolve);
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
  wipe(c->password);
  wipe(c->bearer_token);
  wipe(c->auth_header);
  free(c->ca_file);
  free(c->ca_path);
  free(c->client_cert);
  free(c->client_key);
  wipe(c->client_key_password);
  free(c->dns_servers);
  free(c->proxy);
  free(c->cookie_file);
  for (size_t i = 0; i < c->npins; i++) {
    free(c->pins[i].host);
    free(c->pins[i].addr);
  }
  free(c->pins);
  memset(c, 0, sizeof(*c));
}
