#include "comidl/sema.h"


#include "comidl/sema_internal.h"

namespace comsec::comidl {
namespace internal {
namespace {

struct AttrRule {
  const char* name;
  const char* where;  // positions: i=interface m=method p=param f=field t=typedef
};

// Attributes comidl knows and where each is allowed. Those that only
// document (helpstring, id, propget…) change nothing on the wire.
constexpr AttrRule kAttrRules[] = {
    {"uuid", "it"}, {"version", "i"}, {"object", "i"}, {"local", "im"},
    {"pointer_default", "i"}, {"endpoint", "i"}, {"dual", "i"}, {"oleautomation", "i"},
    {"nonextensible", "i"}, {"helpstring", "imptf"}, {"helpcontext", "imptf"},
    {"hidden", "imt"}, {"restricted", "im"}, {"call_as", "m"}, {"id", "mf"},
    {"propget", "m"}, {"propput", "m"}, {"propputref", "m"}, {"idempotent", "m"},
    {"in", "p"}, {"out", "p"}, {"retval", "p"}, {"defaultvalue", "p"}, {"optional", "p"},
    {"lcid", "p"}, {"ref", "pft"}, {"unique", "pft"}, {"ptr", "pft"}, {"string", "pft"},
    {"size_is", "pf"}, {"max_is", "pf"}, {"length_is", "pf"}, {"first_is", "pf"},
    {"switch_is", "pf"}, {"switch_type", "ft"}, {"iid_is", "pf"}, {"range", "pft"},
    {"context_handle", "pt"}, {"v1_enum", "t"}, {"public", "t"},
    // Type serialization ([MS-RPCE] 2.2.6): every generated type can be
    // pickled with ndr::EncodePickled/DecodePickled; the attributes mark
    // the types meant for it.
    {"encode", "t"}, {"decode", "t"},
};

// MIDL constructs comidl refuses, with the reason.
constexpr std::pair<const char*, const char*> kRefused[] = {
    {"transmit_as", "[transmit_as] is not supported: describe the transmitted type itself in "
                    "the IDL and convert in your code"},
    {"wire_marshal", "[wire_marshal] is not supported yet (BSTR and VARIANT come with OLE "
                     "Automation, through the marshaling hook)"},
    {"user_marshal", "[user_marshal] is not supported yet (BSTR and VARIANT come with OLE "
                     "Automation, through the marshaling hook)"},
    {"represent_as", "[represent_as] is not supported: describe the wire type in the IDL"},
    {"last_is", "last_is is not supported: use length_is"},
    {"ignore", "[ignore] is not supported: a pointer must be marshaled"},
    {"callback", "[callback] operations are not supported"},
    {"async", "[async] operations are not supported"},
    {"async_uuid", "[async_uuid] (asynchronous COM) is not supported"},
    {"broadcast", "[broadcast] is a connectionless attribute; comidl generates for "
                  "connection-oriented RPC only"},
    {"maybe", "[maybe] is a connectionless attribute; comidl generates for "
              "connection-oriented RPC only"},
    {"ms_union", "[ms_union] is not supported"},
    {"handle", "[handle] (user-defined binding handles) is not supported"},
    {"byte_count", "[byte_count] is not supported"},
};

const char* PositionName(char p) {
  switch (p) {
    case 'i': return "an interface";
    case 'm': return "a method";
    case 'p': return "a parameter";
    case 'f': return "a structure or union member";
    default: return "a typedef";
  }
}

}  // namespace

void Analyzer::CheckAttrs(const Attrs& attrs, const char* position) {
  std::set<std::string> seen;
  for (const Attr& a : attrs) {
    if (!seen.insert(a.name).second) {
      diags_.Error(a.loc, "attribute '" + a.name + "' is given twice");
      continue;
    }
    bool refused = false;
    for (auto& [name, why] : kRefused) {
      if (a.name == name) {
        diags_.Error(a.loc, why);
        refused = true;
      }
    }
    if (refused) continue;
    const AttrRule* rule = nullptr;
    for (const AttrRule& r : kAttrRules) {
      if (a.name == r.name) rule = &r;
    }
    if (!rule) {
      diags_.Error(a.loc, "unknown attribute '" + a.name + "'");
      continue;
    }
    if (std::string_view(rule->where).find(position[0]) == std::string_view::npos) {
      diags_.Error(a.loc, "attribute '" + a.name + "' does not apply to " +
                              PositionName(position[0]));
    }
  }
}

void Analyzer::Declare(const std::string& name, Loc loc, const char* what) {
  if (!declared_.insert(name).second) {
    diags_.Error(loc, "'" + name + "' is already declared (" + what + ")");
  }
  CheckIdentifier(name, loc, what);
}

namespace {

// C++20's keywords and alternative tokens: a type, member or parameter
// with one of these names would make the generated code fail to compile.
constexpr const char* kCppKeywords[] = {
    "alignas", "alignof", "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break",
    "case", "catch", "char", "char8_t", "char16_t", "char32_t", "class", "compl", "concept",
    "const", "consteval", "constexpr", "constinit", "const_cast", "continue", "co_await",
    "co_return", "co_yield", "decltype", "default", "delete", "do", "double", "dynamic_cast",
    "else", "enum", "explicit", "export", "extern", "false", "float", "for", "friend", "goto",
    "if", "inline", "int", "long", "mutable", "namespace", "new", "noexcept", "not", "not_eq",
    "nullptr", "operator", "or", "or_eq", "private", "protected", "public", "register",
    "reinterpret_cast", "requires", "return", "short", "signed", "sizeof", "static",
    "static_assert", "static_cast", "struct", "switch", "template", "this", "thread_local",
    "throw", "true", "try", "typedef", "typeid", "typename", "union", "unsigned", "using",
    "virtual", "void", "volatile", "wchar_t", "while", "xor", "xor_eq"};

// The generated proxies' and stubs' own locals (gen_interface.cc): a
// parameter of the same name would hide them.
constexpr const char* kStubLocals[] = {"d", "e", "impl", "call", "hook", "current",
                                       "reply", "stub", "r"};

}  // namespace

void Analyzer::CheckIdentifier(const std::string& name, Loc loc, const char* what, bool param) {
  for (const char* k : kCppKeywords) {
    if (name == k) {
      diags_.Error(loc, std::string(what) + " '" + name +
                            "' is a C++ keyword, which the generated code cannot use as a "
                            "name: rename it (the wire does not carry names)");
      return;
    }
  }
  if (!param) return;
  for (const char* k : kStubLocals) {
    if (name == k) {
      diags_.Error(loc, std::string(what) + " '" + name +
                            "' is a name the generated stubs use for their own variables: "
                            "rename it (the wire does not carry names)");
      return;
    }
  }
}

void Analyzer::NoteDefaultPointer(const Site& site) {
  if (!site.owner || site.owner->bundled || FindAttr(site.owner->attrs, "pointer_default")) {
    return;
  }
  if (!warned_pointer_default_.insert(site.owner).second) return;
  diags_.Warning(site.loc, "interface '" + site.owner->name +
                               "' has no pointer_default: unattributed embedded pointers are "
                               "[unique], as MIDL assumes; say pointer_default(unique) to "
                               "silence this");
}

void Analyzer::NameDefinition(const TypePtr& t, const std::string& name, bool bundled) {
  auto name_tag = [&](const std::string& kind, const std::string& tag, std::string& cpp,
                      bool& def_bundled, Loc loc) {
    if (cpp.empty()) cpp = name;
    def_bundled = bundled;
    if (!tag.empty()) {
      std::string key = kind + " " + tag;
      if (sym_.tags.count(key)) {
        if (sym_.tags[key] != t) diags_.Error(loc, "'" + key + "' is already defined");
      } else {
        sym_.tags[key] = t;
      }
    }
  };
  if (t->kind == Type::Kind::kStruct) {
    name_tag("struct", t->sdef->tag, t->sdef->cpp_name, t->sdef->bundled, t->sdef->loc);
  } else if (t->kind == Type::Kind::kUnion) {
    name_tag("union", t->udef->tag, t->udef->cpp_name, t->udef->bundled, t->udef->loc);
  } else if (t->kind == Type::Kind::kEnum) {
    name_tag("enum", t->edef->tag, t->edef->cpp_name, t->edef->bundled, t->edef->loc);
  }
}

void Analyzer::ResolveEnum(EnumDef& e) {
  int64_t next = 0;
  for (EnumItem& item : e.items) {
    if (item.value) {
      if (auto v = Eval(item.value)) next = *v;
    }
    item.resolved = next++;
    if (!e.v1 && !e.bundled && (item.resolved < -32768 || item.resolved > 65535)) {
      diags_.Warning(item.loc, "enumerator '" + item.name + "' (" +
                                   std::to_string(item.resolved) +
                                   ") does not fit an enum's 16-bit wire form: marshaling it "
                                   "fails with RPC_X_ENUM_VALUE_OUT_OF_RANGE; mark the enum "
                                   "[v1_enum] for 32 bits");
    }
    Declare(item.name, item.loc, "an enumerator");
    sym_.constants[item.name] = item.resolved;
  }
}

void Analyzer::Collect(File& file) {
  for (Item& item : file.items) {
    switch (item.kind) {
      case Item::Kind::kTypedef: {
        Typedef& td = *item.td;
        CheckAttrs(td.attrs, "t");
        Declare(td.name, td.loc, "a type");
        sym_.typedefs[td.name] = &td;
        NameDefinition(td.type, td.name, file.bundled);
        if (td.type->kind == Type::Kind::kEnum && !resolved_.count(td.type->edef.get())) {
          resolved_.insert(td.type->edef.get());
          td.type->edef->v1 = HasAttr(td.attrs, "v1_enum");
          ResolveEnum(*td.type->edef);
        }
        break;
      }
      case Item::Kind::kTypeDecl:
        NameDefinition(item.type, item.type->sdef   ? item.type->sdef->tag
                                  : item.type->udef ? item.type->udef->tag
                                  : item.type->edef ? item.type->edef->tag
                                                    : "",
                       file.bundled);
        if (item.type->kind == Type::Kind::kEnum && !resolved_.count(item.type->edef.get())) {
          resolved_.insert(item.type->edef.get());
          ResolveEnum(*item.type->edef);
        }
        break;
      case Item::Kind::kConst: {
        ConstDecl& cd = *item.cd;
        Declare(cd.name, cd.loc, "a constant");
        if (cd.value && cd.value->kind == Expr::Kind::kString) {
          cd.is_string = true;
        } else if (auto v = Eval(cd.value)) {
          cd.resolved = *v;
          sym_.constants[cd.name] = *v;
        }
        break;
      }
      case Item::Kind::kInterface: {
        Interface& itf = *item.itf;
        itf.bundled = file.bundled;
        auto it = sym_.interfaces.find(itf.name);
        if (itf.forward) {
          if (it == sym_.interfaces.end()) sym_.interfaces[itf.name] = &itf;
          break;
        }
        if (it != sym_.interfaces.end() && !it->second->forward) {
          diags_.Error(itf.loc, "interface '" + itf.name + "' is already defined");
          break;
        }
        if (declared_.count(itf.name) && it == sym_.interfaces.end()) {
          diags_.Error(itf.loc, "'" + itf.name + "' is already declared (a type)");
        }
        declared_.insert(itf.name);
        sym_.interfaces[itf.name] = &itf;
        CheckAttrs(itf.attrs, "i");
        itf.object = HasAttr(itf.attrs, "object");
        itf.local = HasAttr(itf.attrs, "local");
        if (const Attr* pd = FindAttr(itf.attrs, "pointer_default")) {
          std::string v = pd->args.size() == 1 && pd->args[0] &&
                                  pd->args[0]->kind == Expr::Kind::kIdent
                              ? pd->args[0]->text
                              : "";
          if (v != "ref" && v != "unique" && v != "ptr") {
            diags_.Error(pd->loc, "pointer_default takes ref, unique or ptr");
          } else {
            itf.pointer_default = v;
          }
        }
        break;
      }
      case Item::Kind::kImport:
      case Item::Kind::kCppQuote:
        break;
    }
  }
}

void Analyzer::ResolveStruct(StructDef& s, const Site& site) {
  std::set<std::string> names;
  for (const Field& f : s.fields) {
    if (!names.insert(f.name).second) {
      diags_.Error(f.loc, "member '" + f.name + "' is already declared in '" + s.cpp_name + "'");
    }
    if (!s.bundled) CheckIdentifier(f.name, f.loc, "member");
  }
  for (size_t i = 0; i < s.fields.size(); ++i) {
    Field& f = s.fields[i];
    CheckAttrs(f.attrs, "f");
    Site fs = site;
    fs.loc = f.loc;
    f.wire = Resolve(f.type, f.attrs, fs);
    for (const Attr& a : f.attrs) {
      if (a.name == "size_is" || a.name == "max_is" || a.name == "length_is" ||
          a.name == "first_is" || a.name == "switch_is") {
        for (const ExprPtr& e : a.args) CheckNames(e, names, a.name.c_str(), "member of the structure");
      }
    }
    if (!f.wire) continue;
    ResolveDefinitions(f.type, site);
    const Wire& w = *f.wire;
    if (w.kind == Wire::Kind::kInterface) {
      diags_.Error(f.loc, "interface pointers inside structures are not supported yet (only "
                          "as parameters); use MInterfacePointer");
    }
    if (w.kind == Wire::Kind::kContextHandle) {
      diags_.Error(f.loc, "a context handle cannot be a structure member");
    }
    if (w.kind == Wire::Kind::kString && w.fixed_string == 0) {
      diags_.Error(f.loc, "a conformant [string] member is not supported; use a [string] "
                          "pointer or a fixed-size [string] array");
      continue;
    }
    bool conformant = (w.kind == Wire::Kind::kArray && w.conformant) ||
                      (w.kind == Wire::Kind::kString && w.fixed_string == 0) ||
                      (w.kind == Wire::Kind::kStruct && IsConformantStruct(*w.strct));
    if (conformant && i + 1 != s.fields.size()) {
      diags_.Error(f.loc, "conformant member '" + f.name + "' must be the last member of '" +
                              s.cpp_name + "'");
    }
  }
}

void Analyzer::ResolveUnion(UnionDef& u, const Site& site, const Attrs& typedef_attrs) {
  if (u.encapsulated) {
    u.discriminant = Resolve(u.switch_type, {}, site);
  } else if (const Attr* st = FindAttr(typedef_attrs, "switch_type")) {
    u.discriminant = Resolve(st->type_arg, {}, site);
  } else {
    diags_.Error(u.loc, "non-encapsulated union '" + u.cpp_name +
                            "' needs [switch_type(...)] on its typedef");
  }
  if (u.discriminant) {
    const Wire& d = *u.discriminant;
    if (!(d.kind == Wire::Kind::kEnum || (d.kind == Wire::Kind::kPrim && IsIntegral(d.prim)))) {
      diags_.Error(u.encapsulated ? u.switch_type->loc : FindAttr(typedef_attrs, "switch_type")->loc,
                   "switch_type of '" + u.cpp_name + "' must be an integer or enum type");
      u.discriminant = nullptr;
    }
  }
  std::set<int64_t> seen;
  bool has_default = false;
  std::set<std::string> names;
  for (UnionArm& arm : u.arms) {
    if (arm.is_default) {
      if (has_default) diags_.Error(arm.loc, "union '" + u.cpp_name + "' has two default arms");
      has_default = true;
    }
    for (const ExprPtr& label : arm.labels) {
      auto v = Eval(label);
      if (!v) continue;
      if (!seen.insert(*v).second) {
        diags_.Error(label->loc, "case " + std::to_string(*v) + " appears twice in '" +
                                     u.cpp_name + "'");
      }
      arm.values.push_back(*v);
    }
    if (!arm.field) continue;
    Field& f = *arm.field;
    if (!names.insert(f.name).second) {
      diags_.Error(f.loc, "arm '" + f.name + "' is already declared in '" + u.cpp_name + "'");
    }
    CheckAttrs(f.attrs, "f");
    Site fs = site;
    fs.loc = f.loc;
    f.wire = Resolve(f.type, f.attrs, fs);
    if (!f.wire) continue;
    ResolveDefinitions(f.type, site);
    const Wire& w = *f.wire;
    if ((w.kind == Wire::Kind::kArray && (w.conformant || w.varying)) ||
        (w.kind == Wire::Kind::kString && !w.fixed_string) ||
        (w.kind == Wire::Kind::kStruct && IsConformantStruct(*w.strct))) {
      diags_.Error(f.loc, "a union arm cannot be conformant; use a pointer");
    }
    if (w.kind == Wire::Kind::kInterface || w.kind == Wire::Kind::kContextHandle) {
      diags_.Error(f.loc, "interface pointers and context handles cannot be union arms");
    }
    if (w.kind == Wire::Kind::kUnion && !w.uni->encapsulated) {
      diags_.Error(f.loc, "a non-encapsulated union arm is not supported");
    }
  }
}

// Resolves the definitions a type names inline (struct {...} in a typedef).
void Analyzer::ResolveDefinitions(const TypePtr& t, const Site& site) {
  if (!t) return;
  if (t->kind == Type::Kind::kPointer || t->kind == Type::Kind::kArray) {
    ResolveDefinitions(t->inner, site);
    return;
  }
  if (t->kind == Type::Kind::kStruct && resolved_.insert(t->sdef.get()).second) {
    ResolveStruct(*t->sdef, site);
  }
  if (t->kind == Type::Kind::kUnion && resolved_.insert(t->udef.get()).second) {
    ResolveUnion(*t->udef, site, {});
  }
  if (t->kind == Type::Kind::kEnum && resolved_.insert(t->edef.get()).second) {
    ResolveEnum(*t->edef);
  }
}

void Analyzer::Run() {
  for (auto& f : program_.files) Collect(*f);
  for (auto& f : program_.files) {
    for (Item& item : f->items) {
      Site site;
      if (item.owner) site.pointer_default = item.owner->pointer_default;
      site.owner = item.owner;
      if (item.kind == Item::Kind::kTypedef) {
        site.loc = item.td->loc;
        TypePtr t = item.td->type;
        if (t->kind == Type::Kind::kUnion && resolved_.insert(t->udef.get()).second) {
          ResolveUnion(*t->udef, site, item.td->attrs);
        }
        ResolveDefinitions(t, site);
        if (HasAttr(item.td->attrs, "switch_type") && t->kind != Type::Kind::kUnion) {
          diags_.Error(FindAttr(item.td->attrs, "switch_type")->loc,
                       "switch_type applies only to a union");
        }
        // Checks the typedef's own target (unknown names in aliases).
        if (t->kind == Type::Kind::kNamed) StripTypedefs(t, nullptr, nullptr);
      } else if (item.kind == Item::Kind::kTypeDecl) {
        ResolveDefinitions(item.type, site);
      }
    }
  }
  for (auto& f : program_.files) {
    for (Item& item : f->items) {
      if (item.kind == Item::Kind::kInterface && !item.itf->forward) {
        AnalyzeInterface(*item.itf, f->bundled);
      }
    }
  }
}

}  // namespace internal

void Analyze(Program& program, Diagnostics& diags, Symbols& symbols) {
  internal::Analyzer a(program, diags, symbols);
  a.Run();
}

}  // namespace comsec::comidl
