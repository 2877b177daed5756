// Fuzz target: SplitCommandLine (activation/command_line.h) on arbitrary
// bytes. Whatever the input, it returns words or E_INVALIDARG; the words
// are never empty as a list, never hold a NUL, and quoting each in single
// quotes (a ' written as '\'') and joining them splits back to the same
// words.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "comsec/activation/command_line.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace comsec;
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  auto words = activation::SplitCommandLine(line);
  if (!words.ok()) {
    if (words.status().code() != E_INVALIDARG) std::abort();
    return 0;
  }
  if (words->empty()) std::abort();
  std::string quoted;
  for (const std::string& w : *words) {
    if (w.find('\0') != std::string::npos) std::abort();
    if (!quoted.empty()) quoted += ' ';
    quoted += '\'';
    for (char c : w) {
      if (c == '\'') {
        quoted += "'\\''";
      } else {
        quoted += c;
      }
    }
    quoted += '\'';
  }
  if (quoted.size() > activation::kMaxCommandLineBytes) return 0;
  auto again = activation::SplitCommandLine(quoted);
  if (!again.ok() || *again != *words) std::abort();
  return 0;
}
