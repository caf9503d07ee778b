/*
 * salvo - many HTTP requests from the shell: URLs or JSON request lines in,
 * one JSON line per result out. Uses only libsalvo's public API.
 *
 * Input is read only as fast as slots free up and results are written as
 * they arrive, so memory stays constant however long the input is.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <poll.h>
#include <salvo.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "request_line.h"

enum body_mode { BODY_JSON, BODY_TEXT, BODY_BASE64, BODY_NONE };
enum fail_mode { FAIL_4XX_5XX, FAIL_5XX, FAIL_NONE };

typedef struct opts {
  salvo_config cfg;
  const char *input; /* NULL = arguments or stdin */
  const char *output;
  const char *output_dir;
  const char *summary_json;
  const char *method;
  const char *data;      /* -d */
  const char *json_body; /* --json */
  int body;
  int headers;
  int ordered;
  int quiet;
  int fail;
  char **header_list; /* -H, NULL-terminated */
  size_t nheaders;
  char *user; /* -u user:password, split in place */
} opts;

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */
/* ------------------------------------------------------------------------ */

static const char *prog = "salvo";

static void warnx(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "%s: ", prog);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

static _Noreturn void usage_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "%s: ", prog);
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\nTry '%s --help' for more information.\n", prog);
  va_end(ap);
  exit(2);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) {
    warnx("out of memory");
    exit(1);
  }
  return p;
}

static double parse_seconds(const char *opt, const char *v) {
  char *end;
  double d = strtod(v, &end);
  if (end == v || *end || !(d >= 0))
    usage_error("%s: '%s' is not a number of seconds", opt, v);
  return d;
}

static long parse_count(const char *opt, const char *v, long min) {
  char *end;
  errno = 0;
  long n = strtol(v, &end, 10);
  if (end == v || *end || errno || n < min || n > 10000000)
    usage_error("%s: '%s' is not a valid number", opt, v);
  return n;
}

/* "100", "100/s", "30/m", "1000/h" -> requests per second. */
static double parse_rate(const char *v) {
  char *end;
  double n = strtod(v, &end);
  double per = 1;
  if (*end == '/') {
    if (!strcmp(end, "/s"))
      per = 1;
    else if (!strcmp(end, "/m"))
      per = 60;
    else if (!strcmp(end, "/h"))
      per = 3600;
    else
      end = (char *)"?";
    if (*end != '?')
      end += 2;
  }
  if (end == v || *end || !(n > 0))
    usage_error("--rate: '%s' is not N, N/s, N/m or N/h", v);
  return n / per;
}

/* "1048576", "512k", "10M", "1G". */
static size_t parse_size(const char *v) {
  char *end;
  double n = strtod(v, &end);
  double mult = 1;
  if (*end == 'k' || *end == 'K')
    mult = 1024, end++;
  else if (*end == 'm' || *end == 'M')
    mult = 1024 * 1024, end++;
  else if (*end == 'g' || *end == 'G')
    mult = 1024.0 * 1024 * 1024, end++;
  if (end == v || *end || !(n > 0) || n * mult > 1e18)
    usage_error("--max-body: '%s' is not a size (N, Nk, NM, NG)", v);
  return (size_t)(n * mult);
}

static int *parse_statuses(const char *v, int *none) {
  size_t n = 1;
  for (const char *p = v; *p; p++)
    n += *p == ',';
  int *list = xmalloc((n + 1) * sizeof(*list));
  *none = !strcmp(v, "none");
  if (*none) {
    list[0] = 0;
    return list;
  }
  char *copy = strdup(v), *save = NULL;
  size_t i = 0;
  for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
    list[i++] = (int)parse_count("--retry-status", t, 100);
  list[i] = 0;
  free(copy);
  return list;
}

static char *read_file_or_arg(const char *v) {
  if (v[0] != '@')
    return strdup(v);
  FILE *f = strcmp(v + 1, "-") ? fopen(v + 1, "rb") : stdin;
  if (!f)
    usage_error("cannot read %s: %s", v + 1, strerror(errno));
  size_t len = 0, cap = 4096;
  char *buf = xmalloc(cap);
  size_t n;
  while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
    len += n;
    if (cap - len < 2 && !(buf = realloc(buf, cap *= 2)))
      exit(1);
  }
  buf[len] = '\0';
  if (f != stdin)
    fclose(f);
  return buf;
}

/* ------------------------------------------------------------------------ */
/* JSON output                                                              */
/* ------------------------------------------------------------------------ */

typedef struct out {
  char *p;
  size_t len, cap;
} out;

static void out_reserve(out *o, size_t n) {
  if (o->len + n + 1 > o->cap) {
    while (o->len + n + 1 > o->cap)
      o->cap = o->cap ? o->cap * 2 : 4096;
    o->p = realloc(o->p, o->cap);
    if (!o->p)
      exit(1);
  }
}

static void out_add(out *o, const char *s, size_t n) {
  out_reserve(o, n);
  memcpy(o->p + o->len, s, n);
  o->len += n;
}

static void out_str(out *o, const char *s) { out_add(o, s, strlen(s)); }

/* Numbers by hand: printf was most of the command's cost per result. */
static void out_u64(out *o, unsigned long long v) {
  char tmp[20];
  size_t n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  out_reserve(o, n);
  while (n)
    o->p[o->len++] = tmp[--n];
}

/* Seconds as milliseconds with three decimals. */
static void out_ms(out *o, double seconds) {
  unsigned long long us =
      seconds > 0 ? (unsigned long long)(seconds * 1e6 + 0.5) : 0;
  out_u64(o, us / 1000);
  char frac[4] = {'.', (char)('0' + us / 100 % 10), (char)('0' + us / 10 % 10),
                  (char)('0' + us % 10)};
  out_add(o, frac, 4);
}

