/* The async side in C: timed waits, cancelling one request, streamed
 * bodies pulled by the caller, fork. */
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "salvo.h"

/* A wait with a timeout returns without the response while it is not
 * there, and with it once it is. */
static void test_timed_waits(void **state) {
  (void)state;
  salvo_client *c = th_client(NULL);
  salvo_parallel *b = th_open(c);
  salvo_pending p = salvo_get(b, th_url(&th_srv, "/delay/400"));
  double t0 = th_now();
  assert_null(salvo_parallel_next_timeout(b, 0.05));
  double waited = th_now() - t0;
  assert_true(waited >= 0.049);
  TH_WITHIN(waited, 0.3, "a 0.05 s wait");
  assert_int_equal(salvo_parallel_has_pending(b), 1);
  assert_null(salvo_pending_response_timeout(b, p, 0));
  salvo_response *r = salvo_pending_response_timeout(b, p, 30);
  assert_non_null(r);
  assert_int_equal(salvo_response_status(r), 200);
  salvo_response_free(r);
  /* Nothing pending: NULL at once, whatever the timeout. */
  assert_null(salvo_parallel_next_timeout(b, 30));
  assert_null(salvo_pending_response_timeout(b, p, 30)); /* stale */
  salvo_parallel_close(b);
  salvo_client_free(c);
}

/* One request cancelled: its connection closes (the server's in-flight
 * count drops), it is collected as ECANCELED, its siblings go on. */
static void test_cancel_one(void **state) {
  (void)state;
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.max_retries = 0;
  salvo_client *c = th_client(&cfg);
  assert_int_equal(th_wait_stat(&th_srv, "inflight", 0, 10), 0);
  json_decref(th_reset(&th_srv));
  salvo_parallel *b = th_open(c);
  salvo_pending h1 = salvo_get(b, th_url(&th_srv, "/hang"));
  salvo_pending h2 = salvo_get(b, th_url(&th_srv, "/hang"));
  assert_int_equal(th_wait_stat(&th_srv, "inflight", 2, 10), 2);
  assert_int_equal(salvo_pending_cancel(b, h1), SALVO_OK);
  salvo_response *r = salvo_pending_response(b, h1);
  assert_int_equal(salvo_response_error(r), SALVO_ECANCELED);
  assert_int_equal(salvo_response_attempts(r), 1);
  salvo_response_free(r);
  /* The server sees the one connection go, the other stay. */
  assert_int_equal(th_wait_stat(&th_srv, "inflight", 1, 10), 1);
  /* Siblings are unaffected. */
  for (int i = 0; i < 5; i++) {
    r = salvo_pending_response(b, salvo_get(b, th_url(&th_srv, "/json/%d", i)));
    assert_int_equal(salvo_response_status(r), 200);
    salvo_response_free(r);
  }
  assert_int_equal(th_stat(&th_srv, "inflight"), 1);
  /* Collected handles and id 0 are not pending. */
  assert_int_equal(salvo_pending_cancel(b, h1), SALVO_EINVAL);
  salvo_pending none = {0};
  assert_int_equal(salvo_pending_cancel(b, none), SALVO_EINVAL);
  assert_int_equal(salvo_pending_cancel(b, h2), SALVO_OK);
  r = salvo_parallel_next(b);
  assert_int_equal(salvo_response_error(r), SALVO_ECANCELED);
  salvo_response_free(r);
  salvo_parallel_close(b);
  salvo_client_free(c);
}

/* Queued and retry-waiting requests are cancelled too, and a request
 * that completed first keeps its result. */
