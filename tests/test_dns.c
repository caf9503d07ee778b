/* Names resolved without blocking the I/O thread: c-ares asking a DNS
 * server of the test's own (tests/dnsd.py, through dns_servers) for a
 * wildcard zone, some of whose names answer late or not at all. The
 * server's query log and the order responses come back in are the
 * evidence. Also the Happy Eyeballs race over real sockets (a first
 * address that never answers) and search domains. With
 * SALVO_TRANSPORT=libcurl, dns_servers is refused: libcurl here asks the
 * system's resolver. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "salvo.h"

static th_server dns;
static char servers[64];

/* tests/dnsd.py answering for salvo.test with this TTL. */
static void dnsd_start(const char *ttl) {
  th_server_stop(&dns);
  snprintf(dns.dir, sizeof(dns.dir), "/tmp/salvo-dns-XXXXXX");
  if (!mkdtemp(dns.dir))
    fail_msg("mkdtemp");
  char *log = strdup(th_fmt("%s/queries.log", dns.dir));
  char *argv[] = {
      "/usr/bin/python3", DNSD_PY, "--ttl", (char *)ttl, "--log", log, NULL};
  dns.pid = th_spawn_port(argv, "port %d", &dns.port);
  free(log);
  snprintf(servers, sizeof(servers), "127.0.0.1:%d", dns.port);
}

/* A queries dnsd logged for name. */
static int queries(const char *name) {
  FILE *f = fopen(th_fmt("%s/queries.log", dns.dir), "r");
  char line[512], want[300];
  int n = 0;
  snprintf(want, sizeof(want), " A %s\n", name);
  while (f && fgets(line, sizeof(line), f))
    n += strstr(line, want) != NULL;
  if (f)
    fclose(f);
  return n;
}

static int setup(void **state) {
  th_faultd_setup(state);
  dnsd_start("60");
  return 0;
}

static int teardown(void **state) {
  th_server_stop(&dns);
  return th_faultd_teardown(state);
}

static salvo_config dns_config(void) {
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.dns_servers = servers;
  cfg.max_retries = 0;
  return cfg;
}

/* The client, or NULL (checked) where libcurl is forced. */
static salvo_client *dns_client(const salvo_config *cfg) {
  salvo_client *c = NULL;
  int err = salvo_client_new(&c, cfg);
  if (th_transport_is("libcurl")) {
    assert_int_equal(err, SALVO_EINVAL);
    return NULL;
  }
  assert_int_equal(err, SALVO_OK);
  return c;
}

static const char *at(const char *name, const char *path) {
  return th_fmt("http://%s.salvo.test:%d%s", name, th_srv.port, path);
}

/* 300 names, each asked once, each request answered by faultd. */
static void test_many_names(void **state) {
  (void)state;
  salvo_config cfg = dns_config();
  cfg.concurrency = 300;
  salvo_client *c = dns_client(&cfg);
  if (!c)
    return;
  salvo_parallel *b = th_open(c);
  for (int i = 0; i < 300; i++)
    salvo_get(b, at(th_fmt("many%d", i), th_fmt("/json/%d", i)));
  int ok = 0;
  salvo_response *r;
  while ((r = salvo_parallel_next(b))) {
    ok += salvo_response_status(r) == 200;
    if (salvo_response_error(r))
      print_error("%s\n", salvo_response_errmsg(r));
    salvo_response_free(r);
  }
  salvo_parallel_close(b);
  salvo_client_free(c);
  assert_int_equal(ok, 300);
  for (int i = 0; i < 300; i += 37)
    assert_int_equal(queries(th_fmt("many%d.salvo.test", i)), 1);
}

/* Names answered 3 s late hold up no one else: every other request,
 * submitted after them, is collected before the first of them. */
static void test_slow_names_delay_only_their_requests(void **state) {
  (void)state;
  salvo_config cfg = dns_config();
  cfg.concurrency = 200;
  salvo_client *c = dns_client(&cfg);
  if (!c)
    return;
  salvo_parallel *b = th_open(c);
  for (int i = 0; i < 10; i++)
    salvo_get(b, at(th_fmt("slow3000-s%d", i), "/json/1"));
  for (int i = 0; i < 100; i++)
    salvo_get(b, at(th_fmt("quick%d", i), "/json/2"));
  int n = 0, quick_after_slow = 0, slow_seen = 0, ok = 0;
  salvo_response *r;
  while ((r = salvo_parallel_next(b))) {
    int slow = strstr(salvo_response_url(r), "slow3000") != NULL;
    slow_seen += slow;
    quick_after_slow += !slow && slow_seen;
    ok += salvo_response_status(r) == 200;
    n++;
    salvo_response_free(r);
  }
  salvo_parallel_close(b);
  salvo_client_free(c);
  print_message("%d responses, %d quick ones after a slow one\n", n,
                quick_after_slow);
  assert_int_equal(ok, 110);
  assert_int_equal(quick_after_slow, 0);
}

