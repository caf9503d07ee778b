/* HTTP/1.1 response framing: see h1.h. */
#include "h1.h"

#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "field.h"
#include "h1_chunk.h"
#include "h1_fold.h"
#include "h1_scan.h"
#include "h1_value.h"

void salvo__h1_init(salvo__h1 *p, int no_body) {
  memset(p, 0, sizeof(*p));
  p->no_body = no_body;
}

static int proto(salvo__h1 *p, const char *why) {
  p->why = why;
  return SALVO_EPROTO;
}

/* Words more than one reading gives. */
#define NOT_HTTP "malformed status line: it does not start with HTTP/"
#define NO_CRLF "malformed chunked body: no CRLF after a chunk"
#define LINE_TOO_LARGE "response header too large (a line over 100 KiB)"

static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_ows(char c) { return c == ' ' || c == '\t'; }

/* Why byte c may not stand in the place named. */
static const char *bad_byte(unsigned char c, const char *nul, const char *cr,
                            const char *other) {
  return c == 0 ? nul : c == '\r' ? cr : other;
}

/* Whether s[i..n) is reason-phrase or field-value text; the first byte
 * that is not, else n. The line s[0..n) is all of one check when long
 * enough: what comes before i is token bytes, a colon or a status line's
 * start, none of them a control. */
static size_t text_end(const char *s, size_t i, size_t n) {
#ifdef __SSE2__
  if (n >= 16 && !salvo__h1_ctl16(s, n))
    return n;
#endif
  while (i < n && (salvo__ctype[(unsigned char)s[i]] & SALVO__VTEXT))
    i++;
  return i;
}

/* Whether l[0..n) starts as nearly every status line does: "HTTP/1.1",
 * a space, three digits from 100, then a space or the end. One compare of
 * eight bytes where the general checks below cost 75 instructions. */
static int usual_status(const char *l, size_t n) {
  uint64_t w, want;
  if (n < 12)
    return 0;
  memcpy(&w, l, 8);
  memcpy(&want, "HTTP/1.1", 8);
  return w == want && l[8] == ' ' && l[9] >= '1' && l[9] <= '9' &&
         is_digit(l[10]) && is_digit(l[11]) && (n == 12 || l[12] == ' ');
}

/* `clean` when the head's scan found no control in the line
 * (salvo__h1_scan_head): its text needs no check of its own. (Such a
 * head's field lines are read by clean_field.) */
static const char *check_status(const char *l, size_t n, int *status,
                                int *version, int clean) {
  size_t i;
  if (usual_status(l, n)) {
    *version = 11;
    i = 9;
    goto digits;
  }
  if (n < 5 || memcmp(l, "HTTP/", 5))
    return NOT_HTTP;
  if (n >= 8 && l[5] == '1' && l[6] == '.' && (l[7] == '0' || l[7] == '1')) {
    *version = l[7] == '0' ? 10 : 11;
    i = 8;
  } else if (n >= 8 && l[5] == '1' && l[6] == '.' && is_digit(l[7])) {
    /* RFC 9110 2.5 would read 1.2 to 1.9 as 1.1 (a SHOULD); libcurl
     * refuses them, and both transports give one answer. */
    return "unsupported HTTP version: salvo reads HTTP/1.0 and HTTP/1.1";
  } else if (n >= 6 && l[5] == '2' && (n == 6 || l[6] == ' ')) {
    *version = 20;
    i = 6;
  } else {
    return "malformed status line: not an HTTP/1.x version";
  }
  if (i == n || l[i] != ' ')
    return "malformed status line: no space after the version";
  if (++i < n && l[i] == ' ')
    return "malformed status line: two spaces after the version";
  if (n - i < 3 || l[i] < '1' || l[i] > '9' || !is_digit(l[i + 1]) ||
      !is_digit(l[i + 2]) || (n > i + 3 && l[i + 3] != ' '))
    return "malformed status line: the status is not three digits from 100";
digits:
  *status = (l[i] - '0') * 100 + (l[i + 1] - '0') * 10 + (l[i + 2] - '0');
  size_t e = clean ? n : text_end(l, i + 3, n);
  if (e < n)
    return bad_byte((unsigned char)l[e], "NUL in the status line",
                    "bare CR in the status line",
                    "control character in the status line");
  return NULL;
}

