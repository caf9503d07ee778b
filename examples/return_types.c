/*
 * Return types: JSON, text, bytes and the full response.
 *
 *   return_types BASE_URL
 */
#include <jansson.h>
#include <salvo.h>
#include <stdio.h>

static salvo_response *first(salvo_results *res) {
  return salvo_results_at(res, 0);
}

static salvo_results *get(const char *base, const char *path, int type) {
  char url[256];
  snprintf(url, sizeof(url), "%s%s", base, path);
  salvo_request req;
  salvo_request_init(&req);
  req.url = url;
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.return_type = type;
  return salvo_parallel_requests(&req, 1, &cfg);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s BASE_URL\n", argv[0]);
    return 2;
  }
  int bad = 0;

  /* JSON: fields directly. */
  salvo_results *res = get(argv[1], "/json/3", SALVO_RETURN_JSON);
  json_t *j = salvo_response_json(first(res), NULL);
  printf("json: name = %s\n", json_string_value(json_object_get(j, "name")));
  bad += !j;
  salvo_results_free(res);

  /* Text: decoded to UTF-8 from the declared charset (ISO-8859-1 here). */
  res = get(argv[1], "/latin1", SALVO_RETURN_TEXT);
  printf("text: %s", salvo_response_text(first(res), NULL));
  salvo_results_free(res);

  /* Bytes: the body as it came. */
  res = get(argv[1], "/bytes/1024", SALVO_RETURN_BYTES);
  size_t len;
  salvo_response_body(first(res), &len);
  printf("bytes: %zu\n", len);
  bad += len != 1024;
  salvo_results_free(res);

  /* The full response. */
  res = get(argv[1], "/redirect/2", SALVO_RETURN_RESPONSE);
  salvo_response *r = first(res);
  printf("response: status %d, HTTP/%s, final URL %s, %.1f ms\n",
         salvo_response_status(r), salvo_response_http_version(r),
         salvo_response_url(r), salvo_response_total_time(r) * 1000);
  for (size_t i = 0; i < salvo_response_header_count(r); i++) {
    const char *name, *value;
    salvo_response_header_at(r, i, &name, &value);
    printf("  %s: %s\n", name, value);
  }
  bad += salvo_response_status(r) != 200;
  salvo_results_free(res);
  return bad ? 1 : 0;
}
