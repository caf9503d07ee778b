#define _GNU_SOURCE
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>

#include <cmocka.h>

#ifndef FAULTD_PATH
#error "FAULTD_PATH must be defined by the build"
#endif

static void die(const char *what) {
  fprintf(stderr, "harness: %s: %s\n", what, strerror(errno));
  exit(99);
}

double th_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void th_sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) && errno == EINTR)
    ;
}

void th_raise_nofile(void) {
  struct rlimit rl;
  if (!getrlimit(RLIMIT_NOFILE, &rl)) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

/* Every server this process started, killed at exit. */
static pid_t children[16];
static int nchildren;

static void kill_children(void) {
  for (int i = 0; i < nchildren; i++)
    if (children[i] > 0) {
      kill(children[i], SIGKILL);
      waitpid(children[i], NULL, 0);
    }
  nchildren = 0;
}

static void forget_child(pid_t pid) {
  for (int i = 0; i < nchildren; i++)
    if (children[i] == pid)
      children[i] = 0;
}

static pid_t spawn(char *const argv[], int out_fd) {
  static int registered;
  if (!registered) {
    atexit(kill_children);
    registered = 1;
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0)
    die("fork");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
      _exit(1);
    if (out_fd >= 0)
      dup2(out_fd, 1);
    execv(argv[0], argv);
    _exit(127);
  }
  if (nchildren < 16)
    children[nchildren++] = pid;
  return pid;
}

pid_t th_spawn_port(char *const argv[], const char *fmt, int *port) {
  int p[2];
  if (pipe(p))
    die("pipe");
  pid_t pid = spawn(argv, p[1]);
  close(p[1]);
  char line[64] = {0};
  size_t n = 0;
  while (n < sizeof(line) - 1) {
    ssize_t r = read(p[0], line + n, 1);
    if (r <= 0 || line[n] == '\n')
      break;
    n++;
  }
  close(p[0]);
  if (sscanf(line, fmt, port) != 1) {
    fprintf(stderr, "harness: %s did not start\n", argv[0]);
    exit(99);
  }
  return pid;
}

int th_h2(void) {
  const char *v = getenv("SALVO_HTTP_VERSION");
  return v && !strcmp(v, "2-prior-knowledge");
}

/* faultd (extra: one more argument, or NULL), behind tests/h2front.py
 * when fronted, with its option opt (or none) set to val. */
static void start(th_server *s, const char *extra, int fronted, const char *opt,
                  const char *val) {
  char *fd[] = {FAULTD_PATH, (char *)extra, NULL}, up[16];
  memset(s, 0, sizeof(*s));
  s->pid = th_spawn_port(fd, "PORT %d", &s->port);
  snprintf(up, sizeof(up), "%d", s->port);
  char *argv[] = {"/usr/bin/python3", H2FRONT_PY,  "--upstream", up,
                  (char *)opt,        (char *)val, NULL};
  if (fronted)
    s->front_pid = th_spawn_port(argv, "PORT %d", &s->port);
}

void th_faultd_start(th_server *s, const char *extra) {
  start(s, extra, th_h2(), NULL, NULL);
}

void th_faultd_fronted(th_server *s, const char *opt, const char *val) {
  start(s, NULL, 1, opt, val);
}

th_server th_srv;

int th_faultd_setup(void **state) {
  (void)state;
  th_raise_nofile();
  th_faultd_start(&th_srv, NULL);
  return 0;
}

th_server th_ngx;

int th_nginx_setup(void **state) {
  (void)state;
  th_raise_nofile();
  if (th_nginx_start(&th_ngx) != 0) {
    fprintf(stderr, "nginx is not installed: run make test, which "
                    "installs it\n");
    return -1;
  }
  return 0;
}

int th_nginx_teardown(void **state) {
  (void)state;
  th_server_stop(&th_ngx);
  return 0;
}

int th_faultd_teardown(void **state) {
  (void)state;
  th_server_stop(&th_srv);
  return 0;
}

salvo_client *th_client(const salvo_config *cfg) {
  salvo_client *c = NULL;
  assert_int_equal(salvo_client_new(&c, cfg), SALVO_OK);
  return c;
}

salvo_parallel *th_open(salvo_client *c) {
  salvo_parallel *b = NULL;
  assert_int_equal(salvo_parallel_open(c, &b), SALVO_OK);
  return b;
}

