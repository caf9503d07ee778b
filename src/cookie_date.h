/*
 * RFC 6265 5.1.1's date algorithm, for a cookie's Expires: tokens between
 * delimiters, each taken as the first of time, day, month and year it can
 * be, in any order, so that every date format servers send is read the
 * one way the RFC says. Socket-free and fuzzed (fuzz_cookie's "D" lines).
 */
#ifndef SALVO_COOKIE_DATE_H
#define SALVO_COOKIE_DATE_H

#include <stddef.h>
#include <stdint.h>

/* The date at s[0..n) in Unix seconds, or -1 when it is not one (no
 * time, a day past its month's end, a year before 1601). */
int64_t salvo__cookie_date(const char *s, size_t n);

#endif /* SALVO_COOKIE_DATE_H */
