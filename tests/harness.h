/*
 * Test harness: real servers on 127.0.0.1, started on free ports and
 * stopped when the test process ends (even when it crashes: the servers
 * get SIGKILL when their parent dies).
 */
#ifndef SALVO_TEST_HARNESS_H
#define SALVO_TEST_HARNESS_H

#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

#include "salvo.h"

typedef struct th_server {
  pid_t pid;
  pid_t front_pid; /* th_h2(): tests/h2front.py, in front of faultd */
  int port;        /* plain HTTP (th_h2(): HTTP/2 too, by prior knowledge) */
  int tls_port;    /* nginx only: HTTPS with HTTP/2 */
  int mtls_port;   /* nginx only: the same, asking for a client certificate */
  int tls12_port;  /* nginx only: HTTPS with TLS 1.2 and no later */
  char dir[256];
} th_server;

/* Whether the suite runs over HTTP/2 (SALVO_HTTP_VERSION=2-prior-knowledge,
 * the native-h2 run): faultd is then reached through tests/h2front.py. */
int th_h2(void);
/* faultd on a free port; extra is one extra argument or NULL. Aborts the
 * test process when the server cannot start. With th_h2(), s->port is
 * tests/h2front.py's, which serves HTTP/2 streams by asking faultd and
 * relays any other connection to it byte for byte. */
void th_faultd_start(th_server *s, const char *extra);
/* faultd behind tests/h2front.py in every run, the front given option opt
 * (such as "--max-streams") set to val. */
void th_faultd_fronted(th_server *s, const char *opt, const char *val);
/* nginx with a CA and certificate made for this run in a temporary
 * directory: s->port plain, s->tls_port TLS + HTTP/2. Returns -1 (and the
 * caller skips) only when nginx is not installed. */
int th_nginx_start(th_server *s);
void th_server_stop(th_server *s);
/* Starts argv[0] (killed when the test process ends), which prints its
 * port on its first line as fmt says ("PORT %d"): its pid, *port set. */
pid_t th_spawn_port(char *const argv[], const char *fmt, int *port);

/* The suite's faultd, and cmocka group fixtures that start it (file
 * descriptors raised to their hard limit first) and stop it. */
extern th_server th_srv;
int th_faultd_setup(void **state);
int th_faultd_teardown(void **state);
/* The suite's nginx (th_nginx_start), and fixtures that start and stop
 * it; the setup fails the group when nginx is not installed. */
extern th_server th_ngx;
int th_nginx_setup(void **state);
int th_nginx_teardown(void **state);
/* A client made with cfg (NULL = defaults); fails the test when it cannot
 * be made. */
salvo_client *th_client(const salvo_config *cfg);
/* A parallel block on c (NULL: the default client); fails the test when
 * it cannot be opened. */
salvo_parallel *th_open(salvo_client *c);
/* One request (or one GET of url) in a block of its own: its response. */
salvo_response *th_fetch(salvo_client *c, const salvo_request *req);
salvo_response *th_fetch_url(salvo_client *c, const char *url);
/* salvo_request_init on each of n requests. */
void th_requests_init(salvo_request *reqs, size_t n);
/* Path of the CA certificate of an nginx server (in s->dir), and of the
 * other files tests/nginx_certs.sh made there. */
const char *th_ca_file(const th_server *s);
const char *th_tls_file(const th_server *s, const char *name);

/* "http://127.0.0.1:<port><path>" formatted into a static ring of buffers
 * (valid for the next 64 calls). */
const char *th_url(const th_server *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
const char *th_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A raw GET on the server's plain port, without libsalvo: the body, which
 * the caller frees, or NULL. */
char *th_raw_get(int port, const char *path);
/* faultd's /_stats (or /_reset) parsed; the caller json_decref's it. */
json_t *th_stats(const th_server *s);
json_t *th_reset(const th_server *s);
long th_stat(const th_server *s, const char *field);
/* How many requests faultd counted under key= (/flaky, /early). */
long th_key_count(const th_server *s, const char *key);
/* nginx stub_status "accepts": connections accepted so far. */
long th_nginx_accepts(const th_server *s);
/* faultd --log-starts: the most requests received within any window of
 * window_us microseconds, and in *n (when not NULL) how many there were. */
size_t th_busiest(const th_server *s, long window_us, size_t *n);

/* Polls faultd's /_stats until `field` equals want or max_s pass; returns
 * the last value seen. */
long th_wait_stat(const th_server *s, const char *field, long want,
                  double max_s);

/* A wall-clock bound, the last resort when no server record can show a
 * behaviour: `bound` must carry at least 3x slack over what an idle machine
 * measures, and a failure prints the measured value. Use after cmocka.h. */
#define TH_WITHIN(seconds, bound, what)                                        \
  do {                                                                         \
    double th_s_ = (seconds);                                                  \
    if (!(th_s_ < (bound)))                                                    \
      fail_msg("%s took %.3f s; the bound is %.3f s", (what), th_s_,           \
               (double)(bound));                                               \
  } while (0)

/* At the top of a test of HTTP/1.1's own bytes (faultd's /wire, framing,
 * a response no request asked for): in the native-h2 run, where
 * tests/h2front.py re-frames faultd's answers as HTTP/2, it is skipped, and
 * says so. test_h2 holds HTTP/2's framing. Use after cmocka.h. */
#define TH_HTTP1_ONLY()                                                        \
  do {                                                                         \
    if (th_h2()) {                                                             \
      print_message("HTTP/1.1 bytes: not run over HTTP/2\n");                  \
      skip();                                                                  \
    }                                                                          \
  } while (0)

/* Whether SALVO_TRANSPORT forces this transport ("native", "libcurl"). */
int th_transport_is(const char *name);

/* Waits, on the block's descriptor and not by sleeping, until p's
 * response is ready to collect or max_s seconds passed: what
 * salvo_pending_ready says at the end (1 ready). */
int th_wait_ready(salvo_parallel *b, salvo_pending p, double max_s);
/* A client for a whole suite, made by th_client_setup (which starts
 * faultd too) and freed by th_client_teardown: cmocka group fixtures. */
extern salvo_client *th_cl;
int th_client_setup(void **state);
int th_client_teardown(void **state);
/* A client that neither retries nor waits long (5 s): a request that
 * stalls on a dead pooled connection fails the test instead of passing
 * late. cfg may be NULL. */
salvo_client *th_strict_client(salvo_config *cfg);
/* A response's body as JSON (NULs allowed); fails the test when it is
 * not. th_echo_of also requires a 200: what faultd's /echo saw. */
json_t *th_body_json(salvo_response *r);
json_t *th_echo_of(salvo_response *r);
/* The string at j[a] (or j[a][b] when b is not NULL), or NULL. */
const char *th_jstr(json_t *j, const char *a, const char *b);
/* Lower-case hex of n bytes (malloc'd). */
char *th_hex_of(const void *p, size_t n);
/* Server-side times (ms) of the requests made with /flaky?key=K: up to
 * max into out; how many. */
size_t th_key_times(const char *key, long *out, size_t max);
double th_now(void);
void th_sleep_ms(int ms);
/* Raises the descriptor limit to its hard maximum. */
void th_raise_nofile(void);
/* A listener on ip:*port (0: any free port, set in *port) whose accept
 * queue is full: Linux drops the SYNs that follow (the LISTENOVERFLOWS
 * counter), so a connect to it neither succeeds nor fails, as with a
 * host that does not answer, on loopback. *fill keeps the connection
 * that fills the queue; close both when done. harness_net.c. */
int th_stalled_listener(const char *ip, int *port, int *fill);

#endif
