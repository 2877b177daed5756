#include "comidl/lexer.h"

#include <cctype>

namespace comsec::comidl {
namespace {

bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Two-character operators MIDL expressions use.
constexpr std::string_view kPairs[] = {"<<", ">>", "==", "!=", "<=", ">=", "&&", "||"};

}  // namespace

std::vector<Token> Lex(std::string_view src, int file, Diagnostics& diags) {
  std::vector<Token> out;
  size_t i = 0;
  int line = 1;
  size_t line_start = 0;
  auto loc_at = [&](size_t at) { return Loc{file, line, static_cast<int>(at - line_start) + 1}; };
  auto newline = [&](size_t at) {
    ++line;
    line_start = at + 1;
  };
  bool at_line_start = true;
  while (i < src.size()) {
    char c = src[i];
    if (c == '\n') {
      newline(i);
      ++i;
      at_line_start = true;
      continue;
    }
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    if (c == '/' && i + 1 < src.size() && src[i + 1] == '/') {
      while (i < src.size() && src[i] != '\n') ++i;
      continue;
    }
    if (c == '/' && i + 1 < src.size() && src[i + 1] == '*') {
      Loc start = loc_at(i);
      i += 2;
      while (i + 1 < src.size() && !(src[i] == '*' && src[i + 1] == '/')) {
        if (src[i] == '\n') newline(i);
        ++i;
      }
      if (i + 1 >= src.size()) {
        diags.Error(start, "unterminated comment");
        i = src.size();
      } else {
        i += 2;
      }
      continue;
    }
    if (c == '#' && at_line_start) {
      diags.Error(loc_at(i),
                  "preprocessor directives are not supported (comidl has no "
                  "preprocessor; use import and const)");
      while (i < src.size() && src[i] != '\n') ++i;
      continue;
    }
    at_line_start = false;
    Token t;
    t.loc = loc_at(i);
    t.begin = i;
    if (IsIdentStart(c)) {
      size_t j = i;
      while (j < src.size() && IsIdentChar(src[j])) ++j;
      // L"..." and L'x' are wide literals; MIDL treats them as their text.
      if (j == i + 1 && c == 'L' && j < src.size() && (src[j] == '"' || src[j] == '\'')) {
        ++i;
        continue;
      }
      t.kind = TokenKind::kIdent;
      t.text = std::string(src.substr(i, j - i));
      i = j;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t j = i;
      while (j < src.size() && (IsIdentChar(src[j]) || src[j] == '.')) ++j;
      t.kind = TokenKind::kNumber;
      t.text = std::string(src.substr(i, j - i));
      i = j;
    } else if (c == '"' || c == '\'') {
      size_t j = i + 1;
      while (j < src.size() && src[j] != c && src[j] != '\n') {
        if (src[j] == '\\' && j + 1 < src.size()) ++j;
        ++j;
      }
      if (j >= src.size() || src[j] != c) {
        diags.Error(t.loc, c == '"' ? "unterminated string" : "unterminated character");
        i = j;
        continue;
      }
      t.kind = c == '"' ? TokenKind::kString : TokenKind::kChar;
      t.text = std::string(src.substr(i + 1, j - i - 1));
      i = j + 1;
    } else {
      t.kind = TokenKind::kPunct;
      std::string_view two = src.substr(i, 2);
      bool pair = false;
      for (std::string_view p : kPairs) pair |= two == p;
      if (pair) {
        t.text = std::string(two);
        i += 2;
      } else if (std::string_view("[](){};,:*=<>|&+-~!/%^?.").find(c) !=
                 std::string_view::npos) {
        t.text = std::string(1, c);
        ++i;
      } else {
        diags.Error(t.loc, std::string("unexpected character '") + c + "'");
        ++i;
        continue;
      }
    }
    t.end = i;
    out.push_back(std::move(t));
  }
  Token eof;
  eof.kind = TokenKind::kEof;
  eof.loc = loc_at(i);
  eof.begin = eof.end = i;
  out.push_back(eof);
  return out;
}

}  // namespace comsec::comidl
