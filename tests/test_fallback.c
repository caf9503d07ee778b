/* Without epoll_pwait2 (Linux before 5.11, seccomp policies, valgrind):
 * a seccomp filter makes the system call fail with ENOSYS, as an older
 * kernel would, and the I/O loop must keep its timers precise through the
 * timerfd fallback. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "salvo.h"

#ifndef SYS_epoll_pwait2
#define SYS_epoll_pwait2 441
#endif

static th_server srv;

static int refuse_epoll_pwait2(void) {
  struct sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_epoll_pwait2, 0, 1),
      BPF_STMT(BPF_RET | BPF_K,
               SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {.len = sizeof(filter) / sizeof(filter[0]),
                            .filter = filter};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
    return -1;
  return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

static int setup(void **state) {
  (void)state;
  th_faultd_start(&srv, "--log-starts");
  if (refuse_epoll_pwait2()) {
    print_error("cannot install the seccomp filter\n");
    return -1;
  }
  /* The filter works: the call now fails as on an old kernel. */
  if (syscall(SYS_epoll_pwait2, -1, NULL, 0, NULL, NULL, 0) != -1 ||
      errno != ENOSYS)
    return -1;
  return 0;
}

static int teardown(void **state) {
  (void)state;
  th_server_stop(&srv);
  return 0;
}

/* 1,000 attempts a second with a bucket of one: a token every millisecond,
 * which a millisecond epoll_wait timeout alone could not pace. */
static void test_rate_stays_precise(void **state) {
  (void)state;
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.rate_limit = 1000;
  salvo_client *c = th_client(&cfg);
  json_decref(th_reset(&srv));
  salvo_parallel *b = th_open(c);
  double t0 = th_now();
  for (int i = 0; i < 500; i++)
    salvo_get(b, th_url(&srv, "/json/%d", i));
  salvo_response *r;
  int ok = 0;
  while ((r = salvo_parallel_next(b))) {
    ok += salvo_response_status(r) == 200;
    salvo_response_free(r);
  }
  double dt = th_now() - t0;
  size_t worst = th_busiest(&srv, 100000, NULL);
  print_message("500 at 1000/s without epoll_pwait2: %.3f s, busiest 100 ms: "
                "%zu starts\n",
                dt, worst);
  assert_int_equal(ok, 500);
  /* The limit holds (server times), and the rate is not lost to
   * millisecond steps: 0.5 s idle, with 3x slack for a busy machine. The
   * limiter's exact guarantee is proved on a fake clock
   * (tests/unit/test_sched.c). The server stamps arrivals, which carry the
   * scheduling of two processes on top of the limiter's starts: a stall
   * of d ms bunches d ms of starts into one window, whatever its length.
   * Two make tests side by side once put 16 in a 10 ms window (11
   * allowed), so the window is 100 ms and 20 ms of bunching is allowed,
   * as test_flow allows 50 ms at 200/s. */
  assert_true(dt > 0.45);
  /* Over HTTP/2 faultd stamps what tests/h2front.py's Python loop passes
   * on, in bunches of its own: the limiter's precision is shown by the
   * other runs (the scheduler is the same code for every transport). */
  if (!th_h2() && worst > 1 + 100 + 20)
    fail_msg("%zu arrivals in the busiest 100 ms at 1000/s (at most 121)",
             worst);
  TH_WITHIN(dt, 1.5, "500 requests at 1000/s");
  salvo_parallel_close(b);
  salvo_client_free(c);
}

/* The timer fires through the timerfd: a hanging request times out while
 * two others complete first. */
static void test_timeouts_and_requests_work(void **state) {
  (void)state;
  salvo_client *c = th_client(NULL);
  salvo_parallel *b = th_open(c);
  salvo_request hang;
  salvo_request_init(&hang);
  hang.url = th_url(&srv, "/hang");
  hang.timeout = 0.3;
  hang.max_retries = 0;
  double t0 = th_now();
  salvo_submit(b, &hang);
  salvo_get(b, th_url(&srv, "/delay/50"));
  salvo_get(b, th_url(&srv, "/delay/50"));
  for (int i = 0; i < 2; i++) {
    salvo_response *r = salvo_parallel_next(b);
    assert_int_equal(salvo_response_status(r), 200);
    salvo_response_free(r);
  }
  salvo_response *r = salvo_parallel_next(b);
  double dt = th_now() - t0;
  assert_int_equal(salvo_response_error(r), SALVO_ETIMEDOUT);
  assert_true(dt >= 0.29);
  TH_WITHIN(dt, 0.9, "a 0.3 s timeout");
  salvo_response_free(r);
  salvo_parallel_close(b);
  salvo_client_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rate_stays_precise),
      cmocka_unit_test(test_timeouts_and_requests_work),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
