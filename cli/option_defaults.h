/* The options' defaults, written from an initialised salvo_config. */
#ifndef SALVO_CLI_OPTION_DEFAULTS_H
#define SALVO_CLI_OPTION_DEFAULTS_H

#include <salvo.h>
#include <stddef.h>

/* A default as --help and the man page show it. */
typedef void (*default_fn)(const salvo_config *c, char *buf, size_t n);

void d_concurrency(const salvo_config *c, char *b, size_t n);
void d_io_threads(const salvo_config *c, char *b, size_t n);
void d_burst(const salvo_config *c, char *b, size_t n);
void d_retries(const salvo_config *c, char *b, size_t n);
void d_timeout(const salvo_config *c, char *b, size_t n);
void d_connect_timeout(const salvo_config *c, char *b, size_t n);
void d_max_redirects(const salvo_config *c, char *b, size_t n);
void d_max_body(const salvo_config *c, char *b, size_t n);
void d_retry_status(const salvo_config *c, char *b, size_t n);

#endif /* SALVO_CLI_OPTION_DEFAULTS_H */
