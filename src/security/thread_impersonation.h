// One thread taking on a Unix identity for a while: what ImpersonateClient
// comes down to on Linux (DESIGN.md "Identities on Linux"). The calling
// thread's effective uid, effective gid and supplementary groups become the
// identity's, so the kernel checks files, sockets and signals as that user;
// the destructor (RevertToSelf) restores them.
//
// Only the calling thread changes: the credentials are switched with the
// raw system calls, which act on one thread, not with glibc's setresuid
// family, which changes every thread of the process. The real and saved
// uids are left alone, which is what lets the thread switch back.
//
// Needs CAP_SETUID and CAP_SETGID (a server running as root), except when
// the identity is the thread's own (nothing to switch; Begin succeeds).
// Otherwise Begin fails with E_ACCESSDENIED and says why, and nothing
// changed.
//
// Thread-affine: a ThreadImpersonation is made and destroyed on the same
// thread, and while it lives that thread must not be handed to other work
// (the pool threads serving calls revert before taking the next).
#pragma once

#include <sys/types.h>

#include <memory>
#include <vector>

#include "comsec/base/result.h"
#include "comsec/security/unix_identity.h"

namespace comsec::security {

class ThreadImpersonation {
 public:
  static Result<std::unique_ptr<ThreadImpersonation>> Begin(const UnixIdentity& identity);
  // Reverts. Failing to revert would leave a thread running as someone
  // else: the process aborts instead.
  ~ThreadImpersonation();
  ThreadImpersonation(const ThreadImpersonation&) = delete;
  ThreadImpersonation& operator=(const ThreadImpersonation&) = delete;

 private:
  ThreadImpersonation() = default;

  bool switched_ = false;
  uid_t euid_ = 0;
  gid_t egid_ = 0;
  std::vector<gid_t> groups_;
};

}  // namespace comsec::security
