/* Sockets the suites need beside faultd: a listener that never answers. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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
