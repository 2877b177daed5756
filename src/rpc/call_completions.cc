#include "comsec/rpc/call_completions.h"

#include "comsec/base/win32_error.h"

namespace comsec::rpc {
namespace internal {

void CallCompletions::Push(uint32_t call_id, Result<std::vector<uint8_t>> result) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    answers_.emplace_back(call_id, std::move(result));
  }
  if (wake_) wake_();
}

std::vector<CallCompletions::Answer> CallCompletions::Take() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::exchange(answers_, {});
}

void CallCompletions::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  answers_.clear();
}

bool CallCompletions::empty() {
  std::lock_guard<std::mutex> lock(mu_);
  return answers_.empty();
}

}  // namespace internal

CallResponder::CallResponder(std::shared_ptr<internal::CallCompletions> completions,
                             uint32_t call_id)
    : completions_(std::move(completions)), call_id_(call_id) {}

CallResponder::~CallResponder() {
  if (completions_) {
    Finish(Status(RPC_E_SERVERFAULT,
                  "the server abandoned the call without answering it"));
  }
}

CallResponder::CallResponder(CallResponder&& o) noexcept
    : completions_(std::move(o.completions_)), call_id_(o.call_id_) {}

CallResponder& CallResponder::operator=(CallResponder&& o) noexcept {
  if (this != &o) {
    if (completions_) {
      Finish(Status(RPC_E_SERVERFAULT,
                    "the server abandoned the call without answering it"));
    }
    completions_ = std::move(o.completions_);
    call_id_ = o.call_id_;
  }
  return *this;
}

void CallResponder::Finish(Result<std::vector<uint8_t>> result) {
  if (!completions_) return;
  auto completions = std::move(completions_);
  completions_ = nullptr;
  completions->Push(call_id_, std::move(result));
}

Status OpnumOutOfRange(uint16_t opnum) {
  return Status(RPC_S_PROCNUM_OUT_OF_RANGE,
                "the interface has no operation " + std::to_string(opnum));
}

}  // namespace comsec::rpc