const char *salvo__h1_check_status(const char *l, size_t n, int *status,
                                   int *version) {
  return check_status(l, n, status, version, 0);
}

static inline __attribute__((always_inline)) const char *
check_field(const char *l, size_t n, size_t *name_len) {
  if (n && is_ows(l[0]))
    return "whitespace before the first header line (RFC 9112 2.2)";
  size_t i = salvo__h1_token_end(l, n);
  if (i == n)
    return "malformed header line: no colon";
  if (l[i] != ':') {
    if (is_ows(l[i]))
      return "whitespace between a header name and its colon";
    return bad_byte((unsigned char)l[i], "NUL in a header name",
                    "bare CR in a header name",
                    "malformed header name: not a token");
  }
  if (i == 0)
    return "empty header name";
  size_t e = text_end(l, i + 1, n);
  if (e < n)
    return bad_byte((unsigned char)l[e], "NUL in a header value",
                    "bare CR in a header value",
                    "control character in a header value");
  *name_len = i;
  return NULL;
}

const char *salvo__h1_check_field(const char *l, size_t n, size_t *name_len) {
  return check_field(l, n, name_len);
}

/* Which of the names salvo reads l[0..n) is. */
static inline int name_of(const char *l, size_t n) {
  switch (n) {
  case 8:
    return salvo__name_is(l, "location", 8) ? SALVO__H1_LOCATION
                                            : SALVO__H1_OTHER;
  case 10:
    if (salvo__name_is(l, "connection", 10))
      return SALVO__H1_CONNECTION;
    return salvo__name_is(l, "set-cookie", 10) ? SALVO__H1_SET_COOKIE
                                               : SALVO__H1_OTHER;
  case 12:
    return salvo__name_is(l, "content-type", 12) ? SALVO__H1_CONTENT_TYPE
                                                 : SALVO__H1_OTHER;
  case 14:
    return salvo__name_is(l, "content-length", 14) ? SALVO__H1_CONTENT_LENGTH
                                                   : SALVO__H1_OTHER;
  case 16:
    return salvo__name_is(l, "content-encoding", 16)
               ? SALVO__H1_CONTENT_ENCODING
               : SALVO__H1_OTHER;
  case 17:
    return salvo__name_is(l, "transfer-encoding", 17)
               ? SALVO__H1_TRANSFER_ENCODING
               : SALVO__H1_OTHER;
  default:
    return SALVO__H1_OTHER;
  }
}

/* What both ways of reading a field line share once they have found its
 * name, l[0..name_len), and its value without the OWS around it, v..e. */
static inline __attribute__((always_inline)) const char *
field_line(const char *l, size_t n, size_t name_len, const char *v,
           const char *e, salvo__h1_line *out) {
  *out = (salvo__h1_line){.l = l,
                          .n = n,
                          .kind = SALVO__H1_FIELD_LINE,
                          .name = name_of(l, name_len),
                          .name_len = name_len,
                          .v = v,
                          .vn = (size_t)(e - v)};
  if (out->name == SALVO__H1_CONTENT_LENGTH &&
      salvo__h1_content_length(out->v, out->vn, &out->len))
    return "malformed Content-Length (digits, or one value repeated)";
  return NULL;
}

/* A field line of a head the scan found clean (salvo__h1_scan_head: no
 * control but HTAB, every line ended by LF or CRLF), read as read_field
 * reads it; NULL, or non-NULL where read_field would say what is wrong
 * (the line-at-a-time way then says it). The byte after the line is its
 * CR or LF, neither a colon nor OWS: the value's leading OWS is skipped
 * without a bound, and a line with no colon fails at l[n]. */
