#include "comsec/base/check.h"

#include <cstdio>
#include <cstdlib>

namespace comsec::internal {

void CheckFailed(const char* condition, const char* file, int line,
                 std::string_view message) {
  std::fprintf(stderr, "comsec: CHECK failed at %s:%d: %s: %.*s\n", file, line,
               condition, static_cast<int>(message.size()), message.data());
  std::abort();
}

}  // namespace comsec::internal
