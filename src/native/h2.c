/* HTTP/2 on one connection, with Debian's libnghttp2 (framing, HPACK,
 * flow control): the attempts of an origin as streams of as few
 * connections as its SETTINGS_MAX_CONCURRENT_STREAMS allows.
 *
 * - A request is the head HTTP/1.1 would send (head.c), read back into
 *   header fields: the same headers on both protocols, less those
 *   RFC 9113 8.2.2 forbids.
 * - A response goes to the request as lines ("HTTP/2 200", "name: value",
 *   "") and body bytes, through exchange.c's salvo__nat_text_line/_body, so
 *   that redirects, cookies and receive.c's checks are the same.
 * - Output is gathered from nghttp2 and written in one call per loop turn
 *   (salvo__h2_want_flush marks a connection; the transport's reap writes).
 * - Flow control is manual: received DATA is consumed when the reader
 *   took it, so a paused reader's stream stops at its window while its
 *   siblings go on; what a paused stream keeps is given back to the
 *   connection's window at once, so that they go on however many are
 *   paused.
 * - A stream reset by the server is that request's error; REFUSED_STREAM
 *   (GOAWAY above its last stream, RFC 9113 6.8 and 8.7: not processed)
 *   sends it again on a new connection, unsafe methods included. */
#include <errno.h>
#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "../receive.h"
#include "h2.h"

#define STREAM_WINDOW (4 << 20)
#define CONN_WINDOW (64 << 20)
#define OUT_GATHER (64 * 1024)
/* A request's header block as nghttp2 bounds it (its default, 64 KiB, is
 * less than HTTP/1.1 carries): above any head within salvo's 1,000,000
 * bytes (each field counted 12 bytes more), so that every request goes. */
#define MAX_SEND_HEADERS (4 << 20)

static salvo__nxfer *xfer_of(nghttp2_session *s, int32_t sid) {
  return sid > 0 ? nghttp2_session_get_stream_user_data(s, sid) : NULL;
}

/* x leaves its connection's stream list. */
static void unlink_stream(salvo__nconn *c, salvo__nxfer *x) {
  if (!x->sid)
    return;
  nghttp2_session_set_stream_user_data(c->h2->s, x->sid, NULL);
  salvo__list_remove(&x->in_conn);
  if (--c->h2->streams == 0)
    c->h2->idle_since = salvo__nat_now(x->t);
  x->sid = 0;
}

/* A PING was answered: the connection is alive (its idle time starts
 * again), and the origin's requests that waited for that go on. */
static void ping_answered(salvo__transport *t, salvo__nconn *c) {
  salvo__h2 *h = c->h2;
  if (!h->pinging)
    return;
  h->pinging = 0;
  h->idle_since = salvo__nat_now(t);
  t->report->resolved(t, c->o);
}

/* The connection's stream limit is known (the server's SETTINGS came) or
 * never will be (it ends first): the requests of its origin that waited
 * for it rather than open a connection go on. */
static void settle(salvo__transport *t, salvo__nconn *c) {
  if (c->h2->settled)
    return;
  c->h2->settled = 1;
  t->report->resolved(t, c->o);
}

/* c takes no new stream (a GOAWAY, or it broke): whatever its origin's
 * requests waited for on it, a PING's answer or its SETTINGS, will not
 * come, and they go on, once. */
static void ending(salvo__transport *t, salvo__nconn *c) {
  salvo__h2 *h = c->h2;
  int waited = h->pinging || !h->settled;
  h->draining = 1;
  h->pinging = 0;
  h->settled = 1;
  if (waited)
    t->report->resolved(t, c->o);
}

/* ---- what nghttp2 reports ------------------------------------------ */

