/*
 * The configuration as the other modules read it: salvo_config checked,
 * with its strings copied and its values in the units the code uses.
 * config.c owns it, and the defaults.
 */
#ifndef SALVO_CONFIG_H
#define SALVO_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "salvo.h"

/* The request line and headers together, in bytes: libcurl refuses (as
 * "out of memory") a request head over 1 MiB, so salvo refuses it first,
 * with a message, at submission. */
#define SALVO__MAX_HEAD 1000000

/* A name pinned to an address (salvo_config.resolve). */
typedef struct salvo__pin {
  char *host; /* lower case, an IPv6 literal in brackets */
  unsigned port;
  char *addr; /* numeric, without brackets */
} salvo__pin;

#define SALVO__STATUS_BITS 1000

/* The client configuration with defaults applied and strings owned. */
typedef struct salvo__cfg {
  int concurrency;
  int per_host;
  int64_t timeout_ms;         /* 0 = none */
  int64_t connect_timeout_ms; /* 0 = none */
  char **headers;             /* NULL-terminated, owned */
  size_t header_bytes;        /* headers, user agent and credentials */
  int conn_close;             /* headers say "Connection: close" */
  char *user_agent;           /* NULL = send none */
  char *username;
  char *password;
  char *bearer_token;
  /* "Authorization: Basic ..." or "... Bearer ..." (no CRLF) from the
   * credentials above, made once; NULL without credentials. Both
   * transports send it to the request's own origin only (redirect.h). */
  char *auth_header;
  int insecure;
  char *ca_file;
  char *ca_path;
  char *client_cert;
  char *client_key;          /* NULL = in client_cert */
  char *client_key_password; /* a secret: wiped when freed */
  int tls_min_version;       /* 12 or 13 (enum salvo_tls_version) */
  char *dns_servers;         /* "ADDR[:PORT],...", checked; NULL = system */
  int follow_redirects;
  int max_redirects;
  int http_version;
  int transport;    /* enum salvo_transport, the environment's applied */
  salvo__pin *pins; /* salvo_config.resolve, parsed */
  size_t npins;
  int io_threads; /* engines of the client, >= 1 */
  char *proxy;
  size_t max_body;
  int compression;
  int cookies;
  char *cookie_file;
  double rate_limit;    /* attempts per second, 0 = none */
  double per_host_rate; /* the same per origin, 0 = none */
  double rate_burst;    /* bucket size, >= 1 */
  int max_retries;      /* >= 0 */
  /* Bit s (100 to 999) set: status s is retried. A bit a status, where
   * walking the list cost 42 instructions for every response. */
  unsigned char retry_status[SALVO__STATUS_BITS / 8];
  int64_t retry_base_ns;
  int64_t retry_max_delay_ns;
  int64_t deadline_ms;      /* 0 = none */
  int64_t queue_timeout_ms; /* 0 = none */
  size_t max_idle;          /* idle connections kept, the default applied */
  int64_t idle_timeout_ms;  /* 0 = none */
  int auth_scheme;          /* enum salvo_auth_scheme */
  int return_type;
  salvo_parse_fn parse;
  void (*parse_free)(void *value);
  void *parse_arg;
} salvo__cfg;

/* The configuration with defaults applied and strings copied; on
 * SALVO_EINVAL, *msg names the field (allocated; NULL when out of
 * memory). */
int salvo__cfg_resolve(salvo__cfg *out, const salvo_config *in, char **msg);
void salvo__cfg_free(salvo__cfg *c);
/* The address pinned for host (host_len bytes, any case) and port, or
 * NULL. */
const char *salvo__cfg_pinned(const salvo__cfg *c, const char *host,
                              size_t host_len, unsigned port);

#endif /* SALVO_CONFIG_H */
