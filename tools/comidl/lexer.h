// Lexer of comidl: splits MIDL source into tokens (identifiers, numbers,
// strings, characters, punctuation), skipping C and C++ comments. There is
// no preprocessor: a '#' line is an error, since MIDL's cpp would have given
// it a meaning comidl cannot honour.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "comidl/diagnostics.h"

namespace comsec::comidl {

enum class TokenKind { kIdent, kNumber, kString, kChar, kPunct, kEof };

struct Token {
  TokenKind kind = TokenKind::kEof;
  // The token's text; for strings and characters, without quotes and with
  // escapes kept as written (cpp_quote copies them to C++ verbatim).
  std::string text;
  Loc loc;
  // Byte offsets of the token in the source: the parser reads uuid(...)
  // as the raw source text between the parentheses.
  size_t begin = 0;
  size_t end = 0;
};

// Numbers are read as C "pp-numbers" (a digit, then letters, digits, '_'
// and '.'), so "4b2f6d5e" in a uuid stays one token; the parser gives them
// their value.
std::vector<Token> Lex(std::string_view source, int file, Diagnostics& diags);

}  // namespace comsec::comidl
