// comidl [-I DIR]... -o OUTDIR FILE.idl
// Compiles a MIDL-subset IDL file into OUTDIR/FILE.h and OUTDIR/FILE.cc
// (C++20 on comsec's NDR layer: types, NDR marshaling, client proxies and
// server stubs), printing each path written. Exit 0 on success, 2 on errors
// in the IDL (diagnostics on stderr as file:line:column: error: message),
// 1 on any other failure (a file that cannot be read or written).
#include <iostream>

#include <CLI/CLI.hpp>

#include "comidl/compiler.h"

int main(int argc, char** argv) {
  CLI::App app{"comidl: compile MIDL interfaces into C++ NDR marshaling, proxies and stubs"};
  comsec::comidl::CompileOptions options;
  app.add_option("-I", options.include_dirs, "directory searched for imported files")
      ->allow_extra_args(false);
  app.add_option("-o", options.out_dir, "directory the generated files are written to")
      ->required();
  app.add_option("FILE", options.input, "the IDL file")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 1;
  }
  return comsec::comidl::Compile(options, std::cout, std::cerr);
}
