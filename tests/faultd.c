/*
 * faultd - the fault-injection HTTP/1.1 server salvo's tests run against.
 *
 * Single-threaded, epoll, non-blocking; takes thousands of connections.
 * Listens on 127.0.0.1 (port from --port, 0 = any free one) and prints
 * "PORT <n>" on stdout once it accepts connections.
 *
 * Endpoints (any method unless said otherwise):
 *   /echo, /echo/...      200, JSON: method, path, query, target (as sent:
 *                         a whole URL when asked as a proxy), headers
 *                         (lower-case names, repeats joined with ", "),
 *                         body, body_len
 * A request whose target is a whole http:// URL (a proxy's request) is
 * served by that URL's path, so faultd doubles as a forward proxy.
 *   /status/N             status N, body "status N\n"
 *   /delay/MS             200 "ok\n" after MS milliseconds
 *   /bytes/N              N bytes with Content-Length, streamed
 *   /chunked/N            N bytes, chunked transfer encoding
 *   /endless              a chunked body that never ends
 *   /drip/N?interval=MS   Content-Length N, one byte every MS ms (default 10)
 *   /reset/N              claims 2N bytes, sends N, then resets (RST)
 *   /short/N              claims 2N bytes, sends N, then closes (FIN)
 *   /close                closes without answering
 *   /hang                 accepts and never answers
 *   /bad/status           malformed status line ("HTTP/1.1 2x0 OK")
 *   /bad/header           a header line without a colon
 *   /bad/length           Content-Length: abc
 *   /bad/big-header/N     a response header line of N bytes
 *   /garbage              bytes that are not HTTP at all
 *   /redirect/N           302 to /redirect/N-1; /redirect/0 is /echo
 *   /redirect-to?url=U&status=S   S (default 302) to U
 *   /cookies/set?n=v...   200 with one Set-Cookie per parameter
 *   /json/N               {"id":N,"name":"item N"}
 *   /notjson              text/plain that is not JSON
 *   /latin1               text in ISO-8859-1 with its charset declared
 *   /raw?hex=H&ct=T       the bytes spelled by hex H, Content-Type T
 *   /gzip                 "compressed hello\n", gzip-encoded
 *   /wire?hex=H           (or .../wire) the bytes spelled by hex H as the
 *                         whole response
 *                         (status line, headers, body), then a close; the
 *                         hex may come in an X-Wire header instead (for
 *                         responses larger than a request line takes)
 *   /early?key=K&status=S answers S (default 413) as soon as the request
 *                         head is in, before reading the body, counts the
 *                         request under K, then closes as nginx does:
 *                         shutdown for writing, the rest read and dropped
 *                         (counted in "drained") until the client closes;
 *                         with drain=0 it closes at once instead, with the
 *                         body unread, so that the client is reset
 *   /unsolicited?delay=MS 200 "ok\n", then MS ms later (0: in the same
 *                         write) a second, unasked-for response on the
 *                         idle connection (counted in "unsolicited"),
 *                         unless another request came first
 *   /flaky?key=K&fail=N&status=S&retry_after=R&mode=M
 *                         the first N requests with key K get status S
 *                         (default 503, with Retry-After: R if given), or
 *                         with mode=close are read and closed without an
 *                         answer (mode=reset: reset); the rest 200 "ok\n";
 *                         every request is counted per key
 * Any endpoint with close=1 in its query closes the connection after its
 * response without saying so (no Connection: close), as servers with a
 * keep-alive limit of one do.
 *   /_stats               counters as JSON (not counted themselves):
 *                         conns_open/peak/total, requests, inflight,
 *                         inflight_peak, unsolicited, drained,
 *                         hosts{host:{inflight,peak,requests}},
 *                         keys{K:count}, key_times{K:[ms since reset]},
 *                         starts[] (with --log-starts: for every request,
 *                         microseconds since the reset at which the kernel
 *                         received its first bytes, so that the server's own
 *                         delays do not bunch them)
 *   /_reset               zeroes peaks, totals, per-key counters
 *
 * A connection counts once it carries a request that is not /_stats or
 * /_reset; a request is "in flight" from its arrival until its response is
 * written or its connection closes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_INPUT (256u << 20)
#define MAX_HEAD (4u << 20) /* a request line and headers */
#define GEN_CHUNK 65536
#define MAX_WIRE (1u << 20) /* the largest /wire response */

typedef struct buf {
  char *p;
  size_t len, off, cap;
} buf;

typedef struct gauge {
  struct gauge *next;
  long cur, peak, total;
  long *times; /* per-key request times, ms since the last reset */
  size_t ntimes, cap;
  char name[];
} gauge;

enum { ST_READ, ST_BUSY, ST_DRAIN, ST_CLOSED };
enum { AFTER_KEEP, AFTER_CLOSE, AFTER_RESET, AFTER_DRAIN };