static int on_header(nghttp2_session *s, const nghttp2_frame *f,
                     const uint8_t *name, size_t nlen, const uint8_t *value,
                     size_t vlen, uint8_t flags, void *ud) {
  (void)flags, (void)ud;
  salvo__nxfer *x = xfer_of(s, f->hd.stream_id);
  if (!x || f->hd.type != NGHTTP2_HEADERS || x->h2_err)
    return 0;
  x->got_bytes = 1; /* answered: never sent again as if unprocessed */
  /* Not by nghttp2's category: a final head after a 1xx comes as
   * NGHTTP2_HCAT_HEADERS too, the category of trailers. */
  if (x->h2_head)
    return 0; /* trailers: checked by nghttp2, read past (as HTTP/1.1's) */
  salvo__buf *b = &x->t->h2line;
  b->len = 0;
  int rc;
  if (nlen == 7 && !memcmp(name, ":status", 7)) {
    int st = vlen == 3 ? atoi((const char *)value) : 0;
    x->h2_skip = st >= 100 && st < 200; /* 1xx: the final one follows */
    if (x->h2_skip)
      return 0;
    x->p.status = st;
    x->h2_final = 1;
    rc = salvo__buf_append(b, "HTTP/2 ", 7) ||
                 salvo__buf_append(b, (const char *)value, vlen)
             ? SALVO_ENOMEM
             : salvo__nat_text_line(x, b->p, b->len, 1);
  } else if (x->h2_skip || name[0] == ':') {
    return 0;
  } else {
    rc = salvo__buf_append(b, (const char *)name, nlen) ||
                 salvo__buf_append(b, ": ", 2) ||
                 salvo__buf_append(b, (const char *)value, vlen)
             ? SALVO_ENOMEM
             : salvo__nat_text_line(x, b->p, b->len, 0);
  }
  if (!rc)
    return 0;
  x->h2_err = rc;
  return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* the stream is reset */
}

/* Which stream's frame is being read, so that a connection error names
 * the stream it came with (see goes_again); 0 again once a frame was
 * taken or refused, so that a frame nghttp2 refuses before its start (DATA
 * on stream 0) names none. */
static int on_begin_frame(nghttp2_session *s, const nghttp2_frame_hd *hd,
                          void *ud) {
  (void)s;
  ((salvo__nconn *)ud)->h2->reading_sid = hd->stream_id;
  return 0;
}

static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *ud) {
  salvo__nconn *c = ud;
  c->h2->reading_sid = 0;
  if (f->hd.type == NGHTTP2_GOAWAY) {
    ending(c->o->t, c);
    return 0;
  }
  if (f->hd.type == NGHTTP2_SETTINGS && !(f->hd.flags & NGHTTP2_FLAG_ACK)) {
    c->o->h2_limit = nghttp2_session_get_remote_settings(
        s, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
    settle(c->o->t, c);
    return 0;
  }
  if (f->hd.type == NGHTTP2_PING && (f->hd.flags & NGHTTP2_FLAG_ACK)) {
    ping_answered(c->o->t, c);
    return 0;
  }
  salvo__nxfer *x = xfer_of(s, f->hd.stream_id);
  if (!x || x->h2_err)
    return 0;
  if (f->hd.type == NGHTTP2_HEADERS && x->h2_final && !x->h2_head) {
    x->h2_head = 1;
    int rc = salvo__nat_text_line(x, "", 0, 0); /* the end of the head */
    if (rc) {
      x->h2_err = rc;
      nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, x->sid, NGHTTP2_CANCEL);
      return 0;
    }
  }
  if ((f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) &&
      (f->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
    x->h2_ended = 1;
    /* Whole while the body still goes: the server answered without the
     * rest (RFC 9113 8.1), which is not sent (a server that never opens
     * its window for it held the answer until the timeout). */
    if (!nghttp2_session_get_stream_local_close(s, x->sid))
      nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, x->sid, NGHTTP2_NO_ERROR);
  }
  return 0;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t sid,
                   const uint8_t *data, size_t len, void *ud) {
  (void)ud;
  salvo__nxfer *x = xfer_of(s, sid);
  if (!x || x->h2_err) {
    nghttp2_session_consume(s, sid, len);
    return 0;
  }
  x->h2_said_end |= (flags & NGHTTP2_FLAG_END_STREAM) != 0;
  if (!x->tfirst)
    x->tfirst = salvo__nat_now(x->t);
  x->got_bytes = 1;
  int rc = x->paused || x->hold.len
               ? SALVO__H1_PAUSE
               : salvo__nat_body(x, (const char *)data, len);
  if (rc == SALVO__H1_PAUSE) { /* kept for the resume */
    x->paused = 1;
    if (salvo__buf_append(&x->hold, (const char *)data, len))
      goto fail;
    /* Its stream's window stays taken until the reader takes it; the
     * connection's is given back now, or paused streams would take it
     * all and stall the stream being read, for good. */
    nghttp2_session_consume_connection(s, len);
    return 0;
  }
  if (rc == SALVO__H1_HOLD)
    x->paused = 1;
  else if (rc) {
    x->h2_err = rc;
    nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, sid, NGHTTP2_CANCEL);
  }
  nghttp2_session_consume(s, sid, len);
  return 0;