/* A JSON string; bytes that are not UTF-8 become U+FFFD. */
static void out_jstr(out *o, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *p = (const unsigned char *)s;
  out_reserve(o, n + 2);
  o->p[o->len++] = '"';
  for (size_t i = 0; i < n;) {
    unsigned char c = p[i];
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      size_t j = i;
      while (j < n && p[j] >= 0x20 && p[j] < 0x7f && p[j] != '"' &&
             p[j] != '\\')
        j++;
      out_add(o, s + i, j - i);
      i = j;
      continue;
    }
    if (c == '"' || c == '\\') {
      char e[2] = {'\\', (char)c};
      out_add(o, e, 2);
      i++;
    } else if (c < 0x20 || c == 0x7f) {
      const char *named = c == '\n'   ? "\\n"
                          : c == '\r' ? "\\r"
                          : c == '\t' ? "\\t"
                                      : NULL;
      if (named) {
        out_add(o, named, 2);
      } else {
        char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        out_add(o, e, 6);
      }
      i++;
    } else {
      /* A run of non-ASCII bytes, checked by the library's strict
       * validator: no overlong forms, surrogates or code points past
       * U+10FFFF reach the output. */
      size_t end = i;
      while (end < n && p[end] >= 0x80)
        end++;
      size_t ok = salvo_utf8_valid(s + i, end - i);
      if (ok) {
        out_add(o, s + i, ok);
        i += ok;
      } else {
        out_add(o, "\\ufffd", 6);
        i++;
      }
    }
  }
  out_add(o, "\"", 1);
}

static void out_base64(out *o, const unsigned char *p, size_t n) {
  static const char tbl[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  out_reserve(o, (n + 2) / 3 * 4 + 2);
  char *d = o->p + o->len;
  *d++ = '"';
  size_t i = 0;
  for (; i + 2 < n; i += 3) {
    uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
    *d++ = tbl[v >> 18];
    *d++ = tbl[(v >> 12) & 63];
    *d++ = tbl[(v >> 6) & 63];
    *d++ = tbl[v & 63];
  }
  if (i < n) {
    uint32_t v =
        (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
    *d++ = tbl[v >> 18];
    *d++ = tbl[(v >> 12) & 63];
    *d++ = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
    *d++ = '=';
  }
  *d++ = '"';
  o->len = (size_t)(d - o->p);
}

/* ------------------------------------------------------------------------ */
/* Statistics                                                               */
/* ------------------------------------------------------------------------ */

/* Latencies in log buckets of 1% width, so percentiles cost constant
 * memory whatever the number of requests. */
#define NBUCKETS 3000

typedef struct stats {
  uint64_t done, failed, bad_lines, status_class[6];
  uint64_t errors[32]; /* by -code */
  uint64_t buckets[NBUCKETS];
  double max_ms;
  double t0;
} stats;

static int bucket_of(double ms) {
  double us = ms * 1000;
  if (us < 1)
    return 0;
  int b = (int)(log(us) / log(1.01));
  return b >= NBUCKETS ? NBUCKETS - 1 : b;
}

static double percentile(const stats *st, double p) {
  uint64_t total = 0, want, seen = 0;
  for (int i = 0; i < NBUCKETS; i++)
    total += st->buckets[i];
  if (!total)
    return 0;
  want = (uint64_t)ceil(p * (double)total);
  for (int i = 0; i < NBUCKETS; i++) {
    seen += st->buckets[i];
    if (seen >= want) {
      double ms = pow(1.01, i + 0.5) / 1000;
      return ms > st->max_ms ? st->max_ms : ms;
    }
  }
  return st->max_ms;
}

static int is_failure(const opts *o, salvo_response *r) {
  if (salvo_response_error(r))
    return 1;
  int s = salvo_response_status(r);
  if (o->fail == FAIL_NONE)
    return 0;
  return s >= 500 || (o->fail == FAIL_4XX_5XX && s >= 400);
}

static void count(stats *st, const opts *o, salvo_response *r) {
  int err = salvo_response_error(r);
  int s = salvo_response_status(r);
  double ms = salvo_response_elapsed(r) * 1000;
  st->done++;
  if (err)
    st->errors[-err < 32 ? -err : 31]++;
  else
    st->status_class[s >= 100 && s < 600 ? s / 100 : 0]++;
  if (is_failure(o, r))
    st->failed++;
  st->buckets[bucket_of(ms)]++;
  if (ms > st->max_ms)
    st->max_ms = ms;
}

/* Prints the summary; returns 0 when --summary-json could not be
 * written. */
static int summary(const stats *st, const opts *o) {
  double dt = now_s() - st->t0;
  double rate = dt > 0 ? (double)st->done / dt : 0;
  if (!o->quiet) {
    fprintf(stderr, "%s: %llu requests in %.3f s (%.0f req/s), %llu failed",
            prog, (unsigned long long)st->done, dt, rate,
            (unsigned long long)st->failed);
    if (st->bad_lines)
      fprintf(stderr, ", %llu bad input lines",
              (unsigned long long)st->bad_lines);
    fprintf(stderr, "\n  status:");
    int any = 0;
    for (int c = 1; c < 6; c++)
      if (st->status_class[c])
        fprintf(stderr, "%s %dxx %llu", any++ ? "," : "", c,
                (unsigned long long)st->status_class[c]);
    if (!any)
      fprintf(stderr, " none");
    any = 0;
    for (int e = 1; e < 32; e++)
      if (st->errors[e])
        fprintf(stderr, "%s %s %llu",
                any++ ? "," : "; errors:", salvo_errname(-e),
                (unsigned long long)st->errors[e]);
    fprintf(stderr,
            "\n  latency: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f "
            "ms\n",
            percentile(st, 0.5), percentile(st, 0.9), percentile(st, 0.99),
            st->max_ms);
  }
  if (!o->summary_json)
    return 1;
  FILE *f = fopen(o->summary_json, "w");
  if (!f) {
    warnx("cannot write %s: %s", o->summary_json, strerror(errno));
    return 0;
  }
  fprintf(f,
          "{\"requests\":%llu,\"failed\":%llu,\"bad_lines\":%llu,"
          "\"elapsed_s\":%.6f,\"throughput\":%.3f,\"status\":{",
          (unsigned long long)st->done, (unsigned long long)st->failed,
          (unsigned long long)st->bad_lines, dt, rate);
  int first = 1;
  for (int c = 1; c < 6; c++)
    if (st->status_class[c]) {
      fprintf(f, "%s\"%dxx\":%llu", first ? "" : ",", c,
              (unsigned long long)st->status_class[c]);
      first = 0;
    }
  fprintf(f, "},\"errors\":{");
  first = 1;
  for (int e = 1; e < 32; e++)
    if (st->errors[e]) {
      fprintf(f, "%s\"%s\":%llu", first ? "" : ",", salvo_errname(-e),
              (unsigned long long)st->errors[e]);
      first = 0;
    }
  fprintf(f,
          "},\"latency_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,"
          "\"max\":%.3f}}\n",
          percentile(st, 0.5), percentile(st, 0.9), percentile(st, 0.99),
          st->max_ms);
  if (ferror(f) | fclose(f)) {
    warnx("writing %s: %s", o->summary_json, strerror(errno));
    return 0;
  }
  return 1;
}

/* ------------------------------------------------------------------------ */
/* Progress                                                                 */
/* ------------------------------------------------------------------------ */

typedef struct progress {
  int on;
  double last;
  long long total; /* -1 = unknown */
} progress;

static void progress_draw(progress *pg, const stats *st, int force) {
  if (!pg->on)
    return;
  double t = now_s();
  if (!force && t - pg->last < 0.1)
    return;
  pg->last = t;
  double dt = t - st->t0;
  double rate = dt > 0 ? (double)st->done / dt : 0;
  char eta[32] = "";
  if (pg->total >= 0) {
    fprintf(stderr, "\r\033[K%llu/%lld (%.0f%%)", (unsigned long long)st->done,
            pg->total,
            pg->total ? 100.0 * (double)st->done / (double)pg->total : 100.0);
    if (rate > 0 && (double)pg->total > (double)st->done) {
      long s = (long)(((double)pg->total - (double)st->done) / rate + 0.5);
      snprintf(eta, sizeof(eta), "  ETA %ld:%02ld", s / 60, s % 60);
    }
  } else {
    fprintf(stderr, "\r\033[K%llu done", (unsigned long long)st->done);
  }
  fprintf(stderr, "  %.0f req/s  %llu errors%s", rate,
          (unsigned long long)st->failed, eta);
}

static void progress_clear(progress *pg) {
  if (pg->on)
    fprintf(stderr, "\r\033[K");
}

/* ------------------------------------------------------------------------ */
/* Input                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct input {
  FILE *f;
  char **args; /* URLs from the command line, or NULL */
  int nargs, next_arg;
  char *line;
  size_t cap;
  size_t len;                /* of the last line: it may hold NUL bytes */
  unsigned long long lineno; /* of the last line, from 1 */
} input;

/* The next line (newline stripped, its length in in->len), or NULL at the
 * end. */
static char *input_next(input *in) {
  in->lineno++;
  if (in->args) {
    if (in->next_arg >= in->nargs)
      return NULL;
    char *a = in->args[in->next_arg++];
    in->len = strlen(a);
    return a;
  }
  ssize_t n = getline(&in->line, &in->cap, in->f);
  if (n < 0)
    return NULL;
  while (n && (in->line[n - 1] == '\n' || in->line[n - 1] == '\r'))
    in->line[--n] = '\0';
  in->len = (size_t)n;
  return in->line;
}

/* Counts the lines a regular file will give, for the progress line. */
static long long count_lines(FILE *f) {
  struct stat st;
  if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode))
    return -1;
  off_t start = ftello(f);
  char *line = NULL;
  size_t cap = 0;
  long long n = 0;
  while (getline(&line, &cap, f) >= 0)
    n += !request_line_skipped(line);
  free(line);
  if (fseeko(f, start, SEEK_SET))
    return -1;
  return n;
}

