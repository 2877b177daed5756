#include "comsec/activation/command_line.h"

#include <string>

namespace comsec::activation {
namespace {

// The shell's default IFS.
bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\n'; }

// Characters a shell would act on outside quotes (operators and command
// substitution), which comsec does not: refused rather than passed on.
bool IsShellOperator(char c) {
  switch (c) {
    case '|':
    case '&':
    case ';':
    case '<':
    case '>':
    case '(':
    case ')':
    case '`':
      return true;
    default:
      return false;
  }
}

// "the LocalServer32 command line <what> at offset N[<why>]".
Status Refuse(const std::string& what, size_t offset, const std::string& why = "") {
  return InvalidArgument("the LocalServer32 command line " + what + " at offset " +
                         std::to_string(offset) + why)
      .WithPosition(offset);
}

Status NulAt(size_t offset) {
  return Refuse("holds a NUL character", offset, "; no argument can carry one");
}

}  // namespace

Result<std::vector<std::string>> SplitCommandLine(std::string_view s) {
  if (s.size() > kMaxCommandLineBytes) {
    return InvalidArgument("the LocalServer32 command line is " + std::to_string(s.size()) +
                           " bytes long; comsec accepts at most " +
                           std::to_string(kMaxCommandLineBytes) +
                           " (Windows's CreateProcess limit)");
  }
  std::vector<std::string> words;
  std::string word;
  // A word has begun, possibly empty ('' or ""): it is kept at the next
  // blank or at the end.
  bool in_word = false;
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == '\0') return NulAt(i);
    if (IsBlank(c)) {
      if (in_word) {
        words.push_back(std::move(word));
        word.clear();
        in_word = false;
      }
      ++i;
      continue;
    }
    if (c == '\\') {
      if (i + 1 >= s.size()) {
        return Refuse("ends with a lone backslash (escaping nothing)", i);
      }
      const char next = s[i + 1];
      if (next == '\0') return NulAt(i + 1);
      i += 2;
      if (next == '\n') continue;  // a line continuation: removed
      word += next;
      in_word = true;
      continue;
    }
    if (c == '\'') {
      const size_t end = s.find('\'', i + 1);
      if (end == std::string_view::npos) {
        return Refuse("has a single quote that is never closed, opened", i);
      }
      const std::string_view quoted = s.substr(i + 1, end - i - 1);
      if (size_t nul = quoted.find('\0'); nul != std::string_view::npos) {
        return NulAt(i + 1 + nul);
      }
      word.append(quoted);
      in_word = true;
      i = end + 1;
      continue;
    }
    if (c == '"') {
      const size_t open = i;
      in_word = true;
      ++i;
      for (;;) {
        if (i >= s.size()) {
          return Refuse("has a double quote that is never closed, opened", open);
        }
        const char d = s[i];
        if (d == '\0') return NulAt(i);
        if (d == '"') {
          ++i;
          break;
        }
        if (d == '\\' && i + 1 < s.size()) {
          const char next = s[i + 1];
          if (next == '"' || next == '\\' || next == '$' || next == '`') {
            word += next;
            i += 2;
            continue;
          }
          if (next == '\n') {
            i += 2;
            continue;
          }
        }
        // Any other backslash stays, as in the shell.
        word += d;
        ++i;
      }
      continue;
    }
    if (IsShellOperator(c)) {
      return Refuse(std::string("has an unquoted '") + c + "'", i,
                    ", a shell operator; comsec runs the server without a shell, so "
                    "quote it to pass it as an argument");
    }
    if (c == '#' && !in_word) {
      return Refuse("has a word starting with an unquoted '#'", i,
                    ", which a shell would take for a comment; quote it to pass it as "
                    "an argument");
    }
    word += c;
    in_word = true;
    ++i;
  }
  if (in_word) words.push_back(std::move(word));
  if (words.empty()) {
    return InvalidArgument(
        "the LocalServer32 command line is empty; it must name the server's executable");
  }
  return words;
}

}  // namespace comsec::activation
