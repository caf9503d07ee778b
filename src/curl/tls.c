/*
 * What libcurl does not say of a TLS connection: whether the server ended
 * it with close_notify. RFC 9112 9.8 holds a response with neither
 * Content-Length nor chunked coding complete only when that alert came; a
 * bare TCP close may be a truncation attack. libcurl 7.88 takes either for
 * the end, so a transfer with such a body watches its connection's SSL
 * (through OpenSSL's ex_data and info callback, on the I/O thread), and
 * errors.c refuses the body when the alert did not come.
 */
#include <openssl/ssl.h>

#include "internal.h"

static int ex_idx = -1;

/* The SSL is freed (libcurl closed the connection): the transfer watching
 * it forgets it, and keeps what it learnt. */
static void ssl_gone(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
                     long argl, void *argp) {
  (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
  salvo__curl_xfer *x = ptr;
  if (x)
    x->ssl = NULL;
}

static void on_info(const SSL *s, int where, int ret) {
  if ((where & SSL_CB_READ_ALERT) != SSL_CB_READ_ALERT ||
      (ret & 0xff) != SSL_AD_CLOSE_NOTIFY)
    return;
  salvo__curl_xfer *x = SSL_get_ex_data(s, ex_idx);
  if (x)
    x->close_notify = 1;
}

int salvo__curl_tls_init(void) {
  ex_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, ssl_gone);
  return ex_idx < 0 ? -1 : 0;
}

CURLcode salvo__curl_ssl_ctx(CURL *e, void *ctx, void *userp) {
  (void)e, (void)userp;
  SSL_CTX_set_info_callback(ctx, on_info);
  return CURLE_OK;
}

void salvo__curl_tls_watch(salvo__curl_xfer *x) {
  struct curl_tlssessioninfo *ti = NULL;
  if (curl_easy_getinfo(x->easy, CURLINFO_TLS_SSL_PTR, &ti) || !ti ||
      ti->backend != CURLSSLBACKEND_OPENSSL || !ti->internals ||
      !SSL_set_ex_data(ti->internals, ex_idx, x))
    return; /* not TLS */
  x->ssl = ti->internals;
  x->watched = 1;
  x->close_notify = 0;
}

void salvo__curl_tls_unwatch(salvo__curl_xfer *x) {
  if (x->ssl)
    SSL_set_ex_data(x->ssl, ex_idx, NULL);
  x->ssl = NULL;
  x->watched = x->close_notify = 0;
}