fail:
  x->h2_err = SALVO_ENOMEM;
  nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, sid, NGHTTP2_CANCEL);
  return 0;
}

static int on_frame_send(nghttp2_session *s, const nghttp2_frame *f, void *ud) {
  salvo__nconn *c = ud;
  salvo__nxfer *x = xfer_of(s, f->hd.stream_id);
  if (x && f->hd.type == NGHTTP2_HEADERS)
    x->wrote = x->conn_wrote = 1;
  /* nghttp2 resets a stream whose response breaks the rules (a
   * content-length that DATA does not match, say): that request's
   * protocol error. (NO_ERROR is on_frame_recv's.) */
  if (x && f->hd.type == NGHTTP2_RST_STREAM && !x->h2_err &&
      f->rst_stream.error_code != NGHTTP2_NO_ERROR) {
    x->h2_err = SALVO_EPROTO;
    free(x->h2_why);
    x->h2_why = salvo__fmt("malformed HTTP/2 response (RFC 9113 8.1.1): "
                           "stream reset with %s",
                           nghttp2_http2_strerror(f->rst_stream.error_code));
  }
  /* ... and ends a connection whose frames do (RFC 9113 5.4.1). */
  if (f->hd.type == NGHTTP2_GOAWAY &&
      f->goaway.error_code != NGHTTP2_NO_ERROR && !c->h2->fatal) {
    c->h2->fatal = f->goaway.error_code;
    snprintf(c->h2->fatal_why, sizeof(c->h2->fatal_why), "%.*s",
             (int)f->goaway.opaque_data_len,
             (const char *)f->goaway.opaque_data);
  }
  return 0;
}

/* A response nghttp2 finds malformed (RFC 9113 8.1.1): its request's. */
static int on_invalid_frame(nghttp2_session *s, const nghttp2_frame *f,
                            int lib_err, void *ud) {
  ((salvo__nconn *)ud)->h2->reading_sid = 0;
  salvo__nxfer *x = xfer_of(s, f->hd.stream_id);
  if (x && !x->h2_err) {
    x->h2_err = SALVO_EPROTO;
    free(x->h2_why);
    x->h2_why =
        salvo__fmt("malformed HTTP/2 response: %s", nghttp2_strerror(lib_err));
  }
  return 0;
}

/* A DATA frame ended x's stream and nghttp2 refused the end (content-length
 * against its DATA, RFC 9113 8.1.1): its reset, queued without a word, may
 * be overtaken by a GOAWAY or the close. */
static void end_refused(salvo__nxfer *x) {
  if (!x->h2_err && x->h2_said_end && !x->h2_ended) {
    x->h2_err = SALVO_EPROTO;
    x->h2_why = salvo__strdup("malformed HTTP/2 response (RFC 9113 8.1.1): "
                              "DATA ended the stream against content-length");
  }
}

static int on_stream_close(nghttp2_session *s, int32_t sid, uint32_t code,
                           void *ud) {
  salvo__nconn *c = ud;
  salvo__nxfer *x = xfer_of(s, sid);
  if (!x)
    return 0;
  salvo__transport *t = x->t;
  unlink_stream(c, x);
  end_refused(x);
  if (x->h2_err) {
    char *why = x->h2_why;
    x->h2_why = NULL;
    t->report->fail(t, x, x->h2_err,
                    why ? why : salvo__nat_parse_message(x, x->h2_err));
  } else if (code == NGHTTP2_NO_ERROR && x->h2_ended && x->hold.len) {
    x->h2_rest = 1; /* it completes once its reader took the rest */
    x->c = NULL;
  } else if (code == NGHTTP2_NO_ERROR && x->h2_ended) {
    t->report->complete(t, x);
  } else if (code == NGHTTP2_REFUSED_STREAM && !x->got_bytes) {
    x->wrote = 0; /* not processed (RFC 9113 8.7): safe to send again */
    t->report->again(t, x);
  } else {
    t->report->fail(t, x,
                    code == NGHTTP2_PROTOCOL_ERROR ? SALVO_EPROTO : SALVO_EIO,
                    salvo__fmt("HTTP/2 stream %d was reset: %s", (int)sid,
                               nghttp2_http2_strerror(code)));
  }
  return 0;
}

