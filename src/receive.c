/* What a response's bytes become (see receive.h): what the state of the
 * current attempt says, and bodies; heads are receive_head.c's, the
 * state's life receive_state.c's. */
#include "receive.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decode.h"
#include "receive_state.h"
#include "stream.h"

/* Decoded bytes are handed on in steps of this size, so that a paused
 * reader holds one step and the input not decoded yet, never a whole
 * decompression bomb. */
#define STEP (16 * 1024)

int salvo__req_failure(const salvo__req *r) {
  const salvo__recv *v = salvo__recv_now(r);
  return v ? v->fail : 0;
}

int salvo__req_status(const salvo__req *r) {
  const salvo__recv *v = salvo__recv_now(r);
  return v ? v->head.status : 0;
}

int salvo__req_head_done(const salvo__req *r) {
  const salvo__recv *v = salvo__recv_now(r);
  return v && v->head_done;
}

char *salvo__req_fail_message(const salvo__req *r) {
  if (!salvo__req_failure(r))
    return NULL;
  switch (r->recv->fail) {
  case SALVO_ETOOBIG:
    return salvo__fmt("response body exceeds max_body (%zu bytes)",
                      r->max_body);
  case SALVO_ECALLBACK:
    return salvo__fmt("on_data callback stopped the transfer");
  case SALVO_EWRITE:
    return salvo__fmt("writing %s: %s", r->output_path,
                      r->recv->why ? r->recv->why
                                   : strerror(r->recv->fail_errno));
  case SALVO_EPROTO:
    return salvo__fmt("%s", r->recv->why ? r->recv->why : "malformed response");
  case SALVO_EDECODE:
    return salvo__fmt("%s", r->recv->why ? r->recv->why : "corrupt body");
  default:
    return NULL;
  }
}

int salvo__req_chunked(const salvo__req *r) {
  const salvo__recv *v = salvo__recv_now(r);
  return v && v->head.chunked;
}

int salvo__req_ends_at_close(const salvo__req *r) {
  const salvo__recv *v = salvo__recv_now(r);
  const salvo__head *h = v ? &v->head : NULL;
  return h && h->version < 20 && !h->has_len && !h->chunked && !r->is_head &&
         h->status >= 200 && h->status != 204 && h->status != 304;
}

/* ---- bodies -----------------------------------------------------------------
 */

/* output_path opened for an attempt: a file or a character device
 * (/dev/null), never a FIFO or socket, whose open or write can wait
 * without end and would stop the I/O thread, and every request of the
 * client with it. O_NONBLOCK makes a FIFO with no reader fail at once
 * (ENXIO) where open would wait for one; on a device it is cleared after,
 * so that the device is written as it always was (a file ignores it: no
 * two more system calls a download). */
