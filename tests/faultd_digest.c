/* faultd's /digest: HTTP Digest access authentication (RFC 7616) as a
 * server checks it, so that a client's Digest support is proven by a
 * server that computes the answer itself (OpenSSL's digests), not by a
 * test that repeats the client's own arithmetic. */
#include "faultd.h"

#include <openssl/evp.h>

#define REALM "faultd@127.0.0.1"
#define OPAQUE "5ccc069c403ebaf9f0171e9517f40e41"
#define NONCE "dcd98b7102dd2f0e8b11d0f600bfb0c093"

/* The fields of an Authorization: Digest ... the route reads. */
typedef struct {
  char username[256], realm[256], nonce[256], uri[6144], response[256];
  char qop[32], nc[32], cnonce[256], algorithm[64], opaque[256];
} digest_fields;

/* A quoted-string or a token at *p, unquoted into out; *p after it. */
static void param_value(const char **p, char *out, size_t cap) {
  const char *s = *p;
  size_t n = 0;
  if (*s == '"') {
    for (s++; *s && *s != '"'; s++) {
      if (*s == '\\' && s[1])
        s++;
      if (n + 1 < cap)
        out[n++] = *s;
    }
    if (*s == '"')
      s++;
  } else {
    for (; *s && *s != ',' && *s != ' ' && *s != '\t'; s++)
      if (n + 1 < cap)
        out[n++] = *s;
  }
  out[n] = '\0';
  *p = s;
}

/* 1 when v is "Digest" and its auth-params, read into f. */
static int parse_digest(const char *v, digest_fields *f) {
  memset(f, 0, sizeof(*f));
  if (strncasecmp(v, "Digest ", 7))
    return 0;
  struct {
    const char *name;
    char *out;
    size_t cap;
  } known[] = {
      {"username", f->username, sizeof(f->username)},
      {"realm", f->realm, sizeof(f->realm)},
      {"nonce", f->nonce, sizeof(f->nonce)},
      {"uri", f->uri, sizeof(f->uri)},
      {"response", f->response, sizeof(f->response)},
      {"qop", f->qop, sizeof(f->qop)},
      {"nc", f->nc, sizeof(f->nc)},
      {"cnonce", f->cnonce, sizeof(f->cnonce)},
      {"algorithm", f->algorithm, sizeof(f->algorithm)},
      {"opaque", f->opaque, sizeof(f->opaque)},
  };
  char name[64], skip[6144];
  for (const char *p = v + 7; *p;) {
    p += strspn(p, " \t,");
    size_t n = strcspn(p, "= \t,");
    if (!n || p[n] != '=')
      return 0;
    snprintf(name, sizeof(name), "%.*s", (int)n, p);
    p += n + 1;
    char *out = skip;
    size_t cap = sizeof(skip);
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
      if (!strcasecmp(name, known[i].name))
        out = known[i].out, cap = known[i].cap;
    param_value(&p, out, cap);
  }
  return 1;
}

/* Lower-case hex of the digest of the n strings given, joined by ':'. */
static void hash_hex(const EVP_MD *md, char *hex, int n, ...) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned dlen = 0;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  va_list ap;
  va_start(ap, n);
  EVP_DigestInit_ex(ctx, md, NULL);
  for (int i = 0; i < n; i++) {
    const char *s = va_arg(ap, const char *);
    if (i)
      EVP_DigestUpdate(ctx, ":", 1);
    EVP_DigestUpdate(ctx, s, strlen(s));
  }
  va_end(ap);
  EVP_DigestFinal_ex(ctx, d, &dlen);
  EVP_MD_CTX_free(ctx);
  for (unsigned i = 0; i < dlen; i++)
    sprintf(hex + 2 * i, "%02x", d[i]);
  hex[2 * dlen] = '\0';
}

/* The digest an algorithm name (RFC 7616 3.3) stands for, and whether it
 * is a -sess one; NULL for one this route does not know. */