static void test_cancel_queued_and_waiting(void **state) {
  (void)state;
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.concurrency = 1;
  salvo_client *c = th_client(&cfg);
  json_decref(th_reset(&th_srv));
  salvo_parallel *b = th_open(c);
  salvo_pending slow = salvo_get(b, th_url(&th_srv, "/delay/300"));
  salvo_pending queued = salvo_get(b, th_url(&th_srv, "/flaky?key=q"));
  assert_int_equal(salvo_pending_cancel(b, queued), SALVO_OK);
  salvo_response *r = salvo_parallel_next(b);
  assert_int_equal(salvo_response_pending(r).id, queued.id);
  assert_int_equal(salvo_response_error(r), SALVO_ECANCELED);
  assert_int_equal(salvo_response_attempts(r), 0);
  salvo_response_free(r);
  r = salvo_pending_response(b, slow);
  assert_int_equal(salvo_response_status(r), 200);
  salvo_response_free(r);
  /* Waiting to retry (Retry-After: 2): cancelled, never retried. With one
   * slot, the marker starts only once the 503 was read and the slot given
   * back for the wait: its response proves the request is waiting. */
  salvo_pending waiting =
      salvo_get(b, th_url(&th_srv, "/flaky?key=w&fail=1&retry_after=2"));
  r = salvo_pending_response(b, salvo_get(b, th_url(&th_srv, "/json/m")));
  assert_int_equal(salvo_response_status(r), 200);
  salvo_response_free(r);
  assert_int_equal(salvo_pending_ready(b, waiting), 0);
  assert_int_equal(salvo_pending_cancel(b, waiting), SALVO_OK);
  r = salvo_pending_response(b, waiting);
  assert_int_equal(salvo_response_error(r), SALVO_ECANCELED);
  salvo_response_free(r);
  /* Done before the cancellation: the result stands. */
  salvo_pending done = salvo_get(b, th_url(&th_srv, "/json/7"));
  assert_int_equal(th_wait_ready(b, done, 10), 1);
  assert_int_equal(salvo_pending_cancel(b, done), SALVO_OK);
  r = salvo_pending_response(b, done);
  assert_int_equal(salvo_response_status(r), 200);
  salvo_response_free(r);
  json_t *st = th_stats(&th_srv);
  json_t *keys = json_object_get(st, "keys");
  assert_null(json_object_get(keys, "q")); /* never sent */
  assert_int_equal(json_integer_value(json_object_get(keys, "w")), 1);
  json_decref(st);
  salvo_parallel_close(b);
  salvo_client_free(c);
}

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TSAN 1
#endif
#endif

/* What a child checks; its exit status says which check failed. */
static int child_checks(salvo_client *parent, salvo_parallel *parent_batch) {
  /* The default client is made afresh here and works. */
  salvo_parallel *b;
  if (salvo_parallel_open(NULL, &b))
    return 10;
  salvo_response *r =
      salvo_pending_response(b, salvo_get(b, th_url(&th_srv, "/json/1")));
  if (salvo_response_status(r) != 200)
    return 11;
  salvo_response_free(r);
  salvo_parallel_close(b);
  /* The parent's client and block fail at once, never hang. */
  salvo_parallel *refused;
  if (salvo_parallel_open(parent, &refused) != SALVO_EINVAL || refused)
    return 12;
  if (salvo_parallel_next(parent_batch) ||
      salvo_parallel_has_pending(parent_batch))
    return 13;
  if (salvo_get(parent_batch, th_url(&th_srv, "/json/2")).id)
    return 14;
  /* Its cookie jar is its parent's I/O thread's: refused, not waited for
   * (check 16). */
  char *lines = (char *)"x";
  if (salvo_client_clear_cookies(parent) != SALVO_EINVAL ||
      salvo_client_cookies(parent, &lines) != SALVO_EINVAL || lines ||
      salvo_client_cookie_set(parent, "a.test\tFALSE\t/\tFALSE\t0\tn\tv") !=
          SALVO_EINVAL)
    return 16;
  salvo_parallel_close(parent_batch);
  salvo_client_free(parent);
  /* A client of its own works. */
  salvo_request req;
  salvo_request_init(&req);
  req.url = th_url(&th_srv, "/json/3");
  salvo_results *res = salvo_parallel_requests(&req, 1, NULL);
  int ok = salvo_response_status(salvo_results_at(res, 0)) == 200;
  salvo_results_free(res);
  return ok ? 0 : 15;
}

/* fork() after a client and the default client started: the child gets a
 * fresh default client and clear failures from its parent's objects; the
 * parent's connections and requests carry on. */
