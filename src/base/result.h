// Result<T>: a value or the Status that explains why there is none
// (the shape of Abseil's StatusOr), plus the propagation macros.
#pragma once

#include <utility>
#include <variant>

#include "comsec/base/check.h"
#include "comsec/base/status.h"

namespace comsec {

template <typename T>
class [[nodiscard]] Result {
 public:
  // Implicit on purpose: `return value;` and `return status;` both read well.
  Result(T value) : v_(std::move(value)) {}  // NOLINT
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    COMSEC_CHECK(!std::get<Status>(v_).ok(), "Result built from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  Status TakeStatus() && {
    return ok() ? Status() : std::move(std::get<Status>(v_));
  }

  // REQUIRES: ok().
  const T& value() const& {
    COMSEC_CHECK(ok(), status().ToString());
    return std::get<T>(v_);
  }
  T& value() & {
    COMSEC_CHECK(ok(), status().ToString());
    return std::get<T>(v_);
  }
  T&& value() && {
    COMSEC_CHECK(ok(), status().ToString());
    return std::move(std::get<T>(v_));
  }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  std::variant<T, Status> v_;
};

#define COMSEC_INTERNAL_CONCAT2(a, b) a##b
#define COMSEC_INTERNAL_CONCAT(a, b) COMSEC_INTERNAL_CONCAT2(a, b)

// Returns the Status from the enclosing function when `expr` fails.
#define COMSEC_RETURN_IF_ERROR(expr)             \
  do {                                           \
    ::comsec::Status comsec_status_ = (expr);    \
    if (!comsec_status_.ok()) return comsec_status_; \
  } while (0)

// `COMSEC_ASSIGN_OR_RETURN(auto x, Parse(...));`
#define COMSEC_ASSIGN_OR_RETURN(lhs, expr)                                  \
  COMSEC_INTERNAL_ASSIGN_OR_RETURN(                                         \
      COMSEC_INTERNAL_CONCAT(comsec_result_, __LINE__), lhs, expr)
#define COMSEC_INTERNAL_ASSIGN_OR_RETURN(tmp, lhs, expr) \
  auto tmp = (expr);                                     \
  if (!tmp.ok()) return std::move(tmp).TakeStatus();     \
  lhs = std::move(tmp).value()

}  // namespace comsec
