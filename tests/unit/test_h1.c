/* The HTTP/1.1 response reader (src/h1.c) fed bytes, no socket: every
 * response whole and one byte at a time (the same lines, body and end
 * either way), framing by Content-Length, chunked and close (RFC 9112 6),
 * interim 1xx heads (RFC 9110 15.2), bodiless responses (RFC 9112 6.3),
 * keep-alive (RFC 9112 9.3), and the errors a recipient must raise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "field.h"
#include "h1.h"
#include "h1_chunk.h"
#include "salvo.h"

typedef struct seen {
  char lines[2048]; /* each line then "|" */
  char body[1024];
  size_t nbody;
} seen;

static int on_line(void *ctx, const salvo__h1_line *ln) {
  seen *s = ctx;
  strncat(s->lines, ln->l, ln->n);
  strcat(s->lines, "|");
  return 0;
}

static int on_body(void *ctx, const char *p, size_t n) {
  seen *s = ctx;
  memcpy(s->body + s->nbody, p, n);
  s->nbody += n;
  return 0;
}

/* Feeds wire in pieces of `step` bytes (0 = whole), offering again what a
 * call left, as the transport does; then the close when `eof`. Returns 0
 * at a complete response or the error; *p is left for inspection. */
static int feed(salvo__h1 *p, const char *wire, size_t step, int no_body,
                int eof, seen *s) {
  salvo__h1_cb cb = {s, on_line, on_body, NULL};
  memset(s, 0, sizeof(*s));
  salvo__h1_init(p, no_body);
  size_t len = strlen(wire), at = 0, have = 0;
  while (p->state != SALVO__H1_DONE) {
    if (have < len)
      have = step && have + step < len ? have + step : len;
    else if (eof)
      return salvo__h1_eof(p);
    else
      return SALVO_EIO; /* the test gave too few bytes */
    int paused = 0;
    long n = salvo__h1_feed(p, wire + at, have - at, &cb, &paused);
    if (n < 0)
      return (int)n;
    at += (size_t)n;
  }
  return 0;
}

/* Whole and byte by byte, the same outcome. */
static int both(const char *wire, int no_body, int eof, seen *s, salvo__h1 *p) {
  seen one;
  salvo__h1 q;
  int a = feed(&q, wire, 1, no_body, eof, &one);
  int b = feed(p, wire, 0, no_body, eof, s);
  assert_int_equal(a, b);
  /* A head read whole (salvo__h1_scan_head) and a line at a time: the
   * same error, in the same words. */
  assert_string_equal(q.why ? q.why : "", p->why ? p->why : "");
  assert_string_equal(one.lines, s->lines);
  assert_int_equal(one.nbody, s->nbody);
  assert_memory_equal(one.body, s->body, s->nbody);
  return b;
}

static void test_content_length(void **state) {
  (void)state;
  seen s;
  salvo__h1 p;
  assert_int_equal(both("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
                        "EXTRA",
                        0, 0, &s, &p),
                   0);
  assert_string_equal(s.lines, "HTTP/1.1 200 OK|Content-Length: 5||");
  assert_int_equal(s.nbody, 5); /* the rest is the next response's */
  assert_memory_equal(s.body, "hello", 5);
  assert_int_equal(p.status, 200);
  assert_true(p.keep_alive);
}

static void test_chunked(void **state) {
  (void)state;
  seen s;
  salvo__h1 p;
  assert_int_equal(both("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "5;ext=1\r\nhello\r\n1\r\n!\r\n0\r\nX-T: 1\r\n\r\n",
                        0, 0, &s, &p),
                   0);
  assert_int_equal(s.nbody, 6);
  assert_memory_equal(s.body, "hello!", 6);
  /* The trailer is checked here and not passed up as a head's line. */
  assert_null(strstr(s.lines, "X-T"));
}

/* No length: the body runs to the close, and the connection is not
 * kept (RFC 9112 6.3 item 8). */
static void test_close_delimited(void **state) {
  (void)state;
  seen s;
  salvo__h1 p;
  assert_int_equal(both("HTTP/1.1 200 OK\r\n\r\nuntil the end", 0, 1, &s, &p),
                   0);
  assert_int_equal(s.nbody, 13);
  assert_false(p.keep_alive);
}

