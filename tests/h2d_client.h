/* What the HTTP/2 suites (test_h2.c, test_h2_ends.c) share: tests/h2d.py
 * started for the group, URLs on it, a client speaking HTTP/2 with prior
 * knowledge, and the server's counters. */
#ifndef SALVO_TESTS_H2D_CLIENT_H
#define SALVO_TESTS_H2D_CLIENT_H

#include "harness.h"
#include "salvo.h"

static th_server h2d;

static inline int h2d_setup(void **state) {
  (void)state;
  char *argv[] = {"/usr/bin/python3", H2D_PY, NULL};
  h2d.pid = th_spawn_port(argv, "port %d", &h2d.port);
  return 0;
}

static inline int h2d_teardown(void **state) {
  (void)state;
  th_server_stop(&h2d);
  return 0;
}

static inline const char *at(const char *path) {
  return th_fmt("http://127.0.0.1:%d%s", h2d.port, path);
}

/* A POST of one byte: not idempotent. */
static inline salvo_request post_of(const char *path) {
  salvo_request req;
  salvo_request_init(&req);
  req.method = "POST";
  req.url = at(path);
  req.body = "x";
  req.body_len = 1;
  return req;
}

/* A client speaking HTTP version `version` (SALVO_HTTP_2: by upgrade),
 * without retries; an attempt failing after timeout seconds when it is
 * not 0 (a stall shows as ETIMEDOUT within a test's time). */
static inline salvo_client *h2_client_with(int version, int concurrency,
                                           double timeout) {
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.http_version = version;
  cfg.concurrency = concurrency;
  cfg.max_retries = 0;
  if (timeout)
    cfg.timeout = timeout;
  return th_client(&cfg);
}

static inline salvo_client *h2_client_as(int version, int concurrency) {
  return h2_client_with(version, concurrency, 0);
}

static inline salvo_client *h2_client(int concurrency) {
  return h2_client_as(SALVO_HTTP_2_PRIOR_KNOWLEDGE, concurrency);
}

static inline salvo_client *h2_client_within(int concurrency, double timeout) {
  return h2_client_with(SALVO_HTTP_2_PRIOR_KNOWLEDGE, concurrency, timeout);
}

static long stat_calls; /* each asks on a connection of its own */

/* The counters of the h2d on port: connections, or requests of a path,
 * or of a key. */
static inline long stat_on(int port, const char *what, const char *name) {
  stat_calls++;
  salvo_client *c = h2_client(1);
  salvo_response *r =
      th_fetch_url(c, th_fmt("http://127.0.0.1:%d/_stats", port));
  json_t *j = salvo_response_json(r, NULL);
  json_t *v = name ? json_object_get(json_object_get(j, what), name)
                   : json_object_get(j, what);
  long n = v ? (long)json_integer_value(v) : 0;
  salvo_response_free(r);
  salvo_client_free(c);
  return n;
}

static inline long stat_of(const char *what, const char *name) {
  return stat_on(h2d.port, what, name);
}

/* stat_of(what, name), asked every 10 ms until it reaches want or ms
 * have passed: h2d counts some things (resets, GOAWAYs, PINGs, bytes
 * sent) on its connection's thread, after the client is done. */
static inline long stat_reach(const char *what, const char *name, long want,
                              int ms) {
  long n = stat_of(what, name);
  for (int i = 0; i < ms / 10 && n < want; i++) {
    th_sleep_ms(10);
    n = stat_of(what, name);
  }
  return n;
}

#endif /* SALVO_TESTS_H2D_CLIENT_H */
