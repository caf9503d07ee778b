/*
 * uv_fetch: many requests on a libuv loop, through salvo's adapter.
 *
 *   uv_fetch BASE_URL [N]
 *
 * Fetches BASE_URL/json/0 .. N-1 (default 100); the loop thread gets each
 * response as it completes, and the loop ends when the last one is in.
 */
#include <salvo.h>
#include <salvo/adapters/libuv.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct tally {
  int want, got, ok;
} tally;

static void on_response(salvo_uv *w, salvo_response *r, void *arg) {
  tally *t = arg;
  t->got++;
  t->ok += salvo_response_status(r) == 200;
  salvo_response_free(r);
  if (t->got == t->want)
    salvo_uv_detach(w, NULL); /* nothing left to watch: uv_run returns */
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s BASE_URL [N]\n", argv[0]);
    return 2;
  }
  tally t = {.want = argc > 2 ? atoi(argv[2]) : 100};
  salvo_parallel *b;
  if (salvo_parallel_open(NULL, &b))
    return 1;
  char url[512];
  for (int i = 0; i < t.want; i++) {
    snprintf(url, sizeof(url), "%s/json/%d", argv[1], i);
    salvo_get(b, url);
  }
  salvo_uv w;
  if (salvo_uv_attach(&w, uv_default_loop(), b, on_response, &t))
    return 1;
  uv_run(uv_default_loop(), UV_RUN_DEFAULT);
  printf("%d responses, %d ok\n", t.got, t.ok);
  salvo_parallel_close(b);
  return t.ok == t.want ? 0 : 1;
}
