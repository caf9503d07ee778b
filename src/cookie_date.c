/* Cookie dates (RFC 6265 5.1.1): see cookie_date.h. */
#define _GNU_SOURCE
#include "cookie_date.h"

#include <time.h>

#include "field.h"

static int is_delim(unsigned char c) {
  return c == 0x09 || (c >= 0x20 && c <= 0x2f) || (c >= 0x3b && c <= 0x40) ||
         (c >= 0x5b && c <= 0x60) || (c >= 0x7b && c <= 0x7e);
}

static int digit(char c) { return c >= '0' && c <= '9'; }

/* 1 to max digits at t[0..n), then a non-digit or the end: the number, or
 * -1. *used: the digits. */
static int digits(const char *t, size_t n, int min, int max, size_t *used) {
  int v = 0, k = 0;
  while ((size_t)k < n && digit(t[k]) && k < max)
    v = v * 10 + (t[k++] - '0');
  if (k < min || ((size_t)k < n && digit(t[k])))
    return -1;
  *used = (size_t)k;
  return v;
}

/* hms-time: three 1*2DIGIT fields separated by ':'. */
static int hms(const char *t, size_t n, int f[3]) {
  size_t at = 0, used;
  for (int i = 0; i < 3; i++) {
    if ((f[i] = digits(t + at, n - at, 1, 2, &used)) < 0)
      return 0;
    at += used;
    if (i < 2 && (at >= n || t[at++] != ':'))
      return 0;
  }
  return 1;
}

static int month_of(const char *t, size_t n) {
  static const char m[] = "janfebmaraprmayjunjulaugsepoctnovdec";
  if (n < 3)
    return -1;
  for (int i = 0; i < 12; i++)
    if (!salvo__casecmp_n(t, m + 3 * i, 3))
      return i;
  return -1;
}

int64_t salvo__cookie_date(const char *s, size_t n) {
  int time_f[3] = {0}, day = -1, month = -1, year = -1, have_time = 0;
  for (size_t i = 0; i < n;) {
    while (i < n && is_delim((unsigned char)s[i]))
      i++;
    size_t start = i;
    while (i < n && !is_delim((unsigned char)s[i]))
      i++;
    const char *t = s + start;
    size_t tn = i - start, used;
    int v;
    if (!tn)
      continue;
    if (!have_time && hms(t, tn, time_f))
      have_time = 1;
    else if (day < 0 && (v = digits(t, tn, 1, 2, &used)) >= 0)
      day = v;
    else if (month < 0 && (v = month_of(t, tn)) >= 0)
      month = v;
    else if (year < 0 && (v = digits(t, tn, 2, 4, &used)) >= 0)
      year = v;
  }
  if (year >= 70 && year <= 99)
    year += 1900;
  else if (year >= 0 && year <= 69)
    year += 2000;
  if (!have_time || day < 1 || day > 31 || month < 0 || year < 1601 ||
      time_f[0] > 23 || time_f[1] > 59 || time_f[2] > 59)
    return -1;
  struct tm tm = {.tm_sec = time_f[2],
                  .tm_min = time_f[1],
                  .tm_hour = time_f[0],
                  .tm_mday = day,
                  .tm_mon = month,
                  .tm_year = year - 1900};
  time_t tt = timegm(&tm);
  /* A day past the month's end (Feb 31) is no date, as 5.1.1 says. */
  struct tm back;
  if (tt == (time_t)-1 || !gmtime_r(&tt, &back) || back.tm_mday != day)
    return -1;
  return (int64_t)tt;
}
