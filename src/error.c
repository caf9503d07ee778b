/* Error codes: names and messages, from salvo.h's SALVO_ERRNO_MAP. */
#include "salvo.h"

static const struct {
  const char *name;
  const char *msg;
} errors[] = {{"OK", "success"},
#define XX(name, code, msg, kind) [-(code)] = {#name, msg},
              SALVO_ERRNO_MAP(XX)
#undef XX
};

#define NERRORS ((int)(sizeof(errors) / sizeof(errors[0])))

const char *salvo_strerror(int code) {
  return code <= 0 && -code < NERRORS && errors[-code].msg ? errors[-code].msg
                                                           : "unknown error";
}

const char *salvo_errname(int code) {
  return code <= 0 && -code < NERRORS && errors[-code].name ? errors[-code].name
                                                            : "EUNKNOWN";
}
