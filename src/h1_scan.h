/*
 * A response head's bytes read sixteen or thirty-two at a time (SSE2, or
 * AVX2 where the CPU has it), for h1.c: where a whole head's lines end
 * and whether it holds a control, whether a line does, and where a name
 * ends. Byte loops give the same answers where there is no SSE2 (and the
 * tests hold every width to them).
 */
#ifndef SALVO_H1_SCAN_H
#define SALVO_H1_SCAN_H

#include <stddef.h>
#include <stdint.h>

/* Where a head's lines end, when the whole head is in b[0..n): the offset
 * of each line's LF in ends[0..*count) (the status line's first, the
 * blank line's last), and the bytes of the head through that last LF.
 * 0 when the head does not end within n (or SALVO__H1_SCAN_MAX) bytes,
 * has more than max lines, or holds a control other than HTAB, a CR
 * right before an LF and the LFs: the framing then reads it a line at a
 * time, which says what is wrong. A head found here needs no control
 * check per line. salvo__h1_scan_head_bytes does the same a byte at a
 * time; the tests hold the two to the same answers. */
#define SALVO__H1_SCAN_MAX (16 * 1024)
#define SALVO__H1_SCAN_LINES 32
size_t salvo__h1_scan_head(const char *b, size_t n, uint32_t *ends, size_t max,
                           size_t *count);
size_t salvo__h1_scan_head_bytes(const char *b, size_t n, uint32_t *ends,
                                 size_t max, size_t *count);
/* The same scan sixteen bytes a step (SSE2) and thirty-two (AVX2);
 * salvo__h1_scan_head is the widest this CPU runs. Each falls back to
 * the narrower where its instructions are missing, and
 * salvo__h1_scan_has32 says whether the CPU runs AVX2, so that the tests
 * can hold every width to the byte loop's answers. */
size_t salvo__h1_scan_head16(const char *b, size_t n, uint32_t *ends,
                             size_t max, size_t *count);
size_t salvo__h1_scan_head32(const char *b, size_t n, uint32_t *ends,
                             size_t max, size_t *count);
int salvo__h1_scan_has32(void);

/* AVX2 where the compiler can target it for one function and ask the CPU
 * at run time (GCC and clang on x86-64). */
#if defined(__x86_64__) && defined(__GNUC__)
#define SALVO__H1_SCAN_AVX2 1
#else
#define SALVO__H1_SCAN_AVX2 0
#endif

/* Whether s[0..n), n >= 16, holds a control other than HTAB (a byte
 * below SP, or DEL). */
int salvo__h1_ctl16(const char *s, size_t n);

/* Where the token at l[0..n) ends: its first byte that is not a tchar
 * (RFC 9110 5.6.2), else n. */
size_t salvo__h1_token_end(const char *l, size_t n);

#endif /* SALVO_H1_SCAN_H */
