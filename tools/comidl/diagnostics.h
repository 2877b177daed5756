// Diagnostics of comidl: every error, warning and note found in one run,
// printed as a compiler prints them ("file:line:column: error: message"),
// so editors and CI jump to the place. Errors make the run exit 2.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

namespace comsec::comidl {

// A place in an IDL source: `file` indexes Diagnostics::files().
struct Loc {
  int file = -1;
  int line = 0;
  int column = 0;
};

enum class Severity { kError, kWarning, kNote };

struct Diagnostic {
  Severity severity;
  Loc loc;
  std::string message;
};

// Thread affinity: one thread (the compiler is single-threaded).
class Diagnostics {
 public:
  // Registers a source file name for Loc::file; returns its index.
  int AddFile(std::string name);
  const std::string& file(int index) const { return files_[index]; }

  void Error(Loc loc, std::string message);
  void Warning(Loc loc, std::string message);
  void Note(Loc loc, std::string message);

  size_t error_count() const { return errors_; }
  const std::vector<Diagnostic>& all() const { return diags_; }

  // "file:line:column: error: message", one line each, in source order.
  std::string Format(const Diagnostic& d) const;
  void Print(std::ostream& out) const;

 private:
  std::vector<std::string> files_;
  std::vector<Diagnostic> diags_;
  size_t errors_ = 0;
};

}  // namespace comsec::comidl