/* ---- the connection ------------------------------------------------ */

int salvo__h2_open(salvo__transport *t, salvo__nconn *c) {
  salvo__h2 *h = calloc(1, sizeof(*h));
  nghttp2_session_callbacks *cb = NULL;
  nghttp2_option *opt = NULL;
  if (!h || nghttp2_session_callbacks_new(&cb) || nghttp2_option_new(&opt)) {
    free(h);
    nghttp2_session_callbacks_del(cb);
    return SALVO_ENOMEM;
  }
  salvo__list_init(&h->xfers);
  h->idle_since = salvo__nat_now(t);
  nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
  nghttp2_session_callbacks_set_on_begin_frame_callback(cb, on_begin_frame);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
  nghttp2_session_callbacks_set_on_frame_send_callback(cb, on_frame_send);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
  nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(
      cb, on_invalid_frame);
  nghttp2_option_set_no_auto_window_update(opt, 1);
  if (c->o->h2_limit) /* what its origin's server said last */
    nghttp2_option_set_peer_max_concurrent_streams(opt, c->o->h2_limit);
  nghttp2_option_set_max_send_header_block_length(opt, MAX_SEND_HEADERS);
  /* nghttp2 ends a connection after 8 CONTINUATION frames (CVE-2024-28182),
   * 144 KiB of head at the usual frame size, where an HTTP/1.1 head may be
   * 256 KiB: a stream's head is refused by receive.c's limit first, and
   * HPACK decodes at most 1 MiB of it. */
#ifdef SALVO_HAVE_NGHTTP2_MAX_CONTINUATIONS
  nghttp2_option_set_max_continuations(opt, 64);
#endif
  int rc = nghttp2_session_client_new2(&h->s, cb, c, opt);
  nghttp2_session_callbacks_del(cb);
  nghttp2_option_del(opt);
  nghttp2_settings_entry iv[] = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW}};
  if (rc || nghttp2_submit_settings(h->s, NGHTTP2_FLAG_NONE, iv, 2) ||
      nghttp2_session_set_local_window_size(h->s, NGHTTP2_FLAG_NONE, 0,
                                            CONN_WINDOW)) {
    nghttp2_session_del(h->s);
    free(h);
    return SALVO_ENOMEM;
  }
  c->h2 = h;
  /* Frames come many to a TLS record and records many to a read: let
   * OpenSSL read ahead, so that one read serves many responses (the loop
   * reads until the layer says EAGAIN, so nothing waits in its buffer). */
  if (c->layer)
    SSL_set_read_ahead(c->layer, 1);
  return 0;
}

int salvo__h2_expired(const salvo__transport *t, const salvo__nconn *c,
                      int64_t now) {
  const salvo__h2 *h = c->h2;
  return h && h->settled && !h->streams && !h->pinging &&
         (!t->max_idle || (t->idle_ns && now - h->idle_since > t->idle_ns));
}

int salvo__h2_unsettled(const salvo__nconn *c) {
  return c->h2 && !c->h2->settled; /* an ending one is settled */
}

/* Whether x, on a connection that broke with err, goes again on a new
 * one. Not when any of its answer came (it was processed), nor when it
 * went and must not go twice. A connection that just ended took nothing
 * of the rest. A protocol error (a frame that breaks the connection, RFC
 * 9113 5.4.1) is the answer of the stream whose frame it came with, the
 * culprit; to the others it is none: they go once more, and fail if that
 * connection breaks too. When it came with no stream's frame, which
 * request it answered is not known, and each goes once more. */