typedef struct conn {
  int fd;
  int state;
  int counted;  /* carries real (non-control) requests */
  int inflight; /* a request is being answered */
  gauge *host;
  buf in;
  buf out;
  uint64_t gen_left; /* body bytes still to generate */
  int gen_chunked;
  uint64_t drip_left;
  int drip_ms;
  int after; /* once the response is written */
  int hang;
  int64_t timer_at; /* ms; 0 = none */
  size_t heap_idx;  /* index + 1 in the timer heap */
  int64_t rx_us;    /* --log-starts: kernel time of the request's bytes */
  int spoof;        /* /unsolicited: its timer sends the unasked response */
  int64_t spoof_ms; /* how long after the response */
} conn;

static int epfd, lfd;
static char pattern[GEN_CHUNK];
static long conns_open, conns_peak, conns_total, requests, inflight,
    inflight_peak, unsolicited, drained;
static gauge *hosts, *keys;
static int log_starts;
static int64_t reset_ms;
static int64_t reset_rt_us; /* CLOCK_REALTIME, as kernel timestamps are */
static long *starts;
static size_t nstarts, cap_starts;
static conn **heap;
static size_t heap_len, heap_cap;

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t realtime_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void *xrealloc(void *p, size_t n) {
  p = realloc(p, n);
  if (!p) {
    fprintf(stderr, "faultd: out of memory\n");
    exit(1);
  }
  return p;
}

