/* Plain TCP behind salvo__conn_ops: recv, sendmsg, and a peek for an idle
 * connection's health. */
#include <errno.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "native.h"

/* recv and sendmsg as bare system calls. glibc's wrappers are pthread
 * cancellation points: in a process with threads each call switches
 * asynchronous cancellation on and off around the system call (about 85
 * instructions a request here). The I/O thread is never cancelled, so
 * that buys nothing; the result and errno are the same. */
static ssize_t sys_recv(int fd, void *buf, size_t n, int flags) {
  return (ssize_t)syscall(SYS_recvfrom, fd, buf, n, flags, NULL, NULL);
}

static ssize_t sys_sendmsg(int fd, const struct msghdr *mh, int flags) {
  return (ssize_t)syscall(SYS_sendmsg, fd, mh, flags);
}

static int tcp_handshake(salvo__transport *t, salvo__nconn *c, char **msg) {
  (void)t, (void)c, (void)msg;
  return 0; /* connected is ready */
}

static ssize_t tcp_read(salvo__nconn *c, char *buf, size_t n, int *err) {
  for (;;) {
    ssize_t got = sys_recv(c->fd, buf, n, 0);
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
    ssize_t put = sys_sendmsg(c->fd, &mh, MSG_NOSIGNAL);
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
  ssize_t n = sys_recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
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