/* RFC 9112 6.3 item 4: a Transfer-Encoding whose last coding is not
 * chunked frames the body by the close, whatever Content-Length says
 * (receive.c then refuses codings salvo does not undo). */
static void test_te_not_chunked_last(void **state) {
  (void)state;
  seen s;
  salvo__h1 p;
  assert_int_equal(both("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip"
                        "\r\nContent-Length: 2\r\n\r\nabcdef",
                        0, 1, &s, &p),
                   0);
  assert_int_equal(s.nbody, 6);
  assert_false(p.keep_alive);
}

/* HEAD, 204 and 304 have no body whatever their Content-Length says. */
static void test_bodiless(void **state) {
  (void)state;
  seen s;
  salvo__h1 p;
  assert_int_equal(
      both("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", 1, 0, &s, &p), 0);
  assert_int_equal(s.nbody, 0);
  assert_int_equal(both("HTTP/1.1 204 No Content\r\n\r\n", 0, 0, &s, &p), 0);
  assert_int_equal(
      both("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n", 0, 0, &s,
           &p),
      0);
  assert_int_equal(s.nbody, 0);
}

/* A 100 Continue before the answer: its head is read and passed over. */
static void test_interim(void **state) {
  (void)state;
  seen s;
  salvo__h1 p;
  assert_int_equal(both("HTTP/1.1 100 Continue\r\n\r\n"
                        "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
                        0, 0, &s, &p),
                   0);
  assert_int_equal(p.status, 201);
  assert_string_equal(s.lines, "HTTP/1.1 100 Continue||HTTP/1.1 201 Created|"
                               "Content-Length: 2||");
}

/* HTTP/1.0 closes unless it says keep-alive; 1.1 keeps unless it says
 * close (RFC 9112 9.3). */
static void test_keep_alive(void **state) {
  (void)state;
  seen s;
  salvo__h1 p;
  both("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", 0, 0, &s, &p);
  assert_false(p.keep_alive);
  both("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", 0,
       0, &s, &p);
  assert_false(p.keep_alive);
}

static void refused(const char *wire, int eof, const char *why) {
  seen s;
  salvo__h1 p;
  int err = both(wire, 0, eof, &s, &p);
  assert_true(err == SALVO_EPROTO || err == SALVO_EIO);
  if (why && (!p.why || !strstr(p.why, why))) {
    print_error("why: %s, expected %s\n", p.why ? p.why : "(none)", why);
    fail();
  }
}

/* A field line continued on lines that start with SP or HTAB is read as
 * one, each obs-fold one SP: RFC 9112 5.2, "A user agent that receives an
 * obs-fold in a response message ... MUST replace each received obs-fold
 * with one or more SP octets prior to interpreting the field value";
 * whole and byte by byte (where the byte after each LF decides). Before
 * the first field line it is refused (RFC 9112 2.2), and in a field that
 * frames the body too, as libcurl frames that without joining. */
