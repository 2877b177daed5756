// Parser of comidl: MIDL's grammar for the subset DCOM needs (imports,
// cpp_quote, const, typedef, struct/union/enum, interfaces and their
// methods, attribute lists and expressions) into ast.h's tree. Syntax
// errors are reported and the parser resynchronizes at the next ';' or
// '}', so one run reports every error it can.
#pragma once

#include <string_view>

#include "comidl/ast.h"
#include "comidl/diagnostics.h"

namespace comsec::comidl {

// Parses `source` (registered in `diags` as `file`) into `out.items`.
void Parse(std::string_view source, int file, Diagnostics& diags, File& out);

}  // namespace comsec::comidl
