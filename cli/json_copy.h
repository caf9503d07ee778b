/*
 * A JSON body copied through, compact, without building a tree: the
 * command's --body json for a response that says it is JSON. It accepts
 * exactly what jansson's json_loadb(JSON_DECODE_ANY | JSON_ALLOW_NUL)
 * accepts (tests/fuzz/fuzz_json.c holds the two to it), so that a body
 * it refuses is sent to jansson for the message.
 */
#ifndef SALVO_CLI_JSON_COPY_H
#define SALVO_CLI_JSON_COPY_H

#include <stddef.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Writes src (n bytes) without its insignificant whitespace into dst,
 * which has room for n bytes: the length written, or (size_t)-1 when src
 * is not one JSON value (dst then holds nothing of use). */
size_t json_compact(const char *src, size_t n, char *dst);

#ifdef __SSE2__
/* One bit a byte of the sixteen at p, set where a JSON string cannot hold
 * the byte as it is: a control, a byte from 0x80 (UTF-8, checked apart),
 * '"' and '\\', and DEL too when del (what the command writes escapes
 * it; what it reads may hold it). Read and written strings share it. */
static inline unsigned json_specials16(const unsigned char *p, int del) {
  __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
  /* Signed: below 0x20 and from 0x80 on are both "less than 0x20". */
  __m128i bad = _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
                             _mm_cmpeq_epi8(v, _mm_set1_epi8('"')));
  bad = _mm_or_si128(bad, _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
  if (del)
    bad = _mm_or_si128(bad, _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)));
  return (unsigned)_mm_movemask_epi8(bad);
}
#endif

#endif /* SALVO_CLI_JSON_COPY_H */
