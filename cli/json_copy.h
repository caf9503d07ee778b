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

/* Writes src (n bytes) without its insignificant whitespace into dst,
 * which has room for n bytes: the length written, or (size_t)-1 when src
 * is not one JSON value (dst then holds nothing of use). */
size_t json_compact(const char *src, size_t n, char *dst);

#endif /* SALVO_CLI_JSON_COPY_H */
