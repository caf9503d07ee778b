/*
 * salvo - many HTTP requests from the shell: URLs or JSON request lines in,
 * one JSON line per result out. Uses only libsalvo's public API; the
 * modules are listed in cli.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int main(int argc, char **argv) {
  opts o;
  memset(&o, 0, sizeof(o));
  salvo_config_init(&o.cfg);
  /* As curl: no compression unless --compressed, no cookie engine unless
   * --cookie-jar. Both save libcurl work on every request. */
  o.cfg.no_compression = 1;
  o.cfg.no_cookies = 1;
  signal(SIGPIPE, SIG_IGN);
  int first = options_parse(&o, argc, argv);
  input in;
  memset(&in, 0, sizeof(in));
  if (first < argc) {
    in.args = argv + first;
    in.nargs = argc - first;
  } else if (o.input && strcmp(o.input, "-")) {
    if (!(in.f = fopen(o.input, "r"))) {
      warnx("cannot read %s: %s", o.input, strerror(errno));
      options_free(&o);
      return 2;
    }
  } else {
    in.f = stdin;
    o.input = "-";
  }
  int rc = run_all(&o, &in);
  if (in.f && in.f != stdin)
    fclose(in.f);
  free(in.line);
  options_free(&o);
  return rc;
}
