/* Which transport serves a request. */
#include "transport.h"

const salvo__transport_ops *const salvo__transports[SALVO__NTRANSPORTS] = {
    [SALVO__TP_NATIVE] = &salvo__native_transport,
    [SALVO__TP_CURL] = &salvo__curl_transport,
};

int salvo__transport_choose(const salvo__cfg *cfg, const salvo__req *r) {
  if (cfg->transport == SALVO_TRANSPORT_LIBCURL || cfg->proxy ||
      r->userinfo) /* libcurl makes it basic authentication */
    return SALVO__TP_CURL;
  /* An h2c upgrade on http:// is libcurl's (the native transport speaks
   * HTTP/2 by ALPN over TLS, or with prior knowledge). */
  if (cfg->http_version == SALVO_HTTP_2 && r->origin[4] != 's' &&
      !cfg->dns_servers)
    return SALVO__TP_CURL;
  return SALVO__TP_NATIVE;
}
