/* The conformance corpora, through a real connection, on each transport
 * (ctest runs this with SALVO_TRANSPORT=native and =libcurl): both must
 * give every case the same answer, the one the corpus states.
 *
 * Requests (tests/conformance/requests.jsonl): a request (a path or a
 * whole URL, method, headers, params, body or JSON) and the client's
 * configuration, and what faultd's /echo saw: the method, the target and
 * header values (null: not sent). ${port} and ${authority} stand for
 * faultd's. A differential run found libcurl and the native transport
 * sending one URL two ways; this keeps them one.
 *
 * Responses (tests/conformance/responses.jsonl): Each line is one case: its id,
 * its source (an RFC section, or the llhttp or http-parser test it was taken
 * from), the method (GET unless said), the bytes of the response ("wire",
 * a string whose characters U+0000 to U+00FF stand for bytes) and the
 * outcome: a status and body (and header values, when it names some),
 * or an error name. faultd's /wire sends the
 * bytes as they are, then closes; with "keep": true it keeps the
 * connection open (what a client must tell without a close). Redirects are not
 * followed (a 3xx is an answer like any), nothing is retried, bodies are
 * decoded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "salvo.h"

#if !defined(CONFORMANCE_FILE) || !defined(REQUESTS_FILE)
#error "CONFORMANCE_FILE and REQUESTS_FILE must be defined by the build"
#endif

/* A JSON string of code points up to U+00FF as bytes; *n its length. */
static char *bytes_of(json_t *s, size_t *n) {
  const unsigned char *u = (const unsigned char *)json_string_value(s);
  size_t len = json_string_length(s);
  char *out = malloc(len + 1), *d = out;
  for (size_t i = 0; i < len; i++) {
    if (u[i] < 0x80) {
      *d++ = (char)u[i];
    } else { /* U+0080..U+00FF: two UTF-8 bytes */
      assert_true(u[i] == 0xc2 || u[i] == 0xc3);
      *d++ = (char)(((u[i] & 3) << 6) | (u[i + 1] & 0x3f));
      i++;
    }
  }
  *d = '\0';
  *n = (size_t)(d - out);
  return out;
}

/* What a response was, for a message: "200 (5 bytes)" or "EPROTO: ...". */
static const char *outcome(salvo_response *r) {
  if (salvo_response_error(r))
    return th_fmt("%s: %s", salvo_errname(salvo_response_error(r)),
                  salvo_response_errmsg(r));
  size_t n;
  salvo_response_body(r, &n);
  return th_fmt("%d (%zu bytes)", salvo_response_status(r), n);
}

/* Whether r is what the case expects. */
static int matches(salvo_response *r, json_t *expect) {
  const char *err = json_string_value(json_object_get(expect, "error"));
  /* "status": null with an error: the response has no status (no status
   * line came, or its head was malformed). */
  if (err)
    return salvo_response_error(r) &&
           !strcmp(salvo_errname(salvo_response_error(r)), err) &&
           !(json_is_null(json_object_get(expect, "status")) &&
             salvo_response_status(r));
  if (salvo_response_error(r) ||
      salvo_response_status(r) !=
          json_integer_value(json_object_get(expect, "status")))
    return 0;
  size_t want_n, got_n;
  char *want = bytes_of(json_object_get(expect, "body"), &want_n);
  const char *got = salvo_response_body(r, &got_n);
  int same = want_n == got_n && !memcmp(want, got, got_n);
  free(want);
  /* "headers": a value for each name, as the response gives it. */
  const char *name;
  json_t *value;
  json_object_foreach(json_object_get(expect, "headers"), name, value) {
    const char *v = salvo_response_header(r, name);
    same = same && v && !strcmp(v, json_string_value(value));
  }
  return same;
}

/* A corpus's count on this transport, printed; fails the test when a
 * case went otherwise or the corpus is shorter than `least`. */
