#include "comsec/base/hex.h"

#include <cstdio>

namespace comsec {

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
    int v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      v = c - 'A' + 10;
    } else {
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

}  // namespace comsec
