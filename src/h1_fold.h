/*
 * Obsolete line folding (RFC 9112 5.2): a field line continued on lines
 * that start with SP or HTAB. A user agent MUST replace each obs-fold with
 * SP before it reads the value, so both transports join such lines into
 * one here and read that: the native framing from the bytes it has
 * (h1.c), libcurl's a line at a time (curl/head.c). No I/O, no state.
 */
#ifndef SALVO_H1_FOLD_H
#define SALVO_H1_FOLD_H

#include <stddef.h>

#include "buf.h"

/* Whether a line starting with byte c continues the field line before it
 * (and is no field line of its own). */
static inline int salvo__h1_continues(char c) { return c == ' ' || c == '\t'; }

/* A field that frames the body (Content-Length, Transfer-Encoding) is
 * never joined: it is read as its line ends, and a continuation after it
 * is refused, since libcurl frames the body from the first line alone and
 * the two transports would read one body two ways (RFC 9112 11.2). Read
 * at once, neither transport waits for the next line to judge it, so a
 * close or a silence after it is not taken for the cause. */
#define SALVO__H1_FRAMING_FOLD                                                 \
  "an obs-fold in a field that frames the body (Content-Length, "              \
  "Transfer-Encoding): the body would be read two ways (RFC 9112 11.2)"

/* The bytes of b[0..avail) that the field line ending at b[used - 1] (its
 * LF) takes with the continuations that follow it: `used` when none does;
 * 0 while more bytes must come to tell (the byte after an LF has not).
 * *ended: where the last whole line of them ends, so far. */
size_t salvo__h1_folds(const char *b, size_t avail, size_t used, size_t *ended);

/* Appends the continuation l[0..n) (without its line ending) to `line`, a
 * field line without its own and none that frames the body: the
 * whitespace at the end of the line so far, the line break and the
 * continuation's leading whitespace become one SP (obs-fold = OWS CRLF
 * RWS). Returns NULL, or why not (memory). A joined line is held to the
 * limit of one line where it is read (receive_head.c). */
const char *salvo__h1_fold_add(salvo__buf *line, const char *l, size_t n);

/* The field line b[0..n) with the continuations after it, up to b[whole)
 * (salvo__h1_folds), joined into `line` (emptied first): NULL, or why
 * not, as salvo__h1_fold_add says. */
const char *salvo__h1_fold_join(salvo__buf *line, const char *b, size_t n,
                                size_t whole);

#endif /* SALVO_H1_FOLD_H */
