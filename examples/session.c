/*
 * A session: one long-lived client for several batches. Connections and
 * cookies carry over from one batch to the next.
 *
 *   session BASE_URL
 */
#include <jansson.h>
#include <salvo.h>
#include <stdio.h>
#include <string.h>

static const char *cookie_header(salvo_results *res) {
  json_t *j = salvo_response_json(salvo_results_at(res, 0), NULL);
  const char *c = json_string_value(
      json_object_get(json_object_get(j, "headers"), "cookie"));
  return c ? c : "(none)";
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s BASE_URL\n", argv[0]);
    return 2;
  }
  char login[256], echo[256];
  snprintf(login, sizeof(login), "%s/cookies/set?session=s3cr3t", argv[1]);
  snprintf(echo, sizeof(echo), "%s/echo", argv[1]);
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.concurrency = 5;
  cfg.return_type = SALVO_RETURN_JSON;
  salvo_client *client;
  if (salvo_client_new(&client, &cfg))
    return 1;

  salvo_request first;
  salvo_request_init(&first);
  first.url = login;
  salvo_results *r1 = salvo_client_parallel_requests(client, &first, 1);
  printf("batch 1: status %d\n",
         salvo_response_status(salvo_results_at(r1, 0)));

  salvo_request second;
  salvo_request_init(&second);
  second.url = echo;
  salvo_results *r2 = salvo_client_parallel_requests(client, &second, 1);
  printf("batch 2 sent cookie: %s\n", cookie_header(r2));

  salvo_client_clear_cookies(client);
  salvo_results *r3 = salvo_client_parallel_requests(client, &second, 1);
  printf("after clear_cookies: %s\n", cookie_header(r3));

  int ok = !strcmp(cookie_header(r2), "session=s3cr3t") &&
           !strcmp(cookie_header(r3), "(none)");
  salvo_results_free(r1);
  salvo_results_free(r2);
  salvo_results_free(r3);
  salvo_client_free(client);
  return ok ? 0 : 1;
}