static inline __attribute__((always_inline)) const char *
clean_field(const char *l, size_t n, salvo__h1_line *out) {
  size_t i = salvo__h1_token_end(l, n);
  if (i == 0 || l[i] != ':')
    return "not a field line";
  const char *v = l + i + 1, *e = l + n;
  while (*v == ' ' || *v == '\t')
    v++;
  while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
    e--;
  return field_line(l, n, i, v, e, out);
}

/* Inlined where a head's lines are read, so that a line costs no call. */
static inline __attribute__((always_inline)) const char *
read_field(const char *l, size_t n, salvo__h1_line *out) {
  size_t name_len;
  const char *why = check_field(l, n, &name_len);
  if (why)
    return why;
  const char *v = l + name_len + 1;
  size_t vn = n - name_len - 1;
  salvo__ows_trim(&v, &vn);
  return field_line(l, n, name_len, v, v + vn, out);
}

static inline __attribute__((always_inline)) const char *
read_line(const char *l, size_t n, int first, int clean, salvo__h1_line *out) {
  if (first) {
    *out = (salvo__h1_line){.l = l, .n = n, .kind = SALVO__H1_STATUS_LINE};
    return check_status(l, n, &out->status, &out->version, clean);
  }
  if (n == 0) {
    *out = (salvo__h1_line){.l = l, .kind = SALVO__H1_END_LINE};
    return NULL;
  }
  return read_field(l, n, out);
}

const char *salvo__h1_read_line(const char *l, size_t n, int first,
                                salvo__h1_line *out) {
  return read_line(l, n, first, 0, out);
}

/* A status line, already checked and read: the framing takes what it
 * needs, refusing only what it cannot read. */
static int status_line(salvo__h1 *p, const salvo__h1_line *ln) {
  if (ln->version == 20)
    return proto(p, SALVO__H1_NOT_H1);
  p->status = ln->status;
  p->keep_alive = ln->version != 10; /* HTTP/1.0 closes unless it says */
  p->chunked = p->has_len = 0;
  return 0;
}

/* The headers that frame the body or say what becomes of the
 * connection; the rest is the request module's to read. */
static int header_line(salvo__h1 *p, const salvo__h1_line *ln) {
  const char *v = ln->v;
  size_t vn = ln->vn;
  switch (ln->name) {
  case SALVO__H1_CONTENT_LENGTH:
    if (p->has_len && p->left != ln->len)
      return proto(p, "malformed Content-Length");
    p->has_len = 1;
    p->left = ln->len;
    return 0;
  case SALVO__H1_TRANSFER_ENCODING:
    /* Anything but a final chunked is delimited by the close. */
    p->chunked = salvo__h1_ends_chunked(v, vn) ? 1 : -1;
    return 0;
  case SALVO__H1_CONNECTION:
    if (vn == 10 && salvo__name_is(v, "keep-alive", 10))
      p->keep_alive = 1; /* the usual value, without a list walk */
    else if (salvo__h1_has_token(v, vn, "close"))
      p->keep_alive = 0;
    else if (salvo__h1_has_token(v, vn, "keep-alive"))
      p->keep_alive = 1;
    return 0;
  default:
    return 0;
  }
}

/* A head ended: an interim response starts another head; a final one
 * says how its body is framed. */
static int end_of_head(salvo__h1 *p) {
  if (p->status < 200) {
    if (p->status == 101)
      return proto(p, "unexpected 101 Switching Protocols");
    p->lines = 0;
    return 0;
  }
  if (p->no_body || p->status == 204 || p->status == 304 ||
      (p->has_len && p->left == 0 && p->chunked == 0)) {
    p->state = SALVO__H1_DONE;
  } else if (p->chunked == 1) {
    p->state = SALVO__H1_CHUNK_SIZE;
    p->has_len = 0;
  } else if (p->chunked == -1 || !p->has_len) {
    p->state = SALVO__H1_CLOSE;
    p->keep_alive = 0;
  } else {
    p->state = SALVO__H1_LEN;
  }
  /* A message with both is suspect (RFC 9112 6.3): never reuse. */
  if (p->chunked && p->has_len)
    p->keep_alive = 0;
  return 0;
}

