// Hex, and the other bases numbers are written in: the one place comsec
// reads digits. Lowercase hex encoding of byte strings and its strict
// inverse (command lines, test vectors); single hex digits (GUIDs, .reg
// byte lists); and unsigned numbers in the forms Windows writes them:
// plain hex ("dword:0000001f", "REG_0x1f"), decimal or 0x-hex (SID parts,
// [MS-DTYP] 2.4.2.1), and C's base 0 as wcstoul reads SDDL access masks
// and command-line numbers ("0x1f", "017", "31").
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

// The value of one hex digit ('0'-'9', 'a'-'f', 'A'-'F'), or -1.
int HexDigitValue(char c);
// How many hex digits `text` starts with.
size_t HexDigitRun(std::string_view text);

// How ParseUnsigned reads the digits.
enum class NumberBase {
  kHex,           // hex digits only, no prefix
  kDecimal,       // decimal digits only
  kDecimalOrHex,  // "0x"/"0X" then hex digits, else decimal (SID parts)
  kC,             // C's base 0: "0x"/"0X" hex, a leading '0' octal, else decimal
};

// Reads all of `text` as an unsigned number no greater than `max`: no
// sign, no blanks, at least one digit (after any prefix). Fails with
// E_INVALIDARG whose position() is the offset in `text` of the character
// at fault (0, the whole number, for "no digits" and "too large") and whose
// message says what is wrong there, for the caller to put in context:
// "'g' is not a hex digit", "no digits after 0x", "exceeds 0xffffffff".
Result<uint64_t> ParseUnsigned(std::string_view text, NumberBase base, uint64_t max);

}  // namespace comsec
