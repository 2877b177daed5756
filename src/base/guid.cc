#include "comsec/base/guid.h"

#include <cstdio>

#include "comsec/base/hex.h"

namespace comsec {
Result<Guid> Guid::Parse(std::string_view text) {
  std::string_view body = text;
  if (!body.empty() && body.front() == '{') {
    if (body.size() < 2 || body.back() != '}') {
      return InvalidArgument("GUID \"" + std::string(text) +
                             "\" opens a brace it does not close");
    }
    body = body.substr(1, body.size() - 2);
  }
  if (body.size() != 36) {
    return InvalidArgument("GUID \"" + std::string(text) +
                           "\" is not in the form "
                           "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx");
  }
  uint8_t nibbles[32];
  size_t n = 0;
  for (size_t i = 0; i < body.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (body[i] != '-') {
        return Status(E_INVALIDARG, "GUID \"" + std::string(text) +
                                        "\" needs '-' at character " +
                                        std::to_string(i + 1))
            .WithPosition(i);
      }
      continue;
    }
    const int v = HexDigitValue(body[i]);
    if (v < 0) {
      return Status(E_INVALIDARG, "GUID \"" + std::string(text) +
                                      "\" has a non-hex character at " +
                                      std::to_string(i + 1))
          .WithPosition(i);
    }
    nibbles[n++] = static_cast<uint8_t>(v);
  }
  auto byte_at = [&](size_t i) {
    return static_cast<uint8_t>(nibbles[2 * i] << 4 | nibbles[2 * i + 1]);
  };
  Guid g;
  g.data1 = uint32_t{byte_at(0)} << 24 | uint32_t{byte_at(1)} << 16 |
            uint32_t{byte_at(2)} << 8 | byte_at(3);
  g.data2 = static_cast<uint16_t>(byte_at(4) << 8 | byte_at(5));
  g.data3 = static_cast<uint16_t>(byte_at(6) << 8 | byte_at(7));
  for (size_t i = 0; i < 8; ++i) g.data4[i] = byte_at(8 + i);
  return g;
}

Guid Guid::FromBytes(const uint8_t* b) {
  Guid g;
  g.data1 = uint32_t{b[0]} | uint32_t{b[1]} << 8 | uint32_t{b[2]} << 16 |
            uint32_t{b[3]} << 24;
  g.data2 = static_cast<uint16_t>(b[4] | b[5] << 8);
  g.data3 = static_cast<uint16_t>(b[6] | b[7] << 8);
  for (size_t i = 0; i < 8; ++i) g.data4[i] = b[8 + i];
  return g;
}

std::array<uint8_t, 16> Guid::ToBytes() const {
  std::array<uint8_t, 16> b{};
  for (int i = 0; i < 4; ++i) b[i] = static_cast<uint8_t>(data1 >> (8 * i));
  b[4] = static_cast<uint8_t>(data2);
  b[5] = static_cast<uint8_t>(data2 >> 8);
  b[6] = static_cast<uint8_t>(data3);
  b[7] = static_cast<uint8_t>(data3 >> 8);
  for (size_t i = 0; i < 8; ++i) b[8 + i] = data4[i];
  return b;
}

std::string Guid::ToString() const {
  char buf[40];
  std::snprintf(buf, sizeof buf,
                "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", data1,
                data2, data3, data4[0], data4[1], data4[2], data4[3], data4[4],
                data4[5], data4[6], data4[7]);
  return buf;
}

std::string Guid::ToRegistryString() const {
  std::string s;
  s.reserve(38);
  s += '{';
  s += ToString();
  s += '}';
  for (char& c : s) {
    if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

bool Guid::IsNil() const { return *this == Guid{}; }

}  // namespace comsec
