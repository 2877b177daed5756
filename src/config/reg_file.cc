#include "comsec/config/reg_file.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "comsec/base/hex.h"
#include "comsec/base/utf16.h"
#include "comsec/config/key_path.h"

namespace comsec::config {
namespace {

constexpr std::string_view kHeader5 = "Windows Registry Editor Version 5.00";
constexpr std::string_view kHeader4 = "REGEDIT4";

// regedit wraps a hex list so that no line, its ",\" included, passes 80
// columns; continuation lines start with two spaces.
constexpr size_t kHexLineWidth = 80;
constexpr std::string_view kHexIndent = "  ";

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

char LowerAscii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool EqualsIgnoringAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (LowerAscii(a[i]) != LowerAscii(b[i])) return false;
  }
  return true;
}

// Characters (code points) in UTF-8 text: every byte that is not a
// continuation byte starts one.
size_t CodePoints(std::string_view utf8) {
  size_t n = 0;
  for (char c : utf8) {
    if ((static_cast<uint8_t>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

void AppendLatin1AsUtf8(uint8_t b, std::string* out) {
  if (b < 0x80) {
    out->push_back(static_cast<char>(b));
  } else {
    out->push_back(static_cast<char>(0xC0 | (b >> 6)));
    out->push_back(static_cast<char>(0x80 | (b & 0x3F)));
  }
}

// The error every syntax problem becomes: "line L, column C: <what>", with
// the byte offset in the decoded text as the position. Lines and columns are
// computed here, from the offset, so that no parsing step has to track them.
Status SyntaxError(std::string_view text, size_t offset,
                   std::string_view what) {
  if (offset > text.size()) offset = text.size();
  size_t line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  const size_t column =
      CodePoints(text.substr(line_start, offset - line_start)) + 1;
  return Status(E_INVALIDARG, "line " + std::to_string(line) + ", column " +
                                  std::to_string(column) + ": " +
                                  std::string(what))
      .WithPosition(offset);
}

// ===========================================================================
// Decoding: bytes to UTF-8 text. Invariant on success: the text is valid
// UTF-8, so the parser can treat any byte >= 0x80 as part of a character
// and never meets a malformed one.

// True when the first non-blank line of raw 8-bit bytes is the REGEDIT4
// header, which makes a BOM-less file ANSI rather than UTF-8.
bool StartsWithRegedit4Header(std::span<const uint8_t> bytes) {
  size_t i = 0;
  while (i < bytes.size()) {
    size_t end = i;
    while (end < bytes.size() && bytes[end] != '\n') ++end;
    size_t last = end;
    while (last > i && (bytes[last - 1] == '\r' || IsBlank(bytes[last - 1]))) {
      --last;
    }
    size_t first = i;
    while (first < last && IsBlank(bytes[first])) ++first;
    if (first < last) {
      std::string_view line(reinterpret_cast<const char*>(bytes.data()) + i,
                            last - i);
      return line == kHeader4;
    }
    i = end + 1;
  }
  return false;
}

Result<std::string> DecodeUtf16Le(std::span<const uint8_t> body) {
  // An odd trailing byte is half a character; report it where the decoded
  // text stops.
  const size_t whole = body.size() - body.size() % 2;
  auto text = Utf16LeToUtf8(body.data(), whole);
  if (!text.ok()) {
    const size_t at = text.status().position().value_or(0);
    auto prefix = Utf16LeToUtf8(body.data(), at);
    std::string decoded = prefix.ok() ? std::move(*prefix) : std::string();
    return SyntaxError(decoded, decoded.size(),
                       "the UTF-16 text has an unpaired surrogate (file byte " +
                           std::to_string(at + 2) + ")");
  }
  if (whole != body.size()) {
    return SyntaxError(*text, text->size(),
                       "the UTF-16 file ends in half a character");
  }
  return text;
}

Result<std::string> ValidateUtf8(std::string_view text) {
  // Converting one line at a time bounds the temporary UTF-16 copy; a
  // line feed never occurs inside a UTF-8 sequence.
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    auto converted = Utf8ToUtf16Le(text.substr(start, end - start));
    if (!converted.ok()) {
      const size_t at = start + converted.status().position().value_or(0);
      return SyntaxError(text, at, "the file is not valid UTF-8 here");
    }
    start = end + 1;
  }
  return std::string(text);
}

Result<std::string> DecodeText(std::span<const uint8_t> bytes) {
  if (bytes.size() > kMaxRegFileSize) {
    return SyntaxError("", 0,
                       "the file is " + std::to_string(bytes.size()) +
                           " bytes; .reg files are limited to " +
                           std::to_string(kMaxRegFileSize) + " bytes");
  }
  if (bytes.size() >= 2 && bytes[0] == 0xFF && bytes[1] == 0xFE) {
    return DecodeUtf16Le(bytes.subspan(2));
  }
  if (bytes.size() >= 2 && bytes[0] == 0xFE && bytes[1] == 0xFF) {
    return SyntaxError("", 0,
                       "UTF-16 big-endian files are not supported; save the "
                       "file as UTF-16LE (\"Unicode\") or UTF-8");
  }
  if (bytes.size() >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB &&
      bytes[2] == 0xBF) {
    return ValidateUtf8(std::string_view(
        reinterpret_cast<const char*>(bytes.data()) + 3, bytes.size() - 3));
  }
  if (StartsWithRegedit4Header(bytes)) {
    // REGEDIT4 files are in the ANSI code page; comsec reads them as
    // Latin-1, whose bytes are the first 256 code points.
    std::string text;
    text.reserve(bytes.size());
    for (uint8_t b : bytes) AppendLatin1AsUtf8(b, &text);
    return text;
  }
  return ValidateUtf8(std::string_view(
      reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

// ===========================================================================
// Parsing: one pass over the decoded text, line by line. Invariant between
// lines: `ops_` holds the operations of every complete entry so far, and
// `section_` says whether value lines may appear (after [key]) or not
// (before any key, or after [-key]).

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<std::vector<RegOperation>> Run() {
    COMSEC_RETURN_IF_ERROR(ParseHeader());
    for (;;) {
      COMSEC_ASSIGN_OR_RETURN(bool more, NextLine());
      if (!more) break;
      const size_t p = SkipBlanks(line_begin_);
      if (p == line_end_ || text_[p] == ';') continue;
      switch (text_[p]) {
        case '[':
          COMSEC_RETURN_IF_ERROR(ParseKeyLine(p));
          break;
        case '"':
        case '@':
          COMSEC_RETURN_IF_ERROR(ParseValueLine(p));
          break;
        default:
          return Error(p,
                       "expected a key line \"[...]\", a value line "
                       "(\"name\"=... or @=...) or a ';' comment, found " +
                           Quote(p));
      }
    }
    return std::move(ops_);
  }

 private:
  enum class Section : uint8_t { kNone, kKey, kDeletedKey };

  Status Error(size_t offset, std::string_view what) const {
    return SyntaxError(text_, offset, what);
  }

  // The character at `pos`, quoted, for messages.
  std::string Quote(size_t pos) const {
    size_t end = pos + 1;
    while (end < line_end_ &&
           (static_cast<uint8_t>(text_[end]) & 0xC0) == 0x80) {
      ++end;
    }
    return "'" + std::string(text_.substr(pos, end - pos)) + "'";
  }

  size_t SkipBlanks(size_t pos) const {
    while (pos < line_end_ && IsBlank(text_[pos])) ++pos;
    return pos;
  }

  bool StartsWithIgnoringCase(size_t pos, std::string_view word) const {
    return line_end_ - pos >= word.size() &&
           EqualsIgnoringAsciiCase(text_.substr(pos, word.size()), word);
  }

  // Moves to the next line; false at the end of the text. A line ends at
  // LF, and a CR just before the LF (or the end) belongs to the line ending.
  Result<bool> NextLine() {
    if (next_ >= text_.size()) return false;
    line_begin_ = next_;
    size_t end = text_.find('\n', line_begin_);
    if (end == std::string_view::npos) {
      end = text_.size();
      next_ = text_.size();
    } else {
      next_ = end + 1;
    }
    if (end > line_begin_ && text_[end - 1] == '\r') --end;
    line_end_ = end;
    ++line_number_;
    for (size_t i = line_begin_; i < line_end_; ++i) {
      // A NUL would end the string early in any C reader of the value and
      // a lone CR is a line break to some editors and not to others; both
      // make the file mean different things to different tools.
      if (text_[i] == '\0') return Error(i, "NUL character in the file");
      if (text_[i] == '\r') {
        return Error(i, "carriage return not followed by a line feed");
      }
    }
    return true;
  }

  Status ParseHeader() {
    for (;;) {
      COMSEC_ASSIGN_OR_RETURN(bool more, NextLine());
      if (!more) {
        return Error(0, "the file is empty; it must start with \"" +
                            std::string(kHeader5) + "\" or \"" +
                            std::string(kHeader4) + "\"");
      }
      if (SkipBlanks(line_begin_) != line_end_) break;
    }
    size_t end = line_end_;
    while (end > line_begin_ && IsBlank(text_[end - 1])) --end;
    const std::string_view header =
        text_.substr(line_begin_, end - line_begin_);
    if (header == kHeader5) {
      regedit4_ = false;
    } else if (header == kHeader4) {
      regedit4_ = true;
    } else {
      return Error(line_begin_, "expected the header \"" +
                                    std::string(kHeader5) + "\" or \"" +
                                    std::string(kHeader4) + "\"");
    }
    return Status();
  }

  Status ParseKeyLine(size_t open) {
    // The path ends at the last ']' because key names may contain ']'.
    size_t close = line_end_;
    for (size_t i = line_end_; i > open + 1; --i) {
      if (text_[i - 1] == ']') {
        close = i - 1;
        break;
      }
    }
    if (close == line_end_) {
      return Error(line_end_, "the key line has no closing ']'");
    }
    if (const size_t after = SkipBlanks(close + 1); after != line_end_) {
      return Error(after, "unexpected text after the key's closing ']'");
    }
    size_t begin = open + 1;
    const bool remove = begin < close && text_[begin] == '-';
    if (remove) ++begin;
    const std::string_view path = text_.substr(begin, close - begin);
    if (path.empty()) return Error(begin, "empty key path");

    const size_t root_end = std::min(path.find('\\'), path.size());
    const std::string_view root = path.substr(0, root_end);
    std::string_view canonical;
    if (EqualsIgnoringAsciiCase(root, kHklm) ||
        EqualsIgnoringAsciiCase(root, "HKLM")) {
      canonical = kHklm;
    } else if (EqualsIgnoringAsciiCase(root, kHkcr) ||
               EqualsIgnoringAsciiCase(root, "HKCR")) {
      canonical = kHkcr;
    } else {
      return Error(begin, "root key \"" + std::string(root) +
                              "\" is not supported; comsec's registry holds "
                              "HKEY_LOCAL_MACHINE (HKLM) and its "
                              "HKEY_CLASSES_ROOT (HKCR) view");
    }
    std::string key(canonical);
    key += path.substr(root_end);
    if (auto parsed = KeyPath::Parse(key); !parsed.ok()) {
      return Error(begin, parsed.status().message());
    }
    const std::string_view below_root = path.substr(root_end);
    if (remove && (below_root.empty() || below_root == "\\")) {
      // regedit refuses to delete a predefined key; doing it here would
      // wipe the whole store (or every class registration).
      return Error(open,
                   "refusing to delete the root key " + std::string(canonical));
    }
    RegOperation op;
    op.kind = remove ? RegOperation::Kind::kDeleteKey
                     : RegOperation::Kind::kCreateKey;
    op.key = key;
    op.line = line_number_;
    ops_.push_back(std::move(op));
    section_ = remove ? Section::kDeletedKey : Section::kKey;
    key_ = std::move(key);
    return Status();
  }

  // Reads a quoted name or string starting at the '"' at `*pos` and leaves
  // `*pos` after the closing quote. Strings do not continue across lines.
  Result<std::string> ParseQuoted(size_t* pos) {
    const size_t open = *pos;
    std::string out;
    size_t i = open + 1;
    for (;;) {
      if (i >= line_end_) {
        return Error(open, "unterminated string: no closing '\"' on this line");
      }
      const char c = text_[i];
      if (c == '"') break;
      if (c != '\\') {
        out.push_back(c);
        ++i;
        continue;
      }
      if (i + 1 >= line_end_) {
        return Error(open, "unterminated string: no closing '\"' on this line");
      }
      // regedit 5 escapes only \ and " when it writes; newer versions also
      // write \n and \r for line breaks inside strings. Anything else is
      // refused rather than guessed at (older regedit kept the letter, Wine
      // warns and keeps it; \0 is refused by both).
      switch (text_[i + 1]) {
        case '\\':
          out.push_back('\\');
          break;
        case '"':
          out.push_back('"');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        default:
          return Error(i, "unknown escape '\\" + Quote(i + 1).substr(1) +
                              " in a string; only \\\\, \\\", \\n and \\r "
                              "are allowed");
      }
      i += 2;
    }
    *pos = i + 1;
    return out;
  }

  // After complete data only blanks or a ';' comment may follow.
  Status ExpectEnd(size_t pos, std::string_view after_what) const {
    const size_t p = SkipBlanks(pos);
    if (p == line_end_ || text_[p] == ';') return Status();
    return Error(p, "unexpected text after " + std::string(after_what));
  }

  // Reads comma-separated two-digit hex bytes from `pos`, following '\'
  // continuations onto later lines, up to `limit` bytes.
  Result<std::vector<uint8_t>> ParseHexList(size_t pos, size_t limit) {
    std::vector<uint8_t> out;
    // True at the start of the list and after a comma, where a byte, a
    // continuation or the end may come; false right after a byte, where a
    // comma or the end may come.
    bool after_separator = true;
    for (;;) {
      pos = SkipBlanks(pos);
      if (pos == line_end_ || text_[pos] == ';') return out;
      const char c = text_[pos];
      if (c == '\\') {
        if (!after_separator) {
          return Error(pos, "missing ',' before the line continuation '\\'");
        }
        COMSEC_RETURN_IF_ERROR(
            ExpectEnd(pos + 1, "the line continuation '\\'"));
        const size_t continued_line = line_number_;
        COMSEC_ASSIGN_OR_RETURN(bool more, NextLine());
        if (!more) {
          return Error(text_.size(),
                       "the file ends inside a value continued with '\\' on "
                       "line " +
                           std::to_string(continued_line));
        }
        pos = SkipBlanks(line_begin_);
        if (pos == line_end_) {
          return Error(pos,
                       "blank line inside a value continued with '\\' "
                       "on line " +
                           std::to_string(continued_line));
        }
        // regedit writes none, and accepting one would let a stray ';' hide
        // the bytes that follow it.
        if (text_[pos] == ';') {
          return Error(pos,
                       "comment line inside a value continued with '\\' "
                       "on line " +
                           std::to_string(continued_line));
        }
        continue;
      }
      if (!after_separator) {
        if (c == ',') {
          after_separator = true;
          ++pos;
          continue;
        }
        if (HexDigitValue(c) >= 0) {
          return Error(pos, "missing ',' between hex bytes");
        }
        return Error(pos, "unexpected " + Quote(pos) + " in a hex byte list");
      }
      const size_t digits = HexDigitRun(text_.substr(pos, line_end_ - pos));
      if (digits == 0) {
        return Error(pos, "expected a two-digit hex byte, found " + Quote(pos));
      }
      if (digits != 2) {
        return Error(pos, "hex byte \"" +
                              std::string(text_.substr(pos, digits)) +
                              "\" must be exactly two digits");
      }
      if (out.size() >= limit) {
        return Error(pos, "the value's data passes the limit of " +
                              std::to_string(kMaxRegValueDataSize) + " bytes");
      }
      out.push_back(static_cast<uint8_t>(HexDigitValue(text_[pos]) << 4 |
                                         HexDigitValue(text_[pos + 1])));
      pos += 2;
      after_separator = false;
    }
  }

  Status ParseValueLine(size_t start) {
    if (section_ == Section::kNone) {
      return Error(start, "a value line must follow a key line \"[...]\"");
    }
    if (section_ == Section::kDeletedKey) {
      return Error(
          start, "a value line cannot follow the key deletion [-" + key_ + "]");
    }
    RegOperation op;
    op.key = key_;
    op.line = line_number_;
    size_t pos = start;
    if (text_[pos] == '@') {
      ++pos;
    } else {
      COMSEC_ASSIGN_OR_RETURN(op.value.name, ParseQuoted(&pos));
      // The name came from valid UTF-8 text with ASCII escapes, so it
      // converts; the conversion measures it in UTF-16 characters.
      auto units = Utf8ToUtf16Le(op.value.name);
      if (!units.ok() || units->size() / 2 > kMaxValueNameLength) {
        return Error(start, "the value name is longer than " +
                                std::to_string(kMaxValueNameLength) +
                                " characters");
      }
    }
    pos = SkipBlanks(pos);
    if (pos == line_end_ || text_[pos] != '=') {
      return Error(pos, "expected '=' after the value name");
    }
    pos = SkipBlanks(pos + 1);
    if (pos == line_end_) return Error(pos, "missing data after '='");

    RegValue& v = op.value;
    if (text_[pos] == '-') {
      COMSEC_RETURN_IF_ERROR(ExpectEnd(pos + 1, "'-'"));
      op.kind = RegOperation::Kind::kDeleteValue;
      ops_.push_back(std::move(op));
      return Status();
    }
    op.kind = RegOperation::Kind::kSetValue;
    if (text_[pos] == '"') {
      const size_t open = pos;
      COMSEC_ASSIGN_OR_RETURN(std::string s, ParseQuoted(&pos));
      auto utf16 = Utf8ToUtf16Le(s);
      if (!utf16.ok()) {
        // DecodeText validated the text and escapes add only ASCII.
        return Status(E_UNEXPECTED,
                      "string data is not UTF-8 after "
                      "DecodeText validated it");
      }
      v.type = RegType::kSz;
      v.data = std::move(*utf16);
      v.data.push_back(0);
      v.data.push_back(0);
      if (v.data.size() > kMaxRegValueDataSize) {
        return Error(open, "the string passes the limit of " +
                               std::to_string(kMaxRegValueDataSize) + " bytes");
      }
      COMSEC_RETURN_IF_ERROR(ExpectEnd(pos, "the string"));
    } else if (StartsWithIgnoringCase(pos, "dword:")) {
      pos += 6;
      const size_t digits = HexDigitRun(text_.substr(pos, line_end_ - pos));
      if (digits == 0) return Error(pos, "dword: needs 1 to 8 hex digits");
      if (digits > 8) {
        return Error(pos, "dword: has " + std::to_string(digits) +
                              " hex digits; a DWORD holds at most 8");
      }
      const auto dword = static_cast<uint32_t>(
          *ParseUnsigned(text_.substr(pos, digits), NumberBase::kHex, 0xFFFFFFFFu));
      COMSEC_RETURN_IF_ERROR(ExpectEnd(pos + digits, "the dword"));
      v = RegValue::Dword(std::move(v.name), dword);
    } else if (StartsWithIgnoringCase(pos, "hex:")) {
      v.type = RegType::kBinary;
      COMSEC_ASSIGN_OR_RETURN(v.data,
                              ParseHexList(pos + 4, kMaxRegValueDataSize));
    } else if (StartsWithIgnoringCase(pos, "hex(")) {
      pos += 4;
      const size_t digits = HexDigitRun(text_.substr(pos, line_end_ - pos));
      if (digits == 0) {
        return Error(pos, "hex( needs a type number of 1 to 8 hex digits");
      }
      if (digits > 8) {
        return Error(pos, "the type number has " + std::to_string(digits) +
                              " hex digits; a type holds at most 8");
      }
      const auto type = static_cast<uint32_t>(
          *ParseUnsigned(text_.substr(pos, digits), NumberBase::kHex, 0xFFFFFFFFu));
      pos += digits;
      if (line_end_ - pos < 2 || text_[pos] != ')' || text_[pos + 1] != ':') {
        return Error(pos, "expected \"):\" after the type number");
      }
      v.type = static_cast<RegType>(type);
      // regedit reads REG_EXPAND_SZ and REG_MULTI_SZ hex data in a REGEDIT4
      // file as single-byte characters and widens them to UTF-16LE;
      // RegFile.Regedit4WidensExpandAndMultiSz pins it.
      const bool widen = regedit4_ && (v.type == RegType::kExpandSz ||
                                       v.type == RegType::kMultiSz);
      COMSEC_ASSIGN_OR_RETURN(
          std::vector<uint8_t> bytes,
          ParseHexList(pos + 2, widen ? kMaxRegValueDataSize / 2
                                      : kMaxRegValueDataSize));
      if (widen) {
        v.data.reserve(bytes.size() * 2);
        for (uint8_t b : bytes) {
          v.data.push_back(b);
          v.data.push_back(0);
        }
      } else {
        v.data = std::move(bytes);
      }
    } else {
      return Error(pos, "unknown value data " + Quote(pos) +
                            "; expected \"string\", dword:, hex:, hex(type): "
                            "or -");
    }
    ops_.push_back(std::move(op));
    return Status();
  }

  std::string_view text_;
  bool regedit4_ = false;
  // The current line is [line_begin_, line_end_), without its line ending;
  // `next_` is where the following line starts.
  size_t next_ = 0;
  size_t line_begin_ = 0;
  size_t line_end_ = 0;
  size_t line_number_ = 0;
  Section section_ = Section::kNone;
  std::string key_;
  std::vector<RegOperation> ops_;
};

// ===========================================================================
// Formatting. The text is built as UTF-8 and encoded at the end; each
// value's form is chosen so that Parser reads back the same bytes.

// Replaces every byte that does not start valid UTF-8 with U+FFFD, so that
// the output is always well-formed text.
std::string SanitizeUtf8(std::string_view s) {
  std::string out;
  size_t start = 0;
  while (start < s.size()) {
    auto converted = Utf8ToUtf16Le(s.substr(start));
    if (converted.ok()) {
      out += s.substr(start);
      break;
    }
    const size_t bad = start + converted.status().position().value_or(0);
    out += s.substr(start, bad - start);
    out += "\xEF\xBF\xBD";
    start = bad + 1;
  }
  return out;
}

void AppendQuoted(std::string_view text, std::string* out) {
  out->push_back('"');
  for (char c : text) {
    switch (c) {
      case '\\':
        *out += "\\\\";
        break;
      case '"':
        *out += "\\\"";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      default:
        out->push_back(c);
    }
  }
  out->push_back('"');
}

// The text of REG_SZ data when it can be written as a quoted string and read
// back byte for byte: one well-formed UTF-16 string, exactly one NUL at the
// end, and no control characters (which editors and mail mangle, and which
// older regedit cannot escape). REGEDIT4 allows printable ASCII only, the
// one range every ANSI code page agrees on.
bool QuotableString(const std::vector<uint8_t>& data, bool ascii_only,
                    std::string* text) {
  if (data.size() < 2 || data.size() % 2 != 0) return false;
  if (data[data.size() - 2] != 0 || data[data.size() - 1] != 0) return false;
  for (size_t i = 0; i + 2 < data.size(); i += 2) {
    const uint16_t u = static_cast<uint16_t>(data[i] | data[i + 1] << 8);
    // U+0000 is among the controls, so an embedded NUL falls back to hex.
    if (u < 0x20 || u == 0x7F) return false;
    if (ascii_only && u > 0x7E) return false;
  }
  auto utf8 = Utf16LeToUtf8(data.data(), data.size() - 2);
  if (!utf8.ok()) return false;  // an unpaired surrogate
  *text = std::move(*utf8);
  return true;
}

// True when every UTF-16 unit of `data` is below 0x100, so a REGEDIT4
// single-byte string holds it exactly.
bool Narrowable(const std::vector<uint8_t>& data) {
  if (data.size() % 2 != 0) return false;
  for (size_t i = 1; i < data.size(); i += 2) {
    if (data[i] != 0) return false;
  }
  return true;
}

// UTF-16LE to single bytes, '?' for what a single byte cannot hold, as
// WideCharToMultiByte does; an odd final byte is dropped.
std::vector<uint8_t> Narrow(const std::vector<uint8_t>& data) {
  std::vector<uint8_t> out;
  out.reserve(data.size() / 2);
  for (size_t i = 0; i + 1 < data.size(); i += 2) {
    const uint16_t u = static_cast<uint16_t>(data[i] | data[i + 1] << 8);
    // A surrogate pair is one character and becomes one '?'.
    if (u >= 0xDC00 && u <= 0xDFFF && i >= 2 && data[i - 1] >= 0xD8 &&
        data[i - 1] <= 0xDB) {
      continue;
    }
    out.push_back(u < 0x100 ? static_cast<uint8_t>(u) : '?');
  }
  return out;
}

void AppendHexList(std::string prefix, std::span<const uint8_t> data,
                   std::string* out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  size_t column = CodePoints(prefix);
  *out += prefix;
  for (size_t i = 0; i < data.size(); ++i) {
    // Break before a byte whose "xx," and a '\' would pass the width; a
    // continuation line always has room, so this cannot loop.
    if (column + 4 > kHexLineWidth) {
      *out += "\\\r\n";
      *out += kHexIndent;
      column = kHexIndent.size();
    }
    out->push_back(kDigits[data[i] >> 4]);
    out->push_back(kDigits[data[i] & 0xF]);
    column += 2;
    if (i + 1 < data.size()) {
      out->push_back(',');
      ++column;
    }
  }
  *out += "\r\n";
}

void AppendValue(const RegValue& v, RegFileFormat format, std::string* out) {
  const bool regedit4 = format == RegFileFormat::kRegedit4;
  std::string prefix;
  if (v.name.empty()) {
    prefix = "@";
  } else {
    AppendQuoted(SanitizeUtf8(v.name), &prefix);
  }
  prefix += '=';
  std::string text;
  switch (v.type) {
    case RegType::kSz:
      if (QuotableString(v.data, regedit4, &text)) {
        *out += prefix;
        AppendQuoted(text, out);
        *out += "\r\n";
        return;
      }
      break;
    case RegType::kDword:
      if (v.data.size() == 4) {
        char buf[32];
        std::snprintf(buf, sizeof(buf), "dword:%02x%02x%02x%02x", v.data[3],
                      v.data[2], v.data[1], v.data[0]);
        *out += prefix;
        *out += buf;
        *out += "\r\n";
        return;
      }
      break;
    case RegType::kBinary:
      AppendHexList(prefix + "hex:", v.data, out);
      return;
    case RegType::kExpandSz:
    case RegType::kMultiSz:
      if (regedit4) {
        // The import widens these again (Parser::ParseValueLine).
        AppendHexList(
            prefix + (v.type == RegType::kExpandSz ? "hex(2):" : "hex(7):"),
            Narrow(v.data), out);
        return;
      }
      break;
    default:
      break;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "hex(%x):", static_cast<uint32_t>(v.type));
  AppendHexList(prefix + buf, v.data, out);
}

// Encodes the UTF-8 text as REGEDIT4 single bytes.
std::vector<uint8_t> EncodeLatin1(std::string_view utf8) {
  auto utf16 = Utf8ToUtf16Le(utf8);
  COMSEC_CHECK(utf16.ok(), "FormatRegFile built text that is not UTF-8");
  return Narrow(*utf16);
}

bool Utf8WithoutNulOrBreaks(std::string_view s, bool latin1_only,
                            bool allow_breaks) {
  auto utf16 = Utf8ToUtf16Le(s);
  if (!utf16.ok()) return false;
  for (size_t i = 0; i < utf16->size(); i += 2) {
    const uint16_t u =
        static_cast<uint16_t>((*utf16)[i] | (*utf16)[i + 1] << 8);
    if (u == 0) return false;
    if (!allow_breaks && (u == '\r' || u == '\n')) return false;
    if (latin1_only && u > 0xFF) return false;
  }
  return true;
}

}  // namespace

Result<std::vector<RegOperation>> ParseRegFile(std::span<const uint8_t> bytes) {
  COMSEC_ASSIGN_OR_RETURN(std::string text, DecodeText(bytes));
  Parser parser(text);
  return parser.Run();
}

std::vector<uint8_t> FormatRegFile(const std::vector<RegExportKey>& keys,
                                   RegFileFormat format) {
  std::string text(format == RegFileFormat::kRegedit4 ? kHeader4 : kHeader5);
  text += "\r\n\r\n";
  for (const RegExportKey& key : keys) {
    text += '[';
    text += SanitizeUtf8(key.path);
    text += "]\r\n";
    for (const RegValue& v : key.values) AppendValue(v, format, &text);
    text += "\r\n";
  }
  switch (format) {
    case RegFileFormat::kRegedit5Utf16: {
      auto utf16 = Utf8ToUtf16Le(text);
      COMSEC_CHECK(utf16.ok(), "FormatRegFile built text that is not UTF-8");
      std::vector<uint8_t> out = {0xFF, 0xFE};
      out.insert(out.end(), utf16->begin(), utf16->end());
      return out;
    }
    case RegFileFormat::kRegedit5Utf8:
      return std::vector<uint8_t>(text.begin(), text.end());
    case RegFileFormat::kRegedit4:
      return EncodeLatin1(text);
  }
  return {};
}

bool RegFileRoundTrips(std::string_view key_path, RegFileFormat format) {
  const bool regedit4 = format == RegFileFormat::kRegedit4;
  if (!Utf8WithoutNulOrBreaks(key_path, regedit4, /*allow_breaks=*/false)) {
    return false;
  }
  // The parser writes the root back in its long upper-case form.
  const std::string_view root = key_path.substr(0, key_path.find('\\'));
  if (root != kHklm && root != kHkcr) return false;
  return KeyPath::Parse(key_path).ok();
}

bool RegFileRoundTrips(std::string_view key_path, const RegValue& value,
                       RegFileFormat format) {
  const bool regedit4 = format == RegFileFormat::kRegedit4;
  if (!RegFileRoundTrips(key_path, format)) return false;
  if (!Utf8WithoutNulOrBreaks(value.name, regedit4, /*allow_breaks=*/true)) {
    return false;
  }
  auto name_units = Utf8ToUtf16Le(value.name);
  if (!name_units.ok() || name_units->size() / 2 > kMaxValueNameLength) {
    return false;
  }
  if (value.data.size() > kMaxRegValueDataSize) return false;
  if (regedit4 &&
      (value.type == RegType::kExpandSz || value.type == RegType::kMultiSz) &&
      !Narrowable(value.data)) {
    return false;
  }
  return true;
}

}  // namespace comsec::config