salvo_response *th_fetch(salvo_client *c, const salvo_request *req) {
  salvo_parallel *b = th_open(c);
  salvo_response *r = salvo_pending_response(b, salvo_submit(b, req));
  salvo_parallel_close(b);
  return r;
}

salvo_response *th_fetch_url(salvo_client *c, const char *url) {
  salvo_request req;
  salvo_request_init(&req);
  req.url = url;
  return th_fetch(c, &req);
}

void th_requests_init(salvo_request *reqs, size_t n) {
  for (size_t i = 0; i < n; i++)
    salvo_request_init(&reqs[i]);
}

/* Four different free ports: each probe stays bound until the last is
 * taken, as one at a time a port can come back (and two of nginx's
 * servers would share one listener, the first answering for both). */
static void free_ports(int ports[4]) {
  int fds[4];
  for (int i = 0; i < 4; i++) {
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    if ((fds[i] = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
        bind(fds[i], (struct sockaddr *)&sa, sizeof(sa)) ||
        getsockname(fds[i], (struct sockaddr *)&sa, &sl))
      die("free port");
    ports[i] = ntohs(sa.sin_port);
  }
  for (int i = 0; i < 4; i++)
    close(fds[i]);
}

static int can_connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET,
                           .sin_port = htons((uint16_t)port),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  int ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
  close(fd);
  return ok;
}

static void run_quiet(const char *cmd) {
  char *full = NULL;
  if (asprintf(&full, "( %s ) >/dev/null 2>&1", cmd) < 0)
    die("asprintf");
  if (system(full) != 0) {
    fprintf(stderr, "harness: failed: %s\n", cmd);
    exit(99);
  }
  free(full);
}

const char *th_ca_file(const th_server *s) {
  return th_fmt("%s/ca.pem", s->dir);
}

const char *th_tls_file(const th_server *s, const char *name) {
  return th_fmt("%s/%s", s->dir, name);
}

static const char *find_nginx(void) {
  static const char *paths[] = {"/usr/sbin/nginx", "/usr/local/sbin/nginx",
                                "/usr/bin/nginx"};
  for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
    if (access(paths[i], X_OK) == 0)
      return paths[i];
  return NULL;
}

/* Starts nginx on two fresh ports: 0 once both accept connections, -1
 * when nginx exited (a port was taken meanwhile). */
static int nginx_try(th_server *s, const char *nginx) {
  const char *d = s->dir;
  int p[4];
  free_ports(p);
  s->port = p[0], s->tls_port = p[1], s->mtls_port = p[2], s->tls12_port = p[3];
  FILE *f = fopen(th_fmt("%s/nginx.conf", d), "w");
  if (!f)
    die("nginx.conf");
  fprintf(f,
          "daemon off;\nmaster_process off;\nworker_processes 1;\n"
          "error_log %s/error.log warn;\npid %s/nginx.pid;\n"
          "worker_rlimit_nofile 20000;\n"
          "events { worker_connections 16000; }\n"
          "http {\n access_log off;\n keepalive_requests 1000000;\n"
          " ssl_protocols TLSv1.2 TLSv1.3;\n"
          " client_body_temp_path %s/tmp; proxy_temp_path %s/tmp;\n"
          " fastcgi_temp_path %s/tmp; uwsgi_temp_path %s/tmp;\n"
          " scgi_temp_path %s/tmp;\n"
          " server {\n  listen 127.0.0.1:%d;\n"
          "  location = /nginx_status { stub_status; }\n"
          "  location / { return 200 \"ok\\n\"; }\n }\n"
          " server {\n  listen 127.0.0.1:%d ssl http2;\n"
          "  ssl_certificate %s/server.pem;\n"
          "  ssl_certificate_key %s/server.key;\n"
          "  ssl_session_cache shared:SSL:1m;\n"
          "  location = /session { keepalive_timeout 0;\n"
          "   return 200 \"$ssl_session_reused\"; }\n"
          "  location = /proto { return 200 \"$ssl_protocol\"; }\n"
          "  location / { return 200 \"ok\\n\"; }\n }\n"
          /* mutual TLS: a certificate of the run's CA or a 400 */
          " server {\n  listen 127.0.0.1:%d ssl http2;\n"
          "  ssl_certificate %s/server.pem;\n"
          "  ssl_certificate_key %s/server.key;\n"
          "  ssl_verify_client on; ssl_client_certificate %s/ca.pem;\n"
          "  location / { return 200 \"$ssl_client_s_dn\"; }\n }\n"
          /* TLS 1.2 and no later */
          " server {\n  listen 127.0.0.1:%d ssl;\n  ssl_protocols TLSv1.2;\n"
          "  ssl_certificate %s/server.pem;\n"
          "  ssl_certificate_key %s/server.key;\n"
          "  location / { return 200 \"$ssl_protocol\"; }\n }\n}\n",
          d, d, d, d, d, d, d, s->port, s->tls_port, d, d, s->mtls_port, d, d,
          d, s->tls12_port, d, d);
  fclose(f);
  char conf[300];
  snprintf(conf, sizeof(conf), "%s/nginx.conf", d);
  char *argv[] = {(char *)nginx, "-p", s->dir, "-c", conf, NULL};
  int devnull = open("/dev/null", O_WRONLY);
  s->pid = spawn(argv, devnull);
  close(devnull);
  /* Generous: a busy machine may take seconds to start it. */
  for (int i = 0; i < 3000; i++) {
    if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
      forget_child(s->pid);
      s->pid = 0;
      return -1;
    }
    /* nginx writes its pid file once it holds its ports: before that,
     * whatever answers on them is not this nginx. */
    if (access(th_fmt("%s/nginx.pid", d), F_OK) == 0 && can_connect(s->port) &&
        can_connect(s->tls_port) && can_connect(s->mtls_port) &&
        can_connect(s->tls12_port))
      return 0;
    th_sleep_ms(10);
  }
  fprintf(stderr, "harness: nginx did not start (see %s/error.log)\n", d);
  exit(99);
}

