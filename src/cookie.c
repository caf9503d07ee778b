/* The client's cookie jar: see cookie.h. Used on the I/O thread only. */
#define _GNU_SOURCE
#include "cookie.h"

#include <errno.h>
#include <libpsl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cookie_date.h"
#include "field.h"
#include "url.h"

/* Beyond these, cookies are dropped rather than kept without bound: the
 * oldest goes first. (RFC 6265 asks for at least 3000 in all.) */
#define JAR_MAX 3000
#define COOKIE_MAX 4096 /* name and value together */

typedef struct cookie {
  char *name, *value, *domain, *path;
  int host_only, secure;
  int64_t expires; /* Unix seconds; 0 = when the client goes */
  uint64_t seq;    /* creation order */
} cookie;

struct salvo__jar {
  cookie *v;
  size_t n, cap;
  uint64_t seq;
  const salvo__clock *clock;
};

salvo__jar *salvo__jar_new(const salvo__clock *clock) {
  salvo__jar *j = calloc(1, sizeof(salvo__jar));
  if (j)
    j->clock = clock;
  return j;
}

static void cookie_free(cookie *c) {
  free(c->name);
  free(c->value);
  free(c->domain);
  free(c->path);
}

void salvo__jar_clear(salvo__jar *j) {
  for (size_t i = 0; i < j->n; i++)
    cookie_free(&j->v[i]);
  j->n = 0;
}

void salvo__jar_free(salvo__jar *j) {
  if (!j)
    return;
  salvo__jar_clear(j);
  free(j->v);
  free(j);
}

size_t salvo__jar_count(const salvo__jar *j) { return j ? j->n : 0; }

/* ---- URLs -----------------------------------------------------------------
 */

typedef struct url_bits {
  int secure;     /* https, or a loopback host (as libcurl and browsers do) */
  char host[256]; /* lower case, without port or brackets' content change */
  const char *path;
  size_t path_len; /* "/" when empty; the query is not part of it */
} url_bits;

/* url's host and path as url.c reads them (the host after the last '@',
 * as the request goes to it), so that a cookie is kept and sent for the
 * host the connection is made to. */
static int url_split(const char *url, url_bits *u) {
  salvo__url pu;
  char *msg = NULL;
  if (salvo__url_parse(url, &pu, &msg)) {
    free(msg);
    return -1;
  }
  if (!pu.host_len || pu.host_len >= sizeof(u->host))
    return -1;
  for (size_t i = 0; i < pu.host_len; i++) {
    char c = pu.host[i];
    u->host[i] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
  }
  u->host[pu.host_len] = '\0';
  u->secure = pu.scheme_len == 5 || !strcmp(u->host, "localhost") ||
              !strncmp(u->host, "127.", 4) || !strcmp(u->host, "[::1]");
  u->path = url + pu.path;
  u->path_len = strcspn(u->path, "?#");
  if (!u->path_len || *u->path != '/') {
    u->path = "/";
    u->path_len = 1;
  }
  return 0;
}

static int is_ip(const char *h) {
  if (*h == '[')
    return 1;
  for (; *h; h++)
    if (!((*h >= '0' && *h <= '9') || *h == '.'))
      return 0;
  return 1;
}

/* RFC 6265 5.1.3. */
static int domain_match(const char *host, const char *domain) {
  size_t hl = strlen(host), dl = strlen(domain);
  if (hl == dl)
    return !strcmp(host, domain);
  return hl > dl && host[hl - dl - 1] == '.' &&
         !strcmp(host + hl - dl, domain) && !is_ip(host);
}

/* RFC 6265 5.1.4. */
static int path_match(const char *req, size_t rlen, const char *path) {
  size_t pl = strlen(path);
  if (pl > rlen || memcmp(req, path, pl))
    return 0;
  return pl == rlen || path[pl - 1] == '/' || req[pl] == '/';
}

/* Whether a domain is a public suffix (com, co.uk, github.io...), by
 * the list libpsl carries (its private section included: a cookie for
 * every github.io site is as wrong as one for every .com). */
