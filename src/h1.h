/*
 * HTTP/1.1 response framing (RFC 9112): status lines, header lines and
 * where a body ends (Content-Length, chunked, or the connection's close),
 * with no I/O and no allocation, so that a fuzzer can drive it alone.
 *
 * Written here rather than taken from Debian's libhttp-parser: that
 * parser is unmaintained upstream (its authors moved to llhttp, which
 * Debian ships only for Node.js), it calls back per header name and value
 * piece where salvo wants whole lines (request.c parses the lines for
 * both transports, so statuses and headers are read the same way), and
 * the framing is the small part of HTTP/1.1. tests/fuzz/fuzz_h1.c feeds
 * it.
 */
#ifndef SALVO_H1_H
#define SALVO_H1_H

#include <stddef.h>
#include <stdint.h>

/* The longest header line and head accepted: libcurl's limits (100 KiB a
 * line, 300 KiB in all) with room to spare, so that both transports
 * refuse the same heads with the same error. */
#define SALVO__H1_LINE_MAX (100 * 1024)
#define SALVO__H1_HEAD_MAX (256 * 1024)

/* An "HTTP/2" status line from a connection that speaks HTTP/1.1: both
 * transports refuse it in these words. */
#define SALVO__H1_NOT_H1                                                       \
  "malformed status line: HTTP/2 on an HTTP/1.1 connection"

/* A body the close cut short: both transports say so in these words. */
#define SALVO__H1_CUT_BODY "connection closed before the end of the body"

/* A body callback's answers: nothing was taken, stop until fed again
 * (PAUSE); or all was taken but stop until resumed (HOLD). */
#define SALVO__H1_PAUSE 1
#define SALVO__H1_HOLD 2

enum salvo__h1_state {
  SALVO__H1_HEAD = 0,   /* status line and headers */
  SALVO__H1_LEN,        /* a body of Content-Length bytes */
  SALVO__H1_CHUNK_SIZE, /* a chunk's size line */
  SALVO__H1_CHUNK_DATA,
  SALVO__H1_CHUNK_END, /* the CRLF after a chunk's data */
  SALVO__H1_TRAILER,   /* trailer lines after the last chunk */
  SALVO__H1_CLOSE,     /* a body that ends when the connection does */
  SALVO__H1_DONE
};

/* The names of the fields salvo reads in a head, known once per line by
 * their length and bytes (RFC 9110 5.1: in any case), so that the
 * framing, the transport and the request module never compare a name
 * again. */
enum salvo__h1_name {
  SALVO__H1_OTHER = 0,
  SALVO__H1_CONTENT_LENGTH,
  SALVO__H1_TRANSFER_ENCODING,
  SALVO__H1_CONNECTION,
  SALVO__H1_CONTENT_ENCODING,
  SALVO__H1_LOCATION,
  SALVO__H1_SET_COOKIE,
  SALVO__H1_CONTENT_TYPE /* only noted where the response keeps it */
};

/* Whether a field of this name says how the body is framed: Content-
 * Length, Transfer-Encoding, Connection, the names the framing reads. */
static inline int salvo__h1_frames(int name) {
  return name >= SALVO__H1_CONTENT_LENGTH && name <= SALVO__H1_CONNECTION;
}

enum salvo__h1_kind {
  SALVO__H1_STATUS_LINE = 1,
  SALVO__H1_FIELD_LINE,
  SALVO__H1_END_LINE /* the blank line that ends a head */
};

/* One line of a head, checked and read once (salvo__h1_read_line). */
typedef struct salvo__h1_line {
  const char *l; /* the line, without its line ending */
  size_t n;
  int kind;            /* enum salvo__h1_kind */
  int status, version; /* a status line's (version: 10, 11 or 20) */
  int name;            /* a field's enum salvo__h1_name */
  size_t name_len;     /* a field's: its name is l[0..name_len) */
  const char *v;       /* a field's value, without the whitespace around */
  size_t vn;
  uint64_t len; /* a Content-Length field's value */
} salvo__h1_line;

