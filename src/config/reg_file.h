// Registry files (`.reg`): the text format Windows's regedit imports and
// exports, so that an administrator can move COM configuration (AppID,
// CLSID and Ole keys) between Windows and comsec and keep it under version
// control.
//
// A file is a header line, then sections. Each section starts with a key
// line and holds value lines:
//
//   Windows Registry Editor Version 5.00
//
//   [HKEY_LOCAL_MACHINE\SOFTWARE\Classes\AppID\{...}]
//   @="My server"
//   "AuthenticationLevel"=dword:00000005
//   "LaunchPermission"=hex:01,00,04,80,5c,00,00,00,6c,00,00,00,00,00,\  (*)
//     14,00,00,00,02,00,48,00
//   "RunAs"=-
//
//   [-HKEY_LOCAL_MACHINE\SOFTWARE\Classes\AppID\{old}]
//
// (*) The line ends at the '\', which continues the list on the next line.
//
// Import is strict where regedit is silent: regedit skips a line it cannot
// read and imports the rest, which would quietly drop a permission from a
// security configuration. ParseRegFile instead rejects the whole file and
// names the line and column of the first problem. Where the format itself is
// ambiguous, the choices below are pinned by tests in reg_file_test.cc:
//
//  * Encoding: UTF-16LE with BOM FF FE; UTF-8 with or without BOM EF BB BF.
//    A BOM-less file whose header is REGEDIT4 is ANSI, read as Latin-1 (each
//    byte is the code point of the same number). UTF-16BE is refused.
//  * Header: the first non-blank line is "Windows Registry Editor Version
//    5.00" or "REGEDIT4", exactly (trailing blanks allowed).
//  * Lines end in CRLF or LF. A carriage return elsewhere and a NUL anywhere
//    are errors. Blank lines and lines whose first non-blank character is
//    ';' are ignored. Leading blanks (spaces, tabs) are ignored on every line
//    but the header.
//  * Key lines: '[' path ']' or '[-' path ']'. The path ends at the last ']'
//    on the line (key names may contain ']'); only blanks may follow it.
//    Roots HKEY_LOCAL_MACHINE, HKEY_CLASSES_ROOT, HKLM and HKCR (any case)
//    are accepted and written back in their long upper-case form; other
//    roots (HKEY_CURRENT_USER, HKEY_USERS, ...) do not exist in comsec and
//    are errors. Deleting a root ("[-HKEY_LOCAL_MACHINE]") is an error.
//  * Value lines: "name" or @ (the default value), '=', then the data.
//    Blanks may surround '='. After the data, only blanks or a ';' comment.
//  * Escapes inside quoted names and strings: \\ \" and, as newer regedit
//    writes them, \n (LF) and \r (CR). Any other escape, \0 included, is an
//    error: a NUL cannot be part of a name, and guessing at an escape would
//    import something other than what the author meant.
//  * Data: "string" (REG_SZ, stored as UTF-16LE with one terminating NUL);
//    dword:X (1 to 8 hex digits); hex:bytes (REG_BINARY); hex(N):bytes with
//    N 1 to 8 hex digits naming the type; - (delete the value). The type
//    words are case-insensitive. Hex bytes are exactly two digits separated
//    by commas; blanks may surround them; a trailing comma is allowed. A '\'
//    after a comma (or right after the ':') continues the list on the next
//    line, whose leading blanks are skipped; that line must hold bytes, not a
//    comment or nothing, and the file may not end there.
//  * REGEDIT4 files: hex(2) and hex(7) data are single-byte strings and are
//    widened to UTF-16LE on import, as regedit does; every other type,
//    hex(1) included, is imported byte for byte. Quoted strings are Latin-1.
//  * A hex(N) value is imported byte for byte: no terminating NUL is added
//    to string types (regedit adds one), so that export and import are exact
//    inverses.
//
// Export writes what regedit writes (CRLF lines, a blank line after the
// header and after each key, hex lists wrapped at 80 columns with ",\" and a
// two-space indent) and chooses each value's form so that it reads back
// byte for byte: a REG_SZ is a quoted string only when its data is exactly
// one well-formed UTF-16 string with one terminating NUL and no control
// characters (REGEDIT4: printable ASCII only); any other data is written as
// hex(N).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "comsec/base/result.h"
#include "comsec/config/reg_value.h"