int th_nginx_start(th_server *s) {
  memset(s, 0, sizeof(*s));
  const char *nginx = find_nginx();
  if (!nginx)
    return -1;
  snprintf(s->dir, sizeof(s->dir), "/tmp/salvo-nginx-XXXXXX");
  if (!mkdtemp(s->dir))
    die("mkdtemp");
  const char *d = s->dir;
  /* A CA made for this run, and the certificates it signs. */
  run_quiet(th_fmt("sh %s %s", NGINX_CERTS, d));
  mkdir(th_fmt("%s/tmp", d), 0700);
  /* Free ports are found by binding and closing, and another process may
   * take one before nginx binds it: nginx then exits, and it is started
   * again on new ports. */
  for (int attempt = 0; attempt < 8; attempt++) {
    if (nginx_try(s, nginx) == 0)
      return 0;
  }
  fprintf(stderr, "harness: nginx did not start (see %s/error.log)\n", d);
  exit(99);
}

void th_server_stop(th_server *s) {
  pid_t pids[] = {s->front_pid, s->pid};
  for (size_t i = 0; i < 2; i++)
    if (pids[i] > 0) {
      kill(pids[i], SIGKILL);
      waitpid(pids[i], NULL, 0);
      forget_child(pids[i]);
    }
  if (s->dir[0])
    run_quiet(th_fmt("rm -rf %s", s->dir));
  memset(s, 0, sizeof(*s));
}

static char ring[64][1024];
static int ring_i;

static const char *vfmt(const char *fmt, va_list ap) {
  char *b = ring[ring_i++ % 64];
  vsnprintf(b, sizeof(ring[0]), fmt, ap);
  return b;
}

const char *th_fmt(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const char *r = vfmt(fmt, ap);
  va_end(ap);
  return r;
}

const char *th_url(const th_server *s, const char *fmt, ...) {
  char path[900];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(path, sizeof(path), fmt, ap);
  va_end(ap);
  return th_fmt("http://127.0.0.1:%d%s", s->port, path);
}

static json_t *get_json(int port, const char *path) {
  char *body = th_raw_get(port, path);
  if (!body)
    return NULL;
  json_t *j = json_loads(body, 0, NULL);
  free(body);
  return j;
}

json_t *th_stats(const th_server *s) { return get_json(s->port, "/_stats"); }
json_t *th_reset(const th_server *s) { return get_json(s->port, "/_reset"); }

long th_stat(const th_server *s, const char *field) {
  json_t *j = th_stats(s);
  long v = j ? (long)json_integer_value(json_object_get(j, field)) : -1;
  json_decref(j);
  return v;
}

long th_key_count(const th_server *s, const char *key) {
  json_t *j = th_stats(s);
  long v = (long)json_integer_value(
      json_object_get(json_object_get(j, "keys"), key));
  json_decref(j);
  return v;
}