static int public_suffix(const char *domain) {
  const psl_ctx_t *psl = psl_builtin();
  return psl && psl_is_public_suffix(psl, domain);
}

/* ---- storing --------------------------------------------------------------
 */

static void drop(salvo__jar *j, size_t i) {
  cookie_free(&j->v[i]);
  j->v[i] = j->v[--j->n];
}

static cookie *find(salvo__jar *j, const cookie *c) {
  for (size_t i = 0; i < j->n; i++) {
    cookie *o = &j->v[i];
    if (!strcmp(o->name, c->name) && !strcmp(o->domain, c->domain) &&
        !strcmp(o->path, c->path))
      return o;
  }
  return NULL;
}

/* Takes c (its strings) into the jar: replaces a cookie of the same name,
 * domain and path, or removes it when c has expired. */
static int store(salvo__jar *j, cookie *c) {
  int64_t now = salvo__clock_wall(j->clock);
  cookie *old = find(j, c);
  int expired = c->expires && c->expires <= now;
  if (old) {
    c->seq = old->seq;
    drop(j, (size_t)(old - j->v));
  }
  if (expired) {
    cookie_free(c);
    return 0;
  }
  if (j->n == JAR_MAX) {
    size_t oldest = 0;
    for (size_t i = 1; i < j->n; i++)
      if (j->v[i].seq < j->v[oldest].seq)
        oldest = i;
    drop(j, oldest);
  }
  if (j->n == j->cap) {
    size_t cap = j->cap ? 2 * j->cap : 16;
    cookie *v = realloc(j->v, cap * sizeof(*v));
    if (!v) {
      cookie_free(c);
      return SALVO_ENOMEM;
    }
    j->v = v;
    j->cap = cap;
  }
  if (!old)
    c->seq = ++j->seq;
  j->v[j->n++] = *c;
  return 0;
}

static int is_ws(char c) { return c == ' ' || c == '\t'; }

/* The piece [s, e) without surrounding whitespace. */
static void trim(const char **s, const char **e) {
  while (*s < *e && is_ws(**s))
    (*s)++;
  while (*e > *s && is_ws((*e)[-1]))
    (*e)--;
}

/* A Max-Age value (RFC 6265 5.2.2): an optional '-' then digits, else
 * the attribute is ignored (0); a number past 64 bits is the largest. */
static int max_age_of(const char *s, const char *e, int64_t *secs) {
  int neg = s < e && *s == '-';
  const char *d = s + neg;
  int64_t v = 0;
  if (d == e)
    return 0;
  for (const char *p = d; p < e; p++) {
    if (*p < '0' || *p > '9')
      return 0;
    v = v > (INT64_MAX - 9) / 10 ? INT64_MAX : v * 10 + (*p - '0');
  }
  *secs = neg ? -v : v;
  return 1;
}

/* The expiry of a cookie Max-Age secs from now: 1 (long past) when secs
 * is not positive, the largest time when the sum would overflow. */
static int64_t expiry_after(int64_t now, int64_t secs) {
  if (secs <= 0)
    return 1;
  return secs >= INT64_MAX - (now > 0 ? now : 0) ? INT64_MAX : now + secs;
}

static int attr_is(const char *s, const char *e, const char *name) {
  size_t n = strlen(name);
  return (size_t)(e - s) == n && !salvo__casecmp_n(s, name, n);
}

