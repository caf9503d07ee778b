/* Streaming bodies to a callback or a file: memory stays flat. A binary of
 * its own, so that the process's peak RSS measures the download alone. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "salvo.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif

static char dir[64];

static int setup(void **state) {
  th_faultd_setup(state);
  snprintf(dir, sizeof(dir), "/tmp/salvo-stream-XXXXXX");
  return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
  th_faultd_teardown(state);
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  return system(cmd) == 0 ? 0 : -1;
}

static long peak_rss_kib(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kib = -1;
  while (f && fgets(line, sizeof(line), f))
    if (!strncmp(line, "VmHWM:", 6))
      kib = strtol(line + 6, NULL, 10);
  if (f)
    fclose(f);
  return kib;
}

typedef struct counter {
  uint64_t bytes;
  uint64_t chunks;
  uint64_t stop_after; /* 0 = never */
} counter;

static int count_chunk(void *user, const char *data, size_t len) {
  counter *c = user;
  (void)data;
  c->bytes += len;
  c->chunks++;
  return c->stop_after && c->bytes >= c->stop_after;
}

static void test_gigabyte_with_flat_memory(void **state) {
  (void)state;
  const uint64_t size = 1ull << 30;
  counter cnt = {0};
  salvo_request req;
  salvo_request_init(&req);
  req.url = th_url(&th_srv, "/bytes/%llu", (unsigned long long)size);
  req.on_data = count_chunk;
  req.user_data = &cnt;
  req.timeout = 120;
  double t0 = th_now();
  salvo_results *res = salvo_parallel_requests(&req, 1, NULL);
  double dt = th_now() - t0;
  salvo_response *r = salvo_results_at(res, 0);
  long rss = peak_rss_kib();
  print_message("1 GiB streamed in %.2f s (%.0f MiB/s), %llu chunks, peak "
                "RSS %ld KiB\n",
                dt, 1024 / dt, (unsigned long long)cnt.chunks, rss);
  assert_int_equal(salvo_response_error(r), SALVO_OK);
  assert_int_equal(salvo_response_status(r), 200);
  assert_true(cnt.bytes == size);
  size_t len;
  salvo_response_body(r, &len);
  assert_int_equal(len, 0); /* nothing was kept */
#ifndef SANITIZED
  assert_true(rss > 0 && rss < 32 * 1024);
#endif
  salvo_results_free(res);
}

static long file_size(const char *path) {
  struct stat st;
  return stat(path, &st) ? -1 : (long)st.st_size;
}

static void test_output_path(void **state) {
  (void)state;
  char path[128], retried[128], missing[128], bad[128];
  snprintf(path, sizeof(path), "%s/big.bin", dir);
  snprintf(retried, sizeof(retried), "%s/retried.txt", dir);
  snprintf(missing, sizeof(missing), "%s/404.txt", dir);
  snprintf(bad, sizeof(bad), "%s/no/such/dir/x", dir);
  salvo_request reqs[4];
  th_requests_init(reqs, sizeof(reqs) / sizeof(reqs[0]));
  reqs[0].url = th_url(&th_srv, "/bytes/3000000");
  reqs[0].output_path = path;
  /* A 503 first: its body is not written, the retry's is. */
  reqs[1].url = th_url(&th_srv, "/flaky?key=out&fail=1");
  reqs[1].output_path = retried;
  reqs[2].url = th_url(&th_srv, "/status/404");
  reqs[2].output_path = missing;
  reqs[3].url = th_url(&th_srv, "/bytes/10");
  reqs[3].output_path = bad;
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.retry_base = 0.01;
  cfg.max_body = 1000; /* streamed bodies are not capped */
  salvo_results *res = salvo_parallel_requests(reqs, 4, &cfg);
  assert_int_equal(salvo_response_error(salvo_results_at(res, 0)), SALVO_OK);
  assert_int_equal(file_size(path), 3000000);
  salvo_response *r = salvo_results_at(res, 1);
  assert_int_equal(salvo_response_status(r), 200);
  assert_int_equal(salvo_response_attempts(r), 2);
  char buf[16] = {0};
  int fd = open(retried, O_RDONLY);
  assert_true(fd >= 0);
  assert_int_equal(read(fd, buf, sizeof(buf)), 3);
  close(fd);
  assert_string_equal(buf, "ok\n");
  /* An error status keeps its body in memory and writes no file. */
  r = salvo_results_at(res, 2);
  assert_int_equal(salvo_response_status(r), 404);
  assert_string_equal(salvo_response_body(r, NULL), "status 404\n");
  assert_int_equal(file_size(missing), -1);
  r = salvo_results_at(res, 3);
  assert_int_equal(salvo_response_error(r), SALVO_EWRITE);
  assert_non_null(strstr(salvo_response_errmsg(r), "No such file"));
  salvo_results_free(res);
}

/* A FIFO as output_path, with no reader and then with one that never
 * reads: refused at once with SALVO_EWRITE. Opened as a file, the first
 * would wait in open for a reader, and the second in write for room, on
 * the I/O thread, stopping the request beside it too, which here
 * completes; /dev/null is still written. */
static void test_output_path_refuses_pipes(void **state) {
  (void)state;
  char fifo[128];
  snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
  assert_int_equal(mkfifo(fifo, 0600), 0);
  int rd = -1;
  for (int pass = 0; pass < 2; pass++) {
    if (pass == 1) {
      rd = open(fifo, O_RDONLY | O_NONBLOCK);
      assert_true(rd >= 0);
    }
    salvo_request reqs[3];
    th_requests_init(reqs, 3);
    reqs[0].url = th_url(&th_srv, "/bytes/300000");
    reqs[0].output_path = fifo;
    reqs[1].url = th_url(&th_srv, "/bytes/10");
    reqs[2].url = th_url(&th_srv, "/bytes/10");
    reqs[2].output_path = "/dev/null";
    salvo_results *res = salvo_parallel_requests(reqs, 3, NULL);
    salvo_response *r = salvo_results_at(res, 0);
    assert_int_equal(salvo_response_error(r), SALVO_EWRITE);
    assert_non_null(
        strstr(salvo_response_errmsg(r), pass ? "not a file" : "no reader"));
    r = salvo_results_at(res, 1);
    assert_int_equal(salvo_response_error(r), SALVO_OK);
    assert_int_equal(salvo_response_status(r), 200);
    assert_int_equal(salvo_response_error(salvo_results_at(res, 2)), SALVO_OK);
    salvo_results_free(res);
  }
  close(rd);
  unlink(fifo);
}

static void test_on_data_can_stop(void **state) {
  (void)state;
  counter cnt = {0, 0, 100000};
  salvo_request req;
  salvo_request_init(&req);
  req.url = th_url(&th_srv, "/bytes/10000000");
  req.on_data = count_chunk;
  req.user_data = &cnt;
  salvo_results *res = salvo_parallel_requests(&req, 1, NULL);
  salvo_response *r = salvo_results_at(res, 0);
  assert_int_equal(salvo_response_error(r), SALVO_ECALLBACK);
  /* Bytes were delivered: it is not retried. */
  assert_int_equal(salvo_response_attempts(r), 1);
  assert_true(cnt.bytes < 10000000);
  salvo_results_free(res);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_gigabyte_with_flat_memory),
      cmocka_unit_test(test_output_path),
      cmocka_unit_test(test_output_path_refuses_pipes),
      cmocka_unit_test(test_on_data_can_stop),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
