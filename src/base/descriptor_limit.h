// Raising the open-file limit (RLIMIT_NOFILE, getrlimit(2)). A server holds
// one descriptor per connection, and the soft limit a process starts with
// (usually 1024) is far below the hard limit it may raise it to: servers
// call this once at start, before listening.
#pragma once

#include <cstdint>

#include "comsec/base/result.h"

namespace comsec {

// Raises this process's soft RLIMIT_NOFILE as far as its hard limit allows
// (and, for an unlimited hard limit, as far as the kernel's fs.nr_open
// allows) and returns the soft limit in force afterwards. Never lowers it.
// Fails with E_FAIL and the system's reason only if the kernel refuses.
Result<uint64_t> RaiseDescriptorLimit();

}  // namespace comsec
