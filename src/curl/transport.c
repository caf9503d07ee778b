/*
 * The libcurl transport: the multi handles, driven with
 * curl_multi_socket_action on the client's epoll descriptor, and the end
 * of each transfer (a redirect to follow, a re-send on a new connection,
 * or the attempt's report).
 *
 * There are two multi handles. libcurl 7.88 opens a new connection for
 * nearly every transfer that finds the HTTP/2 connections of its origin at
 * the server's stream limit (a connection still being set up does not
 * count as one to wait for), so a burst of 256 requests to a server that
 * allows 128 streams could open dozens of TLS connections. Origins that
 * multiplex therefore go through a multi handle that caps connections per
 * host (CURLMOPT_MAX_HOST_CONNECTIONS), where extra streams wait inside
 * libcurl; HTTP/1.1 origins, which need one connection per request in
 * flight, go through one without that cap. Which is which is learnt from
 * ALPN when an origin's first TLS handshake completes (origin.c).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "../buf.h"
#include "../clock.h"
#include "internal.h"

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void) {
  global_rc = curl_global_init(CURL_GLOBAL_ALL);
  if (global_rc == CURLE_OK && salvo__curl_tls_init())
    global_rc = CURLE_FAILED_INIT;
}

static int global_init_once(void) {
  pthread_once(&global_once, global_init);
  return global_rc == CURLE_OK ? 0 : SALVO_EINTERNAL;
}

/* ---- libcurl's sockets and timers --------------------------------------- */

/* Sockets are tagged with their multi handle in the epoll data. */
static int on_socket(CURL *e, curl_socket_t s, int what, void *userp,
                     void *sockp) {
  salvo__curl_multi *mh = userp;
  int epfd = mh->t->epfd;
  (void)e;
  if (!sockp && what != CURL_POLL_REMOVE)
    salvo__curl_socket_seen(mh->t, s);
  struct epoll_event ev = {.data.u64 = mh->t->tag_base |
                                       (uint64_t)mh->idx << 32 | (uint32_t)s};
  if (what == CURL_POLL_REMOVE) {
    epoll_ctl(epfd, EPOLL_CTL_DEL, s, &ev);
    curl_multi_assign(mh->m, s, NULL);
    return 0;
  }
  ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0u) |
              ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
  int op = sockp ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  if (epoll_ctl(epfd, op, s, &ev) != 0)
    epoll_ctl(epfd, op == EPOLL_CTL_ADD ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s,
              &ev);
  if (!sockp)
    curl_multi_assign(mh->m, s, mh);
  return 0;
}

static int on_timer(CURLM *m, long ms, void *userp) {
  salvo__curl_multi *mh = userp;
  (void)m;
  mh->deadline =
      ms < 0 ? -1 : salvo__clock_ns(mh->t->ev.clock) + (int64_t)ms * 1000000;
  return 0;
}

/* ---- the seam -------------------------------------------------------------
 */

static void curl_destroy(salvo__transport *t);

