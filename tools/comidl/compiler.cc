#include "comidl/compiler.h"

#include <filesystem>
#include <fstream>

#include "comidl/diagnostics.h"
#include "comidl/generator.h"
#include "comidl/program.h"
#include "comidl/sema.h"

namespace comsec::comidl {

int Compile(const CompileOptions& options, std::ostream& out, std::ostream& err) {
  Diagnostics diags;
  Program program;
  if (!LoadProgram(options.input, options.include_dirs, diags, program)) {
    err << "comidl: cannot read " << options.input << "\n";
    return 1;
  }
  Symbols symbols;
  if (diags.error_count() == 0) Analyze(program, diags, symbols);
  diags.Print(err);
  if (diags.error_count() > 0) {
    err << diags.error_count() << (diags.error_count() == 1 ? " error" : " errors") << "\n";
    return 2;
  }
  GeneratedFiles files = Generate(program, symbols);
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(options.out_dir, ec);
  for (const auto& [name, text] : files) {
    fs::path path = fs::path(options.out_dir) / name;
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << text;
    f.close();
    if (!f) {
      err << "comidl: cannot write " << path.string() << "\n";
      return 1;
    }
    out << path.string() << "\n";
  }
  return 0;
}

}  // namespace comsec::comidl
