/*
 * --resume FILE: the results a past run already wrote. A key counts as
 * done when FILE has a whole result line for it that is not ECANCELED
 * (the line an interrupt prints for a request that had not completed).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* The key of a finished request's line, or NULL. */
static const char *done_key(json_t *line) {
  json_t *err = json_object_get(line, "error");
  const char *code = json_string_value(json_object_get(err, "code"));
  if (code && !strcmp(code, "ECANCELED"))
    return NULL;
  return json_string_value(json_object_get(line, "key"));
}

json_t *resume_load(const char *path, int rewrite) {
  json_t *set = json_object();
  FILE *f = fopen(path, "r");
  if (!set)
    exit(1);
  if (!f) {
    if (errno == ENOENT)
      return set;
    warnx("--resume: cannot read %s: %s", path, strerror(errno));
    exit(2);
  }
  char *tmp = NULL;
  FILE *w = NULL;
  if (rewrite) {
    if (asprintf(&tmp, "%s.resume-%ld", path, (long)getpid()) < 0)
      exit(1);
    if (!(w = fopen(tmp, "w"))) {
      warnx("--resume: cannot write %s: %s", tmp, strerror(errno));
      exit(2);
    }
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  while ((n = getline(&line, &cap, f)) > 0) {
    if (line[n - 1] != '\n')
      break; /* cut short by the interrupted run */
    json_t *j = json_loadb(line, (size_t)n, 0, NULL);
    const char *key = j ? done_key(j) : NULL;
    if (key && !json_object_get(set, key)) {
      json_object_set_new(set, key, json_true());
      if (w && fwrite(line, 1, (size_t)n, w) != (size_t)n) {
        warnx("--resume: writing %s: %s", tmp, strerror(errno));
        exit(2);
      }
    }
    json_decref(j);
  }
  int rerr = ferror(f);
  free(line);
  fclose(f);
  if (rerr) {
    warnx("--resume: reading %s failed", path);
    exit(2);
  }
  if (w && (fclose(w) || rename(tmp, path))) {
    warnx("--resume: replacing %s: %s", path, strerror(errno));
    exit(2);
  }
  free(tmp);
  return set;
}

int resume_done(json_t *set, const char *key) {
  return json_object_get(set, key) != NULL;
}
