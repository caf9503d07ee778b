/* Error codes: names and messages. */
#include "util.h"

static const struct {
  const char *name;
  const char *msg;
} errors[] = {
    {"OK", "success"},
    {"EINVAL", "invalid argument"},
    {"ECONNECT", "could not connect"},
    {"EDNS", "could not resolve host name"},
    {"ETIMEDOUT", "operation timed out"},
    {"ETLS", "TLS failure"},
    {"EPROTO", "malformed response"},
    {"EIO", "connection reset or closed"},
    {"ETOOBIG", "response body too large"},
    {"EREDIRECT", "redirect failure"},
    {"ECANCELED", "request cancelled"},
    {"ENOMEM", "out of memory"},
    {"EPROXY", "proxy failure"},
    {"EPARSE", "body could not be parsed"},
    {"ECALLBACK", "callback reported failure"},
    {"EINTERNAL", "internal error"},
    {"EWRITE", "could not write the output file"},
    {"EAGAIN", "nothing to read yet"},
};

#define NERRORS ((int)(sizeof(errors) / sizeof(errors[0])))

const char *salvo_strerror(int code) {
  return code <= 0 && -code < NERRORS ? errors[-code].msg : "unknown error";
}

const char *salvo_errname(int code) {
  return code <= 0 && -code < NERRORS ? errors[-code].name : "EUNKNOWN";
}
