// Interfaces and their methods (sema_internal.h): attributes, inheritance,
// opnums, parameters' directions and wire shapes.
#include <cctype>

#include "comidl/sema_internal.h"

namespace comsec::comidl::internal {
namespace {

bool ParseUuid(const std::string& raw, std::string* out) {
  std::string s;
  for (char c : raw) {
    if (!std::isspace(static_cast<unsigned char>(c))) s += static_cast<char>(std::tolower(c));
  }
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  *out = s;
  return true;
}

// The base type behind typedefs, without reporting unknown names (Resolve
// reports them once).
std::optional<Base> BaseBehind(TypePtr t, const Symbols& sym) {
  for (int guard = 0; t && guard < 64; ++guard) {
    if (t->kind == Type::Kind::kBase) return t->base;
    if (t->kind != Type::Kind::kNamed) return std::nullopt;
    auto it = sym.typedefs.find(t->name);
    if (it == sym.typedefs.end()) return std::nullopt;
    t = it->second->type;
  }
  return std::nullopt;
}

bool IsHresult(const TypePtr& t) {
  return t && t->kind == Type::Kind::kNamed && (t->name == "HRESULT" || t->name == "SCODE");
}

}  // namespace

void Analyzer::AnalyzeInterface(Interface& itf, bool bundled) {
  if (const Attr* u = FindAttr(itf.attrs, "uuid")) {
    if (!ParseUuid(u->raw, &itf.uuid)) {
      diags_.Error(u->loc, "uuid '" + u->raw + "' is not of the form 8-4-4-4-12 hex digits");
    }
  } else if (!itf.local) {
    diags_.Error(itf.loc, "interface '" + itf.name + "' needs a uuid attribute");
  }
  if (const Attr* v = FindAttr(itf.attrs, "version")) {
    unsigned major = 0, minor = 0;
    std::string raw;
    for (char c : v->raw) {
      if (!std::isspace(static_cast<unsigned char>(c))) raw += c;
    }
    int n = 0;
    if (std::sscanf(raw.c_str(), "%u.%u%n", &major, &minor, &n) == 2 &&
        n == static_cast<int>(raw.size()) && major <= 0xFFFF && minor <= 0xFFFF) {
    } else if (std::sscanf(raw.c_str(), "%u%n", &major, &n) == 1 &&
               n == static_cast<int>(raw.size()) && major <= 0xFFFF) {
      minor = 0;
    } else {
      diags_.Error(v->loc, "version '" + v->raw + "' is not MAJOR.MINOR");
    }
    itf.major = static_cast<uint16_t>(major);
    itf.minor = static_cast<uint16_t>(minor);
  }
  if (!itf.base_name.empty()) {
    auto it = sym_.interfaces.find(itf.base_name);
    if (it == sym_.interfaces.end()) {
      diags_.Error(itf.loc, "unknown base interface '" + itf.base_name + "'");
    } else if (it->second->forward) {
      diags_.Error(itf.loc, "base interface '" + itf.base_name + "' is only forward-declared");
    } else if (!itf.object) {
      diags_.Error(itf.loc, "interface inheritance needs [object] (DCE interfaces do not inherit)");
    } else if (!it->second->object) {
      diags_.Error(itf.loc, "base interface '" + itf.base_name + "' is not an [object] interface");
    } else {
      itf.base = it->second;
    }
  } else if (itf.object && itf.name != "IUnknown") {
    diags_.Error(itf.loc, "[object] interface '" + itf.name +
                              "' must derive from IUnknown or another [object] interface");
  }
  itf.first_opnum = itf.base ? itf.base->opnum_count : 0;
  // A [local] method takes a vtable slot (an opnum); its [call_as] partner
  // is the one on the wire at that opnum.
  std::set<std::string> names;
  for (const Interface* b = itf.base; b; b = b->base) {
    for (const Method& m : b->methods) names.insert(m.name);
  }
  int next = itf.first_opnum;
  for (Method& m : itf.methods) {
    CheckAttrs(m.attrs, "m");
    if (!names.insert(m.name).second) {
      diags_.Error(m.loc, "method '" + m.name + "' is already declared in '" + itf.name +
                              "' or its bases");
    }
    m.local = itf.local || HasAttr(m.attrs, "local");
    if (!HasAttr(m.attrs, "call_as")) m.opnum = next++;
  }
  itf.opnum_count = next;
  for (Method& m : itf.methods) {
    const Attr* ca = FindAttr(m.attrs, "call_as");
    if (!ca) continue;
    std::string target = ca->args.size() == 1 && ca->args[0] &&
                                 ca->args[0]->kind == Expr::Kind::kIdent
                             ? ca->args[0]->text
                             : "";
    Method* partner = nullptr;
    for (Method& o : itf.methods) {
      if (o.name == target) partner = &o;
    }
    if (!partner) {
      diags_.Error(ca->loc, "call_as names '" + target + "', which is not a method of '" +
                                itf.name + "'");
    } else if (!partner->local) {
      diags_.Error(ca->loc, "call_as target '" + target + "' must be a [local] method");
    } else {
      m.opnum = partner->opnum;
    }
  }
  for (Method& m : itf.methods) {
    if (!m.local) {
      AnalyzeMethod(itf, m);
    } else if (!bundled && !HasAttr(m.attrs, "call_as")) {
      bool has_partner = false;
      for (const Method& o : itf.methods) {
        const Attr* ca = FindAttr(o.attrs, "call_as");
        has_partner |= ca && ca->args.size() == 1 && ca->args[0] && ca->args[0]->text == m.name;
      }
      if (!has_partner && !itf.local) {
        diags_.Note(m.loc, "[local] method '" + m.name + "' has no wire form: opnum " +
                               std::to_string(m.opnum) + " is refused on the wire");
      }
    }
  }
}

void Analyzer::AnalyzeMethod(Interface& itf, Method& m) {
  if (itf.object && !IsHresult(m.ret)) {
    diags_.Error(m.loc, "method '" + m.name + "' of [object] interface '" + itf.name +
                            "' must return HRESULT");
  }
  CheckIdentifier(m.name, m.loc, "method");
  std::set<std::string> names;
  for (const Param& p : m.params) {
    if (!names.insert(p.name).second) {
      diags_.Error(p.loc, "parameter '" + p.name + "' is already declared in '" + m.name + "'");
    }
    CheckIdentifier(p.name, p.loc, "parameter", /*param=*/true);
  }
  Site site;
  site.top_param = true;
  site.pointer_default = itf.pointer_default;
  site.owner = &itf;
  for (size_t i = 0; i < m.params.size(); ++i) {
    Param& p = m.params[i];
    CheckAttrs(p.attrs, "p");
    p.in = HasAttr(p.attrs, "in");
    p.out = HasAttr(p.attrs, "out");
    if (!p.in && !p.out) {
      p.in = true;  // MIDL's default
      diags_.Warning(p.loc, "parameter '" + p.name + "' has neither [in] nor [out]: it is [in], "
                            "as MIDL assumes; say so to silence this");
    }
    if (BaseBehind(p.type, sym_) == Base::kHandle) {
      if (i != 0 || itf.object || p.out) {
        diags_.Error(p.loc, "handle_t must be the first, [in] parameter of a non-object "
                            "interface's method");
      }
      continue;
    }
    site.loc = p.loc;
    p.wire = Resolve(p.type, p.attrs, site);
    for (const Attr& a : p.attrs) {
      if (a.name == "size_is" || a.name == "max_is" || a.name == "length_is" ||
          a.name == "first_is" || a.name == "switch_is" || a.name == "iid_is") {
        for (const ExprPtr& e : a.args) CheckNames(e, names, a.name.c_str(), "parameter");
      }
    }
    if (!p.wire) continue;
    const Wire& w = *p.wire;
    if (p.out && w.kind != Wire::Kind::kPointer && w.kind != Wire::Kind::kArray &&
        w.kind != Wire::Kind::kContextHandle &&
        !(w.kind == Wire::Kind::kString && w.fixed_string == 0)) {
      diags_.Error(p.loc, "[out] parameter '" + p.name + "' must be a pointer");
    }
    if (p.out && w.kind == Wire::Kind::kPointer && w.ptr != PtrKind::kRef) {
      diags_.Error(p.loc, "[out] parameter '" + p.name + "' must be a [ref] pointer");
    }
    if (HasAttr(p.attrs, "retval") && (!p.out || i + 1 != m.params.size())) {
      diags_.Error(p.loc, "[retval] must be the last parameter and [out]");
    }
    bool is_interface = w.kind == Wire::Kind::kInterface ||
                        (w.kind == Wire::Kind::kPointer && w.elem &&
                         w.elem->kind == Wire::Kind::kInterface);
    if (is_interface && !itf.object) {
      diags_.Error(p.loc, "interface pointers need an [object] interface (the COM layer "
                          "marshals them)");
    }
    if (w.kind == Wire::Kind::kPointer && w.elem && w.elem->kind == Wire::Kind::kPointer &&
        w.elem->elem && w.elem->elem->kind == Wire::Kind::kInterface) {
      diags_.Error(p.loc, "a pointer to a pointer to an interface pointer is not supported");
    }
    if (w.kind == Wire::Kind::kPointer && w.elem && w.elem->kind == Wire::Kind::kArray &&
        w.elem->elem->kind == Wire::Kind::kInterface) {
      diags_.Error(p.loc, "arrays of interface pointers are not supported yet");
    }
  }
  if (m.ret) {
    if (BaseBehind(m.ret, sym_) != Base::kVoid) {
      Site rs;
      rs.loc = m.loc;
      rs.pointer_default = itf.pointer_default;
      m.ret_wire = Resolve(m.ret, {}, rs);
      if (m.ret_wire && m.ret_wire->kind != Wire::Kind::kPrim &&
          m.ret_wire->kind != Wire::Kind::kEnum) {
        diags_.Error(m.loc, "method '" + m.name + "' must return void or a base type");
      }
    }
  }
}

}  // namespace comsec::comidl::internal
