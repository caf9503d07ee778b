/* Input lines: a URL, or a JSON object describing a request. */
#define _GNU_SOURCE
#include "request_line.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Noreturn void oom(void) {
  fputs("salvo: out of memory\n", stderr);
  exit(1);
}

static void *xmalloc_or_die(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p)
    oom();
  return p;
}

static int is_alpha(char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }

/* "127.0.0.1:8080/x" has none, nor "x?next=http://y" (a "://" further
 * on is not a scheme's). */
int request_line_has_scheme(const char *url, size_t n) {
  size_t i = n && is_alpha(url[0]);
  while (i && i < n &&
         (is_alpha(url[i]) || (url[i] >= '0' && url[i] <= '9') ||
          url[i] == '+' || url[i] == '-' || url[i] == '.'))
    i++;
  return i && i + 1 < n && url[i] == ':' && url[i + 1] == '/';
}

/* The n bytes of url into p->url, with "http://" in front when it names
 * no scheme ("127.0.0.1:8080/x"), as curl does, the buffer grown when too
 * small. */
static void with_scheme(request_line *p, const char *url, size_t n) {
  /* Most lines start with one: no walk through a scheme for them. */
  int bare = !((n >= 7 && !memcmp(url, "http://", 7)) ||
               (n >= 8 && !memcmp(url, "https://", 8)) ||
               request_line_has_scheme(url, n));
  url_buf *b = &p->url;
  if (b->cap < n + 8) {
    size_t cap = (n + 8 + 127) & ~(size_t)127;
    char *s = realloc(b->p, cap);
    if (!s)
      oom();
    *b = (url_buf){s, cap, 0};
  }
  size_t off = bare ? 7 : 0;
  memcpy(b->p, "http://", off);
  memcpy(b->p + off, url, n);
  b->p[off + n] = '\0';
  b->len = off + n;
  p->req.url = b->p;
}

int request_line_skipped(const char *s) {
  while (*s == ' ' || *s == '\t')
    s++;
  return !*s || *s == '#';
}

void request_line_free(request_line *p) {
  free(p->url.p);
  /* What else a line owns comes from its JSON: a URL line, nearly every
   * one, is done here (five calls to free NULL cost 30 instructions). */
  if (!p->j)
    return;
  json_decref(p->j);
  free(p->json_text);
  free(p->params);
  free(p->headers);
  for (size_t i = 0; i < p->nowned; i++)
    free(p->owned[i]);
  free(p->owned);
}

static const char *own(request_line *p, char *s) {
  p->owned = realloc(p->owned, (p->nowned + 1) * sizeof(*p->owned));
  if (!p->owned || !s)
    oom();
  return p->owned[p->nowned++] = s;
}

static int bad(char *why, size_t n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, n, fmt, ap);
  va_end(ap);
  return -1;
}

/* A parameter's value: a string as is, null as empty, anything else as
 * its JSON text (numbers, booleans). */
static const char *param_value(request_line *p, json_t *v) {
  if (json_is_string(v))
    return json_string_value(v);
  if (json_is_null(v))
    return "";
  return own(p, json_dumps(v, JSON_ENCODE_ANY));
}

/* params: {"k": "v", ...} or [["k", "v"], ...]; values may be numbers. */
static int json_params(request_line *p, json_t *v, char *why, size_t n) {
  size_t count = json_is_object(v) ? json_object_size(v) : json_array_size(v);
  if (!json_is_object(v) && !json_is_array(v))
    return bad(why, n, "\"params\" must be an object or an array of pairs");
  p->params = xmalloc_or_die((2 * count + 1) * sizeof(*p->params));
  size_t i = 0;
  const char *k;
  json_t *val;
  if (json_is_object(v)) {
    json_object_foreach(v, k, val) {
      p->params[i++] = k;
      p->params[i++] = param_value(p, val);
    }
  } else {
    size_t idx;
    json_array_foreach(v, idx, val) {
      if (!json_is_array(val) || json_array_size(val) != 2 ||
          !json_is_string(json_array_get(val, 0)))
        return bad(why, n, "\"params\" pairs must be [\"name\", \"value\"]");
      p->params[i++] = json_string_value(json_array_get(val, 0));
      p->params[i++] = param_value(p, json_array_get(val, 1));
    }
  }
  p->params[i] = NULL;
  p->req.params = p->params;
  return 0;
}