static void test_fork(void **state) {
  (void)state;
#ifdef TSAN
  skip(); /* TSan does not support threads started after a threaded fork */
#endif
  salvo_client *c = th_client(NULL);
  salvo_parallel *dflt = th_open(NULL);
  salvo_response_free(salvo_pending_response(
      dflt, salvo_get(dflt, th_url(&th_srv, "/json/0"))));
  salvo_parallel *b = th_open(c);
  salvo_pending hang = salvo_get(b, th_url(&th_srv, "/delay/2000"));
  assert_int_equal(th_wait_stat(&th_srv, "inflight", 1, 10), 1);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0)
    _exit(child_checks(c, b));
  int status = -1;
  double t0 = th_now();
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (th_now() - t0 > 30) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      fail_msg("the child hung");
    }
    th_sleep_ms(10);
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fail_msg("the child failed check %d", WEXITSTATUS(status));
  /* The parent's request was not disturbed by the child. */
  salvo_response *r = salvo_pending_response(b, hang);
  assert_int_equal(salvo_response_status(r), 200);
  salvo_response_free(r);
  salvo_parallel_close(b);
  salvo_parallel_close(dflt);
  salvo_client_free(c);
}

/* ---- streamed bodies -------------------------------------------------- */

static salvo_pending get_stream(salvo_parallel *b, const char *url) {
  salvo_request req;
  salvo_request_init(&req);
  req.url = url;
  req.stream = 1;
  return salvo_submit(b, &req);
}

static long peak_rss_kib(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

typedef struct reader {
  salvo_response *r;
  uint64_t bytes;
  long last; /* the last read's result */
  int sleep_us;
  volatile uint64_t *small_done_at; /* bytes read when the others were done */
} reader;

static void *read_all(void *arg) {
  reader *rd = arg;
  static char buf[65536];
  for (;;) {
    long n = salvo_response_read(rd->r, buf, sizeof(buf));
    rd->last = n;
    if (n <= 0)
      break;
    rd->bytes += (uint64_t)n;
    if (rd->sleep_us)
      usleep((useconds_t)rd->sleep_us);
  }
  return NULL;
}

/* A slow reader: the transfer pauses instead of buffering (flat memory),
 * and 1,000 small requests of the same client complete meanwhile. */
static void test_stream_slow_reader(void **state) {
  (void)state;
  const uint64_t size = 64ull << 20;
  salvo_client *c = th_client(NULL);
  salvo_parallel *b = th_open(c);
  long rss0 = peak_rss_kib();
  salvo_pending big =
      get_stream(b, th_url(&th_srv, "/bytes/%llu", (unsigned long long)size));
  salvo_response *r = salvo_pending_response(b, big);
  assert_int_equal(salvo_response_error(r), SALVO_OK);
  assert_int_equal(salvo_response_status(r), 200);
  assert_string_equal(salvo_response_header(r, "Content-Length"),
                      th_fmt("%llu", (unsigned long long)size));
  reader rd = {.r = r, .sleep_us = 1000};
  pthread_t t;
  pthread_create(&t, NULL, read_all, &rd);
  for (int i = 0; i < 1000; i++)
    salvo_get(b, th_url(&th_srv, "/json/%d", i));
  for (int i = 0; i < 1000; i++) {
    salvo_response *s = salvo_parallel_next(b);
    assert_int_equal(salvo_response_status(s), 200);
    salvo_response_free(s);
  }
  uint64_t read_then = rd.bytes;
  pthread_join(t, NULL);
  long rss = peak_rss_kib();
  print_message("64 MiB read slowly: 1,000 others done after %.1f MiB read; "
                "peak RSS %ld KiB (from %ld)\n",
                (double)read_then / 1048576, rss, rss0);
  assert_int_equal(rd.last, 0);
  assert_true(rd.bytes == size);
  assert_true(read_then < size); /* the others did not wait for it */
#if !defined(__has_feature)
  assert_true(rss - rss0 < 16 * 1024);
#elif !__has_feature(address_sanitizer) && !__has_feature(thread_sanitizer)
  assert_true(rss - rss0 < 16 * 1024);
#endif
  salvo_response_free(r);
  salvo_parallel_close(b);
  salvo_client_free(c);
}

/* As fast as it can: every byte. */
static void test_stream_fast_reader(void **state) {
  (void)state;
  const uint64_t size = 256ull << 20;
  salvo_client *c = th_client(NULL);
  salvo_parallel *b = th_open(c);
  salvo_response *r = salvo_pending_response(
      b,
      get_stream(b, th_url(&th_srv, "/bytes/%llu", (unsigned long long)size)));
  static char buf[1 << 20];
  uint64_t got = 0;
  int letters = 1;
  double t0 = th_now();
  long n;
  while ((n = salvo_response_read(r, buf, sizeof(buf))) > 0) {
    for (long i = 0; i < n; i += 4093)
      letters &= buf[i] >= 'a' && buf[i] <= 'z';
    got += (uint64_t)n;
  }
  double dt = th_now() - t0;
  print_message("256 MiB streamed at %.0f MB/s\n", (double)got / dt / 1e6);
  assert_int_equal(n, 0);
  assert_true(got == size);
  assert_true(letters); /* faultd's pattern, not some other memory */
  salvo_response_free(r);
  salvo_parallel_close(b);
  salvo_client_free(c);
}

/* Without waiting: EAGAIN until a byte comes, and the descriptor says
 * when. */
static void test_stream_nowait_and_fd(void **state) {
  (void)state;
  salvo_client *c = th_client(NULL);
  salvo_parallel *b = th_open(c);
  salvo_response *r = salvo_pending_response(
      b, get_stream(b, th_url(&th_srv, "/drip/3?interval=200")));
  char buf[16];
  assert_true(salvo_response_streamed(r));
  assert_int_equal(salvo_response_read_nowait(r, buf, sizeof(buf)),
                   SALVO_EAGAIN);
  int fd = salvo_response_read_fd(r);
  assert_true(fd >= 0);
  size_t got = 0;
  for (;;) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    assert_int_equal(poll(&pfd, 1, 10000), 1);
    long n = salvo_response_read_nowait(r, buf, sizeof(buf));
    if (n == SALVO_EAGAIN)
      continue;
    if (n <= 0) {
      assert_int_equal(n, 0);
      break;
    }
    got += (size_t)n;
  }
  assert_int_equal(got, 3);
  salvo_response_free(r);
  /* A body kept in memory reads too, and has no descriptor. */
  r = salvo_pending_response(b, get_stream(b, th_url(&th_srv, "/status/404")));
  assert_int_equal(salvo_response_status(r), 404);
  assert_false(salvo_response_streamed(r));
  assert_int_equal(salvo_response_read_fd(r), -1);
  long n = salvo_response_read(r, buf, sizeof(buf));
  assert_int_equal(n, 11);
  assert_memory_equal(buf, "status 404\n", 11);
  assert_int_equal(salvo_response_read(r, buf, sizeof(buf)), 0);
  salvo_response_free(r);
  salvo_parallel_close(b);
  salvo_client_free(c);
}