static void buf_add(buf *b, const void *p, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n + 1)
      cap *= 2;
    b->p = xrealloc(b->p, cap);
    b->cap = cap;
  }
  memcpy(b->p + b->len, p, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void buf_printf(buf *b, const char *fmt, ...) {
  char tmp[4096];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
  va_end(ap);
  if (n >= (int)sizeof(tmp)) {
    char *big = xrealloc(NULL, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    buf_add(b, big, (size_t)n);
    free(big);
  } else if (n > 0) {
    buf_add(b, tmp, (size_t)n);
  }
}

static void buf_consume(buf *b, size_t n) {
  memmove(b->p, b->p + n, b->len - n);
  b->len -= n;
}

static gauge *gauge_get(gauge **list, const char *name) {
  for (gauge *g = *list; g; g = g->next)
    if (!strcmp(g->name, name))
      return g;
  size_t n = strlen(name);
  gauge *g = calloc(1, sizeof(*g) + n + 1);
  if (!g)
    exit(1);
  memcpy(g->name, name, n + 1);
  g->next = *list;
  *list = g;
  return g;
}

/* ---- timers -------------------------------------------------------------- */

static void heap_swap(size_t i, size_t j) {
  conn *t = heap[i];
  heap[i] = heap[j];
  heap[j] = t;
  heap[i]->heap_idx = i + 1;
  heap[j]->heap_idx = j + 1;
}

static void heap_fix(size_t i) {
  while (i > 0 && heap[(i - 1) / 2]->timer_at > heap[i]->timer_at) {
    heap_swap(i, (i - 1) / 2);
    i = (i - 1) / 2;
  }
  for (;;) {
    size_t l = 2 * i + 1, m = i;
    if (l < heap_len && heap[l]->timer_at < heap[m]->timer_at)
      m = l;
    if (l + 1 < heap_len && heap[l + 1]->timer_at < heap[m]->timer_at)
      m = l + 1;
    if (m == i)
      return;
    heap_swap(i, m);
    i = m;
  }
}

static void timer_cancel(conn *c) {
  if (!c->heap_idx)
    return;
  size_t i = c->heap_idx - 1;
  c->heap_idx = 0;
  heap_len--;
  if (i != heap_len) {
    heap[i] = heap[heap_len];
    heap[i]->heap_idx = i + 1;
    heap_fix(i);
  }
}

static void timer_set(conn *c, int64_t at) {
  timer_cancel(c);
  if (heap_len == heap_cap) {
    heap_cap = heap_cap ? heap_cap * 2 : 256;
    heap = xrealloc(heap, heap_cap * sizeof(*heap));
  }
  c->timer_at = at;
  heap[heap_len++] = c;
  c->heap_idx = heap_len;
  heap_fix(heap_len - 1);
}

/* ---- connections -----------------------------------------------------------
 */

static void watch(conn *c, int out) {
  struct epoll_event ev = {
      .events = EPOLLIN | EPOLLRDHUP | (out ? EPOLLOUT : 0), .data.ptr = c};
  epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void end_inflight(conn *c) {
  if (!c->inflight)
    return;
  c->inflight = 0;
  inflight--;
  if (c->host)
    c->host->cur--;
}

static void conn_close(conn *c, int rst) {
  if (c->state == ST_CLOSED)
    return;
  if (rst) {
    struct linger lg = {1, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  }
  end_inflight(c);
  if (c->counted)
    conns_open--;
  timer_cancel(c);
  epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  c->state = ST_CLOSED;
  free(c->in.p);
  free(c->out.p);
  free(c);
}

static void handle_input(conn *c);

/* The response is fully written: what the endpoint wanted next. */
static void response_done(conn *c) {
  end_inflight(c);
  if (c->after == AFTER_DRAIN) {
    /* What nginx does after answering early: no more writes, and what
     * the client still sends is read and dropped, so that the answer is
     * not lost to a reset. */
    shutdown(c->fd, SHUT_WR);
    c->state = ST_DRAIN;
    drained += (long)c->in.len;
    c->in.len = 0;
    watch(c, 0);
    return;
  }
  if (c->after != AFTER_KEEP) {
    conn_close(c, c->after == AFTER_RESET);
    return;
  }
  c->state = ST_READ;
  c->out.len = c->out.off = 0;
  watch(c, 0);
  if (c->spoof == 1) {
    c->spoof = 2;
    timer_set(c, now_ms() + c->spoof_ms);
  }
  if (c->in.len)
    handle_input(c);
}

/* Writes what is buffered, refills from the generators, and finishes the
 * response when nothing is left. Returns 0 if c was freed. */
static int conn_flush(conn *c) {
  for (;;) {
    while (c->out.off < c->out.len) {
      ssize_t n = write(c->fd, c->out.p + c->out.off, c->out.len - c->out.off);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN) {
        watch(c, 1);
        return 1;
      }
      if (n <= 0) {
        conn_close(c, 0);
        return 0;
      }
      c->out.off += (size_t)n;
    }
    c->out.len = c->out.off = 0;
    if (c->gen_left) {
      size_t n = c->gen_left > GEN_CHUNK ? GEN_CHUNK : (size_t)c->gen_left;
      if (c->gen_chunked) {
        buf_printf(&c->out, "%zx\r\n", n);
        buf_add(&c->out, pattern, n);
        buf_add(&c->out, "\r\n", 2);
        c->gen_left -= n;
        if (!c->gen_left)
          buf_add(&c->out, "0\r\n\r\n", 5);
        continue;
      }
      /* Large bodies go straight from the pattern, no copy. */
      ssize_t w = write(c->fd, pattern, n);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0 && errno == EAGAIN) {
        watch(c, 1);
        return 1;
      }
      if (w <= 0) {
        conn_close(c, 0);
        return 0;
      }
      c->gen_left -= (uint64_t)w;
      continue;
    }
    if (c->drip_left) {
      watch(c, 0);
      timer_set(c, now_ms() + c->drip_ms);
      return 1;
    }
    if (c->hang)
      return 1;
    response_done(c);
    return 1;
  }
}

/* ---- requests ---------------------------------------------------------------
 */

typedef struct req {
  char method[32];
  char target[6144]; /* as sent: a path, or a whole URL through a proxy */
  char path[6144];
  char query[4096];
  const char *hdrs; /* the header block, lines separated by CRLF */
  size_t hdrs_len;
  const char *body;
  size_t body_len;
} req;

static int hexval(int c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static void url_decode(char *s) {
  char *d = s;
  for (; *s; s++) {
    if (*s == '%' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
      *d++ = (char)(hexval(s[1]) * 16 + hexval(s[2]));
      s += 2;
    } else if (*s == '+') {
      *d++ = ' ';
    } else {
      *d++ = *s;
    }
  }
  *d = '\0';
}

/* The decoded value of query parameter `name`, or NULL. */
static const char *qparam(const req *r, const char *name, char *out,
                          size_t outsz) {
  size_t n = strlen(name);
  const char *p = r->query;
  while (*p) {
    const char *end = strchr(p, '&');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len > n && !strncmp(p, name, n) && p[n] == '=') {
      size_t vl = len - n - 1 < outsz - 1 ? len - n - 1 : outsz - 1;
      memcpy(out, p + n + 1, vl);
      out[vl] = '\0';
      url_decode(out);
      return out;
    }
    p += len + (end ? 1 : 0);
  }
  return NULL;
}

/* Copies the value of request header `name` (case-insensitive). */
static const char *rheader(const req *r, const char *name, char *out,
                           size_t outsz) {
  size_t n = strlen(name);
  const char *p = r->hdrs, *end = r->hdrs + r->hdrs_len;
  while (p < end) {
    const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
    if (!eol)
      eol = end;
    if ((size_t)(eol - p) > n && !strncasecmp(p, name, n) && p[n] == ':') {
      const char *v = p + n + 1;
      while (v < eol && (*v == ' ' || *v == '\t'))
        v++;
      size_t vl = (size_t)(eol - v) < outsz - 1 ? (size_t)(eol - v) : outsz - 1;
      memcpy(out, v, vl);
      out[vl] = '\0';
      return out;
    }
    p = eol + 2;
  }
  return NULL;
}

static void json_str(buf *b, const char *s, size_t n) {
  buf_add(b, "\"", 1);
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (ch == '"' || ch == '\\') {
      char e[2] = {'\\', (char)ch};
      buf_add(b, e, 2);
    } else if (ch < 0x20 || ch == 0x7f) {
      buf_printf(b, "\\u%04x", ch);
    } else {
      buf_add(b, &s[i], 1);
    }
  }
  buf_add(b, "\"", 1);
}

static const char *reason(int status) {
  switch (status) {
  case 200:
    return "OK";
  case 201:
    return "Created";
  case 204:
    return "No Content";
  case 301:
    return "Moved Permanently";
  case 302:
    return "Found";
  case 303:
    return "See Other";
  case 307:
    return "Temporary Redirect";
  case 308:
    return "Permanent Redirect";
  case 400:
    return "Bad Request";
  case 404:
    return "Not Found";
  case 408:
    return "Request Timeout";
  case 429:
    return "Too Many Requests";
  case 500:
    return "Internal Server Error";
  case 502:
    return "Bad Gateway";
  case 503:
    return "Service Unavailable";
  case 504:
    return "Gateway Timeout";
  default:
    return "Status";
  }
}

/* Queues a whole response; extra is more header lines, each ending CRLF. */
static void respond(conn *c, int status, const char *ctype, const char *extra,
                    const char *body, size_t len) {
  buf_printf(&c->out,
             "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
             "\r\n",
             status, reason(status), ctype, len, extra ? extra : "");
  buf_add(&c->out, body, len);
}

static void respond_text(conn *c, int status, const char *text) {
  respond(c, status, "text/plain", NULL, text, strlen(text));
}

static void echo(conn *c, const req *r) {
  buf j = {0};
  buf_add(&j, "{\"method\":", 10);
  json_str(&j, r->method, strlen(r->method));
  buf_add(&j, ",\"path\":", 8);
  json_str(&j, r->path, strlen(r->path));
  buf_add(&j, ",\"query\":", 9);
  json_str(&j, r->query, strlen(r->query));
  buf_add(&j, ",\"target\":", 10);
  json_str(&j, r->target, strlen(r->target));
  buf_add(&j, ",\"headers\":{", 12);
  /* Repeated names are joined, as a proxy would fold them. */
  const char *p = r->hdrs, *end = r->hdrs + r->hdrs_len;
  char seen[8192] = "\n";
  int first = 1;
  while (p < end) {
    const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
    if (!eol)
      eol = end;
    const char *colon = memchr(p, ':', (size_t)(eol - p));
    if (colon && colon - p < 200) {
      char name[256];
      size_t nl = (size_t)(colon - p);
      for (size_t i = 0; i < nl; i++)
        name[i] = (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] + 32 : p[i]);
      name[nl] = '\0';
      char key[260];
      snprintf(key, sizeof(key), "\n%s\n", name);
      if (!strstr(seen, key)) {
        if (strlen(seen) + nl + 2 < sizeof(seen)) {
          strcat(seen, name);
          strcat(seen, "\n");
        }
        buf vals = {0};
        const char *q = p;
        while (q < end) {
          const char *qe = memmem(q, (size_t)(end - q), "\r\n", 2);
          if (!qe)
            qe = end;
          if ((size_t)(qe - q) > nl && !strncasecmp(q, name, nl) &&
              q[nl] == ':') {
            const char *v = q + nl + 1;
            while (v < qe && (*v == ' ' || *v == '\t'))
              v++;
            if (vals.len)
              buf_add(&vals, ", ", 2);
            buf_add(&vals, v, (size_t)(qe - v));
          }
          q = qe + 2;
        }
        if (!first)
          buf_add(&j, ",", 1);
        first = 0;
        json_str(&j, name, nl);
        buf_add(&j, ":", 1);
        json_str(&j, vals.p ? vals.p : "", vals.len);
        free(vals.p);
      }
    }
    p = eol + 2;
  }
  buf_add(&j, "},\"body\":", 9);
  json_str(&j, r->body, r->body_len);
  buf_printf(&j, ",\"body_len\":%zu}", r->body_len);
  respond(c, 200, "application/json", NULL, j.p, j.len);
  free(j.p);
}

