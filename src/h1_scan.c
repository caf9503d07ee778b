/* A head's bytes sixteen or thirty-two at a time: see h1_scan.h. */
#include "h1_scan.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "field.h"

/* A control other than HTAB (a byte below SP, or DEL): what the byte
 * classes say a value may not hold. CR and LF are among them; the scans
 * let each through only at a line's end. */
static int is_ctl(unsigned char c) { return !(salvo__ctype[c] & SALVO__VTEXT); }

/* Whether the line b[start..lf) is the blank line that ends a head: empty,
 * or a lone CR, and not the first line (which is the status line, however
 * it reads). */
static int ends_head(const char *b, size_t start, size_t lf, size_t k) {
  size_t n = lf - start;
  return k > 1 && (n == 0 || (n == 1 && b[start] == '\r'));
}

size_t salvo__h1_scan_head_bytes(const char *b, size_t n, uint32_t *ends,
                                 size_t max, size_t *count) {
  size_t k = 0, start = 0;
  if (n > SALVO__H1_SCAN_MAX)
    n = SALVO__H1_SCAN_MAX;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)b[i];
    if (c == '\n') {
      if (k == max)
        return 0;
      ends[k++] = (uint32_t)i;
      if (ends_head(b, start, i, k)) {
        *count = k;
        return i + 1;
      }
      start = i + 1;
    } else if (c == '\r' ? i + 1 == n || b[i + 1] != '\n' : is_ctl(c)) {
      return 0;
    }
  }
  return 0;
}

/* Where a scan is between its steps: the lines found, where the current
 * one starts, and the bytes that may not stand in a head seen so far. */
typedef struct walk {
  size_t k, start;
  uint32_t seen;
} walk;

/* One step's LFs, lf, and bytes that may not stand in a head, bad (a bit
 * a byte of the step at b[i]), walked as both widths walk them: 0 to go
 * on to the next step, else what the scan returns, SIZE_MAX standing for
 * 0 (the head is read a line at a time). What may not stand in a head is
 * gathered over the steps and looked at once, where the head ends: a
 * head with any is read a line at a time, which says what it is. */
static inline size_t step(const char *b, size_t i, unsigned lf, uint32_t bad,
                          walk *w, uint32_t *ends, size_t max, size_t *count) {
  for (; lf; lf &= lf - 1) {
    unsigned pos = (unsigned)__builtin_ctz(lf);
    if (w->k == max)
      return SIZE_MAX;
    ends[w->k++] = (uint32_t)(i + pos);
    if (ends_head(b, w->start, i + pos, w->k)) {
      if ((bad & (uint32_t)((2ull << pos) - 1)) || w->seen)
        return SIZE_MAX;
      *count = w->k;
      return i + pos + 1;
    }
    w->start = i + pos + 1;
  }
  w->seen |= bad;
  return 0;
}

/* The step of width bytes at b[i], with the byte after them: in b where
 * b has them, else the last bytes copied to tail (2 * width bytes) with
 * NULs after them. */
static inline const char *block(const char *b, size_t i, size_t n, size_t width,
                                char *tail) {
  if (n - i > width)
    return b + i;
  memset(tail, 0, 2 * width);
  memcpy(tail, b + i, n - i);
  return tail;
}

/* The bits of a step at b[i] that are bytes of b[0..n). */
static inline unsigned kept(size_t i, size_t n, size_t width) {
  return n - i < width ? (1u << (n - i)) - 1 : ~0u;
}

#ifdef __SSE2__
/* Sixteen bytes at b, with the byte after them at b[16]: where the LFs
 * are (one bit a byte), and in *bad where a byte may not stand in a head:
 * a control other than HTAB, LF and a CR with an LF after it. */
static unsigned classify(const char *b, uint32_t *bad) {
  __m128i v = _mm_loadu_si128((const __m128i *)(const void *)b),
          next = _mm_loadu_si128((const __m128i *)(const void *)(b + 1));
  __m128i lf = _mm_cmpeq_epi8(v, _mm_set1_epi8('\n')),
          cr = _mm_cmpeq_epi8(v, _mm_set1_epi8('\r')),
          ctl = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
  __m128i fine = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\t')), lf);
  fine = _mm_or_si128(
      fine, _mm_and_si128(cr, _mm_cmpeq_epi8(next, _mm_set1_epi8('\n'))));
  *bad = (uint32_t)_mm_movemask_epi8(_mm_or_si128(
      _mm_andnot_si128(fine, ctl), _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f))));
  return (unsigned)_mm_movemask_epi8(lf);
}

/* The same answer as the byte loop above, sixteen bytes a step: a head of
 * seven lines is ten steps, where a line at a time cost a memchr and a
 * control check per line. */
size_t salvo__h1_scan_head16(const char *b, size_t n, uint32_t *ends,
                             size_t max, size_t *count) {
  walk w = {0, 0, 0};
  char tail[32];
  if (n > SALVO__H1_SCAN_MAX)
    n = SALVO__H1_SCAN_MAX;
  for (size_t i = 0; i < n; i += 16) {
    uint32_t bad;
    unsigned lf = classify(block(b, i, n, 16, tail), &bad) & kept(i, n, 16);
    size_t r = step(b, i, lf, bad, &w, ends, max, count);
    if (r)
      return r == SIZE_MAX ? 0 : r;
  }
  return 0;
}
#else
size_t salvo__h1_scan_head16(const char *b, size_t n, uint32_t *ends,
                             size_t max, size_t *count) {
  return salvo__h1_scan_head_bytes(b, n, ends, max, count);
}
#endif

