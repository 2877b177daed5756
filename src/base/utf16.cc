#include "comsec/base/utf16.h"

namespace comsec {
namespace {

// What the lossy conversions substitute for input they cannot convert.
constexpr char32_t kReplacementCharacter = 0xFFFD;

// Decodes one UTF-8 sequence starting at `*pos`. On success stores the code
// point, advances `*pos` past the sequence and returns true. On failure
// leaves `*pos` at the start of the bad sequence, stores a description in
// `*why` and returns false. Overlong forms, encoded surrogates (which are
// CESU-8, not UTF-8) and code points above U+10FFFF are rejected, because a
// lenient decoder would let two different byte strings name the same key,
// value or account.
bool DecodeUtf8(std::string_view s, size_t* pos, char32_t* out, const char** why) {
  const size_t i = *pos;
  const auto b0 = static_cast<uint8_t>(s[i]);
  if (b0 < 0x80) {
    *out = b0;
    *pos = i + 1;
    return true;
  }
  size_t length;
  char32_t cp;
  char32_t min;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    length = 2;
    cp = b0 & 0x1F;
    min = 0x80;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    length = 3;
    cp = b0 & 0x0F;
    min = 0x800;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    length = 4;
    cp = b0 & 0x07;
    min = 0x10000;
  } else if (b0 == 0xC0 || b0 == 0xC1) {
    *why = "overlong UTF-8 sequence";
    return false;
  } else if (b0 >= 0x80 && b0 <= 0xBF) {
    *why = "UTF-8 continuation byte without a lead byte";
    return false;
  } else {
    *why = "byte that never appears in UTF-8";
    return false;
  }
  if (s.size() - i < length) {
    *why = "truncated UTF-8 sequence";
    return false;
  }
  for (size_t k = 1; k < length; ++k) {
    const auto b = static_cast<uint8_t>(s[i + k]);
    if ((b & 0xC0) != 0x80) {
      *why = "truncated UTF-8 sequence";
      return false;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min) {
    *why = "overlong UTF-8 sequence";
    return false;
  }
  if (cp >= 0xD800 && cp <= 0xDFFF) {
    *why = "UTF-8 encoded surrogate";
    return false;
  }
  if (cp > 0x10FFFF) {
    *why = "code point above U+10FFFF";
    return false;
  }
  *out = cp;
  *pos = i + length;
  return true;
}

void AppendUtf16(char32_t cp, std::u16string* out) {
  if (cp < 0x10000) {
    out->push_back(static_cast<char16_t>(cp));
  } else {
    const uint32_t v = cp - 0x10000;
    out->push_back(static_cast<char16_t>(0xD800 + (v >> 10)));
    out->push_back(static_cast<char16_t>(0xDC00 + (v & 0x3FF)));
  }
}

void AppendUtf16Le(char32_t cp, std::vector<uint8_t>* out) {
  auto unit = [out](uint32_t u) {
    out->push_back(static_cast<uint8_t>(u & 0xFF));
    out->push_back(static_cast<uint8_t>(u >> 8));
  };
  if (cp < 0x10000) {
    unit(cp);
  } else {
    const uint32_t v = cp - 0x10000;
    unit(0xD800 + (v >> 10));
    unit(0xDC00 + (v & 0x3FF));
  }
}

void AppendUtf8(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

Status InvalidUtf8(size_t pos, const char* why) {
  return Status(E_INVALIDARG, std::string("invalid UTF-8 at byte ") + std::to_string(pos) +
                                  ": " + why)
      .WithPosition(pos);
}

// UTF-16 code units (`unit(i)` for i < count) to UTF-8. Strict: the first
// unpaired surrogate is an error naming its byte offset (2 * i). Lossy: it
// becomes U+FFFD.
template <typename UnitAt>
Result<std::string> DecodeUtf16(UnitAt unit, size_t count, bool lossy) {
  std::string out;
  out.reserve(count);
  size_t i = 0;
  while (i < count) {
    const char32_t u = unit(i);
    if (u >= 0xDC00 && u <= 0xDFFF) {
      if (!lossy) {
        return Status(E_INVALIDARG, "unpaired low surrogate at byte " + std::to_string(2 * i) +
                                        " of UTF-16LE text")
            .WithPosition(2 * i);
      }
      AppendUtf8(kReplacementCharacter, &out);
      ++i;
      continue;
    }
    if (u >= 0xD800 && u <= 0xDBFF) {
      const char32_t low = i + 1 < count ? unit(i + 1) : 0;
      if (low < 0xDC00 || low > 0xDFFF) {
        if (!lossy) {
          return Status(E_INVALIDARG, "unpaired high surrogate at byte " +
                                          std::to_string(2 * i) + " of UTF-16LE text")
              .WithPosition(2 * i);
        }
        AppendUtf8(kReplacementCharacter, &out);
        ++i;
        continue;
      }
      AppendUtf8(0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00), &out);
      i += 2;
      continue;
    }
    AppendUtf8(u, &out);
    ++i;
  }
  return out;
}

// UTF-16LE bytes to UTF-8; an odd final byte is an error (strict) or one
// more U+FFFD (lossy).
Result<std::string> DecodeUtf16Le(const uint8_t* data, size_t size, bool lossy) {
  if (size % 2 != 0 && !lossy) {
    return Status(E_INVALIDARG, "UTF-16LE text of " + std::to_string(size) +
                                    " bytes ends in half a character at byte " +
                                    std::to_string(size - 1))
        .WithPosition(size - 1);
  }
  auto unit = [data](size_t i) -> char32_t {
    return data[2 * i] | (static_cast<char32_t>(data[2 * i + 1]) << 8);
  };
  auto out = DecodeUtf16(unit, size / 2, lossy);
  if (out.ok() && size % 2 != 0) AppendUtf8(kReplacementCharacter, &*out);
  return out;
}

// Every code point of `utf8` appended to `out` by `append`; an invalid
// sequence becomes U+FFFD and decoding resumes at the next byte.
template <typename Out, typename Append>
Out TranscodeUtf8Lossy(std::string_view utf8, size_t reserve, Append append) {
  Out out;
  out.reserve(reserve);
  size_t pos = 0;
  while (pos < utf8.size()) {
    char32_t cp;
    const char* why = nullptr;
    if (!DecodeUtf8(utf8, &pos, &cp, &why)) {
      cp = kReplacementCharacter;
      ++pos;
    }
    append(cp, &out);
  }
  return out;
}

}  // namespace

Result<std::vector<uint8_t>> Utf8ToUtf16Le(std::string_view utf8) {
  std::vector<uint8_t> out;
  out.reserve(utf8.size() * 2);
  size_t pos = 0;
  while (pos < utf8.size()) {
    char32_t cp;
    const char* why = nullptr;
    if (!DecodeUtf8(utf8, &pos, &cp, &why)) return InvalidUtf8(pos, why);
    AppendUtf16Le(cp, &out);
  }
  return out;
}

Result<std::string> Utf16LeToUtf8(const uint8_t* data, size_t size) {
  return DecodeUtf16Le(data, size, /*lossy=*/false);
}

std::vector<uint8_t> Utf8ToUtf16LeLossy(std::string_view utf8) {
  return TranscodeUtf8Lossy<std::vector<uint8_t>>(utf8, utf8.size() * 2, AppendUtf16Le);
}

std::string Utf16LeToUtf8Lossy(const uint8_t* data, size_t size) {
  return *DecodeUtf16Le(data, size, /*lossy=*/true);
}

std::u16string Utf8ToUtf16Lossy(std::string_view utf8) {
  return TranscodeUtf8Lossy<std::u16string>(utf8, utf8.size(), AppendUtf16);
}

std::string Utf16ToUtf8Lossy(std::u16string_view utf16) {
  auto unit = [utf16](size_t i) -> char32_t { return utf16[i]; };
  return *DecodeUtf16(unit, utf16.size(), /*lossy=*/true);
}

char16_t UpcaseCodeUnit(char16_t unit) {
  const uint8_t block = internal::kUpcaseIndex[unit >> 8];
  if (block == 0) return unit;
  return static_cast<char16_t>(unit + internal::kUpcaseDeltas[block - 1][unit & 0xFF]);
}

std::u16string UpcaseUtf16(std::u16string_view utf16) {
  std::u16string out(utf16);
  for (char16_t& c : out) c = UpcaseCodeUnit(c);
  return out;
}

std::string_view UpcaseTableUnicodeVersion() { return internal::kUpcaseUnicodeVersion; }

std::string UpcaseUtf8(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  size_t pos = 0;
  while (pos < utf8.size()) {
    const size_t start = pos;
    char32_t cp;
    const char* why = nullptr;
    if (!DecodeUtf8(utf8, &pos, &cp, &why)) {
      out.push_back(utf8[pos]);  // not UTF-8: kept as it is
      ++pos;
      continue;
    }
    if (cp < 0x80) {
      out.push_back(cp >= 'a' && cp <= 'z' ? static_cast<char>(cp - 'a' + 'A')
                                           : static_cast<char>(cp));
    } else if (cp < 0x10000) {
      AppendUtf8(UpcaseCodeUnit(static_cast<char16_t>(cp)), &out);
    } else {
      out.append(utf8.substr(start, pos - start));  // surrogate pairs never change
    }
  }
  return out;
}

Result<std::string> UpcaseAccountName(std::string_view utf8) {
  size_t pos = 0;
  while (pos < utf8.size()) {
    char32_t cp;
    const char* why = nullptr;
    if (!DecodeUtf8(utf8, &pos, &cp, &why)) {
      return InvalidUtf8(pos, why).Prefixed("account name");
    }
  }
  return UpcaseUtf8(utf8);
}

bool AccountNamesEqual(std::string_view a, std::string_view b) {
  auto ua = UpcaseAccountName(a);
  auto ub = UpcaseAccountName(b);
  return ua.ok() && ub.ok() && *ua == *ub;
}

}  // namespace comsec
