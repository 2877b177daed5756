// RaiseDescriptorLimit: the soft RLIMIT_NOFILE goes up to the hard limit,
// descriptors beyond the old soft limit can then be opened, and a limit
// already at the hard one is left as it is. Each case runs in a child
// process, since lowering a hard limit cannot be undone.
#include "comsec/base/descriptor_limit.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <vector>

namespace comsec {
namespace {

// Runs `body` in a forked child; returns its exit status (0 = passed), or
// -1 when it did not exit normally. The child reports its failure itself.
int InChild(const std::function<int()>& body) {
  pid_t pid = fork();
  if (pid == 0) _exit(body());
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
    return -1;
  return WEXITSTATUS(status);
}

int Fail(const char* what, unsigned long long got) {
  std::fprintf(stderr, "%s (got %llu)\n", what, got);
  return 1;
}

// Opens descriptors until `n` are open in all, then closes the new ones.
bool CanHold(int n) {
  std::vector<int> opened;
  bool ok = true;
  while (ok) {
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      ok = false;
    } else {
      opened.push_back(fd);
      if (fd >= n - 1) break;
    }
  }
  for (int fd : opened) close(fd);
  return ok;
}

TEST(DescriptorLimit, RaisesTheSoftLimitToTheHardOne) {
  EXPECT_EQ(InChild([] {
              // A hard limit of 512, or the one we have if lower (it can
              // only be lowered without privilege).
              rlimit limit;
              getrlimit(RLIMIT_NOFILE, &limit);
              const rlim_t hard = limit.rlim_max < 512 ? limit.rlim_max : 512;
              if (hard < 256) return Fail("hard limit too low to test", hard);
              limit = {64, hard};
              if (setrlimit(RLIMIT_NOFILE, &limit) != 0)
                return Fail("setrlimit 64", hard);
              if (CanHold(200))
                return Fail("200 descriptors fit under a soft limit of 64", 0);
              auto raised = RaiseDescriptorLimit();
              if (!raised.ok() || *raised != hard) {
                return Fail("RaiseDescriptorLimit != the hard limit",
                            raised.ok() ? *raised : 0);
              }
              getrlimit(RLIMIT_NOFILE, &limit);
              if (limit.rlim_cur != hard || limit.rlim_max != hard) {
                return Fail("soft limit after raising", limit.rlim_cur);
              }
              if (!CanHold(static_cast<int>(hard) - 8)) {
                return Fail("descriptors up to the hard limit do not fit",
                            hard);
              }
              return 0;
            }),
            0);
}

TEST(DescriptorLimit, LeavesALimitAlreadyAtTheHardOne) {
  EXPECT_EQ(InChild([] {
              rlimit limit{300, 300};
              if (setrlimit(RLIMIT_NOFILE, &limit) != 0)
                return Fail("setrlimit 300/300", 0);
              auto raised = RaiseDescriptorLimit();
              if (!raised.ok() || *raised != 300) {
                return Fail("RaiseDescriptorLimit != 300",
                            raised.ok() ? *raised : 0);
              }
              // Twice is the same as once.
              auto again = RaiseDescriptorLimit();
              if (!again.ok() || *again != 300)
                return Fail("second call", again.ok() ? *again : 0);
              return 0;
            }),
            0);
}

TEST(DescriptorLimit, InThisProcessReachesTheHardLimit) {
  rlimit before;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &before), 0);
  auto raised = RaiseDescriptorLimit();
  ASSERT_TRUE(raised.ok()) << raised.status().ToString();
  rlimit after;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &after), 0);
  EXPECT_EQ(*raised, static_cast<uint64_t>(after.rlim_cur));
  EXPECT_GE(after.rlim_cur, before.rlim_cur);
  if (after.rlim_max != RLIM_INFINITY) {
    EXPECT_EQ(after.rlim_cur, after.rlim_max);
  }
}

}  // namespace
}  // namespace comsec