int salvo__jar_set(salvo__jar *j, const char *url, const char *v, size_t n) {
  url_bits u;
  /* A control other than HTAB anywhere: the whole line is ignored (RFC
   * 6265 4.1.1 allows none; the draft that follows it, 6265bis 5.6, says
   * to ignore such a line). */
  if (salvo__field_ctl(v, n, 1) || url_split(url, &u))
    return 0;
  const char *end = v + n, *semi = memchr(v, ';', n);
  const char *pe = semi ? semi : end;
  const char *eq = memchr(v, '=', (size_t)(pe - v));
  if (!eq || (size_t)(pe - v) > COOKIE_MAX)
    return 0;
  const char *ns = v, *ne = eq, *vs = eq + 1, *ve = pe;
  trim(&ns, &ne);
  trim(&vs, &ve);
  if (ns == ne || salvo__field_ctl(ns, (size_t)(ve - ns), 0))
    return 0;
  cookie c = {0};
  const char *domain = NULL, *path = NULL;
  size_t dlen = 0, plen = 0;
  int64_t max_age = INT64_MIN;
  for (const char *a = pe; a < end;) {
    a++; /* past ';' */
    const char *ae = memchr(a, ';', (size_t)(end - a));
    ae = ae ? ae : end;
    const char *as = a, *aeq = memchr(a, '=', (size_t)(ae - a));
    const char *kn = as, *ke = aeq ? aeq : ae, *av = aeq ? aeq + 1 : ae,
               *avend = ae;
    trim(&kn, &ke);
    trim(&av, &avend);
    if (attr_is(kn, ke, "Domain") && av < avend) {
      domain = av + (*av == '.');
      dlen = (size_t)(avend - domain);
    } else if (attr_is(kn, ke, "Path")) {
      /* The last Path decides; one empty or not from '/' stands for the
       * default path (RFC 6265 5.2.4, 5.3 step 7). */
      if (salvo__field_ctl(av, (size_t)(avend - av), 0))
        return 0; /* a tab in a path: no field of a cookie file holds one */
      int from_root = av < avend && *av == '/';
      path = from_root ? av : NULL;
      plen = from_root ? (size_t)(avend - av) : 0;
    } else if (attr_is(kn, ke, "Secure")) {
      c.secure = 1;
    } else if (attr_is(kn, ke, "Max-Age")) {
      max_age_of(av, avend, &max_age);
    } else if (attr_is(kn, ke, "Expires") && av < avend) {
      /* The last that reads as a date decides (RFC 6265 5.2.1, 5.3 step
       * 3). */
      int64_t tt = salvo__cookie_date(av, (size_t)(avend - av));
      if (tt != -1)
        c.expires = tt > 0 ? tt : 1;
    }
    a = ae;
  }
  if (c.secure && !u.secure)
    return 0;               /* only a secure origin may set a Secure cookie */
  if (max_age != INT64_MIN) /* Max-Age wins over Expires */
    c.expires = expiry_after(salvo__clock_wall(j->clock), max_age);
  if (domain && dlen) {
    c.domain = salvo__strndup(domain, dlen);
    for (char *p = c.domain; p && *p; p++)
      if (*p >= 'A' && *p <= 'Z')
        *p = (char)(*p + 32);
    /* A cookie for a domain the host is not in is refused, and so is
     * one for a public suffix, unless it is the host itself (RFC 6265
     * 5.3 step 5): then it is the host's alone. */
    if (c.domain && !domain_match(u.host, c.domain)) {
      free(c.domain);
      return 0;
    }
    if (c.domain && public_suffix(c.domain)) {
      if (strcmp(c.domain, u.host)) {
        free(c.domain);
        return 0;
      }
      c.host_only = 1;
    }
  } else {
    c.host_only = 1;
    c.domain = salvo__strdup(u.host);
  }
  if (path) {
    c.path = salvo__strndup(path, plen);
  } else { /* the request path up to its last '/' */
    const char *last = u.path + u.path_len;
    while (last > u.path && last[-1] != '/')
      last--;
    size_t l = (size_t)(last - u.path);
    c.path = salvo__strndup(u.path, l > 1 ? l - 1 : 1);
  }
  c.name = salvo__strndup(ns, (size_t)(ne - ns));
  c.value = salvo__strndup(vs, (size_t)(ve - vs));
  if (!c.domain || !c.path || !c.name || !c.value) {
    cookie_free(&c);
    return SALVO_ENOMEM;
  }
  return store(j, &c);
}

