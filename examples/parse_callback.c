/*
 * A parse callback: each successful response becomes a small struct, made
 * on the collecting thread and freed with the results.
 *
 *   parse_callback BASE_URL
 */
#include <jansson.h>
#include <salvo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct repo {
  long id;
  char name[64];
} repo;

static void *extract_repo_info(salvo_response *r, void *arg,
                               const char **error) {
  (void)arg;
  json_t *j = salvo_response_json(r, NULL); /* return_type JSON: parsed */
  const char *name = json_string_value(json_object_get(j, "name"));
  if (!name) {
    *error = "no \"name\" in the response";
    return NULL;
  }
  repo *info = calloc(1, sizeof(*info));
  if (!info) {
    *error = "out of memory";
    return NULL;
  }
  info->id = (long)json_integer_value(json_object_get(j, "id"));
  snprintf(info->name, sizeof(info->name), "%s", name);
  return info;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s BASE_URL\n", argv[0]);
    return 2;
  }
  salvo_request reqs[3];
  char urls[3][256];
  for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++)
    salvo_request_init(&reqs[i]);
  for (int i = 0; i < 3; i++) {
    snprintf(urls[i], sizeof(urls[i]), "%s/json/%d", argv[1], 10 + i);
    reqs[i].url = urls[i];
  }
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.return_type = SALVO_RETURN_JSON;
  cfg.parse = extract_repo_info;
  cfg.parse_free = free;
  salvo_results *res = salvo_parallel_requests(reqs, 3, &cfg);
  int failed = 0;
  for (size_t i = 0; i < salvo_results_count(res); i++) {
    salvo_response *r = salvo_results_at(res, i);
    repo *info = salvo_response_value(r);
    if (info)
      printf("%s (id %ld)\n", info->name, info->id);
    else
      printf("%s: %s\n", salvo_response_url(r), salvo_response_errmsg(r)),
          failed++;
  }
  salvo_results_free(res);
  return failed ? 1 : 0;
}
