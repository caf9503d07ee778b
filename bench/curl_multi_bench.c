/*
 * curl_multi_bench: the cost floor of libcurl itself. One thread, one
 * multi handle driven with curl_multi_socket_action on epoll, C easy
 * handles reused from one URL to the next, bodies counted and dropped.
 * No queues, no threads, no allocations of its own per request.
 *
 *   curl_multi_bench -c C -i URLFILE [-k]
 *
 * Prints one JSON line: ok, failed, bytes, seconds.
 */
#include <curl/curl.h>
#include <stdio.h>

#include "bench_util.h"
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

typedef struct loop {
  int epfd;
  long timeout_ms;
  CURLM *multi;
} loop;

static size_t on_write(char *p, size_t size, size_t n, void *user) {
  (void)p;
  *(size_t *)user += size * n;
  return size * n;
}

static int on_socket(CURL *e, curl_socket_t s, int what, void *user,
                     void *sockp) {
  loop *l = user;
  (void)e;
  struct epoll_event ev = {.data.fd = s};
  if (what == CURL_POLL_REMOVE) {
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, s, &ev);
    return 0;
  }
  ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0u) |
              ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
  if (epoll_ctl(l->epfd, sockp ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s, &ev))
    epoll_ctl(l->epfd, sockp ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, s, &ev);
  if (!sockp)
    curl_multi_assign(l->multi, s, l);
  return 0;
}

static int on_timer(CURLM *m, long ms, void *user) {
  (void)m;
  ((loop *)user)->timeout_ms = ms;
  return 0;
}

int main(int argc, char **argv) {
  int c = 0, insecure = 0, h1 = 0;
  const char *input = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-c") && i + 1 < argc)
      c = atoi(argv[++i]);
    else if (!strcmp(argv[i], "-i") && i + 1 < argc)
      input = argv[++i];
    else if (!strcmp(argv[i], "-k"))
      insecure = 1;
    else if (!strcmp(argv[i], "--h1"))
      h1 = 1;
  }
  if (!input || c <= 0) {
    fprintf(stderr, "usage: %s -c C -i URLFILE [-k] [--h1]\n", argv[0]);
    return 2;
  }
  size_t n;
  char **urls = bench_read_lines(input, &n);
  curl_global_init(CURL_GLOBAL_ALL);
  loop l = {
      .epfd = epoll_create1(0), .timeout_ms = -1, .multi = curl_multi_init()};
  curl_multi_setopt(l.multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(l.multi, CURLMOPT_SOCKETDATA, &l);
  curl_multi_setopt(l.multi, CURLMOPT_TIMERFUNCTION, on_timer);
  curl_multi_setopt(l.multi, CURLMOPT_TIMERDATA, &l);
  curl_multi_setopt(l.multi, CURLMOPT_MAX_CONCURRENT_STREAMS, (long)c);
  size_t bytes = 0, next = 0, done = 0, ok = 0;
  double t0 = bench_now();
  for (int i = 0; i < c && next < n; i++) {
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &bytes);
    curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
    if (h1)
      curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    if (insecure) {
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    curl_easy_setopt(e, CURLOPT_URL, urls[next++]);
    curl_multi_add_handle(l.multi, e);
  }
  struct epoll_event evs[256];
  int running;
  while (done < n) {
    int k = epoll_wait(l.epfd, evs, 256, (int)l.timeout_ms);
    if (k == 0)
      curl_multi_socket_action(l.multi, CURL_SOCKET_TIMEOUT, 0, &running);
    for (int i = 0; i < k; i++) {
      int flags = ((evs[i].events & EPOLLIN) ? CURL_CSELECT_IN : 0) |
                  ((evs[i].events & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
                  ((evs[i].events & EPOLLERR) ? CURL_CSELECT_ERR : 0);
      curl_multi_socket_action(l.multi, evs[i].data.fd, flags, &running);
    }
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(l.multi, &left))) {
      if (m->msg != CURLMSG_DONE)
        continue;
      CURL *e = m->easy_handle;
      long status = 0;
      curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
      ok += m->data.result == CURLE_OK && status == 200;
      done++;
      curl_multi_remove_handle(l.multi, e);
      if (next < n) {
        curl_easy_setopt(e, CURLOPT_URL, urls[next++]);
        curl_multi_add_handle(l.multi, e);
      } else {
        curl_easy_cleanup(e);
      }
    }
  }
  double dt = bench_now() - t0;
  printf("{\"ok\":%zu,\"failed\":%zu,\"bytes\":%zu,\"seconds\":%.6f}\n", ok,
         n - ok, bytes, dt);
  curl_multi_cleanup(l.multi);
  curl_global_cleanup();
  bench_free_lines(urls, n);
  return ok == n ? 0 : 1;
}
