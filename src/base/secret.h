// Memory that holds a secret (a password, an NT hash, a session, signing or
// sealing key) is wiped when it is freed, so that a later heap disclosure,
// core dump or swapped page does not reveal it (issue 9, item 11).
//
// Secrets are kept in these types from the moment they are read to the
// moment they are dropped; they are never copied into plain std::string or
// std::vector, and never logged.
//
// Thread-safety: plain values; a given object is used by one thread at a
// time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace comsec {

// OPENSSL_cleanse: a store the compiler may not optimise away.
void WipeSecret(void* data, size_t size);

// A fixed-size secret with std::array's interface (it is one), wiped when
// destroyed. Copies are wiped too, each when it dies.
template <size_t N>
struct SecretArray : std::array<uint8_t, N> {
  ~SecretArray() { WipeSecret(this->data(), N); }
};

// A password (UTF-8), wiped when destroyed or replaced. Its buffer is
// reserved up front so that appending while reading does not leave copies
// behind in freed memory.
class SecretString {
 public:
  SecretString() { value_.reserve(kReserved); }
  SecretString(std::string_view s) : SecretString() { value_.assign(s); }  // NOLINT: implicit
  SecretString(const char* s) : SecretString(std::string_view(s)) {}     // NOLINT: implicit
  SecretString(const std::string& s) : SecretString(std::string_view(s)) {}  // NOLINT: implicit
  SecretString(const SecretString& o) : SecretString(std::string_view(o.value_)) {}
  SecretString& operator=(const SecretString& o) {
    if (this != &o) {
      Wipe();
      value_.assign(o.value_);
    }
    return *this;
  }
  ~SecretString() { Wipe(); }

  std::string_view view() const { return value_; }
  bool empty() const { return value_.empty(); }
  // For readers that fill it (getline): the string itself, wiped later by
  // this object.
  std::string& mutable_value() { return value_; }

 private:
  static constexpr size_t kReserved = 256;
  void Wipe() {
    WipeSecret(value_.data(), value_.capacity());
    value_.clear();
  }
  std::string value_;
};

}  // namespace comsec