/* A name that does not exist fails its own requests with SALVO_EDNS,
 * naming it; the others in the same block are answered. */
static void test_failure_is_that_hosts_alone(void **state) {
  (void)state;
  salvo_config cfg = dns_config();
  salvo_client *c = dns_client(&cfg);
  if (!c)
    return;
  salvo_parallel *b = th_open(c);
  salvo_pending bad[3], good[3];
  for (int i = 0; i < 3; i++) {
    bad[i] = salvo_get(b, at("slow1000-nx-gone", th_fmt("/json/%d", i)));
    good[i] = salvo_get(b, at("fine", th_fmt("/json/%d", i)));
  }
  for (int i = 0; i < 3; i++) {
    salvo_response *r = salvo_pending_response(b, bad[i]);
    assert_int_equal(salvo_response_error(r), SALVO_EDNS);
    assert_non_null(
        strstr(salvo_response_errmsg(r), "slow1000-nx-gone.salvo.test"));
    salvo_response_free(r);
    r = salvo_pending_response(b, good[i]);
    assert_int_equal(salvo_response_status(r), 200);
    salvo_response_free(r);
  }
  salvo_parallel_close(b);
  salvo_client_free(c);
  /* The three waited for one lookup (answered a second late, so that all
   * three are under way before it ends). */
  assert_int_equal(queries("slow1000-nx-gone.salvo.test"), 1);
}

/* A lookup slower than connect_timeout is SALVO_ETIMEDOUT, and says it
 * was resolving. */
static void test_lookup_bounded_by_connect_timeout(void **state) {
  (void)state;
  salvo_config cfg = dns_config();
  cfg.connect_timeout = 0.2;
  salvo_client *c = dns_client(&cfg);
  if (!c)
    return;
  salvo_response *r = th_fetch_url(c, at("slow5000-late", "/json/1"));
  assert_int_equal(salvo_response_error(r), SALVO_ETIMEDOUT);
  assert_non_null(strstr(salvo_response_errmsg(r), "Resolving timed out"));
  salvo_response_free(r);
  salvo_client_free(c);
}

/* An answer is kept for its TTL: new connections within it ask nothing,
 * one after it asks again (dnsd restarted with a TTL of 2 s; faultd
 * closes each connection after its response). */
static void test_ttl_honoured(void **state) {
  (void)state;
  dnsd_start("2");
  salvo_config cfg = dns_config();
  salvo_client *c = dns_client(&cfg);
  if (c) {
    for (int i = 0; i < 3; i++) {
      salvo_response *r = th_fetch_url(c, at("ttl", "/json/1?close=1"));
      assert_int_equal(salvo_response_status(r), 200);
      salvo_response_free(r);
    }
    assert_int_equal(queries("ttl.salvo.test"), 1);
    if (th_h2()) { /* one HTTP/2 connection, kept: no name to look up */
      salvo_client_free(c);
      dnsd_start("60");
      return;
    }
    usleep(2200 * 1000); /* past the TTL */
    salvo_response *r = th_fetch_url(c, at("ttl", "/json/1?close=1"));
    assert_int_equal(salvo_response_status(r), 200);
    salvo_response_free(r);
    assert_int_equal(queries("ttl.salvo.test"), 2);
    salvo_client_free(c);
  }
  dnsd_start("60");
}

/* A name with a refused address first and a working one second is
 * answered through the second (Happy Eyeballs goes on at a failure
 * without waiting); pinned names and literals never reach the server. */
static void test_addresses_in_turn_and_pins(void **state) {
  (void)state;
  salvo_config cfg = dns_config();
  const char *pins[] = {th_fmt("pinned.salvo.test:%d:127.0.0.1", th_srv.port),
                        NULL};
  cfg.resolve = pins;
  salvo_client *c = dns_client(&cfg);
  if (!c)
    return;
  const char *urls[] = {at("two-ways", "/json/1"), at("pinned", "/json/2"),
                        th_fmt("http://127.0.0.1:%d/json/3", th_srv.port)};
  for (size_t i = 0; i < 3; i++) {
    salvo_response *r = th_fetch_url(c, urls[i]);
    assert_int_equal(salvo_response_status(r), 200);
    salvo_response_free(r);
  }
  salvo_client_free(c);
  assert_int_equal(queries("two-ways.salvo.test"), 1);
  assert_int_equal(queries("pinned.salvo.test"), 0);
}

