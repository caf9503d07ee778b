/* Sockets the suites need beside faultd: a listener that never answers,
 * a plain GET for a server's control pages. */
#define _GNU_SOURCE /* strcasestr */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

int th_stalled_listener(const char *ip, int *port, int *fill) {
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(*port)};
  socklen_t len = sizeof(sa);
  inet_pton(AF_INET, ip, &sa.sin_addr);
  int one = 1, l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true(l >= 0);
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) || listen(l, 0) ||
      getsockname(l, (struct sockaddr *)&sa, &len))
    fail_msg("stalled listener on %s:%d: %s", ip, *port, strerror(errno));
  *port = ntohs(sa.sin_port);
  *fill = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_int_equal(connect(*fill, (struct sockaddr *)&sa, sizeof(sa)), 0);
  /* The precondition, checked: one more connect stays in progress. */
  int probe = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  assert_true(connect(probe, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
              errno == EINPROGRESS);
  struct pollfd p = {.fd = probe, .events = POLLOUT};
  assert_int_equal(poll(&p, 1, 300), 0);
  close(probe);
  return l;
}

char *th_raw_get(int port, const char *path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET,
                           .sin_port = htons((uint16_t)port),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
    if (fd >= 0)
      close(fd);
    return NULL;
  }
  char req[1024];
  int n = snprintf(req, sizeof(req),
                   "GET %s HTTP/1.1\r\nHost: control\r\nConnection: "
                   "close\r\n\r\n",
                   path);
  if (write(fd, req, (size_t)n) != n) {
    close(fd);
    return NULL;
  }
  size_t len = 0, cap = 65536;
  char *buf = malloc(cap);
  for (;;) {
    if (len + 4096 > cap)
      buf = realloc(buf, cap *= 2);
    ssize_t r = read(fd, buf + len, cap - len - 1);
    if (r <= 0)
      break;
    len += (size_t)r;
    buf[len] = '\0';
    /* faultd keeps the connection open: stop at Content-Length. */
    char *body = strstr(buf, "\r\n\r\n");
    char *cl = strcasestr(buf, "Content-Length:");
    if (body && cl && cl < body &&
        len >= (size_t)(body + 4 - buf) + strtoul(cl + 15, NULL, 10))
      break;
  }
  close(fd);
  buf[len] = '\0';
  char *body = strstr(buf, "\r\n\r\n");
  char *out = body ? strdup(body + 4) : NULL;
  free(buf);
  return out;
}
