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
  int v = cfg->http_version;
  if (v == SALVO_HTTP_2_PRIOR_KNOWLEDGE || v == SALVO_HTTP_2)
    return SALVO__TP_CURL;
  if (r->origin[4] == 's' && v == SALVO_HTTP_AUTO &&
      cfg->transport != SALVO_TRANSPORT_NATIVE &&
      !cfg->dns_servers)   /* which only the native transport asks */
    return SALVO__TP_CURL; /* ALPN may choose HTTP/2 */
  return SALVO__TP_NATIVE;
}