static void test_obs_fold(void **state) {
  (void)state;
  seen s;
  salvo__h1 p;
  assert_int_equal(both("HTTP/1.1 200 OK\r\nX-A: a \r\n\tb\r\n   c\r\n"
                        "Content-Length: 2\r\n\r\nok",
                        0, 0, &s, &p),
                   0);
  assert_string_equal(s.lines,
                      "HTTP/1.1 200 OK|X-A: a b c|Content-Length: 2||");
  assert_int_equal(s.nbody, 2);
  assert_int_equal(
      both("HTTP/1.1 200 OK\nX-A:\n b\nContent-Length: 2\n\nok", 0, 0, &s, &p),
      0);
  assert_string_equal(s.lines, "HTTP/1.1 200 OK|X-A: b|Content-Length: 2||");
  /* The framing reads the joined value. */
  both("HTTP/1.1 200 OK\r\nConnection: keep-alive,\r\n close\r\n"
       "Content-Length: 0\r\n\r\n",
       0, 0, &s, &p);
  assert_false(p.keep_alive);
  /* A trailer's fold is read past with it. */
  assert_int_equal(both("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "2\r\nok\r\n0\r\nX-T: a\r\n b\r\n\r\n",
                        0, 0, &s, &p),
                   0);
  assert_int_equal(s.nbody, 2);
  refused("HTTP/1.1 200 OK\r\n X-A: a\r\n\r\n", 0, "first header line");
  refused("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n 2\r\n\r\nok", 0,
          "frames the body");
  /* Its own value is judged first: it is read as its line ends. */
  refused("HTTP/1.1 200 OK\r\nContent-Length:\r\n 2\r\n\r\nok", 0,
          "Content-Length (digits");
  refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n , x\r\n\r\n", 0,
          "frames the body");
  /* A field line the close follows, its next byte never come: a head cut
   * short, not a line taken early. */
  refused("HTTP/1.1 200 OK\r\nX-A: a\r\n", 1, "middle of the headers");
  /* Nor is a line whose next byte has not come left waiting when its own
   * bytes are wrong, joined or not: refused now, where a close or a
   * silence after it was taken for the cause (EIO, a timeout). A line
   * that frames the body is read at once, its value judged (RFC 9112
   * 11.2: it is never joined). Another line's meaning waits (the test's
   * "too few bytes" is EIO). */
  assert_int_equal(both("HTTP/1.1 200 OK\r\nA : b\r\n", 0, 0, &s, &p),
                   SALVO_EPROTO);
  assert_int_equal(
      both("HTTP/1.1 200 OK\r\nX-A: a\r\n b\x01\r\n", 0, 0, &s, &p),
      SALVO_EPROTO);
  assert_non_null(strstr(p.why, "control"));
  assert_int_equal(
      both("HTTP/1.1 200 OK\r\nContent-Length: +5\r\n", 0, 0, &s, &p),
      SALVO_EPROTO);
  assert_int_equal(
      both("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n", 0, 0, &s, &p),
      SALVO_EIO);
  /* A fold is a value's (RFC 9112 5.2): a first line without its colon
   * is refused as such, whole or in pieces (fuzz_h1 found the two ways
   * saying two things when the continuation's words decided). */
  refused("HTTP/1.1 200 OK\r\nX-A\r\n : b\r\n\r\n", 0, "no colon");
}

static void test_framing_errors(void **state) {
  (void)state;
  /* RFC 9110 8.6: differing Content-Length values. */
  refused("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"
          "hello!",
          0, "Content-Length");
  refused("HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello", 0,
          "Content-Length");
  /* RFC 9112 7.1: a chunk size is hex digits. */
  refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0,
          "chunk");
  /* A body cut short by the close (RFC 9112 8). */
  refused("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", 1, NULL);
  refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", 1,
          NULL);
  /* A size or trailer line that has not ended (no close either: the
   * server keeps the connection) is refused at its first wrong byte, as
   * libcurl refuses it, not left to the timeout (RFC 9112 7.1, 2.2). */
  refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5x", 0,
          "chunk size line");
  refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
          "00000000000000005",
          0, "16 hex digits");
  refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: a\rb",
          0, "bare CR in a header value");
}

/* What the first bytes of a size line that has not ended leave open. */
static void test_chunk_lines_unended(void **state) {
  (void)state;
  static const char *const open[] = {"5", "5;a", "5 ", "5\r", "fffe", ""};
  for (size_t i = 0; i < sizeof(open) / sizeof(open[0]); i++)
    assert_null(salvo__h1_chunk_unended(open[i], strlen(open[i])));
  assert_non_null(salvo__h1_chunk_unended("5\rX", 3));
  assert_non_null(strstr(salvo__h1_chunk_unended("x", 1), "chunk size"));
}

/* "HTTP/1.1" status lines take a shorter road than other versions: every
 * tail of up to five bytes from a set that holds each case (digits, the
 * space, letters, a control, a NUL, nothing) gets the answer "HTTP/1.0"
 * gets from the general checks, but for the version (RFC 9112 4:
 * status-line = HTTP-version SP status-code SP [ reason-phrase ]). */
