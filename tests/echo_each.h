/* What the suites that check answers reach their own requests share
 * (test_hostile.c, test_tls.c): many requests at once to faultd's /echo,
 * each answer checked against its own request. Include after cmocka.h. */
#ifndef SALVO_TESTS_ECHO_EACH_H
#define SALVO_TESTS_ECHO_EACH_H

#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "salvo.h"

/* n (at most 512) requests at once on c to base + "/echo/<i>" (base as
 * "http://127.0.0.1:PORT"): each answer must be its own request's, the
 * path /echo saw. Returns how many came over HTTP/2. */
static inline int echo_each(salvo_client *c, const char *base, int n) {
  char at[256]; /* base may be th_fmt's, which the calls below reuse */
  snprintf(at, sizeof(at), "%s", base);
  salvo_parallel *b = th_open(c);
  salvo_pending p[512];
  int h2 = 0;
  assert_true(n <= 512);
  for (int i = 0; i < n; i++) {
    salvo_request req;
    salvo_request_init(&req);
    req.url = th_fmt("%s/echo/%d", at, i);
    p[i] = salvo_submit(b, &req);
  }
  for (int i = 0; i < n; i++) {
    salvo_response *r = salvo_pending_response(b, p[i]);
    json_t *j = th_echo_of(r);
    const char *path = th_jstr(j, "path", NULL);
    if (!path || strcmp(path, th_fmt("/echo/%d", i)))
      fail_msg("request %d got the answer to %s", i, path ? path : "none");
    h2 += !strcmp(salvo_response_http_version(r), "2");
    json_decref(j);
    salvo_response_free(r);
  }
  salvo_parallel_close(b);
  return h2;
}

#endif /* SALVO_TESTS_ECHO_EACH_H */
