/*
 * Named results, per-URL params and other options in one call.
 *
 *   named_results BASE_URL      (e.g. http://127.0.0.1:8080, faultd)
 */
#include <jansson.h>
#include <salvo.h>
#include <stdio.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s BASE_URL\n", argv[0]);
    return 2;
  }
  char a[256], b[256];
  snprintf(a, sizeof(a), "%s/json/1", argv[1]);
  snprintf(b, sizeof(b), "%s/json/2", argv[1]);
  const char *urls[] = {a, b};
  const char *keys[] = {"cpython", "pypy"};
  /* Per-URL params: {"ref": "main"} for the first URL, nothing for the
   * second. One header list for both. */
  const char *const main_ref[] = {"ref", "main", NULL};
  const char *const *params[] = {main_ref, NULL};
  const char *const hdrs[] = {"User-Agent: MyApp/1.0",
                              "Accept: application/json", NULL};
  const char *const *headers[] = {hdrs};
  salvo_urls u;
  salvo_urls_init(&u); /* its size, then the lists */
  u.urls = urls, u.count = 2;
  u.keys = keys, u.nkeys = 2;
  u.params = params, u.nparams = 2;
  u.headers = headers, u.nheaders = 1;
  salvo_config cfg;
  salvo_config_init(&cfg); /* the defaults, then what this run wants */
  cfg.concurrency = 3;
  cfg.max_retries = 2;
  cfg.timeout = 10;
  cfg.rate_limit = 10;
  cfg.return_type = SALVO_RETURN_JSON;
  salvo_results *res = salvo_parallel_urls(&u, &cfg);
  if (salvo_results_error(res)) {
    fprintf(stderr, "refused: %s\n", salvo_results_errmsg(res));
    return 1;
  }
  for (size_t i = 0; i < 2; i++) {
    salvo_response *r = salvo_results_get(res, keys[i]);
    if (salvo_response_error(r)) {
      printf("%s: failed: %s\n", keys[i], salvo_response_errmsg(r));
      continue;
    }
    json_t *j = salvo_response_json(r, NULL);
    printf("%s: %s\n", keys[i], json_string_value(json_object_get(j, "name")));
  }
  int failed = (int)salvo_results_failed(res);
  salvo_results_free(res);
  return failed ? 1 : 0;
}