static int open_output(salvo__req *r) {
  int fd = open(r->output_path,
                O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NONBLOCK, 0644);
  struct stat st;
  if (fd < 0 && errno == ENXIO)
    r->recv->why = "a pipe with no reader: output_path takes a file or a "
                   "character device";
  if (fd < 0)
    return -1;
  if (fstat(fd, &st) || !(S_ISREG(st.st_mode) || S_ISCHR(st.st_mode))) {
    r->recv->why = "not a file or a character device: a write to a pipe or "
                   "socket could stop every request of the client";
    close(fd);
    errno = EINVAL;
    return -1;
  }
  if (S_ISCHR(st.st_mode))
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

static int write_output(salvo__req *r, const char *data, size_t len) {
  if (r->recv->out_fd < 0 && (r->recv->out_fd = open_output(r)) < 0)
    goto fail;
  while (len) {
    ssize_t n = write(r->recv->out_fd, data, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      goto fail;
    data += n;
    len -= (size_t)n;
  }
  return 0;
fail:
  r->recv->fail_errno = errno ? errno : EIO;
  return SALVO_EWRITE;
}

/* Bytes of the body as the caller gets them: streamed when the response
 * succeeded and the request streams, to the reader's buffer when it reads,
 * kept otherwise (an error page, a 503 about to be retried). */
static int deliver(salvo__req *r, const char *data, size_t len) {
  salvo_response *resp = r->resp;
  if (salvo__req_streams(r) && resp->status >= 200 && resp->status < 300) {
    resp->streamed = 1;
    if (!r->on_data)
      return write_output(r, data, len);
    return r->on_data(resp->user_data, data, len) ? SALVO_ECALLBACK : 0;
  }
  if (resp->stream) {
    int rc = salvo__stream_write(resp->stream, data, len);
    return rc == SALVO__STREAM_FULL ? SALVO__EV_PAUSE : rc;
  }
  if (len > r->max_body - resp->body.len)
    return SALVO_ETOOBIG;
  if (salvo__resp_reserve_body(resp, len, r->pool))
    return SALVO_ENOMEM;
  return salvo__buf_append(&resp->body, data, len);
}

/* Decodes in[0..n) and delivers it; what a full reader cannot take is held
 * (one step's output, and the input not decoded yet). */
static int decode(salvo__req *r, const char *in, size_t n) {
  char out[STEP];
  r->recv->fed = 1;
  for (;;) {
    size_t used = 0;
    const char *why = NULL;
    long got =
        salvo__decoder_step(r->recv->dec, in, n, &used, out, sizeof(out), &why);
    if (got < 0) {
      r->recv->why = why;
      return got == SALVO_EPROTO ? SALVO_EDECODE : (int)got;
    }
    if (!used && !got && n) {
      r->recv->why = "the decoder takes no more of the body";
      return SALVO_EDECODE;
    }
    in += used;
    n -= used;
    if (got) {
      int rc = deliver(r, out, (size_t)got);
      if (rc == SALVO__EV_PAUSE) {
        if (salvo__buf_append(&r->recv->held, out, (size_t)got) ||
            salvo__buf_append(&r->recv->held_in, in, n))
          return SALVO_ENOMEM;
        return SALVO__EV_HELD;
      }
      if (rc)
        return rc;
    }
    if (!n && (size_t)got < sizeof(out))
      return 0;
  }
}

int salvo__req_on_body(salvo__req *r, const char *data, size_t len) {
  int rc = salvo__recv_current(r);
  if (rc)
    return rc;
  return salvo__recv_kept(r, r->recv->dec ? decode(r, data, len)
                                          : deliver(r, data, len));
}

static int resume(salvo__req *r) {
  while (r->recv->held_off < r->recv->held.len) {
    int rc = deliver(r, r->recv->held.p + r->recv->held_off,
                     r->recv->held.len - r->recv->held_off);
    if (rc == SALVO__EV_PAUSE)
      return SALVO__EV_HELD;
    if (rc)
      return rc;
    r->recv->held_off = r->recv->held.len;
  }
  r->recv->held.len = r->recv->held_off = 0;
  if (!r->recv->held_in.len)
    return 0;
  salvo__buf in = r->recv->held_in;
  r->recv->held_in = (salvo__buf){0};
  int rc = decode(r, in.p, in.len);
  salvo__buf_free(&in);
  return rc;
}

int salvo__req_resume_body(salvo__req *r) {
  return salvo__recv_now(r) ? salvo__recv_kept(r, resume(r)) : 0;
}

int salvo__req_holding(const salvo__req *r) {
  const salvo__recv *v = salvo__recv_now(r);
  return v && (v->held_off < v->held.len || v->held_in.len);
}

int salvo__req_on_end(salvo__req *r) {
  if (!salvo__recv_now(r) || !r->recv->dec || !r->recv->fed ||
      salvo__decoder_done(r->recv->dec))
    return 0;
  r->recv->why = salvo__decoder_cut_short(r->recv->dec);
  return salvo__recv_kept(r, SALVO_EDECODE);
}
