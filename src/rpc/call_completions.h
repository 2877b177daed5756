// The answers to one connection's calls in flight, queued by whichever
// thread answers (CallResponder) and taken by the connection's own thread,
// which alone may protect and send them (a package's sequence numbers
// advance in sending order).
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

#include "comsec/base/result.h"
#include "comsec/rpc/interface.h"

namespace comsec::rpc::internal {

// Thread-safety: Push from any thread; Take and Close from the
// connection's thread; SetWake before the first call is handed out.
class CallCompletions {
 public:
  using Answer = std::pair<uint32_t, Result<std::vector<uint8_t>>>;

  // `wake` runs on the answering thread after an answer is queued (not
  // under the lock), so that the connection's thread comes to take it.
  void SetWake(std::function<void()> wake) { wake_ = std::move(wake); }
  void Push(uint32_t call_id, Result<std::vector<uint8_t>> result);
  std::vector<Answer> Take();
  // Answers pushed after this are dropped: the connection is gone.
  void Close();
  bool empty();

 private:
  std::mutex mu_;
  std::vector<Answer> answers_;
  bool closed_ = false;
  std::function<void()> wake_;
};

}  // namespace comsec::rpc::internal
