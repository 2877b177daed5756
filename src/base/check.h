// COMSEC_CHECK: invariants whose failure makes continuing unsafe. Always on;
// logs the condition, the place and a message, then aborts. Bugs are not
// Statuses: hostile input must never reach a CHECK (KJ_ASSERT's role).
#pragma once

#include <string_view>

namespace comsec::internal {
[[noreturn]] void CheckFailed(const char* condition, const char* file,
                              int line, std::string_view message);
}  // namespace comsec::internal

#define COMSEC_CHECK(cond, message)                                   \
  do {                                                                \
    if (!(cond)) [[unlikely]]                                         \
      ::comsec::internal::CheckFailed(#cond, __FILE__, __LINE__, (message)); \
  } while (0)

#ifdef NDEBUG
#define COMSEC_DCHECK(cond, message) \
  do {                               \
  } while (0)
#else
#define COMSEC_DCHECK(cond, message) COMSEC_CHECK(cond, message)
#endif