/* ------------------------------------------------------------------------ */
/* Output files                                                             */
/* ------------------------------------------------------------------------ */

/* A file name inside --output-dir: the key, or "<index>-<last path
 * segment>"; only [A-Za-z0-9._-] survive, and nothing may start with a
 * dot, so no name can be "..", hidden, absolute or contain a slash. */
static void safe_name(char *dst, size_t cap, const char *key, const char *url,
                      unsigned long long index) {
  char raw[512];
  if (key) {
    snprintf(raw, sizeof(raw), "%s", key);
  } else {
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t end = strcspn(p, "?#");
    const char *seg = p, *slash;
    while ((slash = memchr(seg, '/', (size_t)(p + end - seg))))
      seg = slash + 1;
    int len = (int)(p + end - seg);
    snprintf(raw, sizeof(raw), "%llu-%.*s", index, len > 0 ? len : 5,
             len > 0 ? seg : "index");
  }
  size_t n = 0;
  if (raw[0] == '.' || !raw[0])
    dst[n++] = '_';
  for (size_t i = 0; raw[i] && n < cap - 1 && n < 200; i++) {
    char c = raw[i];
    int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
             (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    dst[n++] = ok ? c : '_';
  }
  dst[n] = '\0';
}

/* ------------------------------------------------------------------------ */
/* The run                                                                  */
/* ------------------------------------------------------------------------ */

/* What salvo keeps for each request between submission and printing. At
 * most `window` requests are outstanding, so memory does not grow with the
 * input. With --ordered a request's slot is its index modulo the window
 * (and no request is read more than a window ahead of the oldest one not
 * printed); otherwise slots come from a free list, since requests finish in
 * any order. A response's user_data is its slot. */
typedef struct slot {
  unsigned long long index;  /* submission order, for --ordered */
  unsigned long long lineno; /* the input line (or argument), from 1 */
  char *url;                 /* as requested, without userinfo */
  char *key;                 /* for failures salvo finds itself */
  char *path;                /* --output-dir file, or NULL */
  salvo_response *r;         /* the result, held until printed */
  char *local_error;         /* or a failure salvo found itself */
  int local_code;            /* and its error code */
  int done;
} slot;

typedef struct run {
  opts *o;
  int from_args;
  salvo_batch *b;
  FILE *out;
  const char *out_name;
  int write_errno; /* the first write error, 0 = none */
  out buf;
  stats st;
  progress pg;
  unsigned long long next_index; /* of the next request submitted */
  unsigned long long next_out;   /* --ordered: next index to print */
  size_t outstanding;            /* submitted or held, not yet printed */
  size_t window;
  slot *ring;
  size_t *free_slots; /* unordered: slots not in use */
  size_t nfree;
} run;

static int can_read(const run *rn) {
  if (rn->o->ordered)
    return rn->next_index - rn->next_out < rn->window;
  return rn->outstanding < rn->window;
}

static size_t slot_take(run *rn, unsigned long long index) {
  size_t pos =
      rn->o->ordered ? index % rn->window : rn->free_slots[--rn->nfree];
  rn->ring[pos].index = index;
  rn->outstanding++;
  return pos;
}

/* index is the input line; key is always a string: the request's key, or
 * the line number when it has none. */
static void emit_fields(run *rn, const slot *s) {
  out *o = &rn->buf;
  out_str(o, "{\"index\":");
  out_u64(o, s->lineno);
  out_str(o, ",\"key\":");
  const char *key = s->r ? salvo_response_key(s->r) : s->key;
  if (key) {
    out_jstr(o, key, strlen(key));
  } else {
    out_add(o, "\"", 1);
    out_u64(o, s->lineno);
    out_add(o, "\"", 1);
  }
  out_str(o, ",\"url\":");
  out_jstr(o, s->url, strlen(s->url));
}

static void emit_text(out *o, salvo_response *r) {
  size_t len;
  const char *t = salvo_response_text(r, &len);
  out_str(o, ",\"body\":");
  out_jstr(o, t, len);
}

/* application/json, or any type with a +json suffix (RFC 6839). */
static int says_json(const char *ctype) {
  if (!ctype)
    return 0;
  size_t n = strcspn(ctype, "; \t");
  return (n == 16 && !strncasecmp(ctype, "application/json", 16)) ||
         (n > 5 && !strncasecmp(ctype + n - 5, "+json", 5));
}

static void emit_body(run *rn, salvo_response *r) {
  out *o = &rn->buf;
  size_t len;
  const char *body = salvo_response_body(r, &len);
  const char *why = NULL;
  json_t *j;
  switch (rn->o->body) {
  case BODY_NONE:
    break;
  case BODY_BASE64:
    out_str(o, ",\"body\":");
    out_base64(o, (const unsigned char *)body, len);
    break;
  case BODY_TEXT:
    emit_text(o, r);
    break;
  case BODY_JSON:
    if (!len) {
      out_str(o, ",\"body\":null");
    } else if (!says_json(salvo_response_header(r, "Content-Type"))) {
      emit_text(o, r);
    } else if ((j = salvo_response_json(r, &why))) {
      char *dump = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
      out_str(o, ",\"body\":");
      out_str(o, dump ? dump : "null");
      free(dump);
    } else {
      /* Said to be JSON and is not: the text, and why. */
      out_str(o, ",\"body_parse_error\":");
      out_jstr(o, why, strlen(why));
      emit_text(o, r);
    }
    break;
  }
}

static void emit_response(run *rn, slot *s) {
  out *o = &rn->buf;
  salvo_response *r = s->r;
  emit_fields(rn, s);
  const char *final = salvo_response_url(r);
  if (salvo_response_redirects(r)) {
    out_str(o, ",\"final_url\":");
    out_jstr(o, final, strlen(final));
  }
  int status = salvo_response_status(r), err = salvo_response_error(r);
  out_str(o, ",\"status\":");
  if (status)
    out_u64(o, (unsigned long long)status);
  else
    out_str(o, "null");
  if (err) {
    const char *name = salvo_errname(err), *msg = salvo_response_errmsg(r);
    out_str(o, ",\"error\":{\"code\":");
    out_jstr(o, name, strlen(name));
    out_str(o, ",\"message\":");
    out_jstr(o, msg, strlen(msg));
    out_str(o, "}");
  } else {
    out_str(o, ",\"error\":null");
  }
  const char *ver = salvo_response_http_version(r);
  out_str(o, ",\"attempts\":");
  out_u64(o, (unsigned long long)salvo_response_attempts(r));
  out_str(o, ",\"elapsed_ms\":");
  out_ms(o, salvo_response_elapsed(r));
  out_str(o, ",\"http_version\":");
  if (*ver)
    out_jstr(o, ver, strlen(ver));
  else
    out_str(o, "null");
  if (rn->o->headers) {
    out_str(o, ",\"headers\":[");
    for (size_t i = 0; i < salvo_response_header_count(r); i++) {
      const char *name, *value;
      salvo_response_header_at(r, i, &name, &value);
      out_str(o, i ? ",[" : "[");
      out_jstr(o, name, strlen(name));
      out_str(o, ",");
      out_jstr(o, value, strlen(value));
      out_str(o, "]");
    }
    out_str(o, "]");
  }
  struct stat st;
  if (s->path && !err && status >= 200 && status < 300 && !stat(s->path, &st)) {
    out_str(o, ",\"file\":");
    out_jstr(o, s->path, strlen(s->path));
    out_str(o, ",\"size\":");
    out_u64(o, (unsigned long long)st.st_size);
  } else {
    emit_body(rn, r);
  }
  out_str(o, "}\n");
  count(&rn->st, rn->o, r);
}

/* A failure salvo found itself: a file it will not write (EWRITE), or a
 * request cancelled by an interrupt (ECANCELED). */
static void emit_local_error(run *rn, slot *s) {
  out *o = &rn->buf;
  const char *code = salvo_errname(s->local_code);
  emit_fields(rn, s);
  out_str(o, ",\"status\":null,\"error\":{\"code\":");
  out_jstr(o, code, strlen(code));
  out_str(o, ",\"message\":");
  out_jstr(o, s->local_error, strlen(s->local_error));
  out_str(o, "},\"attempts\":0,\"elapsed_ms\":0,\"http_version\":null}\n");
  rn->st.done++;
  rn->st.failed++;
  rn->st.errors[-s->local_code]++;
}

/* Writes what is buffered. The first failure (a full disk, a closed
 * pipe) is reported and stops the run: results that cannot be written
 * must not be lost without a word. */
static void flush_out(run *rn) {
  if (rn->write_errno)
    return;
  if ((rn->buf.len &&
       fwrite(rn->buf.p, 1, rn->buf.len, rn->out) != rn->buf.len) ||
      fflush(rn->out)) {
    rn->write_errno = errno ? errno : EIO;
    warnx("writing results to %s: %s", rn->out_name, strerror(rn->write_errno));
  }
  rn->buf.len = 0;
}

static void slot_clear(slot *s) {
  salvo_response_free(s->r);
  free(s->local_error);
  free(s->url);
  free(s->key);
  free(s->path);
  memset(s, 0, sizeof(*s));
}

static void print_slot(run *rn, size_t pos) {
  slot *s = &rn->ring[pos];
  if (s->r)
    emit_response(rn, s);
  else
    emit_local_error(rn, s);
  slot_clear(s);
  rn->outstanding--;
  if (!rn->o->ordered)
    rn->free_slots[rn->nfree++] = pos;
}

/* A result is in: printed at once, or with --ordered when every earlier
 * one has been. */
static void complete(run *rn, size_t pos) {
  rn->ring[pos].done = 1;
  if (!rn->o->ordered) {
    print_slot(rn, pos);
    return;
  }
  while (rn->next_out < rn->next_index &&
         rn->ring[rn->next_out % rn->window].done)
    print_slot(rn, rn->next_out++ % rn->window);
}

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig) {
  (void)sig;
  interrupted = 1;
}

