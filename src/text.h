/* Text: a body decoded to UTF-8 from the charset its Content-Type names. */
#ifndef SALVO_TEXT_H
#define SALVO_TEXT_H

#include <stddef.h>

#include "buf.h"

/* Decodes body to UTF-8 into out, from the charset named by a Content-Type
 * value (NULL = UTF-8); invalid input becomes U+FFFD. */
int salvo__text_decode(const char *body, size_t len, const char *ctype,
                       salvo__buf *out);

#endif /* SALVO_TEXT_H */