static void test_usual_status_as_general(void **state) {
  (void)state;
  static const char set[] = {' ', '0', '1', '2', '9', 'A', '\x01', '\0'};
  const size_t k = sizeof(set);
  for (size_t len = 0; len <= 5; len++) {
    size_t combos = 1;
    for (size_t i = 0; i < len; i++)
      combos *= k;
    for (size_t c = 0; c < combos; c++) {
      char a[16] = "HTTP/1.1", b[16] = "HTTP/1.0";
      for (size_t i = 0, v = c; i < len; i++, v /= k)
        a[8 + i] = b[8 + i] = set[v % k];
      int sa = -1, va = -1, sb = -1, vb = -1;
      const char *ea = salvo__h1_check_status(a, 8 + len, &sa, &va);
      const char *eb = salvo__h1_check_status(b, 8 + len, &sb, &vb);
      if ((ea == NULL) != (eb == NULL) ||
          (!ea && (sa != sb || va != 11 || vb != 10))) {
        print_error("tail %zu/%zu: %s / %s\n", c, len, ea ? ea : "ok",
                    eb ? eb : "ok");
        fail();
      }
    }
  }
}

/* The line checks both transports share (RFC 9112 4, RFC 9110 5.5). */
static void test_line_checks(void **state) {
  (void)state;
  int status, version;
  size_t nl;
#define ST(s) salvo__h1_check_status(s, strlen(s), &status, &version)
#define FL(s) salvo__h1_check_field(s, strlen(s), &nl)
  assert_null(ST("HTTP/1.1 200 OK"));
  assert_null(ST("HTTP/1.1 200 ")); /* an empty reason is valid */
  assert_null(ST("HTTP/1.1 200"));
  assert_non_null(ST("HTTP/1.1  200 OK"));
  assert_non_null(ST("HTTP/1.1 20 OK"));
  assert_non_null(ST("HTTP/1.1 2000 OK"));
  assert_non_null(ST("HTTP/1.1 200 O\x01K"));
  assert_null(FL("Name: value"));
  assert_int_equal(nl, 4);
  assert_non_null(FL("Name : value")); /* whitespace before the colon */
  assert_non_null(FL(" folded")); /* no field line before it: RFC 9112 2.2 */
  assert_non_null(FL("Na\x01me: v"));   /* a control in the name */
  assert_non_null(FL("Name: v\ra"));    /* a bare CR */
  assert_non_null(FL("Name: a\x7f"));   /* DEL */
  assert_null(FL("Name: caf\xc3\xa9")); /* obs-text is allowed */
#undef ST
#undef FL
}

/* Every byte value at every place of a value is judged as RFC 9110 5.5
 * says (field-value = VCHAR / obs-text / SP / HTAB), in lines of every
 * length from 4 to 48 bytes (below, at and past the sixteen bytes read at
 * once), and in a status line's reason the same. */
static void test_value_bytes(void **state) {
  (void)state;
  char l[48];
  size_t nl;
  int status, version;
  for (size_t len = 4; len <= sizeof(l); len++) {
    for (int c = 0; c < 256; c++) {
      int ok = c == ' ' || c == '\t' || (c > 0x20 && c != 0x7f);
      for (size_t at = 3; at < len; at++) {
        memcpy(l, "Ab:", 3);
        memset(l + 3, 'v', len - 3);
        l[at] = (char)c;
        const char *why = salvo__h1_check_field(l, len, &nl);
        if (ok != (why == NULL)) {
          print_error("byte 0x%02x at %zu of %zu: %s\n", c, at, len,
                      why ? why : "taken");
          fail();
        }
        if (len < 13 || at < 13)
          continue;
        memcpy(l, "HTTP/1.1 200 ", 13);
        why = salvo__h1_check_status(l, len, &status, &version);
        if (ok != (why == NULL)) {
          print_error("reason byte 0x%02x at %zu of %zu: %s\n", c, at, len,
                      why ? why : "taken");
          fail();
        }
      }
    }
  }
}

/* Every byte value at every place of a name is judged as RFC 9110 5.1
 * says (a token: tchar), in names of every length from 1 to 20 in lines of
 * 16 to 40 bytes (where the first sixteen are read at once, and names
 * past them): where the name ends, and whether the line is taken. */
