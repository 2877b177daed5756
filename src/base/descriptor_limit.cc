#include "comsec/base/descriptor_limit.h"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

namespace comsec {
namespace {

// The most descriptors Linux lets any process have (fs.nr_open); setrlimit
// refuses a larger RLIMIT_NOFILE, infinity included. 1048576 is the
// kernel's default when /proc cannot say.
rlim_t KernelMaximum() {
  std::ifstream in("/proc/sys/fs/nr_open");
  unsigned long long n = 0;
  if (in >> n && n > 0) return static_cast<rlim_t>(n);
  return 1048576;
}

Status SystemError(const char* call) {
  return Status(E_FAIL, std::string(call) +
                            "(RLIMIT_NOFILE) failed: " + std::strerror(errno));
}

}  // namespace

Result<uint64_t> RaiseDescriptorLimit() {
  rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return SystemError("getrlimit");
  rlim_t target = limit.rlim_max;
  const rlim_t kernel = KernelMaximum();
  if (target == RLIM_INFINITY || target > kernel) target = kernel;
  if (limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur >= target) {
    return static_cast<uint64_t>(limit.rlim_cur);
  }
  limit.rlim_cur = target;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) return SystemError("setrlimit");
  return static_cast<uint64_t>(target);
}

}  // namespace comsec
