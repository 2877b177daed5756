// The analyzer behind Analyze() (sema.h), shared by sema.cc (symbols,
// interfaces, attributes) and resolve.cc (types to wire shapes, constants).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "comidl/sema.h"
#include "comidl/wire.h"

namespace comsec::comidl::internal {

// Where a type is used: decides the default pointer kind and which
// attributes are allowed.
struct Site {
  bool top_param = false;  // an operation's parameter ([ref] by default)
  std::string pointer_default = "unique";
  // The interface whose pointer_default applies; null outside interfaces.
  const Interface* owner = nullptr;
  Loc loc;
};

// The type attributes found at a use site and in the typedefs it passes
// through (the use site's win).
struct UseAttrs {
  const Attr* size_is = nullptr;
  const Attr* max_is = nullptr;
  const Attr* length_is = nullptr;
  const Attr* first_is = nullptr;
  const Attr* string = nullptr;
  const Attr* ptr = nullptr;  // ref, unique or ptr
  const Attr* context_handle = nullptr;
  const Attr* switch_is = nullptr;
  const Attr* switch_type = nullptr;
  const Attr* iid_is = nullptr;
  const Attr* range = nullptr;
  const Attr* v1_enum = nullptr;
  // The attributes a shape consumed; one that stays unused does not apply
  // to the type and is reported, never ignored.
  std::set<const Attr*> used;
  void Use(const Attr* a) {
    if (a) used.insert(a);
  }
  void Merge(const Attrs& attrs);
};

class Analyzer {
 public:
  Analyzer(Program& program, Diagnostics& diags, Symbols& symbols)
      : program_(program), diags_(diags), sym_(symbols) {}
  void Run();

  // ==== resolve.cc ====
  // The wire shape of `type` used with `attrs` at `site`; null after an
  // error has been reported.
  WirePtr Resolve(const TypePtr& type, const Attrs& attrs, const Site& site);
  // An integer constant expression; reports and returns nullopt if not.
  std::optional<int64_t> Eval(const ExprPtr& e);
  // Names the expression uses that `names` lacks (and are not constants)
  // are reported: "size_is names 'x', which is not a parameter".
  void CheckNames(const ExprPtr& e, const std::set<std::string>& names, const char* what,
                  const char* scope);
  // The definition behind a "struct X"/typedef name, through typedefs.
  TypePtr StripTypedefs(TypePtr t, UseAttrs* merge, std::string* alias);

 private:
  WirePtr Build(TypePtr t, UseAttrs& u, int level, const Site& site);
  const ExprPtr* Arg(UseAttrs& u, const Attr* a, int level);

  // ==== sema.cc ====
  void Collect(File& file);
  void Declare(const std::string& name, Loc loc, const char* what);
  // Refuses a name the generated C++ cannot carry: a C++ keyword, or (for
  // parameters) a name the generated stubs use for their own locals.
  void CheckIdentifier(const std::string& name, Loc loc, const char* what, bool param = false);
  // Warns, once per interface, that an unattributed embedded pointer took
  // MIDL's default because the interface has no pointer_default.
  void NoteDefaultPointer(const Site& site);
  void NameDefinition(const TypePtr& t, const std::string& name, bool bundled);
  void CheckAttrs(const Attrs& attrs, const char* position);
  void ResolveDefinitions(const TypePtr& t, const Site& site);
  void ResolveStruct(StructDef& s, const Site& site);
  void ResolveUnion(UnionDef& u, const Site& site, const Attrs& typedef_attrs);
  void ResolveEnum(EnumDef& e);
  void AnalyzeInterface(Interface& itf, bool bundled);
  void AnalyzeMethod(Interface& itf, Method& m);

  Program& program_;
  Diagnostics& diags_;
  Symbols& sym_;
  std::set<std::string> declared_;
  std::set<const void*> resolved_;
  std::set<const Interface*> warned_pointer_default_;
};

}  // namespace comsec::comidl::internal