/* A copy of url without its userinfo: a password given in a URL is never
 * printed. */
static char *without_userinfo(const char *url) {
  const char *auth = strstr(url, "://");
  char *copy = strdup(url);
  if (!copy)
    exit(1);
  if (!auth)
    return copy;
  auth += 3;
  size_t alen = strcspn(auth, "/?#");
  const char *at = NULL;
  for (size_t i = 0; i < alen; i++)
    if (auth[i] == '@')
      at = auth + i;
  if (at)
    memmove(copy + (auth - url), at + 1 - url + copy, strlen(at + 1) + 1);
  return copy;
}

/* Submits one input line; bad lines are reported and skipped. */
static void submit_line(run *rn, const char *line, size_t len,
                        unsigned long long lineno) {
  opts *o = rn->o;
  request_line p;
  memset(&p, 0, sizeof(p));
  char why[256];
  if (request_line_parse(&p, line, len, why, sizeof(why))) {
    warnx("%s %llu: %s; skipped", rn->from_args ? "argument" : "input line",
          lineno, why);
    rn->st.bad_lines++;
    request_line_free(&p);
    return;
  }
  salvo_request *req = &p.req;
  unsigned long long index = rn->next_index++;
  size_t pos = slot_take(rn, index);
  slot *s = &rn->ring[pos];
  s->lineno = lineno;
  if (!req->method)
    req->method = o->method;
  if (!req->body && !req->json) {
    if (o->json_body) {
      req->json = o->json_body;
    } else if (o->data) {
      req->body = o->data;
      req->body_len = strlen(o->data);
    }
  }
  req->user_data = (void *)(uintptr_t)pos;
  s->url = without_userinfo(req->url);
  s->key = req->key ? strdup(req->key) : NULL;
  if (o->output_dir) {
    char name[256];
    struct stat st;
    safe_name(name, sizeof(name), req->key, req->url, lineno);
    if (asprintf(&s->path, "%s/%s", o->output_dir, name) < 0)
      exit(1);
    /* Never through a symbolic link or onto something not a file. */
    if (!lstat(s->path, &st) && !S_ISREG(st.st_mode)) {
      if (asprintf(&s->local_error, "refusing to write %s: not a regular file",
                   s->path) < 0)
        exit(1);
      s->local_code = SALVO_EWRITE;
      request_line_free(&p);
      complete(rn, pos);
      return;
    }
    req->output_path = s->path;
  }
  if (!salvo_submit(rn->b, req).id) {
    warnx("out of memory");
    exit(1);
  }
  request_line_free(&p);
}

