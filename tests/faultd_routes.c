/* faultd's routes: the request's parts, what each path answers (the
 * list is faultd.c's opening comment), the statistics and their reset. */
#include "faultd.h"

static int hexval(int c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static void url_decode(char *s) {
  char *d = s;
  for (; *s; s++) {
    if (*s == '%' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
      *d++ = (char)(hexval(s[1]) * 16 + hexval(s[2]));
      s += 2;
    } else if (*s == '+') {
      *d++ = ' ';
    } else {
      *d++ = *s;
    }
  }
  *d = '\0';
}

/* The decoded value of query parameter `name`, or NULL. */
static const char *qparam(const req *r, const char *name, char *out,
                          size_t outsz) {
  size_t n = strlen(name);
  const char *p = r->query;
  while (*p) {
    const char *end = strchr(p, '&');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len > n && !strncmp(p, name, n) && p[n] == '=') {
      size_t vl = len - n - 1 < outsz - 1 ? len - n - 1 : outsz - 1;
      memcpy(out, p + n + 1, vl);
      out[vl] = '\0';
      url_decode(out);
      return out;
    }
    p += len + (end ? 1 : 0);
  }
  return NULL;
}

/* Copies the value of request header `name` (case-insensitive). */
const char *rheader(const req *r, const char *name, char *out, size_t outsz) {
  size_t n = strlen(name);
  const char *p = r->hdrs, *end = r->hdrs + r->hdrs_len;
  while (p < end) {
    const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
    if (!eol)
      eol = end;
    if ((size_t)(eol - p) > n && !strncasecmp(p, name, n) && p[n] == ':') {
      const char *v = p + n + 1;
      while (v < eol && (*v == ' ' || *v == '\t'))
        v++;
      size_t vl = (size_t)(eol - v) < outsz - 1 ? (size_t)(eol - v) : outsz - 1;
      memcpy(out, v, vl);
      out[vl] = '\0';
      return out;
    }
    p = eol + 2;
  }
  return NULL;
}

static void json_str(buf *b, const char *s, size_t n) {
  buf_add(b, "\"", 1);
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (ch == '"' || ch == '\\') {
      char e[2] = {'\\', (char)ch};
      buf_add(b, e, 2);
    } else if (ch < 0x20 || ch == 0x7f) {
      buf_printf(b, "\\u%04x", ch);
    } else {
      buf_add(b, &s[i], 1);
    }
  }
  buf_add(b, "\"", 1);
}

static const char *reason(int status) {
  switch (status) {
  case 200:
    return "OK";
  case 201:
    return "Created";
  case 204:
    return "No Content";
  case 301:
    return "Moved Permanently";
  case 302:
    return "Found";
  case 303:
    return "See Other";
  case 307:
    return "Temporary Redirect";
  case 308:
    return "Permanent Redirect";
  case 400:
    return "Bad Request";
  case 401:
    return "Unauthorized";
  case 404:
    return "Not Found";
  case 408:
    return "Request Timeout";
  case 429:
    return "Too Many Requests";
  case 500:
    return "Internal Server Error";
  case 502:
    return "Bad Gateway";
  case 503:
    return "Service Unavailable";
  case 504:
    return "Gateway Timeout";
  default:
    return "Status";
  }
}

/* Queues a whole response; extra is more header lines, each ending CRLF. */
void respond(conn *c, int status, const char *ctype, const char *extra,
             const char *body, size_t len) {
  buf_printf(&c->out,
             "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
             "\r\n",
             status, reason(status), ctype, len, extra ? extra : "");
  buf_add(&c->out, body, len);
}

static void respond_text(conn *c, int status, const char *text) {
  respond(c, status, "text/plain", NULL, text, strlen(text));
}

