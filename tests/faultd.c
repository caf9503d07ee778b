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
 *   /digest?user=U&pass=P&algorithm=A&qop=Q&nonce=N&key=K
 *                         401 with a Digest challenge until answered for
 *                         U:P (faultd_digest.c says the parameters); then
 *                         200, JSON; each request counted under K
 *   /notjson              text/plain that is not JSON
 *   /latin1               text in ISO-8859-1 with its charset declared
 *   /raw?hex=H&ct=T       the bytes spelled by hex H, Content-Type T
 *   /gzip                 "compressed hello\n", gzip-encoded
 *   /wire?hex=H           (or .../wire) the bytes spelled by hex H as the
 *                         whole response (a key=K counted), then a close
 *                         (keep=1: the connection stays open; drain=1: as
 *                         /early's, a shutdown for writing then reads); the
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
 *                         pipelined (requests that came on a connection
 *                         before the answer to the one ahead was written),
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
#include "faultd.h"

int epfd, lfd;
char pattern[GEN_CHUNK];
long conns_open, conns_peak, conns_total, requests, inflight, inflight_peak,
    unsolicited, drained, pipelined;
gauge *hosts, *keys;
int log_starts;
int64_t reset_ms;
int64_t reset_rt_us; /* CLOCK_REALTIME, as kernel timestamps are */
long *starts;
size_t nstarts, cap_starts;
conn **heap;
size_t heap_len, heap_cap;

int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t realtime_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void *xrealloc(void *p, size_t n) {
  p = realloc(p, n);
  if (!p) {
    fprintf(stderr, "faultd: out of memory\n");
    exit(1);
  }
  return p;
}

void buf_add(buf *b, const void *p, size_t n) {
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

void buf_printf(buf *b, const char *fmt, ...) {
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

gauge *gauge_get(gauge **list, const char *name) {
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

void timer_set(conn *c, int64_t at) {
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

/* Whether a next request came on c before its answer was fully written:
 * the client sent it without waiting (HTTP/1.1 pipelining). A body left
 * unread (/early) has no request line. */
static int next_request_waits(const conn *c) {
  const char *eol = c->in.len ? memchr(c->in.p, '\n', c->in.len) : NULL;
  return eol && memmem(c->in.p, (size_t)(eol - c->in.p), " HTTP/1.", 8);
}

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
  if (next_request_waits(c))
    pipelined++;
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
