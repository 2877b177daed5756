#include "comsec/base/status.h"

namespace comsec {

Status::Status(HResult code, std::string message)
    : state_(std::make_unique<State>(State{code, std::move(message), {}})) {}

Status::Status(const Status& other)
    : state_(other.state_ ? std::make_unique<State>(*other.state_) : nullptr) {}

Status& Status::operator=(const Status& other) {
  if (this != &other) {
    state_ = other.state_ ? std::make_unique<State>(*other.state_) : nullptr;
  }
  return *this;
}

std::string_view Status::message() const {
  return state_ ? std::string_view(state_->message) : std::string_view();
}

std::optional<size_t> Status::position() const {
  return state_ ? state_->position : std::nullopt;
}

Status&& Status::WithPosition(size_t position) && {
  if (state_) state_->position = position;
  return std::move(*this);
}

Status&& Status::Prefixed(std::string_view context) && {
  if (state_) {
    std::string m(context);
    m += ": ";
    m += state_->message;
    state_->message = std::move(m);
  }
  return std::move(*this);
}

std::string Status::ToString() const {
  if (!state_) return "S_OK";
  std::string out = state_->code.ToString();
  out += ": ";
  out += state_->message;
  return out;
}

}  // namespace comsec
