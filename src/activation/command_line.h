// A LocalServer32 command line split into the argv the SCM executes
// (issue 15, "Launching"). On Windows the SCM hands the string to
// CreateProcess; comsec executes the server directly with execve
// (activation/launcher.h) and never through a shell, so the string is split
// here once, by the word rules of the POSIX shell, and nothing else of the
// shell happens:
//   * Words are separated by unquoted spaces, tabs and newlines.
//   * '...' keeps everything up to the next ' literally.
//   * "..." keeps its contents literally except that a backslash escapes
//     " \ $ ` and a newline (backslash-newline is removed); before any
//     other character the backslash stays.
//   * Outside quotes a backslash makes the next character literal;
//     backslash-newline is removed.
//   * '' and "" are an empty argument, as in the shell.
// No expansion: $VAR, $(...), globs (* ? [ ]) and a leading ~ reach the
// server as written. The shell's operators (| & ; < > ( ) and `) and a
// word starting with # (a comment) are refused when unquoted rather than
// passed on: a command line written for a shell would otherwise run with
// different arguments than its author meant. Quote them to pass them.
//
// Windows appends "-Embedding" to a LocalServer32 command line when COM
// launches it; a line that already ends in "-Embedding" or "/Embedding" is
// kept as the user wrote it (the splitter neither adds nor removes one).
//
// Refusals, all E_INVALIDARG with a sentence naming the byte offset: an
// empty or blank command line, an unterminated quote, a trailing lone
// backslash, a NUL character, an unquoted shell operator, a command line
// longer than kMaxCommandLineBytes.
//
// Thread-safety: a pure function; safe from any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "comsec/base/result.h"

namespace comsec::activation {

// The longest command line accepted: Windows's CreateProcess limit (32767
// characters). A configuration value, so a longer one is a mistake, not a
// server; the limit also bounds the work a hostile store value can cause.
inline constexpr size_t kMaxCommandLineBytes = 32767;

// The command line's words. On success the vector is not empty (the first
// word may be an empty string only if written as '' or "", which
// Launch then refuses as not an absolute path).
Result<std::vector<std::string>> SplitCommandLine(std::string_view command_line);

}  // namespace comsec::activation
