/*
 * Secrets kept out of what salvo says: a URL's userinfo, the client's
 * password and token in messages, and memory that held them.
 */
#ifndef SALVO_REDACT_H
#define SALVO_REDACT_H

#include <stddef.h>

/* Removes the userinfo ("user:password@") of every URL in s, in place:
 * for a message, which may quote URLs anywhere. */
void salvo__redact_userinfo(char *s);
/* Removes the userinfo of url itself, in place, and nothing in its path
 * or query (a "next=http://u@h/" there is the resource's name, which a
 * response's URL keeps); a string that does not start with a scheme and
 * "://" is redacted as a message. */
void salvo__redact_url(char *url);
/* Takes msg (may be NULL) and returns it without userinfo in URLs and with
 * each of the n secrets (NULL or "" skipped) replaced by "***". */
char *salvo__redact(char *msg, const char *const *secrets, size_t n);
/* Zeroes memory that held a secret, in a way the compiler keeps. */
void salvo__cleanse(void *p, size_t n);

#endif /* SALVO_REDACT_H */