/* Happy Eyeballs (RFC 8305 5): the name's first address (127.0.0.2)
 * never answers; 250 ms after trying it, salvo tries the next
 * (127.0.0.1), which answers, and the first to connect wins. Without the
 * race the request would wait out connect_timeout (10 s) on the first
 * address. Evidence: the response, faultd's one request, and the time
 * the request took: at least the 250 ms delay (the first address really
 * was tried first, alone), far below the 10 s. */
static void test_happy_eyeballs_race(void **state) {
  (void)state;
  int fill, port = th_srv.port,
            l = th_stalled_listener("127.0.0.2", &port, &fill);
  salvo_config cfg = dns_config();
  cfg.connect_timeout = 10;
  salvo_client *c = dns_client(&cfg);
  if (c) {
    long before = th_stat(&th_srv, "requests");
    salvo_response *r = th_fetch_url(c, at("two-race", "/json/1"));
    double took = salvo_response_elapsed(r);
    print_message("two-race answered in %.3f s\n", took);
    assert_int_equal(salvo_response_status(r), 200);
    if (took < 0.24 || took > 5.0)
      fail_msg("two-race took %.3f s: expected at least the 0.25 s Happy "
               "Eyeballs delay and far less than the 10 s connect timeout",
               took);
    assert_int_equal(th_stat(&th_srv, "requests"), before + 1);
    salvo_response_free(r);
    salvo_client_free(c);
  }
  close(fill);
  close(l);
}

/* Search domains (resolv.conf's search, which LOCALDOMAIN overrides for
 * this process alone): a name without a dot is asked as
 * name.salvo.test, which dnsd answers. Its query log is the evidence. */
static void test_search_domains(void **state) {
  (void)state;
  setenv("LOCALDOMAIN", "salvo.test", 1);
  salvo_config cfg = dns_config();
  salvo_client *c = dns_client(&cfg);
  if (c) {
    salvo_response *r =
        th_fetch_url(c, th_fmt("http://searched:%d/json/1", th_srv.port));
    assert_int_equal(salvo_response_status(r), 200);
    salvo_response_free(r);
    salvo_client_free(c);
    assert_int_equal(queries("searched.salvo.test"), 1);
  }
  unsetenv("LOCALDOMAIN");
}

static void test_servers_checked(void **state) {
  (void)state;
  const char *bad[] = {"",        "1.2.3", "127.0.0.1:0", "127.0.0.1:70000",
                       "::1:53x", "[::1",  "[::1]53",     "1.2.3.4,,5.6.7.8"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    salvo_config cfg;
    char msg[256];
    salvo_config_init(&cfg);
    cfg.dns_servers = bad[i];
    assert_int_equal(salvo_config_check(&cfg, msg, sizeof(msg)), SALVO_EINVAL);
    assert_non_null(strstr(msg, "dns_servers"));
  }
  const char *good = "127.0.0.1,127.0.0.1:5353,::1,[::1]:53,[2001:db8::1]";
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.dns_servers = good;
  char msg[256];
  if (th_transport_is("libcurl")) { /* forced by the environment */
    assert_int_equal(salvo_config_check(&cfg, msg, sizeof(msg)), SALVO_EINVAL);
    assert_non_null(strstr(msg, "SALVO_TRANSPORT=libcurl"));
  } else {
    assert_int_equal(salvo_config_check(&cfg, NULL, 0), SALVO_OK);
  }
  cfg.proxy = "http://127.0.0.1:1";
  assert_int_equal(salvo_config_check(&cfg, NULL, 0), SALVO_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_many_names),
      cmocka_unit_test(test_slow_names_delay_only_their_requests),
      cmocka_unit_test(test_failure_is_that_hosts_alone),
      cmocka_unit_test(test_lookup_bounded_by_connect_timeout),
      cmocka_unit_test(test_ttl_honoured),
      cmocka_unit_test(test_addresses_in_turn_and_pins),
      cmocka_unit_test(test_happy_eyeballs_race),
      cmocka_unit_test(test_search_domains),
      cmocka_unit_test(test_servers_checked),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
