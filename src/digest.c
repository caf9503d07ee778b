/* Digest authentication's strings: see digest.h. */
#include "digest.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "field.h"
#include "redact.h"

static int is_ws(char c) { return c == ' ' || c == '\t'; }

static const char *skip_ws(const char *p) {
  while (is_ws(*p))
    p++;
  return p;
}

/* Where "Digest" followed by whitespace begins a challenge in v: at its
 * start or after a comma (RFC 9110 11.6.1), any case; NULL when not. */
static const char *digest_scheme(const char *v) {
  for (const char *p = v;;) {
    const char *s = skip_ws(p);
    if (!salvo__casecmp_n(s, "digest", 6) && is_ws(s[6]))
      return skip_ws(s + 6);
    if (!(p = strchr(p, ',')))
      return NULL;
    p++;
  }
}

/* A quoted-string at p (its opening quote): its content unescaped into a
 * new string, *end past its closing quote; NULL when it is not closed
 * (*end NULL) or out of memory. */
static char *quoted(const char *p, const char **end) {
  salvo__buf b = {0};
  *end = NULL;
  for (p++; *p && *p != '"'; p++) {
    if (*p == '\\' && !*++p)
      break;
    if (salvo__buf_append(&b, p, 1)) {
      salvo__buf_free(&b);
      return NULL;
    }
  }
  if (*p != '"' || salvo__buf_append(&b, "", 0)) {
    salvo__buf_free(&b);
    return NULL;
  }
  *end = p + 1;
  return b.p;
}

static char **slot_of(salvo__digest *d, const char *name, size_t n) {
  static const char *const names[] = {"realm", "nonce", "opaque", "algorithm",
                                      "qop"};
  char **slots[] = {&d->realm, &d->nonce, &d->opaque, &d->algorithm, &d->qop};
  for (size_t i = 0; i < 5; i++)
    if (strlen(names[i]) == n && !salvo__casecmp_n(name, names[i], n))
      return slots[i];
  return NULL;
}

/* One auth-param at p into d: the position after it and its comma, or
 * NULL when none parses there (the challenge's parameters end). *err:
 * SALVO_ENOMEM. */
static const char *param(const char *p, salvo__digest *d, int *err) {
  const char *name = p = skip_ws(p);
  while (salvo__is_tchar((unsigned char)*p))
    p++;
  size_t n = (size_t)(p - name);
  p = skip_ws(p);
  if (!n || *p != '=')
    return NULL;
  p = skip_ws(p + 1);
  char *v;
  if (*p == '"') {
    v = quoted(p, &p);
    if (!v) {
      *err = p ? SALVO_ENOMEM : 0;
      return NULL;
    }
  } else {
    const char *s = p;
    while (*p && *p != ',' && *p != '"' && !is_ws(*p))
      p++;
    if (!(v = salvo__strndup(s, (size_t)(p - s)))) {
      *err = SALVO_ENOMEM;
      return NULL;
    }
  }
  p = skip_ws(p);
  if (*p && *p != ',') {
    free(v);
    return NULL;
  }
  char **slot = slot_of(d, name, n);
  if (slot) {
    free(*slot);
    *slot = v;
  } else {
    free(v);
  }
  return *p ? p + 1 : p;
}

int salvo__digest_parse(const char *const *values, size_t n, salvo__digest *d) {
  memset(d, 0, sizeof(*d));
  for (size_t i = 0; i < n; i++) {
    const char *p = digest_scheme(values[i]);
    if (!p)
      continue;
    int err = 0;
    while (*p && (p = param(p, d, &err)))
      ;
    if (err) {
      salvo__digest_free(d);
      return err;
    }
    return 1;
  }
  return 0;
}

void salvo__digest_free(salvo__digest *d) {
  free(d->realm);
  free(d->nonce);
  free(d->opaque);
  free(d->algorithm);
  free(d->qop);
  memset(d, 0, sizeof(*d));
}

/* OpenSSL's name of the algorithm a challenge names (MD5 when none), or
 * NULL; *sess: it ends in -sess. */
static const char *md_of(const char *alg, int *sess) {
  static const char *const names[][2] = {{"MD5", "MD5"},
                                         {"SHA-256", "SHA256"},
                                         {"SHA-512-256", "SHA512-256"},
                                         {"SHA", "SHA1"},
                                         {"SHA-512", "SHA512"}};
  size_t n = alg ? strlen(alg) : 3;
  if (!alg)
    alg = "MD5";
  *sess = n > 5 && !salvo__casecmp_n(alg + n - 5, "-sess", 5);
  n -= *sess ? 5 : 0;
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    if (strlen(names[i][0]) == n && !salvo__casecmp_n(alg, names[i][0], n))
      return names[i][1];
  return NULL;
}

/* Whether a qop list ("auth", "auth,auth-int") offers "auth" (*any: it
 * names anything; an empty one is none, RFC 2069's form). */
static int offers_auth(const char *q, int *any) {
  *any = 0;
  for (const char *p = q; *p;) {
    p = skip_ws(p);
    const char *s = p;
    while (*p && *p != ',' && !is_ws(*p))
      p++;
    *any |= p > s;
    if (p - s == 4 && !salvo__casecmp_n(s, "auth", 4))
      return 1;
    while (*p && *p != ',')
      p++;
    p += *p == ',';
  }
  return 0;
}

