// Lowercase hex encoding of byte strings, and its strict inverse, for
// command lines and test vectors.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "comsec/base/result.h"

namespace comsec {

std::string ToHex(std::span<const uint8_t> bytes);
// "0x1f": a mask or code as Windows tools print it.
std::string HexU32(uint32_t value);
// Accepts upper or lower case; ignores whitespace, ':' and ',' separators so
// that regedit's "01,00,04,80" and spaced dumps paste in. An odd number of
// digits or any other character is an error naming its position.
Result<std::vector<uint8_t>> FromHex(std::string_view text);

}  // namespace comsec
