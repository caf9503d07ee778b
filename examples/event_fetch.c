/*
 * event_fetch: many requests on a libevent base, through salvo's adapter.
 *
 *   event_fetch BASE_URL [N]
 *
 * Fetches BASE_URL/json/0 .. N-1 (default 100); the base's thread gets
 * each response as it completes, and dispatch ends with the last one.
 */
#include <salvo.h>
#include <salvo/adapters/libevent.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct tally {
  int want, got, ok;
} tally;

static void on_response(salvo_event *w, salvo_response *r, void *arg) {
  tally *t = arg;
  t->got++;
  t->ok += salvo_response_status(r) == 200;
  salvo_response_free(r);
  if (t->got == t->want)
    salvo_event_detach(w); /* no event left: dispatch returns */
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
  struct event_base *base = event_base_new();
  salvo_event w;
  if (!base || salvo_event_attach(&w, base, b, on_response, &t))
    return 1;
  event_base_dispatch(base);
  printf("%d responses, %d ok\n", t.got, t.ok);
  event_base_free(base);
  salvo_parallel_close(b);
  return t.ok == t.want ? 0 : 1;
}