/* n bytes as lower-case hex, NUL-terminated, into out. */
static void hex_of(const unsigned char *p, size_t n, char *out) {
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = "0123456789abcdef"[p[i] >> 4];
    out[2 * i + 1] = "0123456789abcdef"[p[i] & 15];
  }
  out[2 * n] = '\0';
}

/* The hex digest of the n parts joined by ':' into out (129 bytes). */
static int hash_hex(const EVP_MD *m, const char *const *parts, size_t n,
                    char out[129]) {
  EVP_MD_CTX *c = m ? EVP_MD_CTX_new() : NULL;
  unsigned char h[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  int ok = c && EVP_DigestInit_ex(c, m, NULL);
  for (size_t i = 0; ok && i < n; i++)
    ok = (!i || EVP_DigestUpdate(c, ":", 1)) &&
         EVP_DigestUpdate(c, parts[i], strlen(parts[i]));
  ok = ok && EVP_DigestFinal_ex(c, h, &len) && len <= 64;
  EVP_MD_CTX_free(c);
  hex_of(h, ok ? len : 0, out);
  return ok;
}

/* `name="value"`, the value's '"' and '\' escaped (RFC 9110 5.6.4). */
static int add_quoted(salvo__buf *b, const char *name, const char *v) {
  int rc = salvo__buf_append(b, ", ", b->len ? 2 : 0) ||
           salvo__buf_append(b, name, strlen(name)) ||
           salvo__buf_append(b, "=\"", 2);
  for (; !rc && *v; v++)
    rc = (*v == '"' || *v == '\\') && salvo__buf_append(b, "\\", 1)
             ? 1
             : salvo__buf_append(b, v, 1);
  return rc || salvo__buf_append(b, "\"", 1);
}

static int add_plain(salvo__buf *b, const char *name, const char *v) {
  return salvo__buf_append(b, ", ", 2) ||
         salvo__buf_append(b, name, strlen(name)) ||
         salvo__buf_append(b, "=", 1) || salvo__buf_append(b, v, strlen(v));
}

/* Whether any of what goes into the field holds a control character:
 * a CR or LF from a hostile challenge must not reach the request. */
static int any_ctl(const char *const *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] && salvo__field_ctl(s[i], strlen(s[i]), 0))
      return 1;
  return 0;
}

char *salvo__digest_answer(const salvo__digest *d, const char *user,
                           const char *pass, const char *method,
                           const char *uri, size_t uri_len, unsigned nc,
                           const char *cnonce, const char **why) {
  int sess, qop = 0;
  const char *name = md_of(d->algorithm, &sess);
  int auth = d->qop && offers_auth(d->qop, &qop);
  const char *fields[] = {d->realm, d->nonce, d->opaque, d->algorithm, user};
  *why = !d->realm || !d->nonce ? "the challenge has no realm or no nonce"
         : !name                ? "its algorithm is not supported"
         : qop && !auth         ? "its qop is not supported (only auth)"
         : sess && !qop ? "a -sess algorithm without qop (RFC 7616 3.4.2: "
                          "the client nonce its hash takes goes with qop "
                          "only)"
         : any_ctl(fields, 5) ? "a control character in the challenge or "
                                "the user name"
                              : NULL;
  if (*why)
    return NULL;
  /* Fetched once for the answer's four hashes: a fetch is a lookup in
   * OpenSSL's providers, dearer than hashing these few bytes. */
  EVP_MD *md = EVP_MD_fetch(NULL, name, NULL);
  char *target = salvo__strndup(uri, uri_len), ncs[9], ha1[129], ha2[129],
       resp[129];
  snprintf(ncs, sizeof(ncs), "%08x", nc);
  const char *p1[] = {user, d->realm, pass ? pass : ""};
  int ok = target && hash_hex(md, p1, 3, ha1);
  const char *p1s[] = {ha1, d->nonce, cnonce};
  ok = ok && (!sess || hash_hex(md, p1s, 3, ha1));
  const char *p2[] = {method, target ? target : ""};
  ok = ok && hash_hex(md, p2, 2, ha2);
  const char *pq[] = {ha1, d->nonce, ncs, cnonce, "auth", ha2};
  const char *pn[] = {ha1, d->nonce, ha2};
  ok = ok && (qop ? hash_hex(md, pq, 6, resp) : hash_hex(md, pn, 3, resp));
  salvo__buf b = {0};
  ok = ok && !add_quoted(&b, "username", user) &&
       !add_quoted(&b, "realm", d->realm) &&
       !add_quoted(&b, "nonce", d->nonce) && !add_quoted(&b, "uri", target) &&
       (!qop || (!add_plain(&b, "qop", "auth") && !add_plain(&b, "nc", ncs) &&
                 !add_quoted(&b, "cnonce", cnonce))) &&
       !add_quoted(&b, "response", resp) &&
       (!d->algorithm || !add_plain(&b, "algorithm", d->algorithm)) &&
       (!d->opaque || !add_quoted(&b, "opaque", d->opaque));
  char *line = ok ? salvo__fmt("Authorization: Digest %s", b.p) : NULL;
  salvo__cleanse(ha1, sizeof(ha1));
  salvo__buf_free(&b);
  free(target);
  EVP_MD_free(md);
  return line;
}

int salvo__digest_cnonce(char out[17]) {
  unsigned char raw[8];
  if (RAND_bytes(raw, sizeof(raw)) != 1)
    return -1;
  hex_of(raw, sizeof(raw), out);
  return 0;
}