/* Each line is checked and read once, here. A status line is framed
 * first, as whole_head frames it: what the framing refuses (HTTP/2 on
 * this connection) leaves the request without a status. Other lines go to
 * the callback first, so that what it refuses (the same for every
 * transport) says what is wrong, and the framing reads them after. */
static int head_line(salvo__h1 *p, const char *l, size_t n,
                     const salvo__h1_cb *cb) {
  salvo__h1_line ln;
  /* Past a field line, a continuation follows one that frames the body:
   * every other is read with its continuations. */
  if (p->lines > 1 && n && is_ows(l[0]))
    return proto(p, SALVO__H1_FRAMING_FOLD);
  if ((p->why = read_line(l, n, p->lines++ == 0, 0, &ln)))
    return SALVO_EPROTO;
  int rc = ln.kind == SALVO__H1_STATUS_LINE ? status_line(p, &ln) : 0;
  if (rc || (rc = cb->line(cb->ctx, &ln)))
    return rc;
  if (ln.kind == SALVO__H1_END_LINE)
    return end_of_head(p);
  return ln.kind == SALVO__H1_STATUS_LINE || !salvo__h1_frames(ln.name)
             ? 0
             : header_line(p, &ln);
}

/* A field line b[0..n) with its continuations, up to b[whole), joined
 * and read as one (RFC 9112 5.2). */
static int folded_line(salvo__h1 *p, const char *b, size_t n, size_t whole,
                       const salvo__h1_cb *cb) {
  salvo__buf line = {0};
  size_t name_len;
  /* Its first line alone first: a fold is a value's (RFC 9112 5.2), and
   * neither way of reading waits to refuse a line without its colon. */
  int rc = (p->why = check_field(b, n, &name_len)) ||
                   (p->why = salvo__h1_fold_join(&line, b, n, whole))
               ? SALVO_EPROTO
               : head_line(p, line.p, line.len, cb);
  salvo__buf_free(&line);
  return rc;
}

/* Why a trailer line l[0..n) (n > 0) is refused, or NULL: a field line,
 * or one that continues the trailer before it, read past with it, its
 * bytes a value's (RFC 9112 5.2). */
static const char *trailer_why(const salvo__h1 *p, const char *l, size_t n) {
  size_t name_len, e;
  if (!p->trailers || !is_ows(l[0]))
    return salvo__h1_check_field(l, n, &name_len);
  return (e = text_end(l, 0, n)) < n
             ? bad_byte((unsigned char)l[e], "NUL in a header value",
                        "bare CR in a header value",
                        "control character in a header value")
             : NULL;
}

/* Why a size or trailer line with no LF in b[0..avail) yet is refused,
 * in the words its whole reading gives (for a trailer, a CR followed by
 * anything but LF: RFC 9112 2.2), or NULL. */
static const char *unended(const salvo__h1 *p, const char *b, size_t avail) {
  if (p->state == SALVO__H1_CHUNK_SIZE)
    return salvo__h1_chunk_unended(b, avail);
  const char *cr =
      p->state == SALVO__H1_TRAILER ? memchr(b, '\r', avail) : NULL;
  return cr && cr + 1 < b + avail ? trailer_why(p, b, (size_t)(cr - b) + 1)
                                  : NULL;
}

/* What the first bytes of a line, b[0..avail), already refuse before its
 * LF has come, in the words its whole reading gives: a chunk's end, a
 * size line's first byte, a status line's "HTTP/". Waiting for the LF
 * would take the close that follows for the cause (a body cut short,
 * SALVO_EIO, which a retry may repeat). */
static const char *refused_early(const salvo__h1 *p, const char *b,
                                 size_t avail) {
  uint64_t size;
  switch (p->state) {
  case SALVO__H1_CHUNK_END:
    return (b[0] == '\r' ? avail > 1 && b[1] != '\n' : b[0] != '\n') ? NO_CRLF
                                                                     : NULL;
  case SALVO__H1_CHUNK_SIZE:
    return salvo__h1_chunk_size(b, 1, &size); /* its first digit */
  case SALVO__H1_HEAD:
    return p->lines == 0 && memcmp(b, "HTTP/", avail < 5 ? avail : 5) ? NOT_HTTP
                                                                      : NULL;
  default:
    return NULL;
  }
}

