/* Plain TCP behind salvo__conn_ops: recv, sendmsg, and a peek for an idle
 * connection's health. */
#include <errno.h>
#include <sys/socket.h>

#include "native.h"

static int tcp_handshake(salvo__transport *t, salvo__nconn *c, char **msg) {
  (void)t, (void)c, (void)msg;
  return 0; /* connected is ready */
}

static ssize_t tcp_read(salvo__nconn *c, char *buf, size_t n, int *err) {
  for (;;) {
    ssize_t got = recv(c->fd, buf, n, 0);
    if (got >= 0)
      return got;
    if (errno == EINTR)
      continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      return SALVO__IO_AGAIN;
    *err = errno;
    return SALVO__IO_ERROR;
  }
}

static ssize_t tcp_writev(salvo__nconn *c, const struct iovec *iov, int n,
                          int *err) {
  struct msghdr mh = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)n};
  for (;;) {
    ssize_t put = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
    if (put >= 0)
      return put;
    if (errno == EINTR)
      continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      return SALVO__IO_AGAIN;
    *err = errno;
    return SALVO__IO_ERROR;
  }
}

static int tcp_alive(salvo__nconn *c) {
  char b;
  ssize_t n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

static void tcp_close(salvo__nconn *c) { (void)c; }

const salvo__conn_ops salvo__tcp_ops = {
    .handshake = tcp_handshake,
    .read = tcp_read,
    .writev = tcp_writev,
    .alive = tcp_alive,
    .close = tcp_close,
    .short_read_empties = 1,
};
