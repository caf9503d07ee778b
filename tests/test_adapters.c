/* The event-loop adapters, each on its own loop: 1,000 requests, one
 * cancelled from a callback, and a streamed body read on the loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "salvo.h"
#include "salvo/adapters/libevent.h"
#include "salvo/adapters/libuv.h"

enum { N = 1000, STREAM_BYTES = 3 << 20 };

typedef struct run {
  salvo_parallel *b;
  salvo_pending hang, stream;
  int got, ok, cancelled, stream_done, stream_status;
  size_t stream_bytes;
  void (*detach)(struct run *);
  void (*read_stream)(struct run *, salvo_response *);
  void *loop_side; /* the adapter's watcher */
} run;

static void submit_all(run *rn) {
  rn->hang = salvo_get(rn->b, th_url(&th_srv, "/hang"));
  salvo_request req;
  salvo_request_init(&req);
  req.url = th_url(&th_srv, "/bytes/%d", STREAM_BYTES);
  req.stream = 1;
  rn->stream = salvo_submit(rn->b, &req);
  for (int i = 0; i < N; i++)
    salvo_get(rn->b, th_url(&th_srv, "/json/%d", i));
}

static void maybe_done(run *rn) {
  if (rn->got == N + 2 && rn->stream_done)
    rn->detach(rn);
}

/* Shared by both loops: what one response means. */
static void on_response(run *rn, salvo_response *r) {
  rn->got++;
  if (rn->got == 10)
    salvo_pending_cancel(rn->b, rn->hang); /* from inside the loop */
  if (salvo_response_error(r) == SALVO_ECANCELED) {
    rn->cancelled++;
  } else if (salvo_response_status(r) == 200) {
    rn->ok++;
  }
  if (salvo_response_pending(r).id == rn->stream.id)
    rn->read_stream(rn, r); /* frees r at its end */
  else
    salvo_response_free(r);
  maybe_done(rn);
}

static void check(const run *rn) {
  assert_int_equal(rn->got, N + 2);
  assert_int_equal(rn->ok, N + 1);
  assert_int_equal(rn->cancelled, 1);
  assert_int_equal(rn->stream_status, 0);
  assert_int_equal(rn->stream_bytes, STREAM_BYTES);
}

/* ---- libuv ---- */

typedef struct uv_side {
  salvo_uv w;
  salvo_uv_reader rd;
  run *rn;
} uv_side;

static void uv_on_response(salvo_uv *w, salvo_response *r, void *arg) {
  (void)w;
  on_response(arg, r);
}

static void uv_on_data(salvo_uv_reader *rd, const char *d, size_t n) {
  (void)d;
  ((run *)rd->arg)->stream_bytes += n;
}

static void uv_on_end(salvo_uv_reader *rd, int status) {
  run *rn = rd->arg;
  rn->stream_status = status;
  rn->stream_done = 1;
  salvo_response_free(rd->r);
  maybe_done(rn);
}

static void uv_read_stream(run *rn, salvo_response *r) {
  uv_side *side = rn->loop_side;
  side->rd.on_data = uv_on_data;
  side->rd.on_end = uv_on_end;
  side->rd.arg = rn;
  assert_int_equal(salvo_uv_read_start(&side->rd, uv_default_loop(), r), 0);
}

static void uv_detach(run *rn) {
  salvo_uv_detach(&((uv_side *)rn->loop_side)->w, NULL);
}

static void test_libuv(void **state) {
  (void)state;
  salvo_client *c = th_client(NULL);
  run rn = {0};
  uv_side side = {.rn = &rn};
  rn.b = th_open(c);
  rn.detach = uv_detach;
  rn.read_stream = uv_read_stream;
  rn.loop_side = &side;
  submit_all(&rn);
  assert_int_equal(
      salvo_uv_attach(&side.w, uv_default_loop(), rn.b, uv_on_response, &rn),
      0);
  uv_run(uv_default_loop(), UV_RUN_DEFAULT); /* until nothing is watched */
  check(&rn);
  salvo_parallel_close(rn.b);
  salvo_client_free(c);
}

/* ---- libevent ---- */

typedef struct ev_side {
  salvo_event w;
  salvo_event_reader rd;
  struct event_base *base;
} ev_side;

static void ev_on_response(salvo_event *w, salvo_response *r, void *arg) {
  (void)w;
  on_response(arg, r);
}

static void ev_on_data(salvo_event_reader *rd, const char *d, size_t n) {
  (void)d;
  ((run *)rd->arg)->stream_bytes += n;
}

static void ev_on_end(salvo_event_reader *rd, int status) {
  run *rn = rd->arg;
  rn->stream_status = status;
  rn->stream_done = 1;
  salvo_response_free(rd->r);
  maybe_done(rn);
}

static void ev_read_stream(run *rn, salvo_response *r) {
  ev_side *side = rn->loop_side;
  side->rd.on_data = ev_on_data;
  side->rd.on_end = ev_on_end;
  side->rd.arg = rn;
  assert_int_equal(salvo_event_read_start(&side->rd, side->base, r), 0);
}

static void ev_detach(run *rn) {
  salvo_event_detach(&((ev_side *)rn->loop_side)->w);
}

static void test_libevent(void **state) {
  (void)state;
  salvo_client *c = th_client(NULL);
  run rn = {0};
  ev_side side = {.base = event_base_new()};
  rn.b = th_open(c);
  rn.detach = ev_detach;
  rn.read_stream = ev_read_stream;
  rn.loop_side = &side;
  submit_all(&rn);
  assert_int_equal(
      salvo_event_attach(&side.w, side.base, rn.b, ev_on_response, &rn), 0);
  event_base_dispatch(side.base); /* until no event is left */
  check(&rn);
  event_base_free(side.base);
  salvo_parallel_close(rn.b);
  salvo_client_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_libuv),
      cmocka_unit_test(test_libevent),
  };
  return cmocka_run_group_tests(tests, th_faultd_setup, th_faultd_teardown);
}
