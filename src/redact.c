/* Secrets kept out of what salvo says. */
#include <stdlib.h>
#include <string.h>

#include "redact.h"
#include "url.h"

/* The end of a URL's authority: the first '/', '?', '#', quote, space or
 * control character after "://". */
static size_t authority_len(const char *a) {
  size_t n = 0;
  while (a[n] && !strchr("/?#\"' ", a[n]) && (unsigned char)a[n] > 0x20)
    n++;
  return n;
}

/* The userinfo of the authority at a, if any, removed. */
static void strip_userinfo(char *a) {
  size_t n = authority_len(a);
  char *at = NULL;
  for (size_t i = 0; i < n; i++)
    if (a[i] == '@')
      at = a + i;
  if (at)
    memmove(a, at + 1, strlen(at + 1) + 1);
}

void salvo__redact_userinfo(char *s) {
  if (!strchr(s, '@')) /* every URL but one with userinfo: nothing to do */
    return;
  for (char *p = s; (p = strstr(p, "://"));)
    strip_userinfo(p += 3);
}

void salvo__redact_url(char *url) {
  size_t n = salvo__url_scheme_len(url);
  if (n)
    strip_userinfo(url + n + 3);
  else /* not a URL salvo reads: wherever one may start */
    salvo__redact_userinfo(url);
}

/* Replaces every occurrence of sec in msg by "***", scanning once so that
 * a secret made of stars cannot loop. Returns msg, or a new string (msg
 * freed); on allocation failure the secret is starred over in place. */
static char *redact_one(char *msg, const char *sec) {
  size_t n = strlen(sec), hits = 0;
  for (const char *p = msg; (p = strstr(p, sec)); p += n)
    hits++;
  if (!hits)
    return msg;
  size_t len = strlen(msg);
  char *m = malloc(len + hits * 3 + 1), *d = m;
  if (!m) {
    for (char *p = msg; (p = strstr(p, sec)); p += n)
      memset(p, '*', n);
    return msg;
  }
  for (const char *p = msg, *hit; *p; p = hit + n) {
    if (!(hit = strstr(p, sec))) {
      strcpy(d, p);
      d += strlen(p);
      break;
    }
    memcpy(d, p, (size_t)(hit - p));
    d += hit - p;
    memcpy(d, "***", 3);
    d += 3;
  }
  *d = '\0';
  free(msg);
  return m;
}

char *salvo__redact(char *msg, const char *const *secrets, size_t n) {
  if (!msg)
    return NULL;
  salvo__redact_userinfo(msg);
  for (size_t i = 0; i < n; i++)
    if (secrets[i] && *secrets[i])
      msg = redact_one(msg, secrets[i]);
  return msg;
}

void salvo__cleanse(void *p, size_t n) { explicit_bzero(p, n); }