static int curl_create(salvo__transport **out, const salvo__cfg *cfg, int epfd,
                       uint64_t tag_base, const salvo__transport_events *ev) {
  salvo__transport *t = calloc(1, sizeof(*t));
  if (!t)
    return SALVO_ENOMEM;
  t->cfg = cfg;
  t->ev = *ev;
  t->tag_base = tag_base;
  t->epfd = epfd;
  salvo__list_init(&t->reading);
  t->read_wake = -1;
  t->share = curl_share_init();
  /* libcurl before 8.1.0 keeps a pointer to a handle's last stored
   * header past the transfer that freed it (curl issue 11101): the
   * handle's next response whose first field line starts with whitespace
   * is unfolded onto freed memory, so a hostile server could crash the
   * process. There every hop gets a handle of its own. */
  t->fresh_handles = curl_version_info(CURLVERSION_NOW)->version_num < 0x080100;
  t->h2c_alone = curl_version_info(CURLVERSION_NOW)->version_num < 0x080000;
  t->ports = calloc(65536, sizeof(*t->ports)); /* pages touched as used */
  if (!t->share || !t->ports || salvo__curl_base_headers(t) ||
      salvo__curl_pins(t))
    goto oom;
  /* libcurl's cache bound counts busy connections too: one for every
   * slot, and max_idle more (curl's default is 4 per handle added). */
  long conc = cfg->concurrency;
  long maxconn =
      conc + (long)(cfg->max_idle < 1000000 ? cfg->max_idle : 1000000);
  CURLMcode mrc = CURLM_OK;
#define MSET(m, opt, val)                                                      \
  if (mrc == CURLM_OK)                                                         \
  mrc = curl_multi_setopt(m, opt, val)
  for (uint32_t i = 0; i < SALVO__NMULTI; i++) {
    salvo__curl_multi *mh = &t->mh[i];
    mh->t = t;
    mh->idx = i;
    mh->deadline = -1;
    if (!(mh->m = curl_multi_init()))
      goto oom;
    MSET(mh->m, CURLMOPT_SOCKETFUNCTION, on_socket);
    MSET(mh->m, CURLMOPT_SOCKETDATA, mh);
    MSET(mh->m, CURLMOPT_TIMERFUNCTION, on_timer);
    MSET(mh->m, CURLMOPT_TIMERDATA, mh);
    MSET(mh->m, CURLMOPT_MAXCONNECTS, maxconn);
    /* libcurl's default of 100 streams per HTTP/2 connection would make it
     * open a new connection for nearly every transfer beyond 100. */
    MSET(mh->m, CURLMOPT_MAX_CONCURRENT_STREAMS, conc);
  }
  /* HTTP/1.1 origins' multi never shares a connection between transfers:
   * libcurl 7.88 would, on an HTTP/1.1 connection still waiting for its
   * answer, once a server sent one "HTTP/2" status line (it takes the
   * server for one that multiplexes), and answers would reach the wrong
   * requests. */
  MSET(t->mh[SALVO__MULTI_H1].m, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING);
  /* Enough connections per multiplexing origin for every slot at 100
   * streams each, the smallest limit servers commonly set. */
  MSET(t->mh[SALVO__MULTI_MUX].m, CURLMOPT_MAX_HOST_CONNECTIONS,
       (conc + 99) / 100);
#undef MSET
  if (mrc != CURLM_OK ||
      curl_share_setopt(t->share, CURLSHOPT_SHARE,
                        CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK) {
    curl_destroy(t);
    return SALVO_EINTERNAL;
  }
  *out = t;
  return 0;
oom:
  curl_destroy(t);
  return SALVO_ENOMEM;
}

static void curl_destroy(salvo__transport *t) {
  if (!t)
    return;
  salvo__curl_origins_free(t);
  for (salvo__curl_xfer *x = t->free_list, *next; x; x = next) {
    next = x->next_free;
    curl_easy_cleanup(x->easy);
    salvo__buf_free(&x->pend);
    salvo__buf_free(&x->held);
    free(x);
  }
  /* Running transfers were aborted by the engine before this. */
  for (int i = 0; i < SALVO__NMULTI; i++)
    curl_multi_cleanup(t->mh[i].m);
  curl_share_cleanup(t->share);
  curl_slist_free_all(t->base_hdrs);
  curl_slist_free_all(t->pins);
  free(t->ports);
  free(t);
}

static int curl_start(salvo__transport *t, salvo__req *r, void **xfer,
                      char **msg) {
  salvo__curl_xfer *x = salvo__curl_xfer_get(t);
  *msg = NULL;
  if (!x)
    return SALVO_ENOMEM;
  x->req = r;
  x->t0 = salvo__clock_ns(t->ev.clock);
  x->tfirst = 0;
  x->sent = x->resend_refused = x->fresh = x->conn_refused = 0;
  x->too_many = 0;
  salvo__hop_start(&x->hop, r);
  if (t->ev.auth)
    salvo__auth_start(&x->hop, r, t->cfg, t->ev.auth);
  int err = salvo__curl_hop_go(t, x, msg);
  if (err) {
    if (x->learning)
      salvo__curl_origin_learnt(t, r, 0);
    salvo__curl_xfer_put(t, x);
    return err;
  }
  *xfer = x;
  return 0;
}

static void curl_abort(salvo__transport *t, void *xfer) {
  salvo__curl_xfer *x = xfer;
  curl_multi_remove_handle(x->mh->m, x->easy);
  salvo__curl_xfer_put(t, x);
}

static void curl_resume(salvo__transport *t, void *xfer) {
  salvo__curl_xfer *x = xfer;
  if (!x->paused)
    return;
  x->paused = 0;
  if (x->read_timeout) /* it read: a whole read timeout from now */
    salvo__curl_read_from_now(t, x, salvo__clock_ns(t->ev.clock));
  if (salvo__curl_resume(x) == SALVO__EV_HELD) {
    x->paused = 1;
    return;
  }
  /* Offers the paused chunk again (taken already, or not), or stops the
   * transfer when the reader's side failed; may pause again at once. */
  curl_easy_pause(x->easy, CURLPAUSE_CONT);
}

static void curl_on_socket(salvo__transport *t, uint64_t tag, uint32_t events) {
  int flags = 0, running;
  tag &= ~t->tag_base;
  salvo__curl_multi *mh = &t->mh[tag >> 32 < SALVO__NMULTI ? tag >> 32 : 0];
  if (events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP))
    flags |= CURL_CSELECT_IN;
  if (events & EPOLLOUT)
    flags |= CURL_CSELECT_OUT;
  if (events & EPOLLERR)
    flags |= CURL_CSELECT_ERR;
  curl_multi_socket_action(mh->m, (curl_socket_t)(uint32_t)tag, flags,
                           &running);
}