static void stats(conn *c) {
  buf j = {0};
  buf_printf(&j,
             "{\"conns_open\":%ld,\"conns_peak\":%ld,\"conns_total\":%ld,"
             "\"requests\":%ld,\"inflight\":%ld,\"inflight_peak\":%ld,"
             "\"unsolicited\":%ld,\"drained\":%ld,\"hosts\":{",
             conns_open, conns_peak, conns_total, requests, inflight,
             inflight_peak, unsolicited, drained);
  for (gauge *g = hosts; g; g = g->next) {
    json_str(&j, g->name, strlen(g->name));
    buf_printf(&j, ":{\"inflight\":%ld,\"peak\":%ld,\"requests\":%ld}%s",
               g->cur, g->peak, g->total, g->next ? "," : "");
  }
  buf_add(&j, "},\"keys\":{", 10);
  for (gauge *g = keys; g; g = g->next) {
    json_str(&j, g->name, strlen(g->name));
    buf_printf(&j, ":%ld%s", g->total, g->next ? "," : "");
  }
  buf_add(&j, "},\"key_times\":{", 15);
  for (gauge *g = keys; g; g = g->next) {
    json_str(&j, g->name, strlen(g->name));
    buf_add(&j, ":[", 2);
    for (size_t i = 0; i < g->ntimes; i++)
      buf_printf(&j, "%s%ld", i ? "," : "", g->times[i]);
    buf_printf(&j, "]%s", g->next ? "," : "");
  }
  buf_add(&j, "},\"starts\":[", 12);
  for (size_t i = 0; i < nstarts; i++)
    buf_printf(&j, "%s%ld", i ? "," : "", starts[i]);
  buf_add(&j, "]}", 2);
  respond(c, 200, "application/json", NULL, j.p, j.len);
  free(j.p);
}

