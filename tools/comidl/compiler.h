// The compiler as a function, so that tests run it in-process: load the IDL
// and its imports, analyse, and (when there is no error) generate.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace comsec::comidl {

struct CompileOptions {
  std::vector<std::string> include_dirs;
  std::string out_dir;
  std::string input;
};

// Returns the exit status: 0 success (each written path printed on `out`),
// 2 errors in the IDL, 1 any other failure; diagnostics go to `err`.
int Compile(const CompileOptions& options, std::ostream& out, std::ostream& err);

}  // namespace comsec::comidl