static int64_t curl_deadline(const salvo__transport *t) {
  int64_t d = t->read_wake;
  for (int i = 0; i < SALVO__NMULTI; i++)
    if (t->mh[i].deadline >= 0 && (d < 0 || t->mh[i].deadline < d))
      d = t->mh[i].deadline;
  return d;
}

static void report(salvo__transport *t, salvo__curl_xfer *x, int err,
                   char *msg);

/* Ends the streamed bodies no piece of which came within their read
 * timeout (and whose reader is not full), and finds when the next may. */
static void read_timeouts(salvo__transport *t, int64_t now) {
  salvo__list *n = t->reading.next, *next;
  t->read_wake = -1;
  for (; n != &t->reading; n = next) {
    next = n->next;
    salvo__curl_xfer *x = salvo__container_of(n, salvo__curl_xfer, in_reading);
    int64_t at = x->tbody + x->read_timeout;
    if (x->paused) /* resuming starts it again */
      continue;
    if (at > now) {
      if (t->read_wake < 0 || at < t->read_wake)
        t->read_wake = at;
      continue;
    }
    report(t, x, SALVO_ETIMEDOUT,
           salvo__fmt(SALVO__READ_TIMEOUT_FMT,
                      (long long)((now - x->tbody) / 1000000)));
  }
}

static void curl_on_timer(salvo__transport *t) {
  int64_t now = salvo__clock_ns(t->ev.clock);
  if (t->read_wake >= 0 && t->read_wake <= now)
    read_timeouts(t, now);
  for (int i = 0; i < SALVO__NMULTI; i++) {
    salvo__curl_multi *mh = &t->mh[i];
    int64_t before = mh->deadline;
    int running;
    if (before < 0 || before > now)
      continue;
    curl_multi_socket_action(mh->m, CURL_SOCKET_TIMEOUT, 0, &running);
    /* curl only reports a timer when it changes; if it fired early by a
     * rounding error and kept the same expiry, look again in a millisecond
     * instead of spinning. */
    if (mh->deadline == before)
      mh->deadline = now + 1000000;
  }
}

/* ---- the end of a transfer ------------------------------------------------
 */

/* Marks r's origin as one that closes connections without saying so. */
static void closes_quietly(salvo__transport *t, salvo__req *r) {
  salvo__curl_origin *o = salvo__curl_origin_find(t, r->origin, 1);
  if (o)
    o->closes_quietly = 1;
}

/* Whether the hop goes again on a new connection, within the attempt:
 * the connection libcurl chose was refused (bytes nobody asked for were
 * waiting on it, or it is an HTTP/1.1 connection another transfer holds:
 * nothing was sent),
 * or an idempotent request's reused connection was closed or reset before
 * any response byte, as the native transport does (libcurl itself does so
 * only in some of these cases). */