/* Whether the fields of a cookie file's line hold a cookie a Set-Cookie
 * could have stored: a name without '=' or ';', a value without ';', a
 * domain, a path from '/', none with a control, an expiry in digits. A
 * line that does not is skipped, as curl skips one: a control or a ';'
 * would otherwise reach the Cookie field of a request. */
static int fields_ok(char *const f[7], int64_t *expires) {
  char *stop;
  for (int i = 0; i < 7; i++)
    if (salvo__field_ctl(f[i], strlen(f[i]), 0))
      return 0;
  *expires = strtoll(f[4], &stop, 10);
  return f[0][f[0][0] == '.'] && f[2][0] == '/' && *f[4] && !*stop && *f[5] &&
         !strpbrk(f[5], "=;") && !strchr(f[6], ';');
}

/* One line of a cookie file: domain, subdomains TRUE/FALSE, path, secure
 * TRUE/FALSE, expiry (Unix seconds, 0 = session), name, value. */
int salvo__jar_add_line(salvo__jar *j, const char *line) {
  if (!strncmp(line, "#HttpOnly_", 10))
    line += 10;
  char *f[7];
  char *copy = salvo__strdup(line);
  if (!copy)
    return SALVO_ENOMEM;
  size_t nf = 0;
  for (char *p = copy, *tab; nf < 7; p = tab + 1) {
    f[nf++] = p;
    if (!(tab = strchr(p, '\t')))
      break;
    *tab = '\0';
  }
  int rc = SALVO_EINVAL;
  cookie c = {0};
  if (nf == 7 && f[0][0] != '#' && fields_ok(f, &c.expires)) {
    const char *d = f[0] + (f[0][0] == '.');
    c.host_only = strcmp(f[1], "TRUE") != 0;
    c.secure = !strcmp(f[3], "TRUE");
    c.domain = salvo__strdup(d);
    c.path = salvo__strdup(f[2]);
    c.name = salvo__strdup(f[5]);
    c.value = salvo__strdup(f[6]);
    if (!c.domain || !c.path || !c.name || !c.value) {
      cookie_free(&c);
      rc = SALVO_ENOMEM;
    } else {
      rc = store(j, &c);
    }
  }
  free(copy);
  return rc;
}

/* A line that is not a cookie (a comment, a blank, a malformed one) is
 * skipped, as curl skips one. */
int salvo__jar_load(salvo__jar *j, const char *path) {
  FILE *f = fopen(path, "r");
  if (!f)
    return errno == ENOENT ? 0 : SALVO_EINVAL;
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  int rc = 0;
  while (!rc && (n = getline(&line, &cap, f)) >= 0) {
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
      line[--n] = '\0';
    if ((rc = salvo__jar_add_line(j, line)) == SALVO_EINVAL)
      rc = 0;
  }
  free(line);
  fclose(f);
  return rc;
}