static void test_name_bytes(void **state) {
  (void)state;
  char l[40];
  size_t nl;
  for (size_t name = 1; name <= 20; name++) {
    for (size_t len = name + 1 < 16 ? 16 : name + 1; len <= sizeof(l); len++) {
      for (int c = 0; c < 256; c++) {
        int tchar = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') ||
                    (c && strchr("!#$%&'*+-.^_`|~", c));
        for (size_t at = 0; at < name; at++) {
          memset(l, 'N', name);
          l[name] = ':';
          memset(l + name + 1, 'v', len - name - 1);
          l[at] = (char)c;
          const char *why = salvo__h1_check_field(l, len, &nl);
          /* a non-tchar byte ends the name: the line is taken only when
           * that byte is the colon, after at least one byte */
          int ok = tchar || (c == ':' && at > 0);
          if (ok != (why == NULL) || (ok && nl != (tchar ? name : at))) {
            print_error("byte 0x%02x at %zu of a %zu-byte name, line %zu: "
                        "%s, name %zu\n",
                        c, at, name, len, why ? why : "taken", nl);
            fail();
          }
        }
      }
    }
  }
}

/* Connection's tokens in any case and with any spacing (RFC 9110 7.6.1). */
static void test_connection_tokens(void **state) {
  (void)state;
  static const struct {
    const char *v;
    int keep;
  } cases[] = {
      {"keep-alive", 1},      {"Keep-Alive ", 1},       {"close", 0},
      {"CLOSE", 0},           {"keep-alive, close", 0}, {"te, close", 0},
      {"foo, Keep-Alive", 1}, {"keep-alivex", 1},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char wire[256];
    seen s;
    salvo__h1 p;
    /* HTTP/1.0 so that only a keep-alive token keeps the connection; the
     * last case is no token, and 1.1 keeps it. */
    snprintf(wire, sizeof(wire),
             "HTTP/1.%d 200 OK\r\nConnection: %s\r\nContent-Length: "
             "0\r\n\r\n",
             i == 7 ? 1 : 0, cases[i].v);
    both(wire, 0, 0, &s, &p);
    if (p.keep_alive != cases[i].keep) {
      print_error("Connection: %s kept %d\n", cases[i].v, p.keep_alive);
      fail();
    }
  }
}

/* salvo__case_eq against a byte-at-a-time fold, for every pair of bytes
 * at every place of every length up to two words (RFC 9110 5.1: names
 * match in any case, ASCII letters only), so that every tail length is
 * read. The bytes after n differ, so that a compare that reads past n
 * fails. */
static void test_case_eq(void **state) {
  (void)state;
  for (size_t n = 1; n < 16; n++) {
    for (size_t at = 0; at < n; at++) {
      for (int x = 0; x < 256; x++) {
        for (int y = 0; y < 256; y++) {
          char a[16], b[16];
          memset(a, 'k', n);
          memset(b, 'K', n);
          memset(a + n, 'x', sizeof(a) - n);
          memset(b + n, 'y', sizeof(b) - n);
          a[at] = (char)x;
          b[at] = (char)y;
          int lx = x >= 'A' && x <= 'Z' ? x + 32 : x;
          int ly = y >= 'A' && y <= 'Z' ? y + 32 : y;
          if (salvo__case_eq(a, b, n) != (lx == ly)) {
            print_error("n %zu, at %zu: 0x%02x against 0x%02x\n", n, at, x, y);
            fail();
          }
        }
      }
    }
  }
}

/* The names salvo reads are known in any case and only as themselves
 * (RFC 9110 5.1): every byte value at every place of each name, and each
 * name a byte short and a byte long. A byte matches only itself or, for a
 * letter, its other case. */
