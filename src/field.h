/*
 * HTTP field syntax (RFC 9110 5): what a byte may be in a token or a field
 * value, a header's name, and the checks that keep CR and LF out of what
 * salvo sends.
 */
#ifndef SALVO_FIELD_H
#define SALVO_FIELD_H

#include <stddef.h>

#include "buf.h"

/* What each byte may be in HTTP (RFC 9110 5.1, 5.5): a token character;
 * a character of a field value or reason phrase (SP, HTAB, VCHAR,
 * obs-text). One table, so that the checks of every header line cost a
 * load per byte. */
#define SALVO__TCHAR 1
#define SALVO__VTEXT 2
extern const unsigned char salvo__ctype[256];
static inline int salvo__is_tchar(unsigned char c) {
  return salvo__ctype[c] & SALVO__TCHAR;
}
/* Length of the header name in "Name: value", or 0 when malformed. */
size_t salvo__header_name_len(const char *h);
/* The value of "Name: value" (after its colon and leading spaces), for a
 * header whose name salvo__header_name_len accepts. */
const char *salvo__header_value(const char *h);
/* Cuts the optional whitespace (SP, HTAB: RFC 9110 5.6.3) around a field
 * value of *n bytes at *v. */
static inline void salvo__ows_trim(const char **v, size_t *n) {
  while (*n && (**v == ' ' || **v == '\t'))
    (*v)++, (*n)--;
  while (*n && ((*v)[*n - 1] == ' ' || (*v)[*n - 1] == '\t'))
    (*n)--;
}
/* Whether h is a header salvo may send: a token name, a colon, and no CR
 * or LF anywhere. */
int salvo__header_ok(const char *h);
/* Whether a NULL-terminated list of "Name: value" headers (NULL = none)
 * has one named by the first n bytes of name, in any case. */
int salvo__headers_have(const char *const *list, const char *name, size_t n);
/* The first CR or LF in s, or NULL (also for s NULL). */
const char *salvo__ctl_in(const char *s);

#endif /* SALVO_FIELD_H */