static int by_seq(const void *a, const void *b) {
  const cookie *x = *(const cookie *const *)a, *y = *(const cookie *const *)b;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int add_str(salvo__buf *out, const char *s, char after) {
  return salvo__buf_append(out, s, strlen(s)) ||
         salvo__buf_append(out, &after, 1);
}

static int add_cookie(salvo__buf *out, const cookie *c) {
  char expires[24];
  snprintf(expires, sizeof(expires), "%lld", (long long)c->expires);
  return (!c->host_only && salvo__buf_append(out, ".", 1)) ||
         add_str(out, c->domain, '\t') ||
         add_str(out, c->host_only ? "FALSE" : "TRUE", '\t') ||
         add_str(out, c->path, '\t') ||
         add_str(out, c->secure ? "TRUE" : "FALSE", '\t') ||
         add_str(out, expires, '\t') || add_str(out, c->name, '\t') ||
         add_str(out, c->value, '\n');
}

/* Oldest first: loaded again, the cookies keep the order a Cookie field
 * lists cookies of one path length in (RFC 6265 5.4 step 2, by creation),
 * where the jar's own order is not that. */
int salvo__jar_lines(const salvo__jar *j, salvo__buf *out) {
  const cookie **v = malloc((j->n ? j->n : 1) * sizeof(*v));
  if (!v)
    return SALVO_ENOMEM;
  for (size_t i = 0; i < j->n; i++)
    v[i] = &j->v[i];
  qsort(v, j->n, sizeof(*v), by_seq);
  int64_t now = salvo__clock_wall(j->clock);
  int rc = salvo__buf_append(out, "", 0); /* "" for an empty jar, not NULL */
  for (size_t i = 0; i < j->n && !rc; i++)
    if (!v[i]->expires || v[i]->expires > now)
      rc = add_cookie(out, v[i]);
  free(v);
  return rc ? SALVO_ENOMEM : 0;
}

int salvo__jar_save(const salvo__jar *j, const char *path) {
  static const char head[] = "# Netscape HTTP Cookie File\n"
                             "# Written by salvo; as curl reads and writes "
                             "it.\n\n";
  salvo__buf b = {0};
  char *tmp = salvo__fmt("%s.salvo-%ld", path, (long)getpid());
  FILE *f = tmp ? fopen(tmp, "w") : NULL;
  int bad = !f || salvo__buf_append(&b, head, sizeof(head) - 1) ||
            salvo__jar_lines(j, &b);
  if (f) {
    bad |= fwrite(b.p, 1, b.len, f) != b.len;
    bad |= fclose(f) != 0;
    bad = bad || rename(tmp, path) != 0;
    if (bad)
      unlink(tmp);
  }
  salvo__buf_free(&b);
  free(tmp);
  return bad ? SALVO_EWRITE : 0;
}

/* Longer paths first, then older cookies (RFC 6265 5.4). */
static int by_order(const void *a, const void *b) {
  const cookie *x = *(const cookie *const *)a, *y = *(const cookie *const *)b;
  size_t lx = strlen(x->path), ly = strlen(y->path);
  if (lx != ly)
    return lx > ly ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int salvo__jar_header(salvo__jar *j, const char *url, const char *mine,
                      salvo__buf *out) {
  url_bits u;
  if (!j || !j->n || url_split(url, &u)) {
    if (!mine || !*mine)
      return 0;
    return salvo__buf_append(out, "Cookie: ", 8) ||
                   salvo__buf_append(out, mine, strlen(mine)) ||
                   salvo__buf_append(out, "\r\n", 2)
               ? SALVO_ENOMEM
               : 0;
  }
  int64_t now = salvo__clock_wall(j->clock);
  /* A request carries a few cookies: no allocation for up to 32. */
  cookie *few[32];
  cookie **m = j->n <= 32 ? few : malloc(j->n * sizeof(*m));
  if (!m)
    return SALVO_ENOMEM;
  size_t k = 0;
  for (size_t i = 0; i < j->n;) {
    cookie *c = &j->v[i];
    if (c->expires && c->expires <= now) {
      drop(j, i);
      continue;
    }
    if ((c->host_only ? !strcmp(u.host, c->domain)
                      : domain_match(u.host, c->domain)) &&
        path_match(u.path, u.path_len, c->path) && (!c->secure || u.secure))
      m[k++] = c;
    i++;
  }
  int rc = 0;
  int own = mine && *mine;
  if (k || own) {
    qsort(m, k, sizeof(*m), by_order);
    rc |= salvo__buf_append(out, "Cookie: ", 8);
    if (own)
      rc |= salvo__buf_append(out, mine, strlen(mine));
    for (size_t i = 0; i < k; i++) {
      if (i || own)
        rc |= salvo__buf_append(out, "; ", 2);
      rc |= salvo__buf_append(out, m[i]->name, strlen(m[i]->name));
      rc |= salvo__buf_append(out, "=", 1);
      rc |= salvo__buf_append(out, m[i]->value, strlen(m[i]->value));
    }
    rc |= salvo__buf_append(out, "\r\n", 2);
  }
  if (m != few)
    free(m);
  return rc ? SALVO_ENOMEM : 0;
}