static void test_name_table(void **state) {
  (void)state;
  static const struct {
    const char *name;
    int id;
  } names[] = {
      {"content-length", SALVO__H1_CONTENT_LENGTH},
      {"transfer-encoding", SALVO__H1_TRANSFER_ENCODING},
      {"connection", SALVO__H1_CONNECTION},
      {"content-encoding", SALVO__H1_CONTENT_ENCODING},
      {"location", SALVO__H1_LOCATION},
      {"set-cookie", SALVO__H1_SET_COOKIE},
      {"content-type", SALVO__H1_CONTENT_TYPE},
  };
  for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
    size_t nl = strlen(names[k].name);
    char l[64];
    salvo__h1_line ln;
    for (size_t at = 0; at < nl; at++) {
      for (int c = 1; c < 256; c++) {
        if (c == ':')
          continue; /* it would end the name there */
        memcpy(l, names[k].name, nl);
        memcpy(l + nl, ": 7", 4);
        l[at] = (char)c;
        char want = names[k].name[at];
        int same = c == want || (want >= 'a' && want <= 'z' && c == want - 32);
        const char *why = salvo__h1_read_line(l, nl + 3, 0, &ln);
        int id = why ? -1 : ln.name;
        if (same ? id != names[k].id : id == names[k].id) {
          print_error("%s with byte 0x%02x at %zu: read as %d\n", names[k].name,
                      c, at, id);
          fail();
        }
      }
    }
    /* A byte short, a byte long: another name. */
    snprintf(l, sizeof(l), "%.*s: 7", (int)nl - 1, names[k].name);
    assert_null(salvo__h1_read_line(l, strlen(l), 0, &ln));
    assert_int_equal(ln.name, SALVO__H1_OTHER);
    snprintf(l, sizeof(l), "%sx: 7", names[k].name);
    assert_null(salvo__h1_read_line(l, strlen(l), 0, &ln));
    assert_int_equal(ln.name, SALVO__H1_OTHER);
  }
}

/* A line is read once into what the framing, the transport and the
 * request module each need. */
static void test_read_line(void **state) {
  (void)state;
  salvo__h1_line ln;
  assert_null(salvo__h1_read_line("HTTP/1.0 404 Nope", 17, 1, &ln));
  assert_int_equal(ln.kind, SALVO__H1_STATUS_LINE);
  assert_int_equal(ln.status, 404);
  assert_int_equal(ln.version, 10);
  assert_null(salvo__h1_read_line("", 0, 0, &ln));
  assert_int_equal(ln.kind, SALVO__H1_END_LINE);
  const char *l = "CONTENT-length: \t 5, 5 \t";
  assert_null(salvo__h1_read_line(l, strlen(l), 0, &ln));
  assert_int_equal(ln.kind, SALVO__H1_FIELD_LINE);
  assert_int_equal(ln.name, SALVO__H1_CONTENT_LENGTH);
  assert_int_equal(ln.name_len, 14);
  assert_int_equal(ln.vn, 4); /* "5, 5": the whitespace around cut */
  assert_memory_equal(ln.v, "5, 5", 4);
  assert_int_equal(ln.len, 5);
  l = "Content-Length: 5, 6";
  const char *why = salvo__h1_read_line(l, strlen(l), 0, &ln);
  assert_non_null(why);
  assert_non_null(strstr(why, "Content-Length"));
  /* The first line is a status line, whatever it holds. */
  l = "Location: /x";
  assert_non_null(salvo__h1_read_line(l, strlen(l), 1, &ln));
  assert_null(salvo__h1_read_line(l, strlen(l), 0, &ln));
  assert_int_equal(ln.name, SALVO__H1_LOCATION);
  assert_memory_equal(ln.v, "/x", 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_content_length),
      cmocka_unit_test(test_chunked),
      cmocka_unit_test(test_close_delimited),
      cmocka_unit_test(test_te_not_chunked_last),
      cmocka_unit_test(test_bodiless),
      cmocka_unit_test(test_interim),
      cmocka_unit_test(test_keep_alive),
      cmocka_unit_test(test_obs_fold),
      cmocka_unit_test(test_framing_errors),
      cmocka_unit_test(test_chunk_lines_unended),
      cmocka_unit_test(test_line_checks),
      cmocka_unit_test(test_usual_status_as_general),
      cmocka_unit_test(test_value_bytes),
      cmocka_unit_test(test_name_bytes),
      cmocka_unit_test(test_connection_tokens),
      cmocka_unit_test(test_case_eq),
      cmocka_unit_test(test_name_table),
      cmocka_unit_test(test_read_line),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