static void echo(conn *c, const req *r) {
  buf j = {0};
  buf_add(&j, "{\"method\":", 10);
  json_str(&j, r->method, strlen(r->method));
  buf_add(&j, ",\"path\":", 8);
  json_str(&j, r->path, strlen(r->path));
  buf_add(&j, ",\"query\":", 9);
  json_str(&j, r->query, strlen(r->query));
  buf_add(&j, ",\"target\":", 10);
  json_str(&j, r->target, strlen(r->target));
  buf_add(&j, ",\"headers\":{", 12);
  /* Repeated names are joined, as a proxy would fold them. */
  const char *p = r->hdrs, *end = r->hdrs + r->hdrs_len;
  char seen[8192] = "\n";
  int first = 1;
  while (p < end) {
    const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
    if (!eol)
      eol = end;
    const char *colon = memchr(p, ':', (size_t)(eol - p));
    if (colon && colon - p < 200) {
      char name[256];
      size_t nl = (size_t)(colon - p);
      for (size_t i = 0; i < nl; i++)
        name[i] = (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] + 32 : p[i]);
      name[nl] = '\0';
      char key[260];
      snprintf(key, sizeof(key), "\n%s\n", name);
      if (!strstr(seen, key)) {
        if (strlen(seen) + nl + 2 < sizeof(seen)) {
          strcat(seen, name);
          strcat(seen, "\n");
        }
        buf vals = {0};
        const char *q = p;
        while (q < end) {
          const char *qe = memmem(q, (size_t)(end - q), "\r\n", 2);
          if (!qe)
            qe = end;
          if ((size_t)(qe - q) > nl && !strncasecmp(q, name, nl) &&
              q[nl] == ':') {
            const char *v = q + nl + 1;
            while (v < qe && (*v == ' ' || *v == '\t'))
              v++;
            if (vals.len)
              buf_add(&vals, ", ", 2);
            buf_add(&vals, v, (size_t)(qe - v));
          }
          q = qe + 2;
        }
        if (!first)
          buf_add(&j, ",", 1);
        first = 0;
        json_str(&j, name, nl);
        buf_add(&j, ":", 1);
        json_str(&j, vals.p ? vals.p : "", vals.len);
        free(vals.p);
      }
    }
    p = eol + 2;
  }
  buf_add(&j, "},\"body\":", 9);
  json_str(&j, r->body, r->body_len);
  buf_printf(&j, ",\"body_len\":%zu}", r->body_len);
  respond(c, 200, "application/json", NULL, j.p, j.len);
  free(j.p);
}

static void stats(conn *c) {
  buf j = {0};
  buf_printf(&j,
             "{\"conns_open\":%ld,\"conns_peak\":%ld,\"conns_total\":%ld,"
             "\"requests\":%ld,\"inflight\":%ld,\"inflight_peak\":%ld,"
             "\"unsolicited\":%ld,\"drained\":%ld,\"pipelined\":%ld,"
             "\"hosts\":{",
             conns_open, conns_peak, conns_total, requests, inflight,
             inflight_peak, unsolicited, drained, pipelined);
  for (gauge *g = hosts; g; g = g->next) {
    json_str(&j, g->name, strlen(g->name));
    buf_printf(&j, ":{\"inflight\":%ld,\"peak\":%ld,\"requests\":%ld}%s",
               g->cur, g->peak, g->total, g->next ? "," : "");
  }
  buf_add(&j, "},\"keys\":{", 10);
  for (gauge *g = keys; g; g = g->next) {
    json_str(&j, g->name, strlen(g->name));
    buf_printf(&j, ":%ld%s", g->total, g->next ? "," : "");
  }
  buf_add(&j, "},\"key_times\":{", 15);
  for (gauge *g = keys; g; g = g->next) {
    json_str(&j, g->name, strlen(g->name));
    buf_add(&j, ":[", 2);
    for (size_t i = 0; i < g->ntimes; i++)
      buf_printf(&j, "%s%ld", i ? "," : "", g->times[i]);
    buf_printf(&j, "]%s", g->next ? "," : "");
  }
  buf_add(&j, "},\"starts\":[", 12);
  for (size_t i = 0; i < nstarts; i++)
    buf_printf(&j, "%s%ld", i ? "," : "", starts[i]);
  buf_add(&j, "]}", 2);
  respond(c, 200, "application/json", NULL, j.p, j.len);
  free(j.p);
}

static void reset_stats(void) {
  conns_peak = conns_open;
  conns_total = conns_open;
  requests = 0;
  unsolicited = drained = pipelined = 0;
  inflight_peak = inflight;
  for (gauge *g = hosts; g; g = g->next) {
    g->peak = g->cur;
    g->total = 0;
  }
  while (keys) {
    gauge *n = keys->next;
    free(keys->times);
    free(keys);
    keys = n;
  }
  nstarts = 0;
  reset_ms = now_ms();
  reset_rt_us = realtime_us();
}

