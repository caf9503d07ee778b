/* salvo_config.dns_servers checked as c-ares will read it: "ADDR[:PORT]"
 * entries separated by commas, an IPv6 address in brackets when a port
 * follows. */
#include <arpa/inet.h>
#include <string.h>

#include "buf.h"
#include "servers.h"

/* Whether s (n bytes) is "ADDR", "IPv4:PORT" or "[IPv6]:PORT". */
static int server_ok(const char *s, size_t n) {
  char addr[64];
  const char *port = NULL;
  int v6 = s[0] == '[';
  const char *end = v6 ? memchr(s, ']', n) : NULL;
  if (v6 && !end)
    return 0;
  size_t alen = v6 ? (size_t)(end - s - 1) : n;
  if (v6 && end + 1 < s + n) {
    if (end[1] != ':')
      return 0;
    port = end + 2;
  } else if (!v6) {
    const char *c = memchr(s, ':', n);
    if (c && !memchr(c + 1, ':', n - (size_t)(c + 1 - s))) { /* IPv4:PORT */
      alen = (size_t)(c - s);
      port = c + 1;
    }
  }
  if (alen >= sizeof(addr))
    return 0;
  memcpy(addr, s + v6, alen);
  addr[alen] = '\0';
  unsigned char bin[16];
  if (inet_pton(AF_INET, addr, bin) != 1 && inet_pton(AF_INET6, addr, bin) != 1)
    return 0;
  if (!port)
    return 1;
  size_t plen = (size_t)(s + n - port);
  unsigned long p = 0;
  for (size_t i = 0; i < plen; i++) {
    if (port[i] < '0' || port[i] > '9' ||
        (p = p * 10 + (unsigned)(port[i] - '0')) > 65535)
      return 0;
  }
  return plen > 0 && p > 0;
}

char *salvo__servers_problem(const char *list) {
  if (!list)
    return NULL;
  const char *s = list;
  for (size_t i = 0;; i++) {
    size_t n = strcspn(s, ",");
    if (!n || !server_ok(s, n))
      return salvo__fmt("dns_servers entry %zu \"%.*s\" is not ADDR[:PORT] "
                        "(an IPv4 address, or IPv6, in brackets before a "
                        "port)",
                        i, (int)(n > 100 ? 100 : n), s);
    if (!s[n])
      return NULL;
    s += n + 1;
  }
}
