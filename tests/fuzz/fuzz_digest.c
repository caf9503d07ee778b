/* libFuzzer: a hostile server's WWW-Authenticate values read for a
 * Digest challenge (salvo__digest_parse) and answered
 * (salvo__digest_answer). The input is up to four values, one a line.
 * The answer, when one is made, is one field line: "Authorization:
 * Digest " and no control character, since it goes into a request as it
 * is; a refusal says why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *copy = malloc(size + 1);
  if (!copy)
    return 0;
  memcpy(copy, data, size);
  copy[size] = '\0';
  const char *values[4];
  size_t n = 0;
  for (char *p = copy, *nl; n < 4 && p; p = nl ? nl + 1 : NULL) {
    values[n++] = p;
    if ((nl = strchr(p, '\n')))
      *nl = '\0';
  }
  salvo__digest d;
  int found = salvo__digest_parse(values, n, &d);
  if (found < 0)
    abort(); /* no allocation fails here */
  if (found) {
    const char *why = NULL;
    char *line =
        salvo__digest_answer(&d, "Mufasa", "Circle of Life", "GET",
                             "/dir/index.html", 15, 1, "0a4f113b", &why);
    if (!line && !why)
      abort();
    if (line && strncmp(line, "Authorization: Digest ", 22))
      abort();
    for (const char *p = line; p && *p; p++)
      if ((unsigned char)*p < 0x20 || *p == 0x7f)
        abort();
    free(line);
    salvo__digest_free(&d);
  }
  free(copy);
  return 0;
}