/* Bookkeeping for a request that is not a control request. */
static void count_request(conn *c, const req *r) {
  char host[256];
  if (!c->counted) {
    c->counted = 1;
    conns_open++;
    conns_total++;
    if (conns_open > conns_peak)
      conns_peak = conns_open;
  }
  requests++;
  c->inflight = 1;
  if (++inflight > inflight_peak)
    inflight_peak = inflight;
  c->host =
      gauge_get(&hosts, rheader(r, "Host", host, sizeof(host)) ? host : "");
  c->host->total++;
  if (++c->host->cur > c->host->peak)
    c->host->peak = c->host->cur;
  if (log_starts) {
    if (nstarts == cap_starts) {
      cap_starts = cap_starts ? cap_starts * 2 : 1024;
      starts = xrealloc(starts, cap_starts * sizeof(*starts));
    }
    starts[nstarts++] =
        (long)((c->rx_us ? c->rx_us : realtime_us()) - reset_rt_us);
  }
  c->rx_us = 0; /* a pipelined request after it gets its own stamp */
}

static uint64_t num_after(const char *path, const char *prefix) {
  return strtoull(path + strlen(prefix), NULL, 10);
}

static int prefixed(const char *path, const char *prefix) {
  return !strncmp(path, prefix, strlen(prefix));
}

/* Counts a request under its key= (and the time it came); returns how
 * many the key has seen. */
static long count_key(const req *r) {
  char key[256];
  if (!qparam(r, "key", key, sizeof(key)))
    strcpy(key, "");
  gauge *g = gauge_get(&keys, key);
  g->total++;
  if (g->ntimes == g->cap) {
    g->cap = g->cap ? g->cap * 2 : 8;
    g->times = xrealloc(g->times, g->cap * sizeof(*g->times));
  }
  g->times[g->ntimes++] = (long)(now_ms() - reset_ms);
  return g->total;
}

/* The response /unsolicited sends when nobody asked. */