/* Closing (or freeing) an endless body stops its transfer: the server
 * sees the connection go; a reset mid-body is the reader's error. */
static void test_stream_close_and_errors(void **state) {
  (void)state;
  salvo_client *c = th_client(NULL);
  /* Other clients of this process (the default one) may keep
   * connections: count from what is open now. */
  long base = th_stat(&th_srv, "conns_open");
  salvo_parallel *b = th_open(c);
  salvo_response *r =
      salvo_pending_response(b, get_stream(b, th_url(&th_srv, "/endless")));
  char buf[65536];
  for (int i = 0; i < 50; i++)
    assert_true(salvo_response_read(r, buf, sizeof(buf)) > 0);
  assert_int_equal(th_stat(&th_srv, "conns_open"), base + 1);
  salvo_response_close(r);
  assert_int_equal(salvo_response_read(r, buf, sizeof(buf)), SALVO_ECANCELED);
  assert_int_equal(salvo_response_status(r), 200); /* still readable */
  assert_int_equal(th_wait_stat(&th_srv, "conns_open", base, 10), base);
  salvo_response_free(r);
  /* Freed unread: the same. */
  r = salvo_pending_response(b, get_stream(b, th_url(&th_srv, "/endless")));
  salvo_response_free(r);
  assert_int_equal(th_wait_stat(&th_srv, "conns_open", base, 10), base);
  /* A reset after 100,000 of 200,000 bytes: the reader gets at most
   * those (the kernel drops what was not read yet when the reset comes,
   * so a busy reader may get fewer) and then the error, never an end. */
  r = salvo_pending_response(b,
                             get_stream(b, th_url(&th_srv, "/reset/100000")));
  long n, got = 0;
  while ((n = salvo_response_read(r, buf, sizeof(buf))) > 0)
    got += n;
  if (got > 100000)
    fail_msg("%ld bytes read of the 100,000 sent before the reset", got);
  assert_int_equal(n, SALVO_EIO);
  /* And why, though the response itself was collected without error. */
  print_message("the read failed: %s\n", salvo_response_errmsg(r));
  assert_int_equal(salvo_response_error(r), SALVO_OK);
  assert_true(strlen(salvo_response_errmsg(r)) > 0);
  salvo_response_free(r);
  /* The block closed with a body still arriving: the reader learns. */
  r = salvo_pending_response(b, get_stream(b, th_url(&th_srv, "/endless")));
  salvo_parallel_close(b);
  while ((n = salvo_response_read(r, buf, sizeof(buf))) > 0)
    ;
  assert_int_equal(n, SALVO_ECANCELED);
  salvo_response_free(r);
  salvo_client_free(c);
}

