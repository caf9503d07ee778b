/*
 * connect_floor: what opening connections costs with no HTTP client at
 * all, the floor under every client of the 10,000-connection extra. One
 * thread and epoll; N nonblocking sockets to 127.0.0.1:PORT, C at once,
 * each sending one GET of PATH, reading its answer (a chunked body, as
 * nginx's echo module sends, or one the server ends by closing) and
 * counting a 2xx status line, then closing, as the clients measured
 * beside it close theirs. No parsing beyond the status and the last
 * chunk, no pool, no timers.
 *
 *   connect_floor -p PORT -n N -c C [-u PATH]
 *
 * Prints one JSON line: ok, failed, seconds.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_util.h"

typedef struct sock {
  int sent;     /* the request went */
  char status;  /* the status's first digit ("HTTP/1.x NNN") */
  char tail[5]; /* the answer's last bytes: "0\r\n\r\n" ends it */
  int got;      /* bytes of the answer read */
} sock;

static int port, ep, started, total;
static char req[512];
static size_t req_len;
static sock *socks;

static int start(void) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof(a)) && errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  struct epoll_event e = {.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP | EPOLLET,
                          .data.fd = fd};
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
  memset(&socks[fd], 0, sizeof(socks[fd]));
  started++;
  return 0;
}

/* The answer read as far as it goes: 1 when it ended (ok set for a
 * 2xx), 0 for more later. */
static int drain(int fd, int *ok) {
  char buf[4096];
  sock *s = &socks[fd];
  for (;;) {
    ssize_t r = read(fd, buf, sizeof(buf));
    if (r > 0) {
      for (ssize_t i = 0; i < r; i++) {
        if (s->got + i == 9)
          s->status = buf[i];
        memmove(s->tail, s->tail + 1, sizeof(s->tail) - 1);
        s->tail[sizeof(s->tail) - 1] = buf[i];
      }
      s->got += (int)r;
      if (!memcmp(s->tail, "0\r\n\r\n", sizeof(s->tail))) {
        *ok = s->status == '2';
        return 1;
      }
      continue;
    }
    if (r < 0 && errno == EAGAIN)
      return 0;
    *ok = r == 0 && s->status == '2';
    return 1;
  }
}

int main(int argc, char **argv) {
  int c = 256;
  const char *path = "/";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "-p"))
      port = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "-n"))
      total = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "-c"))
      c = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "-u"))
      path = argv[i + 1];
  }
  if (port <= 0 || total <= 0 || c <= 0) {
    fprintf(stderr, "usage: connect_floor -p PORT -n N -c C [-u PATH]\n");
    return 2;
  }
  req_len = (size_t)snprintf(req, sizeof(req),
                             "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n",
                             path, port);
  socks = calloc((size_t)c + 1024, sizeof(*socks));
  ep = epoll_create1(EPOLL_CLOEXEC);
  if (!socks || ep < 0)
    return 2;
  int ok = 0, failed = 0, open = 0;
  double t0 = bench_now();
  struct epoll_event ev[256];
  while (ok + failed < total) {
    while (open < c && started < total) {
      if (start())
        failed++, started++;
      else
        open++;
    }
    int n = epoll_wait(ep, ev, 256, 1000);
    for (int i = 0; i < n; i++) {
      int fd = ev[i].data.fd, good = 0;
      if ((ev[i].events & EPOLLOUT) && !socks[fd].sent) {
        socks[fd].sent = 1;
        if (write(fd, req, req_len) != (ssize_t)req_len)
          ev[i].events |= EPOLLERR;
      }
      if ((ev[i].events & EPOLLERR) || drain(fd, &good)) {
        close(fd);
        open--;
        good ? ok++ : failed++;
      }
    }
  }
  printf("{\"ok\":%d,\"failed\":%d,\"seconds\":%.3f}\n", ok, failed,
         bench_now() - t0);
  return 0;
}