static void tally(const char *corpus, size_t n, size_t failed, size_t least) {
  const char *tp = getenv("SALVO_TRANSPORT");
  print_message("%s: %zu cases, %zu as the corpus says on the %s "
                "transport\n",
                corpus, n, n - failed, tp ? tp : "auto");
  assert_true(n >= least);
  if (failed)
    fail_msg("%s: %zu of %zu cases went otherwise", corpus, failed, n);
}

static void test_corpus(void **state) {
  (void)state;
  TH_HTTP1_ONLY();
  json_error_t jerr;
  FILE *f = fopen(CONFORMANCE_FILE, "r");
  assert_non_null(f);
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.max_retries = 0;
  cfg.no_redirects = 1;
  cfg.timeout = 10;
  salvo_client *c = th_client(&cfg);
  salvo_parallel *b = th_open(c);
  json_t *cases[512];
  salvo_pending ids[512];
  size_t n = 0;
  char line[1 << 16];
  while (n < 512 && fgets(line, sizeof(line), f)) {
    json_t *k = json_loads(line, JSON_ALLOW_NUL, &jerr);
    if (!k)
      fail_msg("corpus line %zu: %s", n + 1, jerr.text);
    size_t wn;
    char *wire = bytes_of(json_object_get(k, "wire"), &wn);
    char *hex = th_hex_of(wire, wn);
    const char *hdrs[] = {NULL, NULL};
    char *xwire = malloc(strlen(hex) + 16);
    sprintf(xwire, "X-Wire: %s", hex);
    hdrs[0] = xwire;
    salvo_request req;
    salvo_request_init(&req);
    req.url = th_url(&th_srv, json_is_true(json_object_get(k, "keep"))
                                  ? "/wire?keep=1"
                                  : "/wire");
    req.method = json_string_value(json_object_get(k, "method"));
    req.headers = hdrs;
    ids[n] = salvo_submit(b, &req);
    cases[n++] = k;
    free(xwire);
    free(hex);
    free(wire);
  }
  fclose(f);
  size_t failed = 0;
  for (size_t i = 0; i < n; i++) {
    salvo_response *r = salvo_pending_response(b, ids[i]);
    json_t *expect = json_object_get(cases[i], "expect");
    if (!matches(r, expect)) {
      char *want = json_dumps(expect, JSON_COMPACT);
      print_message("MISMATCH %s: want %.120s, got %s\n",
                    json_string_value(json_object_get(cases[i], "id")), want,
                    outcome(r));
      free(want);
      failed++;
    }
    salvo_response_free(r);
    json_decref(cases[i]);
  }
  salvo_parallel_close(b);
  salvo_client_free(c);
  tally("conformance", n, failed, 150);
}

/* s with ${port} and ${authority} made faultd's (th_fmt storage). */
static const char *subst(const char *s) {
  char out[2048];
  size_t n = 0;
  while (*s && n < sizeof(out) - 32) {
    if (!strncmp(s, "${port}", 7)) {
      n += (size_t)snprintf(out + n, sizeof(out) - n, "%d", th_srv.port);
      s += 7;
    } else if (!strncmp(s, "${authority}", 12)) {
      n += (size_t)snprintf(out + n, sizeof(out) - n, "127.0.0.1:%d",
                            th_srv.port);
      s += 12;
    } else {
      out[n++] = *s++;
    }
  }
  out[n] = '\0';
  return th_fmt("%s", out);
}

/* A case's strings as bytes (bytes_of), kept until the case ends. */
typedef struct held {
  char *p[32];
  size_t n;
} held;

static const char *hold(held *h, json_t *s) {
  size_t n;
  if (!json_is_string(s) || h->n == 32)
    return NULL;
  return h->p[h->n++] = bytes_of(s, &n);
}

/* A NULL-terminated list of the strings of array a (at most 8). */
static void list_of(held *h, json_t *a, const char *out[9]) {
  size_t i = 0;
  for (; i < json_array_size(a) && i < 8; i++)
    out[i] = hold(h, json_array_get(a, i));
  out[i] = NULL;
}

