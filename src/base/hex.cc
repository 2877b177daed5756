#include "comsec/base/hex.h"

#include <cstdio>

namespace comsec {
namespace {

// "ffffffff": lowercase, no leading zeros.
std::string ToHex64(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

std::string ToHex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.resize(bytes.size() * 2);
  for (size_t i = 0; i < bytes.size(); ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 0xF];
  }
  return out;
}

std::string HexU32(uint32_t value) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%x", value);
  return buf;
}

Result<std::vector<uint8_t>> FromHex(std::string_view text) {
  std::vector<uint8_t> out;
  out.reserve(text.size() / 2);
  int high = -1;
  size_t high_pos = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ':' ||
        c == ',') {
      if (high >= 0) {
        return Status(E_INVALIDARG, "hex: digit at position " +
                                        std::to_string(high_pos + 1) +
                                        " is half a byte")
            .WithPosition(high_pos);
      }
      continue;
    }
    const int v = HexDigitValue(c);
    if (v < 0) {
      return Status(E_INVALIDARG, "hex: unexpected character '" +
                                      std::string(1, c) + "' at position " +
                                      std::to_string(i + 1))
          .WithPosition(i);
    }
    if (high < 0) {
      high = v;
      high_pos = i;
    } else {
      out.push_back(static_cast<uint8_t>(high << 4 | v));
      high = -1;
    }
  }
  if (high >= 0) {
    return Status(E_INVALIDARG, "hex: odd number of digits; the last digit at "
                                "position " + std::to_string(high_pos + 1) +
                                    " is half a byte")
        .WithPosition(high_pos);
  }
  return out;
}

int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

size_t HexDigitRun(std::string_view text) {
  size_t n = 0;
  while (n < text.size() && HexDigitValue(text[n]) >= 0) ++n;
  return n;
}

Result<uint64_t> ParseUnsigned(std::string_view text, NumberBase base, uint64_t max) {
  unsigned radix = 10;
  size_t start = 0;
  const bool hex_prefix =
      text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
  switch (base) {
    case NumberBase::kHex:
      radix = 16;
      break;
    case NumberBase::kDecimal:
      break;
    case NumberBase::kDecimalOrHex:
      if (hex_prefix) {
        radix = 16;
        start = 2;
      }
      break;
    case NumberBase::kC:
      if (hex_prefix) {
        radix = 16;
        start = 2;
      } else if (text.size() > 1 && text[0] == '0') {
        radix = 8;
        start = 1;
      }
      break;
  }
  if (start == text.size()) {
    return Status(E_INVALIDARG, start == 2 ? "no digits after " + std::string(text.substr(0, 2))
                                           : std::string("no digits"))
        .WithPosition(0);
  }
  uint64_t value = 0;
  for (size_t i = start; i < text.size(); ++i) {
    const int d = HexDigitValue(text[i]);
    if (d < 0 || static_cast<unsigned>(d) >= radix) {
      static constexpr const char* kNames[] = {"octal", "decimal", "hex"};
      const char* name = kNames[radix == 8 ? 0 : radix == 10 ? 1 : 2];
      return Status(E_INVALIDARG,
                    "'" + std::string(1, text[i]) + "' is not " + (radix == 8 ? "an " : "a ") +
                        name + " digit")
          .WithPosition(i);
    }
    if (static_cast<uint64_t>(d) > max || value > (max - static_cast<uint64_t>(d)) / radix) {
      return Status(E_INVALIDARG, radix == 16 ? "exceeds 0x" + ToHex64(max)
                                              : "exceeds " + std::to_string(max))
          .WithPosition(0);
    }
    value = value * radix + static_cast<uint64_t>(d);
  }
  return value;
}

}  // namespace comsec