static void reset_stats(void) {
  conns_peak = conns_open;
  conns_total = conns_open;
  requests = 0;
  unsolicited = drained = 0;
  inflight_peak = inflight;
  for (gauge *g = hosts; g; g = g->next) {
    g->peak = g->cur;
    g->total = 0;
  }
  while (keys) {
    gauge *n = keys->next;
    free(keys->times);
    free(keys);
    keys = n;
  }
  nstarts = 0;
  reset_ms = now_ms();
  reset_rt_us = realtime_us();
}

/* Bookkeeping for a request that is not a control request. */
static void count_request(conn *c, const req *r) {
  char host[256];
  if (!c->counted) {
    c->counted = 1;
    conns_open++;
    conns_total++;
    if (conns_open > conns_peak)
      conns_peak = conns_open;
  }
  requests++;
  c->inflight = 1;
  if (++inflight > inflight_peak)
    inflight_peak = inflight;
  c->host =
      gauge_get(&hosts, rheader(r, "Host", host, sizeof(host)) ? host : "");
  c->host->total++;
  if (++c->host->cur > c->host->peak)
    c->host->peak = c->host->cur;
  if (log_starts) {
    if (nstarts == cap_starts) {
      cap_starts = cap_starts ? cap_starts * 2 : 1024;
      starts = xrealloc(starts, cap_starts * sizeof(*starts));
    }
    starts[nstarts++] =
        (long)((c->rx_us ? c->rx_us : realtime_us()) - reset_rt_us);
  }
  c->rx_us = 0; /* a pipelined request after it gets its own stamp */
}

static uint64_t num_after(const char *path, const char *prefix) {
  return strtoull(path + strlen(prefix), NULL, 10);
}

static int prefixed(const char *path, const char *prefix) {
  return !strncmp(path, prefix, strlen(prefix));
}

/* Counts a request under its key= (and the time it came); returns how
 * many the key has seen. */
static long count_key(const req *r) {
  char key[256];
  if (!qparam(r, "key", key, sizeof(key)))
    strcpy(key, "");
  gauge *g = gauge_get(&keys, key);
  g->total++;
  if (g->ntimes == g->cap) {
    g->cap = g->cap ? g->cap * 2 : 8;
    g->times = xrealloc(g->times, g->cap * sizeof(*g->times));
  }
  g->times[g->ntimes++] = (long)(now_ms() - reset_ms);
  return g->total;
}

/* The response /unsolicited sends when nobody asked. */
#define SPOOF "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nSPOOF"