/* The bytes left of the body's current piece, delivered. */
static int body_piece(salvo__h1 *p, const char *b, size_t avail, size_t *used,
                      const salvo__h1_cb *cb, int *paused) {
  size_t n = avail;
  if (p->state != SALVO__H1_CLOSE && n > p->left)
    n = (size_t)p->left;
  *used = 0;
  if (!n)
    return 0;
  int rc = cb->body(cb->ctx, b, n);
  if (rc == SALVO__H1_PAUSE) {
    *paused = 1;
    return 0;
  }
  if (rc == SALVO__H1_HOLD)
    *paused = 1;
  else if (rc)
    return rc;
  *used = n;
  if (p->state == SALVO__H1_CLOSE)
    return 0;
  p->left -= n;
  if (p->left == 0)
    p->state = p->state == SALVO__H1_LEN ? SALVO__H1_DONE : SALVO__H1_CHUNK_END;
  return 0;
}

/* A complete line at b (before its LF at nl), without its CR. */
static size_t line_len(const char *b, const char *nl) {
  size_t n = (size_t)(nl - b);
  return n && b[n - 1] == '\r' ? n - 1 : n;
}

/* A head all in b[0..avail) and free of controls (salvo__h1_scan_head),
 * for a head callback, with the same answers as a line at a time: *used
 * is its bytes, or 0 when it is read a line at a time after all. Every
 * line is read and framed first, on a copy of the state: a head that
 * would fail anywhere goes the line-at-a-time way, so that what the
 * callback refuses and what the framing refuses come in the same order. */
static int whole_head(salvo__h1 *p, const char *b, size_t avail,
                      const salvo__h1_cb *cb, size_t *used) {
  *used = 0;
  if (!cb->head)
    return 0; /* a head is taken a line at a time */
  uint32_t ends[SALVO__H1_SCAN_LINES];
  salvo__h1_line lines[SALVO__H1_SCAN_LINES];
  size_t k;
  *used = salvo__h1_scan_head(b, avail, ends, SALVO__H1_SCAN_LINES, &k);
  if (!*used || *used > SALVO__H1_HEAD_MAX - p->head) {
    *used = 0;
    return 0;
  }
  /* The status line, the field lines, the blank line (the scan found it
   * last): each read and framed as head_line would, on a copy. */
  salvo__h1 q = *p;
  size_t s = ends[0] + 1, last = k - 1;
  q.head += *used;
  q.lines = (int)k;
  if (read_line(b, line_len(b, b + ends[0]), 1, 1, &lines[0]) ||
      status_line(&q, &lines[0]))
    goto by_line;
  for (size_t i = 1; i < last; s = ends[i++] + 1)
    if (clean_field(b + s, line_len(b + s, b + ends[i]), &lines[i]) ||
        (salvo__h1_frames(lines[i].name) && header_line(&q, &lines[i])))
      goto by_line;
  lines[last] = (salvo__h1_line){.l = b + s, .kind = SALVO__H1_END_LINE};
  if (end_of_head(&q))
    goto by_line;
  *p = q;
  return cb->head(cb->ctx, lines, k);
by_line:
  *used = 0;
  return 0;
}

/* A field line b[0..n) with its continuations whole up to b[ended), the
 * byte after them not come yet: judged now, its first line alone and then
 * joined (salvo__h1_check_field says why). */
static __attribute__((noinline)) long waiting(salvo__h1 *p, const char *b,
                                              size_t n, size_t used,
                                              size_t ended, size_t pos) {
  salvo__buf line = {0};
  size_t name_len;
  const char *why = check_field(b, n, &name_len);
  if (!why && ended > used && !(why = salvo__h1_fold_join(&line, b, n, ended)))
    why = check_field(line.p, line.len, &name_len);
  salvo__buf_free(&line);
  if (!why)
    return (long)pos;
  p->head += ended; /* counted as the line's whole reading counts it */
  return proto(p, why);
}