/* After an interrupt: every request still out gets its line, cancelled,
 * so that the output accounts for every request read. */
static void cancel_outstanding(run *rn) {
  for (size_t pos = 0; pos < rn->window; pos++) {
    slot *s = &rn->ring[pos];
    if (!s->url || s->done)
      continue;
    s->local_code = SALVO_ECANCELED;
    s->local_error = strdup("interrupted before it completed");
    if (!s->local_error)
      exit(1);
    s->done = 1;
  }
  /* In input order, whatever the mode: they all end at once. */
  while (rn->outstanding) {
    size_t best = rn->window;
    for (size_t pos = 0; pos < rn->window; pos++)
      if (rn->ring[pos].url &&
          (best == rn->window || rn->ring[pos].index < rn->ring[best].index))
        best = pos;
    print_slot(rn, best);
  }
}

/* Takes every response ready now. */
static void collect_ready(run *rn) {
  salvo_response *r;
  while ((r = salvo_batch_poll(rn->b))) {
    size_t pos = (size_t)(uintptr_t)salvo_response_user_data(r);
    rn->ring[pos].r = r;
    complete(rn, pos);
  }
}

static void wait_results(run *rn, int fd) {
  struct pollfd pfd = {.fd = fd, .events = POLLIN};
  if (poll(&pfd, 1, rn->pg.on ? 100 : -1) < 0 && errno != EINTR) {
    warnx("poll: %s", strerror(errno));
    exit(1);
  }
  collect_ready(rn);
  flush_out(rn);
  progress_draw(&rn->pg, &rn->st, 0);
}

static salvo_client *make_client(const opts *o) {
  salvo_client *client;
  int err = salvo_client_new(&client, &o->cfg);
  if (err == SALVO_EINVAL) {
    char why[256];
    salvo_config_check(&o->cfg, why, sizeof(why));
    usage_error("bad configuration: %s", why);
  }
  if (err) {
    warnx("cannot start: %s", salvo_strerror(err));
    exit(1);
  }
  return client;
}