void route(conn *c, const req *r) {
  const char *p = r->path;
  char v[1024], extra[1200];
  c->after = AFTER_KEEP;
  if (!strcmp(p, "/_stats") || !strcmp(p, "/_reset")) {
    if (p[2] == 'r')
      reset_stats();
    stats(c);
    return;
  }
  count_request(c, r);
  size_t plen = strlen(p);
  int wire =
      !strcmp(p, "/wire") || (plen > 5 && !strcmp(p + plen - 5, "/wire"));
  if (!wire && (!strcmp(p, "/echo") || prefixed(p, "/echo/") ||
                !strcmp(p, "/redirect/0"))) {
    echo(c, r);
  } else if (prefixed(p, "/status/")) {
    int st = (int)num_after(p, "/status/");
    snprintf(v, sizeof(v), "status %d\n", st);
    respond_text(c, st < 100 || st > 999 ? 500 : st, v);
  } else if (prefixed(p, "/delay/")) {
    respond_text(c, 200, "ok\n");
    timer_set(c, now_ms() + (int64_t)num_after(p, "/delay/"));
  } else if (!strcmp(p, "/endless")) {
    buf_printf(&c->out, "HTTP/1.1 200 OK\r\nContent-Type: "
                        "application/octet-stream\r\nTransfer-Encoding: "
                        "chunked\r\n\r\n");
    c->gen_left = UINT64_MAX;
    c->gen_chunked = 1;
    c->after = AFTER_CLOSE;
  } else if (prefixed(p, "/bytes/") || prefixed(p, "/chunked/")) {
    int chunked = p[1] == 'c';
    uint64_t n = num_after(p, chunked ? "/chunked/" : "/bytes/");
    if (chunked)
      buf_printf(&c->out, "HTTP/1.1 200 OK\r\nContent-Type: "
                          "application/octet-stream\r\nTransfer-Encoding: "
                          "chunked\r\n\r\n");
    else
      buf_printf(&c->out,
                 "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream"
                 "\r\nContent-Length: %llu\r\n\r\n",
                 (unsigned long long)n);
    /* A HEAD gets the head alone (RFC 9110 9.3.2). */
    c->gen_left = strcmp(r->method, "HEAD") ? n : 0;
    c->gen_chunked = chunked;
    if (chunked && (!n || !c->gen_left))
      buf_add(&c->out, "0\r\n\r\n", 5);
  } else if (prefixed(p, "/drip/")) {
    uint64_t n = num_after(p, "/drip/");
    c->drip_ms = qparam(r, "interval", v, sizeof(v)) ? atoi(v) : 10;
    buf_printf(&c->out, "HTTP/1.1 200 OK\r\nContent-Length: %llu\r\n\r\n",
               (unsigned long long)n);
    c->drip_left = n;
  } else if (prefixed(p, "/reset/") || prefixed(p, "/short/")) {
    uint64_t n = num_after(p, "/reset/");
    buf_printf(&c->out, "HTTP/1.1 200 OK\r\nContent-Length: %llu\r\n\r\n",
               (unsigned long long)(2 * n));
    c->gen_left = n;
    c->after = p[1] == 'r' ? AFTER_RESET : AFTER_CLOSE;
  } else if (!strcmp(p, "/close")) {
    c->after = AFTER_CLOSE;
  } else if (!strcmp(p, "/hang")) {
    c->hang = 1;
  } else if (!strcmp(p, "/bad/status")) {
    buf_printf(&c->out, "HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\nok");
    c->after = AFTER_CLOSE;
  } else if (!strcmp(p, "/bad/header")) {
    buf_printf(&c->out, "HTTP/1.1 200 OK\r\nthis is not a header\r\n"
                        "Content-Length: 2\r\n\r\nok");
    c->after = AFTER_CLOSE;
  } else if (prefixed(p, "/bad/big-header/")) {
    uint64_t n = num_after(p, "/bad/big-header/");
    buf_printf(&c->out, "HTTP/1.1 200 OK\r\nX-Big: ");
    for (uint64_t i = 0; i < n && i < MAX_INPUT; i += GEN_CHUNK)
      buf_add(&c->out, pattern, n - i < GEN_CHUNK ? n - i : GEN_CHUNK);
    buf_printf(&c->out, "\r\nContent-Length: 2\r\n\r\nok");
    c->after = AFTER_CLOSE;
  } else if (!strcmp(p, "/bad/length")) {
    buf_printf(&c->out, "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\nok");
    c->after = AFTER_CLOSE;
  } else if (!strcmp(p, "/garbage")) {
    buf_printf(&c->out, "this is not HTTP at all\r\n\r\n");
    c->after = AFTER_CLOSE;
  } else if (prefixed(p, "/redirect/")) {
    snprintf(extra, sizeof(extra), "Location: /redirect/%llu\r\n",
             (unsigned long long)num_after(p, "/redirect/") - 1);
    respond(c, 302, "text/plain", extra, "", 0);
  } else if (!strcmp(p, "/redirect-to")) {
    int st = qparam(r, "status", v, sizeof(v)) ? atoi(v) : 302;
    snprintf(extra, sizeof(extra), "Location: %s\r\n",
             qparam(r, "url", v, sizeof(v)) ? v : "/echo");
    respond(c, st, "text/plain", extra, "", 0);
  } else if (!strcmp(p, "/cookies/set")) {
    buf hs = {0};
    char q[4096];
    snprintf(q, sizeof(q), "%s", r->query);
    for (char *tok = strtok(q, "&"); tok; tok = strtok(NULL, "&"))
      buf_printf(&hs, "Set-Cookie: %s; Path=/\r\n", tok);
    respond(c, 200, "text/plain", hs.p, "ok\n", 3);
    free(hs.p);
  } else if (prefixed(p, "/json/")) {
    unsigned long long id = (unsigned long long)num_after(p, "/json/");
    snprintf(v, sizeof(v), "{\"id\":%llu,\"name\":\"item %llu\"}", id, id);
    respond(c, 200, "application/json", NULL, v, strlen(v));
  } else if (!strcmp(p, "/digest")) {
    char user[256], pass[256], alg[64], qop[32], nonce[256];
    count_key(r);
    digest_route(c, r, qparam(r, "user", user, sizeof(user)) ? user : "user",
                 qparam(r, "pass", pass, sizeof(pass)) ? pass : "pass",
                 qparam(r, "algorithm", alg, sizeof(alg)) ? alg : "MD5",
                 qparam(r, "qop", qop, sizeof(qop)) ? qop : "auth",
                 qparam(r, "nonce", nonce, sizeof(nonce)));
  } else if (!strcmp(p, "/notjson")) {
    respond(c, 200, "application/json", NULL, "{\"a\": 1,\n oops}", 15);
  } else if (!strcmp(p, "/latin1")) {
    static const char t[] = "caf\xe9 cr\xe8me br\xfbl\xe9"
                            "e\n";
    respond(c, 200, "text/plain; charset=ISO-8859-1", NULL, t, sizeof(t) - 1);
  } else if (!strcmp(p, "/gzip")) {
    /* gzip of "compressed hello\n", sent whatever was asked for. */
    static const char gz[] =
        "\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\x4b\xce\xcf\x2d\x28\x4a\x2d"
        "\x2e\x4e\x4d\x51\xc8\x48\xcd\xc9\xc9\xe7\x02\x00\x2b\x89\x93\x10\x11"
        "\x00\x00\x00";
    respond(c, 200, "text/plain", "Content-Encoding: gzip\r\n", gz,
            sizeof(gz) - 1);
  } else if (wire) {
    static char hex[2 * MAX_WIRE + 1];
    if (qparam(r, "key", hex, sizeof(hex)))
      count_key(r);
    if (!qparam(r, "hex", hex, sizeof(hex)) &&
        !rheader(r, "X-Wire", hex, sizeof(hex)))
      hex[0] = '\0';
    for (const char *h = hex; h[0] && h[1]; h += 2) {
      char b = (char)(hexval(h[0]) * 16 + hexval(h[1]));
      buf_add(&c->out, &b, 1);
    }
    char keep[4], drain[4];
    c->after = qparam(r, "keep", keep, sizeof(keep)) && keep[0] == '1'
                   ? AFTER_KEEP
               : qparam(r, "drain", drain, sizeof(drain)) && drain[0] == '1'
                   ? AFTER_DRAIN
                   : AFTER_CLOSE;
  } else if (!strcmp(p, "/raw")) {
    char hex[2048], ct[256], bytes[1024];
    size_t n = 0;
    if (!qparam(r, "hex", hex, sizeof(hex)))
      hex[0] = '\0';
    for (const char *h = hex; h[0] && h[1] && n < sizeof(bytes); h += 2)
      bytes[n++] = (char)(hexval(h[0]) * 16 + hexval(h[1]));
    /* repeat=N: the bytes N times over (up to 4 MB), for bodies larger
     * than a URL can spell. */
    size_t times = qparam(r, "repeat", v, sizeof(v)) ? (size_t)atol(v) : 1;
    if (!n || times < 1 || times > (4u << 20) / n)
      times = 1;
    char *body = malloc(n * times + 1);
    for (size_t i = 0; body && i < times; i++)
      memcpy(body + i * n, bytes, n);
    respond(c, 200, qparam(r, "ct", ct, sizeof(ct)) ? ct : "text/plain", NULL,
            body ? body : bytes, body ? n * times : n);
    free(body);
  } else if (!strcmp(p, "/flaky")) {
    char st[16];
    long n = count_key(r);
    long nfail = qparam(r, "fail", v, sizeof(v)) ? atol(v) : 0;
    const char *mode = qparam(r, "mode", st, sizeof(st)) ? st : "";
    if (n <= nfail && (!strcmp(mode, "close") || !strcmp(mode, "reset"))) {
      c->after = mode[0] == 'c' ? AFTER_CLOSE : AFTER_RESET;
    } else if (n <= nfail) {
      int status = qparam(r, "status", st, sizeof(st)) ? atoi(st) : 503;
      extra[0] = '\0';
      if (qparam(r, "retry_after", v, sizeof(v)))
        snprintf(extra, sizeof(extra), "Retry-After: %s\r\n", v);
      respond(c, status, "text/plain", extra, "flaky\n", 6);
    } else {
      respond_text(c, 200, "ok\n");
    }
  } else if (!strcmp(p, "/early")) {
    count_key(r);
    int st = qparam(r, "status", v, sizeof(v)) ? atoi(v) : 413;
    respond(c, st < 100 || st > 999 ? 413 : st, "text/plain",
            "Connection: close\r\n", "refused early\n", 14);
    /* drain=0: closed at once, the body unread, which resets. */
    c->after = qparam(r, "drain", v, sizeof(v)) && !strcmp(v, "0")
                   ? AFTER_CLOSE
                   : AFTER_DRAIN;
  } else if (!strcmp(p, "/unsolicited")) {
    respond_text(c, 200, "ok\n");
    c->spoof_ms = qparam(r, "delay", v, sizeof(v)) ? atoi(v) : 0;
    if (c->spoof_ms <= 0) {
      buf_printf(&c->out, "%s", SPOOF);
      unsolicited++;
    } else {
      c->spoof = 1;
    }
  } else {
    respond_text(c, 404, "not found\n");
  }
  if (c->after == AFTER_KEEP && qparam(r, "close", v, sizeof(v)) &&
      !strcmp(v, "1"))
    c->after = AFTER_CLOSE;
}

/* Parses one request from c->in if complete; answers it. */