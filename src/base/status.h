// Status: the outcome of an operation — an HResult, a sentence a person can
// act on, and an optional detail (a byte offset, an SDDL position, an RPC
// fault). Success is a null pointer, so returning OK costs nothing
// (the shape of LevelDB's Status).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "comsec/base/hresult.h"

namespace comsec {

class [[nodiscard]] Status {
 public:
  // OK.
  Status() = default;
  Status(HResult code, std::string message);

  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status Ok() { return Status(); }

  bool ok() const { return state_ == nullptr; }
  // S_OK when ok().
  HResult code() const { return state_ ? state_->code : S_OK; }
  // "" when ok().
  std::string_view message() const;

  // Where in the input the error was found (byte offset or character
  // position), when that is known.
  std::optional<size_t> position() const;
  Status&& WithPosition(size_t position) &&;

  // "E_INVALIDARG (0x80070057): <message>".
  std::string ToString() const;

  // Prepends context: "while reading the DACL: <old message>".
  Status&& Prefixed(std::string_view context) &&;

 private:
  struct State {
    HResult code;
    std::string message;
    std::optional<size_t> position;
  };
  std::unique_ptr<State> state_;
};

// Helpers for the most common failures, so call sites stay one line.
inline Status InvalidArgument(std::string message) {
  return Status(E_INVALIDARG, std::move(message));
}

}  // namespace comsec
