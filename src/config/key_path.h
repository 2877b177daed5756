// Registry key paths: "HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Ole".
//
// comsec's store has one hive, HKEY_LOCAL_MACHINE. HKEY_CLASSES_ROOT is a
// view of HKLM\SOFTWARE\Classes, as on Windows (per-user classes do not
// exist here). Names compare case-insensitively, as Windows compares them:
// by its upper case of each UTF-16 code unit (base/utf16.h, the rule
// account names, which are keys under HKLM\SAM, also follow), and keep the
// case they were created with.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "comsec/base/result.h"

namespace comsec::config {

inline constexpr std::string_view kHklm = "HKEY_LOCAL_MACHINE";
inline constexpr std::string_view kHkcr = "HKEY_CLASSES_ROOT";

// Windows limits: a key name component is at most 255 characters, a value
// name 16383; paths deeper than 512 levels are refused.
inline constexpr size_t kMaxKeyNameLength = 255;
inline constexpr size_t kMaxValueNameLength = 16383;
inline constexpr size_t kMaxKeyDepth = 512;

// A normalized path: components below HKEY_LOCAL_MACHINE (HKCR resolved).
struct KeyPath {
  std::vector<std::string> components;

  // Accepts HKEY_LOCAL_MACHINE, HKLM, HKEY_CLASSES_ROOT, HKCR (any case) as
  // the first component; '\' separates components; a trailing '\' is
  // ignored; empty components, unknown roots and over-long names are
  // E_INVALIDARG with a message naming the path.
  static Result<KeyPath> Parse(std::string_view text);

  // "HKEY_LOCAL_MACHINE\SOFTWARE\Classes" (or just the root).
  std::string ToString() const;
  KeyPath Child(std::string_view name) const;
  bool IsRoot() const { return components.empty(); }
};

// The form in which key and value names compare: Windows's upper case
// (UpcaseUtf8), with ASCII letters then put in lower case, so that stores
// written by schema 1 (which folded ASCII only, to lower case) keep their
// folded names. Two names are the same name exactly when their FoldCase
// forms are equal. Bytes that are not UTF-8 pass through unchanged.
std::string FoldCase(std::string_view name);

}  // namespace comsec::config