static int goes_again(const salvo__nxfer *x, int err, int32_t culprit) {
  if (x->got_bytes || x->h2_err ||
      (x->wrote && !salvo__hop_repeatable(&x->hop, x->req)))
    return 0;
  return err != SALVO_EPROTO || (x->sid != culprit && !x->retried_fresh);
}

/* Everything on c fails (or goes again on a new connection, see
 * goes_again), and c closes. A stream whose own response was at fault
 * fails with its own error. */
static void broken(salvo__transport *t, salvo__nconn *c, int err,
                   const char *why) {
  salvo__h2 *h = c->h2;
  ending(t, c);
  salvo__list *n;
  while ((n = salvo__list_first(&h->xfers))) {
    salvo__nxfer *x = salvo__container_of(n, salvo__nxfer, in_conn);
    int again = goes_again(x, err, h->reading_sid);
    unlink_stream(c, x);
    x->c = NULL;
    end_refused(x);
    if (again) {
      t->report->again(t, x); /* within its limit */
    } else if (x->h2_err) {
      char *own = x->h2_why;
      x->h2_why = NULL;
      t->report->fail(t, x, x->h2_err,
                      own ? own : salvo__nat_parse_message(x, x->h2_err));
    } else {
      int unsafe =
          x->wrote && !x->got_bytes && !salvo__hop_repeatable(&x->hop, x->req);
      t->report->fail(
          t, x, err,
          salvo__fmt("%s%s", why,
                     unsafe ? "; the request went and its answer had not "
                              "begun: not sent again, as its method is not "
                              "idempotent"
                            : ""));
    }
  }
  t->report->h2_closed(t, c);
}

/* We ended the connection (h->fatal): the server broke a rule. */
static void broken_fatal(salvo__transport *t, salvo__nconn *c) {
  const salvo__h2 *h = c->h2;
  char why[320];
  snprintf(why, sizeof(why),
           "HTTP/2 protocol error from the server (the connection was "
           "ended with %s%s%s%s)",
           nghttp2_http2_strerror(h->fatal), h->fatal_why[0] ? ": " : "",
           h->fatal_why,
           h->fatal == NGHTTP2_COMPRESSION_ERROR
               ? ": a response header block that HPACK cannot decode, "
                 "or a header field over 64 KiB"
               : "");
  broken(t, c, SALVO_EPROTO, why);
}

void salvo__h2_flush(salvo__transport *t, salvo__nconn *c) {
  salvo__h2 *h = c->h2;
  if (h->flushing || h->in_recv)
    return; /* the caller's flush follows */
  h->flushing = 1;
  for (;;) {
    /* Gather what nghttp2 has, then write it in one call. */
    while (h->out.len - h->out_pos < OUT_GATHER) {
      const uint8_t *d;
      ssize_t n = nghttp2_session_mem_send(h->s, &d);
      if (n < 0) {
        h->flushing = 0;
        broken(t, c, SALVO_EPROTO, nghttp2_strerror((int)n));
        return;
      }
      if (n == 0)
        break;
      if (salvo__buf_append(&h->out, (const char *)d, (size_t)n)) {
        h->flushing = 0;
        broken(t, c, SALVO_ENOMEM, "out of memory");
        return;
      }
    }
    if (h->out_pos == h->out.len)
      break;
    struct iovec iov = {h->out.p + h->out_pos, h->out.len - h->out_pos};
    int e = 0;
    ssize_t w = c->ops->writev(c, &iov, 1, &e);
    if (w == SALVO__IO_AGAIN)
      break; /* EPOLLOUT brings us back */
    if (w < 0) {
      h->flushing = 0;
      broken(t, c, SALVO_EIO, strerror(e ? e : EPIPE));
      return;
    }
    h->out_pos += (size_t)w;
    if (h->out_pos == h->out.len)
      h->out.len = h->out_pos = 0;
  }
  h->flushing = 0;
  if (h->fatal) {
    broken_fatal(t, c);
  } else if (!h->streams && h->draining &&
             !nghttp2_session_want_write(h->s)) { /* a GOAWAY's end */
    t->report->h2_closed(t, c);
  }
}

void salvo__h2_want_flush(salvo__transport *t, salvo__nconn *c) {
  if (!salvo__list_linked(&c->in_dirty))
    salvo__list_push_back(&t->h2_dirty, &c->in_dirty);
}