static void route(conn *c, const req *r) {
  const char *p = r->path;
  char v[1024], extra[1200];
  c->after = AFTER_KEEP;
  if (!strcmp(p, "/_stats") || !strcmp(p, "/_reset")) {
    if (p[2] == 'r')
      reset_stats();
    stats(c);
    return;
  }
  count_request(c, r);
  size_t plen = strlen(p);
  int wire =
      !strcmp(p, "/wire") || (plen > 5 && !strcmp(p + plen - 5, "/wire"));
  if (!wire && (!strcmp(p, "/echo") || prefixed(p, "/echo/") ||
                !strcmp(p, "/redirect/0"))) {
    echo(c, r);
  } else if (prefixed(p, "/status/")) {
    int st = (int)num_after(p, "/status/");
    snprintf(v, sizeof(v), "status %d\n", st);
    respond_text(c, st < 100 || st > 999 ? 500 : st, v);
  } else if (prefixed(p, "/delay/")) {
    respond_text(c, 200, "ok\n");
    timer_set(c, now_ms() + (int64_t)num_after(p, "/delay/"));
  } else if (!strcmp(p, "/endless")) {
    buf_printf(&c->out, "HTTP/1.1 200 OK\r\nContent-Type: "
                        "application/octet-stream\r\nTransfer-Encoding: "
                        "chunked\r\n\r\n");
    c->gen_left = UINT64_MAX;
    c->gen_chunked = 1;
    c->after = AFTER_CLOSE;
  } else if (prefixed(p, "/bytes/") || prefixed(p, "/chunked/")) {
    int chunked = p[1] == 'c';
    uint64_t n = num_after(p, chunked ? "/chunked/" : "/bytes/");
    if (chunked)
      buf_printf(&c->out, "HTTP/1.1 200 OK\r\nContent-Type: "
                          "application/octet-stream\r\nTransfer-Encoding: "
                          "chunked\r\n\r\n");
    else
      buf_printf(&c->out,
                 "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream"
                 "\r\nContent-Length: %llu\r\n\r\n",
                 (unsigned long long)n);
    /* A HEAD gets the head alone (RFC 9110 9.3.2). */
    c->gen_left = strcmp(r->method, "HEAD") ? n : 0;
    c->gen_chunked = chunked;
    if (chunked && (!n || !c->gen_left))
      buf_add(&c->out, "0\r\n\r\n", 5);
  } else if (prefixed(p, "/drip/")) {
    uint64_t n = num_after(p, "/drip/");
    c->drip_ms = qparam(r, "interval", v, sizeof(v)) ? atoi(v) : 10;
    buf_printf(&c->out, "HTTP/1.1 200 OK\r\nContent-Length: %llu\r\n\r\n",
               (unsigned long long)n);
    c->drip_left = n;
  } else if (prefixed(p, "/reset/") || prefixed(p, "/short/")) {
    uint64_t n = num_after(p, "/reset/");
    buf_printf(&c->out, "HTTP/1.1 200 OK\r\nContent-Length: %llu\r\n\r\n",
               (unsigned long long)(2 * n));
    c->gen_left = n;
    c->after = p[1] == 'r' ? AFTER_RESET : AFTER_CLOSE;
  } else if (!strcmp(p, "/close")) {
    c->after = AFTER_CLOSE;
  } else if (!strcmp(p, "/hang")) {
    c->hang = 1;
  } else if (!strcmp(p, "/bad/status")) {
    buf_printf(&c->out, "HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\nok");
    c->after = AFTER_CLOSE;
  } else if (!strcmp(p, "/bad/header")) {
    buf_printf(&c->out, "HTTP/1.1 200 OK\r\nthis is not a header\r\n"
                        "Content-Length: 2\r\n\r\nok");
    c->after = AFTER_CLOSE;
  } else if (prefixed(p, "/bad/big-header/")) {
    uint64_t n = num_after(p, "/bad/big-header/");
    buf_printf(&c->out, "HTTP/1.1 200 OK\r\nX-Big: ");
    for (uint64_t i = 0; i < n && i < MAX_INPUT; i += GEN_CHUNK)
      buf_add(&c->out, pattern, n - i < GEN_CHUNK ? n - i : GEN_CHUNK);
    buf_printf(&c->out, "\r\nContent-Length: 2\r\n\r\nok");
    c->after = AFTER_CLOSE;
  } else if (!strcmp(p, "/bad/length")) {
    buf_printf(&c->out, "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\nok");
    c->after = AFTER_CLOSE;
  } else if (!strcmp(p, "/garbage")) {
    buf_printf(&c->out, "this is not HTTP at all\r\n\r\n");
    c->after = AFTER_CLOSE;
  } else if (prefixed(p, "/redirect/")) {
    snprintf(extra, sizeof(extra), "Location: /redirect/%llu\r\n",
             (unsigned long long)num_after(p, "/redirect/") - 1);
    respond(c, 302, "text/plain", extra, "", 0);
  } else if (!strcmp(p, "/redirect-to")) {
    int st = qparam(r, "status", v, sizeof(v)) ? atoi(v) : 302;
    snprintf(extra, sizeof(extra), "Location: %s\r\n",
             qparam(r, "url", v, sizeof(v)) ? v : "/echo");
    respond(c, st, "text/plain", extra, "", 0);
  } else if (!strcmp(p, "/cookies/set")) {
    buf hs = {0};
    char q[4096];
    snprintf(q, sizeof(q), "%s", r->query);
    for (char *tok = strtok(q, "&"); tok; tok = strtok(NULL, "&"))
      buf_printf(&hs, "Set-Cookie: %s; Path=/\r\n", tok);
    respond(c, 200, "text/plain", hs.p, "ok\n", 3);
    free(hs.p);
  } else if (prefixed(p, "/json/")) {
    unsigned long long id = (unsigned long long)num_after(p, "/json/");
    snprintf(v, sizeof(v), "{\"id\":%llu,\"name\":\"item %llu\"}", id, id);
    respond(c, 200, "application/json", NULL, v, strlen(v));
  } else if (!strcmp(p, "/notjson")) {
    respond(c, 200, "application/json", NULL, "{\"a\": 1,\n oops}", 15);
  } else if (!strcmp(p, "/latin1")) {
    static const char t[] = "caf\xe9 cr\xe8me br\xfbl\xe9"
                            "e\n";
    respond(c, 200, "text/plain; charset=ISO-8859-1", NULL, t, sizeof(t) - 1);
  } else if (!strcmp(p, "/gzip")) {
    /* gzip of "compressed hello\n", sent whatever was asked for. */
    static const char gz[] =
        "\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\x4b\xce\xcf\x2d\x28\x4a\x2d"
        "\x2e\x4e\x4d\x51\xc8\x48\xcd\xc9\xc9\xe7\x02\x00\x2b\x89\x93\x10\x11"
        "\x00\x00\x00";
    respond(c, 200, "text/plain", "Content-Encoding: gzip\r\n", gz,
            sizeof(gz) - 1);
  } else if (wire) {
    static char hex[2 * MAX_WIRE + 1];
    if (!qparam(r, "hex", hex, sizeof(hex)) &&
        !rheader(r, "X-Wire", hex, sizeof(hex)))
      hex[0] = '\0';
    for (const char *h = hex; h[0] && h[1]; h += 2) {
      char b = (char)(hexval(h[0]) * 16 + hexval(h[1]));
      buf_add(&c->out, &b, 1);
    }
    c->after = AFTER_CLOSE;
  } else if (!strcmp(p, "/raw")) {
    char hex[2048], ct[256], bytes[1024];
    size_t n = 0;
    if (!qparam(r, "hex", hex, sizeof(hex)))
      hex[0] = '\0';
    for (const char *h = hex; h[0] && h[1] && n < sizeof(bytes); h += 2)
      bytes[n++] = (char)(hexval(h[0]) * 16 + hexval(h[1]));
    respond(c, 200, qparam(r, "ct", ct, sizeof(ct)) ? ct : "text/plain", NULL,
            bytes, n);
  } else if (!strcmp(p, "/flaky")) {
    char st[16];
    long n = count_key(r);
    long nfail = qparam(r, "fail", v, sizeof(v)) ? atol(v) : 0;
    const char *mode = qparam(r, "mode", st, sizeof(st)) ? st : "";
    if (n <= nfail && (!strcmp(mode, "close") || !strcmp(mode, "reset"))) {
      c->after = mode[0] == 'c' ? AFTER_CLOSE : AFTER_RESET;
    } else if (n <= nfail) {
      int status = qparam(r, "status", st, sizeof(st)) ? atoi(st) : 503;
      extra[0] = '\0';
      if (qparam(r, "retry_after", v, sizeof(v)))
        snprintf(extra, sizeof(extra), "Retry-After: %s\r\n", v);
      respond(c, status, "text/plain", extra, "flaky\n", 6);
    } else {
      respond_text(c, 200, "ok\n");
    }
  } else if (!strcmp(p, "/early")) {
    count_key(r);
    int st = qparam(r, "status", v, sizeof(v)) ? atoi(v) : 413;
    respond(c, st < 100 || st > 999 ? 413 : st, "text/plain",
            "Connection: close\r\n", "refused early\n", 14);
    /* drain=0: closed at once, the body unread, which resets. */
    c->after = qparam(r, "drain", v, sizeof(v)) && !strcmp(v, "0")
                   ? AFTER_CLOSE
                   : AFTER_DRAIN;
  } else if (!strcmp(p, "/unsolicited")) {
    respond_text(c, 200, "ok\n");
    c->spoof_ms = qparam(r, "delay", v, sizeof(v)) ? atoi(v) : 0;
    if (c->spoof_ms <= 0) {
      buf_printf(&c->out, "%s", SPOOF);
      unsolicited++;
    } else {
      c->spoof = 1;
    }
  } else {
    respond_text(c, 404, "not found\n");
  }
  if (c->after == AFTER_KEEP && qparam(r, "close", v, sizeof(v)) &&
      !strcmp(v, "1"))
    c->after = AFTER_CLOSE;
}