static salvo_client *client_for(held *h, json_t *cf) {
  const char *headers[9];
  salvo_config cfg;
  salvo_config_init(&cfg);
  list_of(h, json_object_get(cf, "headers"), headers);
  cfg.headers = headers;
  cfg.max_retries = 0;
  cfg.no_redirects = 1;
  cfg.timeout = 10;
  cfg.username = json_string_value(json_object_get(cf, "username"));
  cfg.password = json_string_value(json_object_get(cf, "password"));
  cfg.bearer_token = json_string_value(json_object_get(cf, "bearer_token"));
  cfg.user_agent = json_string_value(json_object_get(cf, "user_agent"));
  cfg.no_compression = json_is_true(json_object_get(cf, "no_compression"));
  return th_client(&cfg);
}

/* Whether what /echo saw (echo, NULL when the answer was not an echo) is
 * what the case expects; the first difference printed. */
static int saw(const char *id, json_t *echo, json_t *expect) {
  const char *key;
  json_t *want;
  if (!echo) {
    print_message("MISMATCH %s: no echo\n", id);
    return 0;
  }
  const char *fields[] = {"method", "target"};
  for (size_t i = 0; i < 2; i++) {
    const char *w = json_string_value(json_object_get(expect, fields[i]));
    const char *g = th_jstr(echo, fields[i], NULL);
    if (w && (!g || strcmp(subst(w), g))) {
      print_message("MISMATCH %s: %s %s, want %s\n", id, fields[i],
                    g ? g : "(none)", w);
      return 0;
    }
  }
  json_object_foreach(json_object_get(expect, "headers"), key, want) {
    const char *g = th_jstr(echo, "headers", key);
    const char *w = json_string_value(want);
    if (w ? !g || strcmp(subst(w), g) : g != NULL) {
      print_message("MISMATCH %s: header %s: %s, want %s\n", id, key,
                    g ? g : "(not sent)", w ? w : "(not sent)");
      return 0;
    }
  }
  return 1;
}

static void test_requests(void **state) {
  (void)state;
  TH_HTTP1_ONLY();
  FILE *f = fopen(REQUESTS_FILE, "r");
  assert_non_null(f);
  char line[1 << 14];
  size_t n = 0, failed = 0;
  while (fgets(line, sizeof(line), f)) {
    json_error_t jerr;
    json_t *k = json_loads(line, 0, &jerr);
    if (!k)
      fail_msg("requests line %zu: %s", n + 1, jerr.text);
    json_t *rq = json_object_get(k, "request");
    held h = {{0}, 0};
    const char *headers[9], *params[9];
    list_of(&h, json_object_get(rq, "headers"), headers);
    list_of(&h, json_object_get(rq, "params"), params);
    salvo_client *c = client_for(&h, json_object_get(k, "config"));
    salvo_request req;
    salvo_request_init(&req);
    const char *url = hold(&h, json_object_get(rq, "url"));
    req.url =
        url ? subst(url)
            : th_url(&th_srv, "%s", hold(&h, json_object_get(rq, "path")));
    req.method = json_string_value(json_object_get(rq, "method"));
    req.headers = headers;
    req.params = params[0] ? params : NULL;
    req.json = json_string_value(json_object_get(rq, "json"));
    if ((req.body = hold(&h, json_object_get(rq, "body"))))
      req.body_len = strlen(req.body);
    salvo_response *r = th_fetch(c, &req);
    size_t len;
    const char *body = salvo_response_body(r, &len);
    json_t *echo =
        salvo_response_error(r) ? NULL : json_loadb(body, len, 0, &jerr);
    const char *id = json_string_value(json_object_get(k, "id"));
    failed += !saw(id, echo, json_object_get(k, "expect"));
    json_decref(echo);
    salvo_response_free(r);
    salvo_client_free(c);
    for (size_t i = 0; i < h.n; i++)
      free(h.p[i]);
    json_decref(k);
    n++;
  }
  fclose(f);
  tally("requests", n, failed, 25);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_requests),
      cmocka_unit_test(test_corpus),
  };
  return cmocka_run_group_tests(tests, th_faultd_setup, th_faultd_teardown);
}
