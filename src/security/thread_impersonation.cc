#include "comsec/security/thread_impersonation.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "comsec/base/hresult.h"

namespace comsec::security {
namespace {

// The raw calls: one thread's credentials (glibc's wrappers would
// broadcast the change to every thread).
int ThreadSetGroups(const std::vector<gid_t>& groups) {
  return static_cast<int>(::syscall(SYS_setgroups, groups.size(), groups.data()));
}
int ThreadSetEgid(gid_t gid) {
  return static_cast<int>(::syscall(SYS_setresgid, static_cast<gid_t>(-1), gid,
                                    static_cast<gid_t>(-1)));
}
int ThreadSetEuid(uid_t uid) {
  return static_cast<int>(::syscall(SYS_setresuid, static_cast<uid_t>(-1), uid,
                                    static_cast<uid_t>(-1)));
}

}  // namespace

Result<std::unique_ptr<ThreadImpersonation>> ThreadImpersonation::Begin(
    const UnixIdentity& identity) {
  std::unique_ptr<ThreadImpersonation> t(new ThreadImpersonation());
  t->euid_ = ::geteuid();
  t->egid_ = ::getegid();
  if (identity.uid == t->euid_) return t;  // already this identity
  const int n = ::getgroups(0, nullptr);
  if (n < 0) return Status(E_FAIL, "getgroups failed");
  t->groups_.resize(static_cast<size_t>(n));
  if (n > 0 && ::getgroups(n, t->groups_.data()) < 0) return Status(E_FAIL, "getgroups failed");
  const gid_t gid = identity.gids.empty() ? static_cast<gid_t>(-1) : identity.gids.front();
  // Groups first, then the gid, then the uid: once the uid is switched the
  // thread may no longer change the others.
  if (ThreadSetGroups(std::vector<gid_t>(identity.gids.begin(), identity.gids.end())) != 0 ||
      (gid != static_cast<gid_t>(-1) && ThreadSetEgid(gid) != 0) ||
      ThreadSetEuid(identity.uid) != 0) {
    const int err = errno;
    // Undo whatever part succeeded; the uid was not switched.
    (void)ThreadSetEgid(t->egid_);
    (void)ThreadSetGroups(t->groups_);
    return Status(E_ACCESSDENIED,
                  "cannot act as uid " + std::to_string(identity.uid) +
                      ": this process lacks CAP_SETUID/CAP_SETGID (errno " +
                      std::to_string(err) + "); run the server as root to impersonate callers");
  }
  t->switched_ = true;
  return t;
}

ThreadImpersonation::~ThreadImpersonation() {
  if (!switched_) return;
  if (ThreadSetEuid(euid_) != 0 || ThreadSetEgid(egid_) != 0 || ThreadSetGroups(groups_) != 0) {
    std::abort();  // a thread left running as its caller is worse than no process
  }
}

}  // namespace comsec::security
