/* Which transport serves a request. */
#include "transport.h"

#include <string.h>

const salvo__transport_ops *const salvo__transports[SALVO__NTRANSPORTS] = {
    [SALVO__TP_NATIVE] = &salvo__native_transport,
    [SALVO__TP_CURL] = &salvo__curl_transport,
};

/* Whether the URL carries userinfo, which libcurl turns into basic
 * authentication. */
static int has_userinfo(const char *url) {
  const char *a = strstr(url, "://") + 3;
  size_t n = strcspn(a, "/?#");
  return memchr(a, '@', n) != NULL;
}

int salvo__transport_choose(const salvo__cfg *cfg, const salvo__req *r) {
  if (cfg->transport == SALVO_TRANSPORT_LIBCURL || cfg->proxy ||
      has_userinfo(r->url))
    return SALVO__TP_CURL;
  int v = cfg->http_version;
  if (v == SALVO_HTTP_2_PRIOR_KNOWLEDGE || v == SALVO_HTTP_2)
    return SALVO__TP_CURL;
  if (r->origin[4] == 's' && v == SALVO_HTTP_AUTO &&
      cfg->transport != SALVO_TRANSPORT_NATIVE)
    return SALVO__TP_CURL; /* ALPN may choose HTTP/2 */
  return SALVO__TP_NATIVE;
}