void salvo__h2_flush_all(salvo__transport *t) {
  salvo__list *n;
  while ((n = salvo__list_pop_front(&t->h2_dirty))) {
    salvo__nconn *c = salvo__container_of(n, salvo__nconn, in_dirty);
    if (c->h2)
      salvo__h2_flush(t, c);
  }
}

void salvo__h2_io(salvo__transport *t, salvo__nconn *c) {
  for (;;) {
    int e = 0;
    ssize_t n = c->ops->read(c, t->rbuf, SALVO__NAT_RBUF, &e);
    if (n == SALVO__IO_AGAIN)
      break;
    if (n <= 0) {
      /* nghttp2's word on the bytes before first: a stream it reset for
       * breaking the rules (DATA past its content-length) fails so
       * (on_frame_send), and a connection it ended so (h2->fatal), not as
       * the close. Nothing is written; no new stream joins (ending). */
      const uint8_t *d;
      int rounds = 16;
      ending(t, c);
      while (rounds-- && nghttp2_session_mem_send(c->h2->s, &d) > 0)
        continue;
      if (c->h2->fatal) {
        broken_fatal(t, c);
        return;
      }
      broken(t, c, SALVO_EIO,
             n == 0 ? "the server closed the HTTP/2 connection"
                    : strerror(e ? e : ECONNRESET));
      return;
    }
    c->h2->in_recv = 1; /* no write from nghttp2's callbacks */
    ssize_t used =
        nghttp2_session_mem_recv(c->h2->s, (const uint8_t *)t->rbuf, (size_t)n);
    c->h2->in_recv = 0;
    if (used < 0) { /* a flood, say: the flush ends the connection (every
                     * way out of it breaks it) saying nghttp2's why */
      c->h2->fatal = NGHTTP2_PROTOCOL_ERROR;
      snprintf(c->h2->fatal_why, sizeof(c->h2->fatal_why), "%s",
               nghttp2_strerror((int)used));
      nghttp2_session_terminate_session(c->h2->s, NGHTTP2_PROTOCOL_ERROR);
      salvo__h2_flush(t, c);
      return;
    }
    if (!c->h2)
      return;
  }
  salvo__h2_want_flush(t, c);
}

void salvo__h2_detach(salvo__transport *t, salvo__nxfer *x) {
  salvo__nconn *c = x->c;
  x->c = NULL;
  if (!c || !c->h2 || !x->sid)
    return;
  int32_t sid = x->sid;
  unlink_stream(c, x);
  nghttp2_submit_rst_stream(c->h2->s, NGHTTP2_FLAG_NONE, sid, NGHTTP2_CANCEL);
  salvo__h2_want_flush(t, c);
}

/* So that the server knows no stream of c was partly processed, rather
 * than finding the connection gone ("SHOULD", 6.8). Only c with no
 * stream and nothing left to write: one that broke, or that the server
 * ended, is past it. A server that cannot take the frame now is not
 * waited for. */
static void goodbye(salvo__nconn *c) {
  salvo__h2 *h = c->h2;
  if (h->streams || h->draining || h->flushing || h->in_recv ||
      h->out_pos != h->out.len || !c->ops ||
      nghttp2_session_terminate_session(h->s, NGHTTP2_NO_ERROR))
    return;
  const uint8_t *d;
  ssize_t n = nghttp2_session_mem_send(h->s, &d);
  if (n > 0) {
    struct iovec iov = {(void *)d, (size_t)n};
    int e = 0;
    c->ops->writev(c, &iov, 1, &e);
  }
}

void salvo__h2_close(salvo__nconn *c) {
  salvo__h2 *h = c->h2;
  if (salvo__list_linked(&c->in_dirty))
    salvo__list_remove(&c->in_dirty);
  if (!h)
    return;
  goodbye(c);
  salvo__list *n;
  while ((n = salvo__list_pop_front(&h->xfers))) {
    salvo__nxfer *x = salvo__container_of(n, salvo__nxfer, in_conn);
    x->sid = 0;
    x->c = NULL;
  }
  nghttp2_session_del(h->s);
  salvo__buf_free(&h->out);
  free(h);
  c->h2 = NULL;
}