long th_nginx_accepts(const th_server *s) {
  char *body = th_raw_get(s->port, "/nginx_status");
  long accepts = -1;
  /* "Active connections: N \nserver accepts handled requests\n A H R \n" */
  char *p = body ? strstr(body, "requests\n") : NULL;
  if (p)
    accepts = strtol(p + 9, NULL, 10);
  free(body);
  return accepts;
}

long th_wait_stat(const th_server *s, const char *field, long want,
                  double max_s) {
  double t0 = th_now();
  long v;
  while ((v = th_stat(s, field)) != want && th_now() - t0 < max_s)
    th_sleep_ms(5);
  return v;
}

static int cmp_long(const void *a, const void *b) {
  long x = *(const long *)a, y = *(const long *)b;
  return (x > y) - (x < y);
}

size_t th_busiest(const th_server *s, long window_us, size_t *count) {
  /* Kernel receive times, in the order the server got to them: sorted. */
  json_t *st = th_stats(s);
  json_t *starts = json_object_get(st, "starts");
  size_t n = json_array_size(starts), worst = 0;
  long *t = calloc(n ? n : 1, sizeof(*t));
  for (size_t i = 0; i < n; i++)
    t[i] = (long)json_integer_value(json_array_get(starts, i));
  qsort(t, n, sizeof(*t), cmp_long);
  for (size_t i = 0, j = 0; i < n; i++) {
    while (t[j] <= t[i] - window_us)
      j++;
    if (i - j + 1 > worst)
      worst = i - j + 1;
  }
  free(t);
  json_decref(st);
  if (count)
    *count = n;
  return worst;
}

int th_transport_is(const char *name) {
  const char *t = getenv("SALVO_TRANSPORT");
  return t && !strcmp(t, name);
}

int th_wait_ready(salvo_parallel *b, salvo_pending p, double max_s) {
  int fd = -1, ready;
  assert_int_equal(salvo_parallel_fd(b, &fd), SALVO_OK);
  double t0 = th_now();
  while ((ready = salvo_pending_ready(b, p)) == 0 && th_now() - t0 < max_s) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    /* Readable for another's response: p's may follow at any moment, so
     * look again soon rather than spin on the level-triggered fd. */
    if (poll(&pfd, 1, 1000) > 0)
      poll(NULL, 0, 1);
  }
  return ready;
}

salvo_client *th_cl;

int th_client_setup(void **state) {
  th_faultd_setup(state);
  return salvo_client_new(&th_cl, NULL);
}

int th_client_teardown(void **state) {
  salvo_client_free(th_cl);
  th_cl = NULL;
  th_faultd_teardown(state);
  return 0;
}

salvo_client *th_strict_client(salvo_config *cfg) {
  salvo_config own;
  if (!cfg) {
    salvo_config_init(&own);
    cfg = &own;
  }
  cfg->max_retries = 0;
  cfg->timeout = 5;
  return th_client(cfg);
}

json_t *th_body_json(salvo_response *r) {
  size_t len;
  const char *b = salvo_response_body(r, &len);
  json_error_t e;
  json_t *j = json_loadb(b, len, JSON_ALLOW_NUL, &e);
  if (!j)
    fail_msg("body is not JSON (%s): %.200s", e.text, b);
  return j;
}

json_t *th_echo_of(salvo_response *r) {
  if (salvo_response_status(r) != 200)
    fail_msg("status %d, %s", salvo_response_status(r),
             salvo_response_errmsg(r));
  return th_body_json(r);
}

const char *th_jstr(json_t *j, const char *a, const char *b) {
  json_t *v = json_object_get(j, a);
  if (b)
    v = json_object_get(v, b);
  return json_string_value(v);
}

char *th_hex_of(const void *p, size_t n) {
  static const char d[] = "0123456789abcdef";
  char *h = malloc(2 * n + 1);
  for (size_t i = 0; i < n; i++) {
    h[2 * i] = d[((const unsigned char *)p)[i] >> 4];
    h[2 * i + 1] = d[((const unsigned char *)p)[i] & 15];
  }
  h[2 * n] = '\0';
  return h;
}

size_t th_key_times(const char *key, long *out, size_t max) {
  json_t *j = th_stats(&th_srv);
  json_t *a = json_object_get(json_object_get(j, "key_times"), key);
  size_t n = 0;
  for (; n < json_array_size(a) && n < max; n++)
    out[n] = (long)json_integer_value(json_array_get(a, n));
  json_decref(j);
  return n;
}
