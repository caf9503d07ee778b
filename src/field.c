/* HTTP field syntax. */
#include <string.h>

#include "field.h"

/* RFC 9110 token characters. */
#define T (SALVO__TCHAR | SALVO__VTEXT)
#define V SALVO__VTEXT
/* tchar: ALPHA, DIGIT, !#$%&'*+-.^_`|~; the rest of VCHAR, SP, HTAB and
 * 0x80-0xFF are field text only; controls and DEL are neither. */
const unsigned char salvo__ctype[256] = {
    ['\t'] = V,         [' '] = V,  ['!'] = T,  ['"'] = V, ['#'] = T, ['$'] = T,
    ['%'] = T,          ['&'] = T,  ['\''] = T, ['('] = V, [')'] = V, ['*'] = T,
    ['+'] = T,          [','] = V,  ['-'] = T,  ['.'] = T, ['/'] = V, ['0'] = T,
    ['1'] = T,          ['2'] = T,  ['3'] = T,  ['4'] = T, ['5'] = T, ['6'] = T,
    ['7'] = T,          ['8'] = T,  ['9'] = T,  [':'] = V, [';'] = V, ['<'] = V,
    ['='] = V,          ['>'] = V,  ['?'] = V,  ['@'] = V, ['A'] = T, ['B'] = T,
    ['C'] = T,          ['D'] = T,  ['E'] = T,  ['F'] = T, ['G'] = T, ['H'] = T,
    ['I'] = T,          ['J'] = T,  ['K'] = T,  ['L'] = T, ['M'] = T, ['N'] = T,
    ['O'] = T,          ['P'] = T,  ['Q'] = T,  ['R'] = T, ['S'] = T, ['T'] = T,
    ['U'] = T,          ['V'] = T,  ['W'] = T,  ['X'] = T, ['Y'] = T, ['Z'] = T,
    ['['] = V,          ['\\'] = V, [']'] = V,  ['^'] = T, ['_'] = T, ['`'] = T,
    ['a'] = T,          ['b'] = T,  ['c'] = T,  ['d'] = T, ['e'] = T, ['f'] = T,
    ['g'] = T,          ['h'] = T,  ['i'] = T,  ['j'] = T, ['k'] = T, ['l'] = T,
    ['m'] = T,          ['n'] = T,  ['o'] = T,  ['p'] = T, ['q'] = T, ['r'] = T,
    ['s'] = T,          ['t'] = T,  ['u'] = T,  ['v'] = T, ['w'] = T, ['x'] = T,
    ['y'] = T,          ['z'] = T,  ['{'] = V,  ['|'] = T, ['}'] = V, ['~'] = T,
    [0x80 ... 0xff] = V};
#undef T
#undef V

int salvo__header_shown(const char *h) {
  size_t n = strcspn(h, ":");
  return n > 100 ? 100 : (int)n;
}

size_t salvo__header_name_len(const char *h) {
  size_t n = 0;
  while (salvo__is_tchar((unsigned char)h[n]))
    n++;
  return h[n] == ':' ? n : 0;
}

size_t salvo__header_kept_len(const char *h) {
  size_t n = strlen(h);
  const char *v = salvo__header_name_len(h) ? salvo__header_value(h) : h + n;
  while (h + n > v && (h[n - 1] == ' ' || h[n - 1] == '\t'))
    n--;
  return n;
}

int salvo__header_is_framing(const char *h) {
  size_t n = salvo__header_name_len(h);
  return (n == 14 && salvo__case_eq(h, "Content-Length", 14)) ||
         (n == 17 && salvo__case_eq(h, "Transfer-Encoding", 17));
}

const char *salvo__header_value(const char *h) {
  const char *v = h + salvo__header_name_len(h) + 1;
  while (*v == ' ' || *v == '\t')
    v++;
  return v;
}

const char *salvo__header_problem(const char *h) {
  size_t n = salvo__header_name_len(h);
  if (strpbrk(h + n, "\r\n"))
    return "contains CR or LF";
  if (salvo__field_ctl(h + n + 1, strlen(h + n + 1), 1))
    return SALVO__CTL_IN_VALUE;
  if (n == 4 && !salvo__casecmp_n(h, "Host", 4) && !*salvo__header_value(h))
    return "without a value would remove the Host every request must carry "
           "(RFC 9112 3.2); leave it out to send the URL's host";
  return NULL;
}

int salvo__headers_have(const char *const *list, const char *name, size_t n) {
  for (size_t i = 0; list && list[i]; i++)
    if (salvo__header_name_len(list[i]) == n &&
        !salvo__casecmp_n(list[i], name, n))
      return 1;
  return 0;
}

int salvo__header_close(const char *h, size_t name_len, int said) {
  if (name_len != 10 || !salvo__case_eq(h, "Connection", 10))
    return said;
  const char *v = salvo__header_value(h), *e;
  size_t n = strlen(v), at = 0, en;
  said = said < 0 ? 0 : said;
  while (salvo__list_next(v, n, &at, &e, &en))
    if (en == 5 && salvo__case_eq(e, "close", 5))
      said = 1;
  return said;
}

const char *salvo__ctl_in(const char *s) {
  for (; s && *s; s++)
    if (*s == '\r' || *s == '\n')
      return s;
  return NULL;
}