/* Parses one request from c->in if complete; answers it. */
static void handle_input(conn *c) {
  char *end = memmem(c->in.p, c->in.len, "\r\n\r\n", 4);
  if (!end) {
    /* Heads arrive in pieces on a busy machine: wait for all of one up to
     * MAX_HEAD, above the largest salvo sends (SALVO__MAX_HEAD). */
    if (c->in.len > MAX_HEAD)
      conn_close(c, 0);
    return;
  }
  size_t head_len = (size_t)(end - c->in.p) + 4;
  req r;
  memset(&r, 0, sizeof(r));
  char target[6144];
  char *line_end = memmem(c->in.p, head_len, "\r\n", 2);
  *line_end = '\0';
  if (sscanf(c->in.p, "%31s %6143s", r.method, target) != 2) {
    conn_close(c, 0);
    return;
  }
  *line_end = '\r';
  snprintf(r.target, sizeof(r.target), "%s", target);
  /* A proxy's request names the whole URL: serve its path, as the origin
   * it names would. */
  char *path = target;
  if (!strncmp(path, "http://", 7)) {
    path = strchr(path + 7, '/');
    if (!path)
      path = "/";
  }
  char *q = strchr(path, '?');
  if (q) {
    *q = '\0';
    snprintf(r.query, sizeof(r.query), "%s", q + 1);
  }
  snprintf(r.path, sizeof(r.path), "%s", path);
  r.hdrs = line_end + 2;
  r.hdrs_len = head_len - (size_t)(r.hdrs - c->in.p) - 2;
  char v[64];
  size_t clen = rheader(&r, "Content-Length", v, sizeof(v))
                    ? (size_t)strtoull(v, NULL, 10)
                    : 0;
  if (clen > MAX_INPUT) {
    conn_close(c, 0);
    return;
  }
  /* /early answers before the body; the rest is drained after. */
  int early = !strcmp(r.path, "/early");
  if (c->in.len < head_len + clen && !early)
    return; /* wait for the body */
  if (early)
    clen = 0;
  if (c->spoof) { /* a request came first: nothing unasked is sent */
    timer_cancel(c);
    c->spoof = 0;
  }
  r.body = c->in.p + head_len;
  r.body_len = clen;
  c->state = ST_BUSY;
  c->gen_left = c->drip_left = 0;
  c->hang = 0;
  route(c, &r);
  buf_consume(&c->in, head_len + clen);
  if (!c->heap_idx)
    conn_flush(c);
}

