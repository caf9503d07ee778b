/*
 * One input line of the salvo command, a URL or a JSON object, made into a
 * salvo_request. Kept apart from the run so that a fuzzer can drive it.
 */
#ifndef SALVO_CLI_REQUEST_LINE_H
#define SALVO_CLI_REQUEST_LINE_H

#include <jansson.h>
#include <salvo.h>
#include <stddef.h>

/* A URL's buffer from malloc: the command passes these from line to slot
 * to line, so that a line costs no allocation. */
typedef struct url_buf {
  char *p;
  size_t cap;
  size_t len; /* of the URL in p, when it holds one */
} url_buf;

/* A parsed line: req's strings point into the json_t and the lists here,
 * and stay valid until request_line_free. */
typedef struct request_line {
  salvo_request req;
  json_t *j;
  url_buf url; /* the URL, with "http://" added when it had no scheme */
  char *json_text;
  const char **params;
  const char **headers;
  char **owned;
  size_t nowned;
  char keybuf[32];
} request_line;

/* Parses the len bytes of line (no newline) into p, which is set afresh
 * but for url: a buffer lent for the URL (or all zero), which the parse
 * grows (realloc) when it is too small; p owns it
 * from then on. Call request_line_free after, whatever it returns.
 * Returns 0, or -1 with the reason in why (n bytes): not JSON, an unknown
 * field, no url, a NUL byte... Exits on out of memory. */
int request_line_parse(request_line *p, const char *line, size_t len, char *why,
                       size_t n);

/* Frees what p holds, url too (a caller keeping it sets it NULL). */
void request_line_free(request_line *p);

/* Whether url[0..n) starts with a scheme as curl's guess reads one: RFC
 * 3986 3.1's (a letter, then letters, digits, '+', '-' or '.'), a colon
 * and a slash. A line's URL without one gets "http://" in front. */
int request_line_has_scheme(const char *url, size_t n);

/* Whether a line is blank or a # comment. */
int request_line_skipped(const char *s);

#endif
