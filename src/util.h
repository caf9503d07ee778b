/*
 * Small helpers every module may use: buffers, strings, time, hashing,
 * eventfds, header syntax, redaction and versioned structs. Depends on
 * nothing but libc and salvo.h's error codes.
 *
 * libsalvo is built with hidden visibility: nothing declared in src/ is
 * exported, only what salvo.h marks SALVO_EXTERN.
 */
#ifndef SALVO_UTIL_H
#define SALVO_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "salvo.h"

typedef struct salvo__buf {
  char *p;
  size_t len;
  size_t cap;
} salvo__buf;

char *salvo__strdup(const char *s);
char *salvo__strndup(const char *s, size_t n);
/* Keeps one spare byte so that p[len] can always hold a NUL. */
int salvo__buf_reserve(salvo__buf *b, size_t extra);
int salvo__buf_append(salvo__buf *b, const void *p, size_t n);
void salvo__buf_free(salvo__buf *b);
int salvo__casecmp_n(const char *a, const char *b, size_t n);
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
/* Whether h is a header salvo may send: a token name, a colon, and no CR
 * or LF anywhere. */
int salvo__header_ok(const char *h);
/* Whether a NULL-terminated list of "Name: value" headers (NULL = none)
 * has one named by the first n bytes of name, in any case. */
int salvo__headers_have(const char *const *list, const char *name, size_t n);
/* Seconds from the API to milliseconds: 0 gives dflt, negative gives 0
 * ("none"), anything else at least 1 ms. */
int64_t salvo__seconds_ms(double s, int64_t dflt);
/* Removes the userinfo ("user:password@") of every URL in s, in place. */
void salvo__redact_userinfo(char *s);
/* Takes msg (may be NULL) and returns it without userinfo in URLs and with
 * each of the n secrets (NULL or "" skipped) replaced by "***". */
char *salvo__redact(char *msg, const char *const *secrets, size_t n);
/* The first CR or LF in s, or NULL (also for s NULL). */
const char *salvo__ctl_in(const char *s);
/* Structs that start with their size_t size and grow across versions.
 * _init: dst (the caller's, dsize bytes) gets the defaults it has room for
 * and zeros past them. _read: the prefix both know is copied from src
 * over dst, which keeps its own values (the defaults) past src's end. */
void salvo__sized_init(void *dst, size_t dsize, const void *dflt, size_t n);
void salvo__sized_read(void *dst, size_t dsize, const void *src, size_t ssize);
/* The process generation: 0 in the first process, bumped in each child
 * after fork() (by client.c's fork handler). Objects remember theirs, to
 * know when they belong to a parent. */
unsigned salvo__fork_gen(void);
void salvo__fork_gen_bump(void);
/* FNV-1a of a string, for the hash tables. */
uint32_t salvo__hash(const char *s);
/* An eventfd: signal it (readable until drained), drain it. */
void salvo__fd_signal(int fd);
void salvo__fd_drain(int fd);
/* Zeroes memory that held a secret, in a way the compiler keeps. */
void salvo__cleanse(void *p, size_t n);
/* Allocates a copy of the message formatted like printf. */
char *salvo__fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* SALVO_UTIL_H */