static salvo_response *stream_within(salvo_parallel *b, const char *url,
                                     double timeout) {
  salvo_request req;
  salvo_request_init(&req);
  req.url = url;
  req.stream = 1;
  req.timeout = timeout;
  return salvo_pending_response(b, salvo_submit(b, &req));
}

/* Reads r to its end or error: the bytes read, and the last result. */
static long read_to_end(salvo_response *r, long *last) {
  static char buf[65536];
  long n, got = 0;
  while ((n = salvo_response_read(r, buf, sizeof(buf))) > 0)
    got += n;
  *last = n;
  return got;
}

/* Once a streamed body is handed over, its timeout is a read timeout
 * (httpx's): a server that stops sending fails the read with
 * SALVO_ETIMEDOUT, counted from the body's last piece; bytes that keep
 * coming within it are never timed out, however long the body takes;
 * and a reader that leaves its buffer full is not timed out either. */
static void test_stream_read_timeout(void **state) {
  (void)state;
  salvo_client *c = th_client(NULL);
  salvo_parallel *b = th_open(c);
  long last;
  /* Two bytes 10 s apart, a timeout of 1 s. (libcurl's low-speed check
   * takes up to five seconds more.) */
  salvo_response *r =
      stream_within(b, th_url(&th_srv, "/drip/2?interval=10000"), 1);
  assert_int_equal(salvo_response_error(r), SALVO_OK);
  long got = read_to_end(r, &last);
  print_message("stalled: %ld bytes, then %ld: %s\n", got, last,
                salvo_response_errmsg(r));
  assert_int_equal(last, SALVO_ETIMEDOUT);
  assert_true(got < 2);
  salvo_response_free(r);
  /* Six bytes 200 ms apart: 1.2 s in all against the same 1 s. */
  r = stream_within(b, th_url(&th_srv, "/drip/6?interval=200"), 1);
  assert_int_equal(read_to_end(r, &last), 6);
  assert_int_equal(last, 0);
  salvo_response_free(r);
  /* 4 MiB, the reader away for 3 s with its 1 MiB buffer full. */
  r = stream_within(b, th_url(&th_srv, "/bytes/4194304"), 1);
  th_sleep_ms(3000);
  assert_int_equal(read_to_end(r, &last), 4194304);
  assert_int_equal(last, 0);
  salvo_response_free(r);
  salvo_parallel_close(b);
  salvo_client_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_timed_waits),
      cmocka_unit_test(test_cancel_one),
      cmocka_unit_test(test_cancel_queued_and_waiting),
      cmocka_unit_test(test_fork),
      cmocka_unit_test(test_stream_slow_reader),
      cmocka_unit_test(test_stream_fast_reader),
      cmocka_unit_test(test_stream_nowait_and_fd),
      cmocka_unit_test(test_stream_close_and_errors),
      cmocka_unit_test(test_stream_read_timeout),
  };
  return cmocka_run_group_tests(tests, th_faultd_setup, th_faultd_teardown);
}
