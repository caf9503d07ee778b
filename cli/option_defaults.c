/* The options' defaults as --help and the man page show them, from an
 * initialised salvo_config (salvo_config_init is their one home). */
#include <stdio.h>

#include "option_defaults.h"

void d_concurrency(const salvo_config *c, char *b, size_t n) {
  snprintf(b, n, "%d", c->concurrency);
}
void d_io_threads(const salvo_config *c, char *b, size_t n) {
  snprintf(b, n, "%d", c->io_threads);
}

void d_burst(const salvo_config *c, char *b, size_t n) {
  snprintf(b, n, "%d", c->rate_burst);
}
void d_retries(const salvo_config *c, char *b, size_t n) {
  snprintf(b, n, "%d", c->max_retries);
}
void d_timeout(const salvo_config *c, char *b, size_t n) {
  snprintf(b, n, "%g", c->timeout);
}
void d_connect_timeout(const salvo_config *c, char *b, size_t n) {
  snprintf(b, n, "%g", c->connect_timeout);
}
void d_max_redirects(const salvo_config *c, char *b, size_t n) {
  snprintf(b, n, "%d", c->max_redirects);
}
void d_max_body(const salvo_config *c, char *b, size_t n) {
  if (c->max_body % (1u << 20) == 0)
    snprintf(b, n, "%zuM", c->max_body >> 20);
  else
    snprintf(b, n, "%zu", c->max_body);
}
void d_retry_status(const salvo_config *c, char *b, size_t n) {
  size_t used = 0;
  b[0] = '\0';
  for (const int *s = c->retry_statuses; s && *s && used + 5 < n; s++)
    used += (size_t)snprintf(b + used, n - used, "%s%d", used ? "," : "", *s);
}