#if SALVO__H1_SCAN_AVX2
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2")))

/* classify, thirty-two bytes at b with the byte after them at b[32]. */
static inline AVX2 unsigned classify32(const char *b, uint32_t *bad) {
  __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)b),
          next = _mm256_loadu_si256((const __m256i *)(const void *)(b + 1));
  __m256i lf = _mm256_cmpeq_epi8(v, _mm256_set1_epi8('\n')),
          cr = _mm256_cmpeq_epi8(v, _mm256_set1_epi8('\r')),
          ctl =
              _mm256_cmpeq_epi8(_mm256_min_epu8(v, _mm256_set1_epi8(0x1f)), v);
  __m256i fine =
      _mm256_or_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('\t')), lf);
  fine = _mm256_or_si256(
      fine,
      _mm256_and_si256(cr, _mm256_cmpeq_epi8(next, _mm256_set1_epi8('\n'))));
  *bad = (uint32_t)_mm256_movemask_epi8(
      _mm256_or_si256(_mm256_andnot_si256(fine, ctl),
                      _mm256_cmpeq_epi8(v, _mm256_set1_epi8(0x7f))));
  return (unsigned)_mm256_movemask_epi8(lf);
}

/* salvo__h1_scan_head16, thirty-two bytes a step: nginx's head of 154
 * bytes is five steps, not ten (callgrind: 354 instructions a head where
 * sixteen a step take 512). */
static AVX2 size_t scan32(const char *b, size_t n, uint32_t *ends, size_t max,
                          size_t *count) {
  walk w = {0, 0, 0};
  char tail[64];
  if (n > SALVO__H1_SCAN_MAX)
    n = SALVO__H1_SCAN_MAX;
  for (size_t i = 0; i < n; i += 32) {
    uint32_t bad;
    unsigned lf = classify32(block(b, i, n, 32, tail), &bad) & kept(i, n, 32);
    size_t r = step(b, i, lf, bad, &w, ends, max, count);
    if (r)
      return r == SIZE_MAX ? 0 : r;
  }
  return 0;
}

int salvo__h1_scan_has32(void) { return __builtin_cpu_supports("avx2"); }

size_t salvo__h1_scan_head32(const char *b, size_t n, uint32_t *ends,
                             size_t max, size_t *count) {
  if (!salvo__h1_scan_has32())
    return salvo__h1_scan_head16(b, n, ends, max, count);
  return scan32(b, n, ends, max, count);
}
#else
int salvo__h1_scan_has32(void) { return 0; }

size_t salvo__h1_scan_head32(const char *b, size_t n, uint32_t *ends,
                             size_t max, size_t *count) {
  return salvo__h1_scan_head16(b, n, ends, max, count);
}
#endif

size_t salvo__h1_scan_head(const char *b, size_t n, uint32_t *ends, size_t max,
                           size_t *count) {
  return salvo__h1_scan_head32(b, n, ends, max, count);
}

#ifdef __SSE2__
/* Whether s[0..n), n >= 16, holds a control other than HTAB (a byte below
 * SP, or DEL): sixteen bytes a compare, the last sixteen read where they
 * end. A head's lines are mostly 16 to 40 bytes: two or three compares
 * where a byte at a time cost 6 instructions a byte. (Eight bytes at a
 * time in plain C measured no faster, twice: the tail cost what the
 * words saved.) */
int salvo__h1_ctl16(const char *s, size_t n) {
  const __m128i below = _mm_set1_epi8(0x1f), tab = _mm_set1_epi8('\t'),
                del = _mm_set1_epi8(0x7f);
  for (size_t i = 0;; i += 16) {
    if (i + 16 > n)
      i = n - 16;
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
    __m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(v, below), v);
    ctl = _mm_or_si128(_mm_andnot_si128(_mm_cmpeq_epi8(v, tab), ctl),
                       _mm_cmpeq_epi8(v, del));
    if (_mm_movemask_epi8(ctl))
      return 1;
    if (i + 16 >= n)
      return 0;
  }
}
#else
int salvo__h1_ctl16(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (is_ctl((unsigned char)s[i]))
      return 1;
  return 0;
}
#endif

/* Where the token at l ends: its first byte that is not a tchar, else n.
 * A name of letters, digits and '-' (all of salvo's, most of everyone's)
 * up to 15 bytes is seen in one step of sixteen where the line is that
 * long; the table reads on from the first byte the step did not take. */
size_t salvo__h1_token_end(const char *l, size_t n) {
  size_t i = 0;
#ifdef __SSE2__
  if (n >= 16) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)l);
    __m128i low = _mm_or_si128(v, _mm_set1_epi8(0x20));
    __m128i ok = _mm_and_si128(_mm_cmpgt_epi8(low, _mm_set1_epi8('a' - 1)),
                               _mm_cmplt_epi8(low, _mm_set1_epi8('z' + 1)));
    ok = _mm_or_si128(ok, _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('/')),
                                        _mm_cmplt_epi8(v, _mm_set1_epi8(':'))));
    ok = _mm_or_si128(ok, _mm_cmpeq_epi8(v, _mm_set1_epi8('-')));
    i = (size_t)__builtin_ctz(~(unsigned)_mm_movemask_epi8(ok));
  }
#endif
  while (i < n && salvo__is_tchar((unsigned char)l[i]))
    i++;
  return i;
}
