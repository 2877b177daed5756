// A program: the IDL file given on the command line and every file it
// imports (transitively), each parsed once, in dependency order (imports
// before importers). Imports are looked up beside the importing file, then
// in the -I directories, then among the bundled base files (base_idl.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "comidl/ast.h"
#include "comidl/diagnostics.h"

namespace comsec::comidl {

struct Program {
  std::vector<std::unique_ptr<File>> files;  // dependency order; main last
  File* main = nullptr;
};

// Loads `path` and its imports. Returns false when the main file cannot be
// read (an I/O failure: exit 1); syntax errors are in `diags`.
bool LoadProgram(const std::string& path, const std::vector<std::string>& include_dirs,
                 Diagnostics& diags, Program& program);

}  // namespace comsec::comidl