long salvo__h1_feed(salvo__h1 *p, const char *buf, size_t len,
                    const salvo__h1_cb *cb, int *paused) {
  size_t pos = 0;
  *paused = 0;
  while (pos < len && p->state != SALVO__H1_DONE && !*paused) {
    const char *b = buf + pos;
    size_t avail = len - pos;
    int rc = 0;
    if (p->state == SALVO__H1_HEAD && p->lines == 0) {
      size_t used;
      if ((rc = whole_head(p, b, avail, cb, &used)))
        return rc;
      if (used) {
        pos += used;
        continue;
      }
    }
    if (p->state == SALVO__H1_LEN || p->state == SALVO__H1_CHUNK_DATA ||
        p->state == SALVO__H1_CLOSE) {
      size_t used;
      rc = body_piece(p, b, avail, &used, cb, paused);
      if (rc)
        return rc;
      pos += used;
      continue;
    }
    /* Everything else is read a line at a time. */
    if ((p->why = refused_early(p, b, avail)))
      return SALVO_EPROTO;
    const char *nl = memchr(b, '\n', avail);
    size_t limit = p->state == SALVO__H1_HEAD ? SALVO__H1_LINE_MAX : 4096;
    if (!nl) {
      if ((p->why = unended(p, b, avail)))
        return SALVO_EPROTO;
      if (avail > limit)
        return proto(p, p->state == SALVO__H1_HEAD
                            ? LINE_TOO_LARGE
                            : "malformed chunked body: line too long");
      break;
    }
    size_t n = line_len(b, nl), used = (size_t)(nl - b) + 1;
    if (n > limit)
      return proto(p, p->state == SALVO__H1_HEAD
                          ? LINE_TOO_LARGE
                          : "malformed chunked body: line too long");
    switch (p->state) {
    case SALVO__H1_HEAD: {
      /* A field line is read with its continuations: the byte after its
       * LF says whether one follows. */
      size_t ended,
          whole = p->lines && n && !is_ows(b[0]) && !salvo__header_is_framing(b)
                      ? salvo__h1_folds(b, avail, used, &ended)
                      : used;
      if (!whole)
        return avail > limit ? proto(p, LINE_TOO_LARGE)
                             : waiting(p, b, n, used, ended, pos);
      p->head += whole;
      if (p->head > SALVO__H1_HEAD_MAX)
        return proto(p, "response headers too large (over 256 KiB)");
      rc = whole > used ? folded_line(p, b, n, whole, cb)
                        : head_line(p, b, n, cb);
      used = whole;
      break;
    }
    case SALVO__H1_CHUNK_SIZE:
      if ((p->why = salvo__h1_chunk_size(b, n, &p->left)))
        return SALVO_EPROTO;
      p->state = p->left ? SALVO__H1_CHUNK_DATA : SALVO__H1_TRAILER;
      break;
    case SALVO__H1_CHUNK_END:
      if (n)
        return proto(p, NO_CRLF);
      p->state = SALVO__H1_CHUNK_SIZE;
      break;
    default: /* SALVO__H1_TRAILER: checked and read past, not kept */
      p->head += used;
      if (p->head > SALVO__H1_HEAD_MAX)
        return proto(p, "trailers too large (over 256 KiB)");
      if (n == 0)
        p->state = SALVO__H1_DONE;
      else if ((p->why = trailer_why(p, b, n)))
        return SALVO_EPROTO;
      p->trailers = 1;
      break;
    }
    if (rc)
      return rc;
    pos += used;
  }
  return (long)pos;
}

int salvo__h1_eof(salvo__h1 *p) {
  switch (p->state) {
  case SALVO__H1_CLOSE:
    p->state = SALVO__H1_DONE;
    /* fall through */
  case SALVO__H1_DONE:
    return 0;
  case SALVO__H1_HEAD:
    p->why = p->head ? "connection closed in the middle of the headers"
                     : "connection closed before any response";
    return SALVO_EIO;
  default:
    p->why = SALVO__H1_CUT_BODY;
    return SALVO_EIO;
  }
}