static int again_fresh(salvo__transport *t, salvo__curl_xfer *x, CURLcode rc) {
  salvo__req *r = x->req;
  long conns = 1;
  if (x->fresh)
    return 0;
  if (!x->conn_refused) {
    if (!r->idempotent || salvo__req_failure(r) || x->header_seen ||
        (rc != CURLE_RECV_ERROR && rc != CURLE_SEND_ERROR &&
         rc != CURLE_GOT_NOTHING) ||
        curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &conns) || conns)
      return 0;
    closes_quietly(t, r);
  }
  x->conn_refused = 0;
  x->fresh = 1;
  return 1;
}

/* Starts x's next hop after the one that ended (a redirect, or the same
 * request on a new connection): 0, or the attempt ends with the error. */
static int next_hop(salvo__transport *t, salvo__curl_xfer *x, int redirect,
                    char **msg) {
  salvo__req *r = x->req;
  curl_multi_remove_handle(x->mh->m, x->easy);
  if (redirect) {
    const char *loc = salvo_response_header(r->resp, "Location");
    int err = salvo__redirect_follow(&x->hop, r, t->cfg, r->resp->status, loc,
                                     strlen(loc), msg);
    if (err)
      return err;
    x->fresh = 0;
  }
  return salvo__curl_hop_go(t, x, msg);
}

static void report(salvo__transport *t, salvo__curl_xfer *x, int err,
                   char *msg) {
  salvo__req *r = x->req;
  salvo__attempt_result res = {0};
  res.error = err;
  res.errmsg = msg;
  res.unsent = !x->sent;
  /* Only an attempt that got a status line (request.c parsed it) has
   * values of its own. */
  if (salvo__req_status(r)) {
    int64_t now = salvo__clock_ns(t->ev.clock);
    res.total_time = (double)(now - x->t0) / 1e9;
    res.ttfb = x->tfirst ? (double)(x->tfirst - x->t0) / 1e9 : 0;
  }
  if (x->learning)
    salvo__curl_origin_learnt(t, r, 0);
  t->ev.done(t->ev.ctx, r, &res);
  curl_multi_remove_handle(x->mh->m, x->easy);
  salvo__curl_xfer_put(t, x);
}

static void finish_xfer(salvo__transport *t, CURL *e, CURLcode rc) {
  salvo__curl_xfer *x;
  curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
  salvo__curl_let_go(t, x);
  char *msg = NULL;
  int err;
  int fresh = again_fresh(t, x, rc);
  int authed =
      !fresh && rc == CURLE_OK && x->authing && !x->redirecting
          ? salvo__auth_follow(&x->hop, x->req, t->cfg, t->ev.auth, &msg)
          : 0;
  if (authed < 0) {
    err = authed; /* a challenge that cannot be answered */
  } else if (fresh || authed || (rc == CURLE_OK && x->redirecting)) {
    err = next_hop(t, x, !fresh && !authed, &msg);
    if (!err)
      return;
  } else {
    if (x->resend_refused)
      closes_quietly(t, x->req);
    err = salvo__curl_error(t, x, rc, &msg);
    /* libcurl cannot end a transfer while it is paused, so nothing is
     * held here: a coding cut short is all that is left to tell. */
    if (!err && (err = salvo__req_on_end(x->req)))
      msg = salvo__req_fail_message(x->req);
  }
  report(t, x, err, msg);
}

static void curl_reap(salvo__transport *t) {
  for (int i = 0; i < SALVO__NMULTI; i++) {
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(t->mh[i].m, &left))) {
      if (m->msg == CURLMSG_DONE)
        finish_xfer(t, m->easy_handle, m->data.result);
    }
  }
}

const salvo__transport_ops salvo__curl_transport = {
    .name = "libcurl",
    .global_init = global_init_once,
    .create = curl_create,
    .destroy = curl_destroy,
    .start = curl_start,
    .abort = curl_abort,
    .resume = curl_resume,
    .on_socket = curl_on_socket,
    .deadline = curl_deadline,
    .on_timer = curl_on_timer,
    .reap = curl_reap,
};
