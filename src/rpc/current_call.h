// The call a generated server stub is serving on this thread: the seam of
// CoGetCallContext for stubs comidl generates. The stub opens a
// CurrentCallScope around the implementation's method, which reads its
// caller (principal, level, peer) with CurrentCall(); nothing else is
// carried, and the scope ends with the method.
//
// Thread affinity: per thread, as COM's call context is. An implementation
// that hands work to another thread passes what it needs explicitly.
#pragma once

#include "comsec/rpc/interface.h"

namespace comsec::rpc {

class CurrentCallScope {
 public:
  explicit CurrentCallScope(const CallContext& call) : previous_(current_) { current_ = &call; }
  ~CurrentCallScope() { current_ = previous_; }
  CurrentCallScope(const CurrentCallScope&) = delete;
  CurrentCallScope& operator=(const CurrentCallScope&) = delete;

  static const CallContext* current() { return current_; }

 private:
  const CallContext* previous_;
  static inline thread_local const CallContext* current_ = nullptr;
};

// The call being served on this thread, or null outside a generated stub.
inline const CallContext* CurrentCall() { return CurrentCallScope::current(); }

}  // namespace comsec::rpc
