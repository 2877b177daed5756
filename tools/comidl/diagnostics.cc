#include "comidl/diagnostics.h"

#include <algorithm>
#include <tuple>

namespace comsec::comidl {

int Diagnostics::AddFile(std::string name) {
  files_.push_back(std::move(name));
  return static_cast<int>(files_.size() - 1);
}

void Diagnostics::Error(Loc loc, std::string message) {
  diags_.push_back({Severity::kError, loc, std::move(message)});
  ++errors_;
}

void Diagnostics::Warning(Loc loc, std::string message) {
  diags_.push_back({Severity::kWarning, loc, std::move(message)});
}

void Diagnostics::Note(Loc loc, std::string message) {
  diags_.push_back({Severity::kNote, loc, std::move(message)});
}

std::string Diagnostics::Format(const Diagnostic& d) const {
  std::string out;
  if (d.loc.file >= 0) {
    out = files_[d.loc.file] + ":" + std::to_string(d.loc.line) + ":" +
          std::to_string(d.loc.column) + ": ";
  } else {
    out = "comidl: ";
  }
  switch (d.severity) {
    case Severity::kError: out += "error: "; break;
    case Severity::kWarning: out += "warning: "; break;
    case Severity::kNote: out += "note: "; break;
  }
  return out + d.message;
}

void Diagnostics::Print(std::ostream& out) const {
  // In source order, as a compiler reports (analysis passes find them in
  // another order).
  std::vector<const Diagnostic*> sorted;
  for (const Diagnostic& d : diags_) sorted.push_back(&d);
  std::stable_sort(sorted.begin(), sorted.end(), [](const Diagnostic* a, const Diagnostic* b) {
    return std::tie(a->loc.file, a->loc.line, a->loc.column) <
           std::tie(b->loc.file, b->loc.line, b->loc.column);
  });
  for (const Diagnostic* d : sorted) out << Format(*d) << "\n";
}

}  // namespace comsec::comidl
