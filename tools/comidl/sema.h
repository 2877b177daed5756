// Semantic analysis of comidl: one symbol table for the program (MIDL's
// names are global: typedefs, tags, interfaces, constants, enumerators),
// constant evaluation, attribute checks (unknown attributes, attributes out
// of place, MIDL constructs comidl refuses), the wire shape of every field,
// parameter and return value (wire.h), correlation names (size_is naming a
// field or parameter that exists), and opnums ([object] interfaces continue
// from their base: IUnknown has three).
#pragma once

#include <map>
#include <string>

#include "comidl/ast.h"
#include "comidl/diagnostics.h"
#include "comidl/program.h"

namespace comsec::comidl {

struct Symbols {
  std::map<std::string, const Typedef*> typedefs;
  std::map<std::string, TypePtr> tags;  // "struct X", "union X", "enum X"
  std::map<std::string, const Interface*> interfaces;
  std::map<std::string, int64_t> constants;  // integer consts and enumerators
};

// Analyses the whole program; errors go to `diags`. The tree is annotated
// in place (the "sema:" fields of ast.h).
void Analyze(Program& program, Diagnostics& diags, Symbols& symbols);

}  // namespace comsec::comidl