static int go(opts *o, input *in) {
  run rn;
  memset(&rn, 0, sizeof(rn));
  rn.o = o;
  rn.from_args = in->args != NULL;
  rn.out = stdout;
  rn.out_name = o->output ? o->output : "standard output";
  if (o->output && !(rn.out = fopen(o->output, "w"))) {
    warnx("cannot write %s: %s", o->output, strerror(errno));
    return 2;
  }
  salvo_client *client = make_client(o);
  rn.b = salvo_parallel(client);
  int fd = salvo_batch_fd(rn.b);
  if (!rn.b || fd < 0) {
    warnx("cannot start: %s", strerror(errno));
    return 1;
  }
  int conc = o->cfg.concurrency;
  rn.window = 2 * (size_t)conc + 16;
  rn.ring = calloc(rn.window, sizeof(*rn.ring));
  rn.free_slots = calloc(rn.window, sizeof(*rn.free_slots));
  if (!rn.ring || !rn.free_slots)
    exit(1);
  for (size_t i = 0; i < rn.window; i++)
    rn.free_slots[rn.nfree++] = rn.window - 1 - i;
  rn.pg.on = !o->quiet && isatty(2);
  rn.pg.total = in->args ? in->nargs : count_lines(in->f);
  rn.st.t0 = now_s();
  struct sigaction sa = {.sa_handler = on_sigint};
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  int eof = 0;
  while (!interrupted && !rn.write_errno) {
    /* Read only as far as there are slots: memory stays constant. */
    while (!eof && can_read(&rn) && !interrupted) {
      char *line = input_next(in);
      if (!line)
        eof = 1;
      else if (!request_line_skipped(line) || in->len != strlen(line))
        submit_line(&rn, line, in->len, in->lineno);
    }
    if (eof && !rn.outstanding)
      break;
    wait_results(&rn, fd);
  }
  size_t cancelled = 0;
  if (interrupted && !rn.write_errno) {
    /* What completed is kept; what did not is said to be cancelled. */
    collect_ready(&rn);
    cancelled = rn.outstanding;
    cancel_outstanding(&rn);
  }
  flush_out(&rn);
  progress_draw(&rn.pg, &rn.st, 1);
  progress_clear(&rn.pg);
  if (interrupted)
    warnx("interrupted: %zu requests cancelled, input read up to line %llu",
          cancelled, in->lineno);
  for (size_t i = 0; i < rn.window; i++)
    slot_clear(&rn.ring[i]);
  free(rn.ring);
  free(rn.free_slots);
  salvo_batch_close(rn.b);
  salvo_client_free(client);
  int summary_ok = summary(&rn.st, o);
  if (rn.out != stdout ? fclose(rn.out) : fflush(stdout)) {
    if (!rn.write_errno)
      warnx("writing results to %s: %s", rn.out_name, strerror(errno));
    rn.write_errno = rn.write_errno ? rn.write_errno : EIO;
  }
  free(rn.buf.p);
  if (interrupted)
    return 130;
  return rn.st.failed || rn.st.bad_lines || rn.write_errno || !summary_ok;
}

/* ------------------------------------------------------------------------ */
/* Options                                                                  */
/* ------------------------------------------------------------------------ */

static const char help[] =
    "Usage: salvo [options] [URL...]\n"
    "Many HTTP requests at once: URLs or JSON request lines in, one JSON\n"
    "line per result out, as they complete.\n"
    "\n"
    "Input (URLs given as arguments, else -i FILE, else standard input;\n"
    "one URL or one JSON object per line; blank lines and # comments are\n"
    "skipped; a JSON line has url and optionally method, headers, params,\n"
    "json or body, key):\n"
    "  -i, --input FILE         read requests from FILE ('-' = stdin)\n"
    "\n"
    "Output:\n"
    "  -o, --output FILE        write the JSON lines to FILE\n"
    "      --body MODE          json (default: parsed when the response\n"
    "                           says it is JSON, else text), text, base64\n"
    "                           or none\n"
    "      --headers            add the response headers\n"
    "      --ordered            print in input order (bounded buffer)\n"
    "      --output-dir DIR     write each 2xx body to DIR/<key> or\n"
    "                           DIR/<line>-<name>, not to the JSON line;\n"
    "                           DIR is created when missing\n"
    "  -q, --quiet              no progress line, no summary\n"
    "      --summary-json FILE  write the summary as JSON to FILE\n"
    "      --fail-status WHICH  which statuses fail the run: 4xx,5xx\n"
    "                           (default), 5xx or none\n"
    "\n"
    "Flow:\n"
    "  -c, --concurrency N      requests in flight at once (default 100)\n"
    "      --per-host N         requests in flight per origin\n"
    "      --rate N[/s|/m|/h]   attempts started per second (or minute,\n"
    "                           hour), retries included\n"
    "      --per-host-rate N    the same per origin, per second\n"
    "      --burst N            attempts allowed at once after a pause\n"
    "      --retries N          retries after the first attempt (default 3)\n"
    "      --retry-status LIST  statuses retried, e.g. 429,503, or none\n"
    "                           (default 408,429,500,502,503,504)\n"
    "      --timeout S          seconds per attempt (default 30)\n"
    "      --connect-timeout S  seconds to connect (default 10)\n"
    "      --deadline S         seconds per request, all attempts\n"
    "      --queue-timeout S    seconds a request may wait for a slot\n"
    "\n"
    "Requests:\n"
    "  -X, --method M           method for every request\n"
    "  -H, --header 'N: V'      header for every request (repeatable)\n"
    "  -d, --data DATA          body (@FILE reads FILE), form content type\n"
    "      --json DATA          JSON body (@FILE reads FILE)\n"
    "  -u, --user USER:PASS     basic authentication\n"
    "      --bearer TOKEN       bearer token\n"
    "  -A, --user-agent NAME    User-Agent header\n"
    "      --http1.1            HTTP/1.1 only\n"
    "      --http2              HTTP/2 (also over cleartext, by upgrade)\n"
    "  -k, --insecure           do not verify TLS certificates\n"
    "      --cacert FILE        CA certificates to verify with\n"
    "  -x, --proxy URL          proxy for every request\n"
    "      --cookie-jar FILE    load cookies from FILE, save them back\n"
    "      --max-body SIZE      largest body kept (default 64M)\n"
    "      --compressed         ask for a compressed body, decompress it\n"
    "  -L, --location           follow redirects (the default)\n"
    "      --no-location        do not follow redirects\n"
    "\n"
    "  -h, --help               this help\n"
    "  -V, --version            the version\n"
    "\n"
    "Exit status: 0 when every request succeeded (2xx or 3xx), 1 when any\n"
    "failed or an input line was bad, 2 for a usage error, 130 when\n"
    "interrupted. See salvo(1).\n";

