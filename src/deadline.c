#include "deadline.h"

#define MS 1000000

int64_t salvo__deadline_budget(int64_t timeout_ms, int64_t deadline_at,
                               int64_t now) {
  if (!deadline_at)
    return timeout_ms;
  int64_t left = (deadline_at - now + MS - 1) / MS;
  if (left <= 0)
    return -1;
  return !timeout_ms || left < timeout_ms ? left : timeout_ms;
}

int64_t salvo__deadline_queue_limit(int64_t queue_timeout_ms, int attempts,
                                    int64_t deadline_at, int64_t now) {
  int64_t at = 0;
  if (queue_timeout_ms && !attempts)
    at = now + queue_timeout_ms * MS;
  if (deadline_at && (!at || deadline_at < at))
    at = deadline_at;
  return at;
}

int salvo__deadline_spent(int64_t deadline_at, int64_t now) {
  return deadline_at && now >= deadline_at - MS;
}

int salvo__deadline_fits(int64_t deadline_at, int64_t now, int64_t delay) {
  return !deadline_at || now + delay < deadline_at;
}