/* read(), or with --log-starts recvmsg() keeping the kernel's receive
 * time of the first bytes of a request. */
static ssize_t read_stamped(conn *c, char *dst, size_t len) {
  if (!log_starts)
    return read(c->fd, dst, len);
  struct iovec iov = {dst, len};
  char ctl[CMSG_SPACE(sizeof(struct timespec))];
  struct msghdr m = {.msg_iov = &iov,
                     .msg_iovlen = 1,
                     .msg_control = ctl,
                     .msg_controllen = sizeof(ctl)};
  ssize_t n = recvmsg(c->fd, &m, 0);
  if (n > 0 && !c->in.len && !c->rx_us)
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm))
      if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
        struct timespec ts;
        memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
        c->rx_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
      }
  return n;
}

/* After an early answer: what the client still sends is dropped. */
static void on_drain(conn *c) {
  for (;;) {
    char tmp[65536];
    ssize_t n = read(c->fd, tmp, sizeof(tmp));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN)
      return;
    if (n <= 0) {
      conn_close(c, 0);
      return;
    }
    drained += n;
  }
}

static void on_readable(conn *c) {
  if (c->state == ST_DRAIN) {
    on_drain(c);
    return;
  }
  for (;;) {
    char tmp[65536];
    ssize_t n = read_stamped(c, tmp, sizeof(tmp));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN)
      break;
    if (n <= 0) {
      conn_close(c, 0);
      return;
    }
    if (c->in.len + (size_t)n > MAX_INPUT + 65536) {
      conn_close(c, 0);
      return;
    }
    buf_add(&c->in, tmp, (size_t)n);
  }
  if (c->state == ST_READ)
    handle_input(c);
}

static void on_timer(conn *c) {
  c->heap_idx = 0;
  if (c->spoof == 2) { /* the connection is idle: nobody asked for this */
    c->spoof = 0;
    buf_printf(&c->out, "%s", SPOOF);
    unsolicited++;
    conn_flush(c);
    return;
  }
  if (c->drip_left) {
    buf_add(&c->out, pattern, 1);
    c->drip_left--;
  }
  conn_flush(c);
}

static void on_accept(void) {
  for (;;) {
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED)
        continue;
      return; /* EAGAIN, or out of descriptors: try on the next event */
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (log_starts)
      setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
    conn *c = calloc(1, sizeof(*c));
    if (!c) {
      close(fd);
      continue;
    }
    c->fd = fd;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
  }
}

int main(int argc, char **argv) {
  int port = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--port") && i + 1 < argc)
      port = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--log-starts"))
      log_starts = 1;
    else {
      fprintf(stderr, "usage: faultd [--port N] [--log-starts]\n");
      return 2;
    }
  }
  signal(SIGPIPE, SIG_IGN);
  struct rlimit rl;
  if (!getrlimit(RLIMIT_NOFILE, &rl)) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  for (size_t i = 0; i < sizeof(pattern); i++)
    pattern[i] = (char)('a' + i % 26);
  reset_ms = now_ms();
  reset_rt_us = realtime_us();
  lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  struct sockaddr_in sa = {.sin_family = AF_INET,
                           .sin_port = htons((uint16_t)port),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t sl = sizeof(sa);
  if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 4096) ||
      getsockname(lfd, (struct sockaddr *)&sa, &sl)) {
    perror("faultd: bind/listen");
    return 1;
  }
  epfd = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &lev);
  printf("PORT %d\n", ntohs(sa.sin_port));
  fflush(stdout);

  struct epoll_event evs[1024];
  for (;;) {
    int timeout = -1;
    if (heap_len) {
      int64_t d = heap[0]->timer_at - now_ms();
      timeout = d < 0 ? 0 : (int)d;
    }
    int n = epoll_wait(epfd, evs, 1024, timeout);
    for (int i = 0; i < n; i++) {
      conn *c = evs[i].data.ptr;
      if (!c) {
        on_accept();
        continue;
      }
      if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        /* Closed connections are freed at once; events for the same fd in
         * this batch can only be this one, as each fd appears once. */
        on_readable(c);
        continue;
      }
      if (evs[i].events & EPOLLOUT)
        conn_flush(c);
    }
    int64_t now = now_ms();
    while (heap_len && heap[0]->timer_at <= now) {
      conn *c = heap[0];
      timer_cancel(c);
      on_timer(c);
    }
  }
}