enum {
  OPT_BODY = 256,
  OPT_HEADERS,
  OPT_ORDERED,
  OPT_OUTPUT_DIR,
  OPT_SUMMARY_JSON,
  OPT_FAIL_STATUS,
  OPT_PER_HOST,
  OPT_RATE,
  OPT_PER_HOST_RATE,
  OPT_BURST,
  OPT_RETRIES,
  OPT_RETRY_STATUS,
  OPT_TIMEOUT,
  OPT_CONNECT_TIMEOUT,
  OPT_DEADLINE,
  OPT_QUEUE_TIMEOUT,
  OPT_JSON,
  OPT_BEARER,
  OPT_HTTP11,
  OPT_HTTP2,
  OPT_CACERT,
  OPT_COOKIE_JAR,
  OPT_MAX_BODY,
  OPT_COMPRESSED,
  OPT_NO_LOCATION
};

static const struct option longopts[] = {
    {"input", required_argument, 0, 'i'},
    {"output", required_argument, 0, 'o'},
    {"body", required_argument, 0, OPT_BODY},
    {"headers", no_argument, 0, OPT_HEADERS},
    {"ordered", no_argument, 0, OPT_ORDERED},
    {"output-dir", required_argument, 0, OPT_OUTPUT_DIR},
    {"quiet", no_argument, 0, 'q'},
    {"summary-json", required_argument, 0, OPT_SUMMARY_JSON},
    {"fail-status", required_argument, 0, OPT_FAIL_STATUS},
    {"concurrency", required_argument, 0, 'c'},
    {"per-host", required_argument, 0, OPT_PER_HOST},
    {"rate", required_argument, 0, OPT_RATE},
    {"per-host-rate", required_argument, 0, OPT_PER_HOST_RATE},
    {"burst", required_argument, 0, OPT_BURST},
    {"retries", required_argument, 0, OPT_RETRIES},
    {"retry-status", required_argument, 0, OPT_RETRY_STATUS},
    {"timeout", required_argument, 0, OPT_TIMEOUT},
    {"connect-timeout", required_argument, 0, OPT_CONNECT_TIMEOUT},
    {"deadline", required_argument, 0, OPT_DEADLINE},
    {"queue-timeout", required_argument, 0, OPT_QUEUE_TIMEOUT},
    {"method", required_argument, 0, 'X'},
    {"header", required_argument, 0, 'H'},
    {"data", required_argument, 0, 'd'},
    {"json", required_argument, 0, OPT_JSON},
    {"user", required_argument, 0, 'u'},
    {"bearer", required_argument, 0, OPT_BEARER},
    {"user-agent", required_argument, 0, 'A'},
    {"http1.1", no_argument, 0, OPT_HTTP11},
    {"http2", no_argument, 0, OPT_HTTP2},
    {"insecure", no_argument, 0, 'k'},
    {"cacert", required_argument, 0, OPT_CACERT},
    {"proxy", required_argument, 0, 'x'},
    {"cookie-jar", required_argument, 0, OPT_COOKIE_JAR},
    {"max-body", required_argument, 0, OPT_MAX_BODY},
    {"compressed", no_argument, 0, OPT_COMPRESSED},
    {"location", no_argument, 0, 'L'},
    {"no-location", no_argument, 0, OPT_NO_LOCATION},
    {"help", no_argument, 0, 'h'},
    {"version", no_argument, 0, 'V'},
    {0, 0, 0, 0}};

/* mkdir -p: each missing directory of path, mode 0755. Failures show when
 * the caller looks at path. */
static void make_dirs(const char *path) {
  char *p = strdup(path);
  if (!p)
    exit(1);
  for (char *s = p + 1; *s; s++)
    if (*s == '/') {
      *s = '\0';
      mkdir(p, 0755);
      *s = '/';
    }
  mkdir(p, 0755);
  free(p);
}

static void add_header(opts *o, const char *h) {
  if (!strchr(h, ':'))
    usage_error("-H: '%s' is not 'Name: value'", h);
  o->header_list =
      realloc(o->header_list, (o->nheaders + 2) * sizeof(*o->header_list));
  if (!o->header_list)
    exit(1);
  o->header_list[o->nheaders++] = strdup(h);
  o->header_list[o->nheaders] = NULL;
}