typedef struct salvo__h1_cb {
  void *ctx;
  /* Every line of every head (status lines, headers, the blank line that
   * ends a head), checked and read: 0 or an error (< 0). */
  int (*line)(void *ctx, const salvo__h1_line *line);
  /* A piece of the body, de-chunked: 0, an error (< 0) or
   * SALVO__H1_PAUSE. */
  int (*body)(void *ctx, const char *data, size_t len);
  /* Optional: a head found whole in what was fed (salvo__h1_scan_head)
   * and valid, all its lines at once (the status line first, the blank
   * line last), where `line` would see them one by one: the same answer
   * from one call. The framing has read the head before this call. */
  int (*head)(void *ctx, const salvo__h1_line *lines, size_t n);
} salvo__h1_cb;

typedef struct salvo__h1 {
  int state;      /* enum salvo__h1_state */
  int status;     /* of the head being read, or of the final response */
  int keep_alive; /* the connection may serve another request after */
  int no_body;    /* the request was HEAD */
  int chunked;
  int has_len;
  int lines;       /* lines of this head so far */
  int trailers;    /* a trailer line has been read */
  uint64_t left;   /* bytes left of the body or of the chunk */
  size_t head;     /* bytes of the heads so far */
  const char *why; /* what was malformed, for SALVO_EPROTO */
} salvo__h1;

/* Ready for one response to a request (no_body: it was HEAD). */
void salvo__h1_init(salvo__h1 *p, int no_body);

/* Takes bytes; returns how many it consumed, or an error (< 0:
 * SALVO_EPROTO with p->why, or a callback's). It stops at the end of the
 * response (p->state is SALVO__H1_DONE), at a pause (*paused set), or
 * before a line that is not complete yet: the caller feeds that again
 * with more. */
long salvo__h1_feed(salvo__h1 *p, const char *buf, size_t len,
                    const salvo__h1_cb *cb, int *paused);

/* The syntax of a response's lines, checked alike whichever transport read
 * them (request.c checks every line of both; h1.c its trailers). Each
 * returns NULL when the line is valid, or what is wrong with it. A line
 * comes without its LF and without one CR before it: any CR left in it is
 * a bare CR (RFC 9112 2.2).
 *
 * A status line (RFC 9112 4): "HTTP/1.x", one SP, three digits from 100
 * (600 to 999 are kept as sent: RFC 9110 15 says to treat them as 5xx),
 * then SP and a reason of HTAB, SP, VCHAR and obs-text, or nothing.
 * "HTTP/2" is what libcurl writes for an HTTP/2 response. *status and
 * *version (10, 11, 20) are set on success. */
const char *salvo__h1_check_status(const char *l, size_t n, int *status,
                                   int *version);
/* A field line (RFC 9110 5.1, 5.5; RFC 9112 5): a token, the colon with
 * no whitespace before it, a value of HTAB, SP, VCHAR and obs-text. A
 * line starting with whitespace continues the one before (an obs-fold,
 * RFC 9112 5.2), which the readers join first (h1_fold.h): one that
 * comes here has no field line before it, and is refused (RFC 9112 2.2).
 * *name_len is set on success. Both transports also judge with it a line
 * still waiting for its continuations, its first line alone and then
 * joined: no continuation mends a name, a colon or a value's bytes (a
 * fold is a value's), and a close or a silence after such a line is not
 * its cause (SALVO_EIO, which a retry repeats; a timeout). */
const char *salvo__h1_check_field(const char *l, size_t n, size_t *name_len);

/* Reads the line l[0..n) of a head into *out: a status line when first,
 * else a field line, or the end of the head when empty. NULL when it is
 * valid (the checks above, and a Content-Length's value), else what is
 * wrong with it. Both transports read their lines through it. */
const char *salvo__h1_read_line(const char *l, size_t n, int first,
                                salvo__h1_line *out);

/* The connection ended: 0 when that completes the response (a body
 * delimited by the close), else SALVO_EPROTO or SALVO_EIO with p->why. */
int salvo__h1_eof(salvo__h1 *p);

#endif /* SALVO_H1_H */
