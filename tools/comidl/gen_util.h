// Helpers shared by the generators: an indenting text sink, the C++ type of
// each wire shape, and correlation expressions turned into C++.
#pragma once

#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "comidl/ast.h"
#include "comidl/sema.h"
#include "comidl/wire.h"

namespace comsec::comidl::gen {

class Out {
 public:
  // Appends one line at the current indentation ("" for a blank line).
  Out& L(const std::string& line = "");
  Out& In() {
    indent_ += 2;
    return *this;
  }
  Out& Un() {
    indent_ -= 2;
    return *this;
  }
  std::string str() const { return s_.str(); }
  // A fresh local name: "<stem>N".
  std::string Fresh(const std::string& stem) { return stem + std::to_string(next_++); }

 private:
  std::ostringstream s_;
  int indent_ = 0;
  int next_ = 0;
};

// How correlation names (size_is(n), switch_is(level), iid_is(riid)) read
// in C++ at one place, and which of them a decoder already has.
struct Scope {
  std::map<std::string, std::string> names;  // IDL name → C++ lvalue
  std::set<std::string> available;           // decoded already
  // Checks a decoder can only make once later names are decoded.
  std::vector<std::string>* later = nullptr;
  // Declarations the function must make before its first statement (the
  // counts such a later check compares).
  std::vector<std::string>* decls = nullptr;
  // The C++ expression of the interface-pointer hook.
  std::string hook = "hook";
};

std::string PrimCpp(Base b);
// The C++ type holding a value of `w` (a [ref] pointer holds its pointee).
std::string CppType(const Wire& w);
// The type of a parameter as a method takes it.
std::string ParamCpp(const Param& p);
// An IDL expression in C++ as int64_t arithmetic, names through `scope`.
std::string ExprCpp(const ExprPtr& e, const Scope& scope, const Symbols& symbols);
// Whether every name the expression uses is in scope.available (or a
// constant).
bool ExprAvailable(const ExprPtr& e, const Scope& scope, const Symbols& symbols);
// A C++ string literal of `text` (IDL escapes kept).
std::string Quote(const std::string& text);
std::string GuidInit(const std::string& uuid);

}  // namespace comsec::comidl::gen