static int parse_options(opts *o, int argc, char **argv) {
  int c, none;
  while ((c = getopt_long(argc, argv, "i:o:qc:X:H:d:u:A:kx:LhV", longopts,
                          NULL)) != -1) {
    switch (c) {
    case 'i':
      o->input = optarg;
      break;
    case 'o':
      o->output = optarg;
      break;
    case OPT_BODY:
      if (!strcmp(optarg, "json"))
        o->body = BODY_JSON;
      else if (!strcmp(optarg, "text"))
        o->body = BODY_TEXT;
      else if (!strcmp(optarg, "base64"))
        o->body = BODY_BASE64;
      else if (!strcmp(optarg, "none"))
        o->body = BODY_NONE;
      else
        usage_error("--body: '%s' is not json, text, base64 or none", optarg);
      break;
    case OPT_HEADERS:
      o->headers = 1;
      break;
    case OPT_ORDERED:
      o->ordered = 1;
      break;
    case OPT_OUTPUT_DIR:
      o->output_dir = optarg;
      break;
    case 'q':
      o->quiet = 1;
      break;
    case OPT_SUMMARY_JSON:
      o->summary_json = optarg;
      break;
    case OPT_FAIL_STATUS:
      if (!strcmp(optarg, "4xx,5xx") || !strcmp(optarg, "4xx"))
        o->fail = FAIL_4XX_5XX;
      else if (!strcmp(optarg, "5xx"))
        o->fail = FAIL_5XX;
      else if (!strcmp(optarg, "none"))
        o->fail = FAIL_NONE;
      else
        usage_error("--fail-status: '%s' is not 4xx,5xx, 5xx or none", optarg);
      break;
    case 'c':
      o->cfg.concurrency = (int)parse_count("--concurrency", optarg, 1);
      break;
    case OPT_PER_HOST:
      o->cfg.per_host = (int)parse_count("--per-host", optarg, 1);
      break;
    case OPT_RATE:
      o->cfg.rate_limit = parse_rate(optarg);
      break;
    case OPT_PER_HOST_RATE:
      o->cfg.per_host_rate = parse_rate(optarg);
      break;
    case OPT_BURST:
      o->cfg.rate_burst = (int)parse_count("--burst", optarg, 1);
      break;
    case OPT_RETRIES: {
      long n = parse_count("--retries", optarg, 0);
      o->cfg.max_retries = (int)n;
      break;
    }
    case OPT_RETRY_STATUS:
      o->cfg.retry_statuses = parse_statuses(optarg, &none);
      o->cfg.no_status_retry = none;
      break;
    case OPT_TIMEOUT:
      o->cfg.timeout = parse_seconds("--timeout", optarg);
      break;
    case OPT_CONNECT_TIMEOUT:
      o->cfg.connect_timeout = parse_seconds("--connect-timeout", optarg);
      break;
    case OPT_DEADLINE:
      o->cfg.deadline = parse_seconds("--deadline", optarg);
      break;
    case OPT_QUEUE_TIMEOUT:
      o->cfg.queue_timeout = parse_seconds("--queue-timeout", optarg);
      break;
    case 'X':
      o->method = optarg;
      break;
    case 'H':
      add_header(o, optarg);
      break;
    case 'd':
      o->data = read_file_or_arg(optarg);
      break;
    case OPT_JSON:
      o->json_body = read_file_or_arg(optarg);
      add_header(o, "Accept: application/json");
      break;
    case 'u': {
      o->user = strdup(optarg);
      char *colon = strchr(o->user, ':');
      if (colon)
        *colon = '\0';
      o->cfg.username = o->user;
      o->cfg.password = colon ? colon + 1 : "";
      break;
    }
    case OPT_BEARER:
      o->cfg.bearer_token = optarg;
      break;
    case 'A':
      o->cfg.user_agent = optarg;
      break;
    case OPT_HTTP11:
      o->cfg.http_version = SALVO_HTTP_1_1;
      break;
    case OPT_HTTP2:
      o->cfg.http_version = SALVO_HTTP_2;
      break;
    case 'k':
      o->cfg.insecure = 1;
      break;
    case OPT_CACERT:
      o->cfg.ca_file = optarg;
      break;
    case 'x':
      o->cfg.proxy = optarg;
      break;
    case OPT_COOKIE_JAR:
      o->cfg.cookie_file = optarg;
      o->cfg.no_cookies = 0;
      break;
    case OPT_MAX_BODY:
      o->cfg.max_body = parse_size(optarg);
      break;
    case OPT_COMPRESSED:
      o->cfg.no_compression = 0;
      break;
    case 'L':
      o->cfg.no_redirects = 0;
      break;
    case OPT_NO_LOCATION:
      o->cfg.no_redirects = 1;
      break;
    case 'h':
      fputs(help, stdout);
      exit(0);
    case 'V':
      printf("salvo %s\n", SALVO_VERSION);
      exit(0);
    default:
      fprintf(stderr, "Try '%s --help' for more information.\n", prog);
      exit(2);
    }
  }
  if (o->output_dir) {
    struct stat st;
    make_dirs(o->output_dir);
    if (stat(o->output_dir, &st))
      usage_error("--output-dir: cannot create %s: %s", o->output_dir,
                  strerror(errno));
    if (!S_ISDIR(st.st_mode))
      usage_error("--output-dir: %s is not a directory", o->output_dir);
    if (o->body == BODY_JSON)
      o->body = BODY_NONE; /* bodies go to files; errors keep theirs */
  }
  if (o->input && optind < argc)
    usage_error("give URLs as arguments or with -i, not both");
  if (o->data && !o->json_body) {
    /* curl's -d sends a form; a -H Content-Type says otherwise. */
    int has = 0;
    for (size_t i = 0; i < o->nheaders; i++)
      has |= !strncasecmp(o->header_list[i], "Content-Type:", 13);
    if (!has)
      add_header(o, "Content-Type: application/x-www-form-urlencoded");
  }
  o->cfg.headers = (const char *const *)o->header_list;
  return optind;
}

int main(int argc, char **argv) {
  opts o;
  memset(&o, 0, sizeof(o));
  salvo_config_init(&o.cfg);
  /* As curl: no compression unless --compressed, no cookie engine unless
   * --cookie-jar. Both save libcurl work on every request. */
  o.cfg.no_compression = 1;
  o.cfg.no_cookies = 1;
  signal(SIGPIPE, SIG_IGN);
  int first = parse_options(&o, argc, argv);
  input in;
  memset(&in, 0, sizeof(in));
  if (first < argc) {
    in.args = argv + first;
    in.nargs = argc - first;
  } else if (o.input && strcmp(o.input, "-")) {
    if (!(in.f = fopen(o.input, "r"))) {
      warnx("cannot read %s: %s", o.input, strerror(errno));
      return 2;
    }
  } else {
    in.f = stdin;
    o.input = "-";
  }
  int rc = go(&o, &in);
  if (in.f && in.f != stdin)
    fclose(in.f);
  free(in.line);
  for (size_t i = 0; i < o.nheaders; i++)
    free(o.header_list[i]);
  free(o.header_list);
  free((void *)o.cfg.retry_statuses);
  free((void *)o.data);
  free((void *)o.json_body);
  free(o.user);
  return rc;
}
