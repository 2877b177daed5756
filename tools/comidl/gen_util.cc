#include "comidl/gen_util.h"

#include "comidl/gen_ndr.h"

namespace comsec::comidl::gen {

Out& Out::L(const std::string& line) {
  if (!line.empty()) s_ << std::string(indent_, ' ') << line;
  s_ << "\n";
  return *this;
}

std::string PrimCpp(Base b) {
  switch (b) {
    case Base::kByte: return "uint8_t";
    case Base::kChar: return "char";
    case Base::kWchar: return "char16_t";
    case Base::kSmall: return "int8_t";
    case Base::kUSmall: return "uint8_t";
    case Base::kShort: return "int16_t";
    case Base::kUShort: return "uint16_t";
    case Base::kLong: return "int32_t";
    case Base::kULong: return "uint32_t";
    case Base::kHyper: return "int64_t";
    case Base::kUHyper: return "uint64_t";
    case Base::kFloat: return "float";
    case Base::kDouble: return "double";
    case Base::kBoolean: return "uint8_t";
    case Base::kErrorStatus: return "uint32_t";
    case Base::kGuid: return "::comsec::Guid";
    case Base::kHandle: case Base::kVoid: return "void";
  }
  return "void";
}

std::string CppType(const Wire& w) {
  switch (w.kind) {
    case Wire::Kind::kPrim: return w.alias.empty() ? PrimCpp(w.prim) : w.alias;
    case Wire::Kind::kEnum: return w.enm->cpp_name;
    case Wire::Kind::kStruct: return w.strct->cpp_name;
    case Wire::Kind::kUnion: return w.uni->cpp_name;
    case Wire::Kind::kString: return w.wide ? "std::u16string" : "std::string";
    case Wire::Kind::kPointer: {
      std::string inner = CppType(*w.elem);
      if (w.ptr == PtrKind::kRef) return inner;
      if (w.ptr == PtrKind::kFull) return "std::shared_ptr<" + inner + ">";
      bool boxed = w.elem->kind == Wire::Kind::kStruct || w.elem->kind == Wire::Kind::kUnion;
      return boxed ? "::comsec::ndr::Box<" + inner + ">" : "std::optional<" + inner + ">";
    }
    case Wire::Kind::kArray:
      if (w.conformant || w.varying) return "std::vector<" + CppType(*w.elem) + ">";
      return "std::array<" + CppType(*w.elem) + ", " + std::to_string(w.fixed) + ">";
    case Wire::Kind::kContextHandle: return "::comsec::ndr::ContextHandle";
    case Wire::Kind::kInterface:
      return w.itf ? "::comsec::ComPtr<" + w.itf->name + ">"
                   : "::comsec::ComPtr<::comsec::IUnknown>";
  }
  return "void";
}

std::string ParamCpp(const Param& p) {
  const Wire& w = *p.wire;
  if (IsSpanParam(p)) {
    const Wire& a = w.kind == Wire::Kind::kPointer ? *w.elem : w;
    return "std::span<const " + PrimCpp(a.elem->prim) + ">";
  }
  std::string t = w.kind == Wire::Kind::kPointer && w.ptr == PtrKind::kRef ? CppType(*w.elem)
                                                                          : CppType(w);
  if (p.out) return t + "&";
  const Wire& v = w.kind == Wire::Kind::kPointer && w.ptr == PtrKind::kRef ? *w.elem : w;
  if ((v.kind == Wire::Kind::kPrim && v.prim != Base::kGuid) || v.kind == Wire::Kind::kEnum) {
    return t;
  }
  return "const " + t + "&";
}

std::string ExprCpp(const ExprPtr& e, const Scope& scope, const Symbols& symbols) {
  if (!e) return "0";
  switch (e->kind) {
    case Expr::Kind::kNumber:
    case Expr::Kind::kChar:
      return "int64_t{" + std::to_string(e->value) + "}";
    case Expr::Kind::kIdent: {
      auto it = scope.names.find(e->text);
      if (it != scope.names.end()) return "static_cast<int64_t>(" + it->second + ")";
      auto c = symbols.constants.find(e->text);
      return "int64_t{" + std::to_string(c == symbols.constants.end() ? 0 : c->second) + "}";
    }
    case Expr::Kind::kString:
      return "0";
    case Expr::Kind::kUnary:
      if (e->text == "*" && e->a && e->a->kind == Expr::Kind::kIdent) {
        auto it = scope.names.find(e->a->text);
        std::string v = it == scope.names.end() ? "0" : it->second;
        return "static_cast<int64_t>(::comsec::ndr::Deref(" + v + "))";
      }
      return "(" + e->text + ExprCpp(e->a, scope, symbols) + ")";
    case Expr::Kind::kBinary:
      return "(" + ExprCpp(e->a, scope, symbols) + " " + e->text + " " +
             ExprCpp(e->b, scope, symbols) + ")";
    case Expr::Kind::kTernary:
      return "(" + ExprCpp(e->a, scope, symbols) + " ? " + ExprCpp(e->b, scope, symbols) +
             " : " + ExprCpp(e->c, scope, symbols) + ")";
  }
  return "0";
}

bool ExprAvailable(const ExprPtr& e, const Scope& scope, const Symbols& symbols) {
  if (!e) return true;
  if (e->kind == Expr::Kind::kIdent) {
    return scope.available.count(e->text) || symbols.constants.count(e->text);
  }
  return ExprAvailable(e->a, scope, symbols) && ExprAvailable(e->b, scope, symbols) &&
         ExprAvailable(e->c, scope, symbols);
}

std::string Quote(const std::string& text) { return "\"" + text + "\""; }

std::string GuidInit(const std::string& u) {
  // "4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d21"
  std::string out = "::comsec::Guid{0x" + u.substr(0, 8) + "u, 0x" + u.substr(9, 4) +
                    ", 0x" + u.substr(14, 4) + ", {";
  std::string tail = u.substr(19, 4) + u.substr(24, 12);
  for (size_t i = 0; i < 16; i += 2) {
    out += (i ? ", 0x" : "0x") + tail.substr(i, 2);
  }
  return out + "}}";
}

}  // namespace comsec::comidl::gen
