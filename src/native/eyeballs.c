/* Happy Eyeballs (RFC 8305): the plan (eyeballs.h says what it does). */
#include <stdlib.h>
#include <string.h>

#include "eyeballs.h"

void salvo__he_interleave(salvo__addr *a, int n) {
  if (n < 3)
    return; /* two are in order whatever their families */
  salvo__addr *tmp = malloc((size_t)n * sizeof(*tmp));
  if (!tmp)
    return; /* the resolver's order, which is a valid one */
  sa_family_t first = a[0].ss.ss_family;
  int i = 0, j = 0, k = 0; /* next of the first family, of the other, out */
  while (k < n) {
    while (i < n && a[i].ss.ss_family != first)
      i++;
    while (j < n && a[j].ss.ss_family == first)
      j++;
    int take_first = (k % 2 == 0 && i < n) || j >= n;
    tmp[k++] = take_first ? a[i++] : a[j++];
  }
  memcpy(a, tmp, (size_t)n * sizeof(*tmp));
  free(tmp);
}

void salvo__he_start(salvo__he *h, int naddrs, int64_t now) {
  *h = (salvo__he){.naddrs = naddrs, .next_at = now};
}

int salvo__he_due(salvo__he *h, int64_t now) {
  if (h->next >= h->naddrs || h->racing >= SALVO__HE_RACING || now < h->next_at)
    return -1;
  h->racing++;
  h->next_at = now + SALVO__HE_DELAY_NS;
  return h->next++;
}

void salvo__he_failed(salvo__he *h, int64_t now) {
  if (h->racing > 0)
    h->racing--;
  h->next_at = now;
}

int64_t salvo__he_wake(const salvo__he *h) {
  return h->next < h->naddrs && h->racing < SALVO__HE_RACING ? h->next_at : 0;
}

int salvo__he_exhausted(const salvo__he *h) {
  return !h->racing && h->next >= h->naddrs;
}