/* headers: {"Name": "value"} or ["Name: value", ...]. */
static int json_headers(request_line *p, json_t *v, char *why, size_t n) {
  size_t count = json_is_object(v) ? json_object_size(v) : json_array_size(v);
  if (!json_is_object(v) && !json_is_array(v))
    return bad(why, n, "\"headers\" must be an object or an array");
  p->headers = xmalloc_or_die((count + 1) * sizeof(*p->headers));
  size_t i = 0;
  const char *k;
  json_t *val;
  if (json_is_object(v)) {
    json_object_foreach(v, k, val) {
      if (!json_is_string(val))
        return bad(why, n, "header \"%s\" must be a string", k);
      char *h;
      if (asprintf(&h, "%s: %s", k, json_string_value(val)) < 0)
        oom();
      p->headers[i++] = own(p, h);
    }
  } else {
    size_t idx;
    json_array_foreach(v, idx, val) {
      if (!json_is_string(val))
        return bad(why, n, "\"headers\" items must be \"Name: value\"");
      p->headers[i++] = json_string_value(val);
    }
  }
  p->headers[i] = NULL;
  p->req.headers = p->headers;
  return 0;
}

static int parse_json_line(request_line *p, const char *line, size_t len,
                           char *why, size_t n) {
  json_error_t e;
  /* A field given twice is refused: which one was meant, the line does
   * not say (jansson would keep the last). */
  p->j = json_loadb(line, len, JSON_REJECT_DUPLICATES, &e);
  if (!p->j && json_error_code(&e) == json_error_duplicate_key)
    return bad(why, n, "a field given twice (column %d: %s)", e.column, e.text);
  if (!p->j)
    return bad(why, n, "not JSON (column %d: %s)", e.column, e.text);
  if (!json_is_object(p->j))
    return bad(why, n, "a JSON line must be an object");
  const char *k;
  json_t *v;
  json_object_foreach(p->j, k, v) {
    if (!strcmp(k, "url")) {
      if (!json_is_string(v))
        return bad(why, n, "\"url\" must be a string");
      with_scheme(p, json_string_value(v), json_string_length(v));
    } else if (!strcmp(k, "method")) {
      if (!json_is_string(v))
        return bad(why, n, "\"method\" must be a string");
      p->req.method = json_string_value(v);
    } else if (!strcmp(k, "key")) {
      if (json_is_string(v))
        p->req.key = json_string_value(v);
      else if (json_is_integer(v)) {
        snprintf(p->keybuf, sizeof(p->keybuf), "%lld",
                 (long long)json_integer_value(v));
        p->req.key = p->keybuf;
      } else
        return bad(why, n, "\"key\" must be a string or an integer");
    } else if (!strcmp(k, "body")) {
      if (!json_is_string(v))
        return bad(why, n, "\"body\" must be a string");
      p->req.body = json_string_value(v);
      p->req.body_len = json_string_length(v);
    } else if (!strcmp(k, "json")) {
      p->json_text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
      p->req.json = p->json_text;
    } else if (!strcmp(k, "params")) {
      if (json_params(p, v, why, n))
        return -1;
    } else if (!strcmp(k, "headers")) {
      if (json_headers(p, v, why, n))
        return -1;
    } else {
      return bad(why, n, "unknown field \"%s\"", k);
    }
  }
  if (!p->req.url)
    return bad(why, n, "no \"url\"");
  if (p->req.json && p->req.body)
    return bad(why, n, "both \"json\" and \"body\"");
  return 0;
}

int request_line_parse(request_line *p, const char *line, size_t len, char *why,
                       size_t n) {
  /* Field by field, not a memset of the whole: the request is most of
   * it, and salvo_request_init sets that. */
  salvo_request_init(&p->req);
  p->j = NULL;
  p->json_text = NULL;
  p->params = p->headers = NULL;
  p->owned = NULL;
  p->nowned = 0;
  const char *nul = memchr(line, '\0', len);
  if (nul)
    return bad(why, n, "a NUL byte at column %zu", (size_t)(nul - line) + 1);
  while (len && (*line == ' ' || *line == '\t'))
    line++, len--;
  while (len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
    len--;
  if (len && *line == '{') {
    if (parse_json_line(p, line, len, why, n))
      return -1;
  } else {
    with_scheme(p, line, len);
  }
  return 0;
}