static const EVP_MD *algorithm_md(const char *alg, int *sess) {
  static const struct {
    const char *name, *md;
  } algs[] = {{"MD5", "MD5"},
              {"SHA-256", "SHA256"},
              {"SHA-512-256", "SHA512-256"},
              {"SHA", "SHA1"},
              {"SHA-512", "SHA512"}};
  size_t n = strlen(alg);
  *sess = n > 5 && !strcasecmp(alg + n - 5, "-sess");
  for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
    if (strlen(algs[i].name) == n - (*sess ? 5 : 0) &&
        !strncasecmp(alg, algs[i].name, n - (*sess ? 5 : 0)))
      return EVP_get_digestbyname(algs[i].md);
  return NULL;
}

/* NULL when f answers the challenge for user and pass, else what is
 * wrong with it. */
static const char *check(const req *r, const digest_fields *f, const char *user,
                         const char *pass, const char *alg, const char *qop,
                         const char *nonce) {
  int sess;
  const EVP_MD *md = algorithm_md(alg, &sess);
  if (!md)
    return "the route does not know that algorithm";
  if (strcmp(f->username, user) || strcmp(f->realm, REALM))
    return "wrong username or realm";
  if (strcmp(f->nonce, nonce))
    return "not the nonce given";
  if (strcmp(f->opaque, OPAQUE))
    return "opaque not returned as given";
  if (strcmp(f->uri, r->target))
    return "uri is not the request target";
  if (strcasecmp(f->algorithm[0] ? f->algorithm : "MD5", alg))
    return "not the algorithm asked for";
  char ha1[2 * EVP_MAX_MD_SIZE + 1], ha2[sizeof(ha1)], want[sizeof(ha1)];
  hash_hex(md, ha1, 3, user, REALM, pass);
  if (sess)
    hash_hex(md, ha1, 3, ha1, nonce, f->cnonce);
  hash_hex(md, ha2, 2, r->method, f->uri);
  if (*qop) {
    if (strcmp(f->qop, qop) || strlen(f->nc) != 8 || !f->cnonce[0])
      return "qop, nc or cnonce missing";
    hash_hex(md, want, 6, ha1, nonce, f->nc, f->cnonce, f->qop, ha2);
  } else {
    hash_hex(md, want, 3, ha1, nonce, ha2);
  }
  return strcmp(want, f->response) ? "wrong response" : NULL;
}

/* /digest's parameters: user and pass (default user:pass), algorithm (MD5
 * by default; SHA-256, SHA-512-256, SHA, SHA-512; each also -sess), qop
 * ("auth" by default, "" for none: RFC 2069's answer) and nonce (default
 * NONCE; another makes a kept challenge stale). The 401 offers a Basic
 * challenge before the Digest one, as servers do. */
void digest_route(conn *c, const req *r, const char *user, const char *pass,
                  const char *alg, const char *qop, const char *nonce) {
  char auth[8192], body[7000], extra[1024];
  digest_fields f;
  if (!nonce)
    nonce = NONCE;
  const char *why = "no Digest credentials";
  if (rheader(r, "Authorization", auth, sizeof(auth)) && parse_digest(auth, &f))
    why = check(r, &f, user, pass, alg, qop, nonce);
  if (!why) {
    snprintf(body, sizeof(body),
             "{\"user\":\"%s\",\"nc\":\"%s\",\"algorithm\":\"%s\","
             "\"uri\":\"%s\",\"body_len\":%zu}",
             f.username, f.nc, f.algorithm, f.uri, r->body_len);
    respond(c, 200, "application/json", NULL, body, strlen(body));
    return;
  }
  snprintf(extra, sizeof(extra),
           "WWW-Authenticate: Basic realm=\"other\"\r\n"
           "WWW-Authenticate: Digest realm=\"" REALM "\", %s%s%snonce=\"%s\", "
           "algorithm=%s, opaque=\"" OPAQUE "\"\r\n",
           *qop ? "qop=\"" : "", qop, *qop ? "\", " : "", nonce, alg);
  snprintf(body, sizeof(body), "digest: %s\n", why);
  respond(c, 401, "text/plain", extra, body, strlen(body));
}
