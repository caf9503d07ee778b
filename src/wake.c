/* Wake-ups through an eventfd. */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "wake.h"

void salvo__wake_signal(int fd) {
  uint64_t one = 1;
  while (write(fd, &one, sizeof(one)) < 0 && errno == EINTR)
    ;
}

void salvo__wake_drain(int fd) {
  uint64_t v;
  while (read(fd, &v, sizeof(v)) < 0 && errno == EINTR)
    ;
}