namespace comsec::config {

// The largest `.reg` file ParseRegFile reads. The whole file and its decoded
// text are held in memory, so a bound keeps a hostile or mistaken import
// (a multi-gigabyte file) from exhausting the daemon or comcfg. A full
// regedit export of HKLM\SOFTWARE\Classes is tens of megabytes, which fits;
// COM configuration is kilobytes.
inline constexpr size_t kMaxRegFileSize = 64 * 1024 * 1024;

// The largest data of one value, after decoding. Windows advises keeping
// values under 2 KB and COM's largest, a security descriptor, is at most
// 64 KB; a bound lets the parser refuse a runaway hex list early instead
// of building it in memory.
inline constexpr size_t kMaxRegValueDataSize = 1024 * 1024;

struct RegOperation {
  enum class Kind : uint8_t { kCreateKey, kDeleteKey, kSetValue, kDeleteValue };
  Kind kind = Kind::kCreateKey;
  // The full path as written, UTF-8, without brackets and without the '-'
  // of a deletion, with the root spelled HKEY_LOCAL_MACHINE or
  // HKEY_CLASSES_ROOT: "HKEY_LOCAL_MACHINE\SOFTWARE\Classes\AppID\{...}".
  std::string key;
  // kSetValue: name, type and data. kDeleteValue: the name only.
  RegValue value;
  // 1-based line where the entry starts.
  size_t line = 0;

  friend bool operator==(const RegOperation&, const RegOperation&) = default;
};

enum class RegFileFormat : uint8_t {
  // "Windows Registry Editor Version 5.00", UTF-16LE with a BOM: what
  // regedit writes.
  kRegedit5Utf16,
  // The same text in UTF-8 without a BOM, friendlier to diff and git.
  kRegedit5Utf8,
  // "REGEDIT4", single-byte (Latin-1) text, for old tools.
  kRegedit4,
};

// Parses a whole file into the operations it asks for, in file order.
// Any error rejects the whole file with E_INVALIDARG: the message reads
// "line L, column C: <what>" (L and C 1-based, C counted in characters) and
// Status::position() is the 0-based byte offset in the text decoded to
// UTF-8.
Result<std::vector<RegOperation>> ParseRegFile(std::span<const uint8_t> bytes);

// One key of an export and its values, in the order to write them.
struct RegExportKey {
  std::string path;
  std::vector<RegValue> values;
};

// Writes `keys` in order, each as "[path]" then its values, a blank line
// after each key. Cannot fail; what a format cannot carry is written the
// way Windows writes it, lossily: text that is not UTF-8 becomes U+FFFD, and
// in REGEDIT4 characters above U+00FF in names and paths become '?', as do
// REG_EXPAND_SZ and REG_MULTI_SZ characters that a single-byte string cannot
// hold. RegFileRoundTrips says when the output reads back exactly.
std::vector<uint8_t> FormatRegFile(const std::vector<RegExportKey>& keys,
                                   RegFileFormat format);

// True when writing `value` under `key_path` in `format` and parsing the
// result gives back `key_path` and a value equal to `value`. That holds for
// every value whose name is UTF-8 without NUL, at most 16383 UTF-16
// characters long, with data up to kMaxRegValueDataSize, under a valid path
// whose root is spelled HKEY_LOCAL_MACHINE or HKEY_CLASSES_ROOT; REGEDIT4
// further needs names and paths in Latin-1 and REG_EXPAND_SZ/REG_MULTI_SZ
// data whose every UTF-16 unit is below 0x100. (The 64 MiB file limit
// applies to the whole output and is not checked here.)
bool RegFileRoundTrips(std::string_view key_path, const RegValue& value,
                       RegFileFormat format);
// The same for a key written with no values.
bool RegFileRoundTrips(std::string_view key_path, RegFileFormat format);

}  // namespace comsec::config
