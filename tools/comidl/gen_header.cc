#include "comidl/gen_header.h"

#include "comidl/gen_ndr.h"

namespace comsec::comidl::gen {
namespace {

// The definition an item introduces (a typedef naming an inline struct,
// union or enum it defines, or a tagged declaration), or null.
TypePtr DefinedType(const Item& item) {
  TypePtr t;
  std::string name;
  if (item.kind == Item::Kind::kTypedef) {
    t = item.td->type;
    name = item.td->name;
  } else if (item.kind == Item::Kind::kTypeDecl) {
    t = item.type;
  } else {
    return nullptr;
  }
  if (t->kind == Type::Kind::kStruct && (name.empty() || t->sdef->cpp_name == name)) return t;
  if (t->kind == Type::Kind::kUnion && (name.empty() || t->udef->cpp_name == name)) return t;
  if (t->kind == Type::Kind::kEnum && (name.empty() || t->edef->cpp_name == name)) return t;
  return nullptr;
}

std::string Unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == '"' || s[i + 1] == '\\')) ++i;
    out += s[i];
  }
  return out;
}

// The C++ spelling of a typedef's target when it is a plain alias, or "".
std::string AliasTarget(const TypePtr& t, const Symbols& sym) {
  switch (t->kind) {
    case Type::Kind::kBase:
      return t->base == Base::kVoid || t->base == Base::kHandle ? "" : PrimCpp(t->base);
    case Type::Kind::kNamed: {
      if (t->name.rfind("struct ", 0) == 0 || t->name.rfind("union ", 0) == 0 ||
          t->name.rfind("enum ", 0) == 0) {
        auto it = sym.tags.find(t->name);
        if (it == sym.tags.end()) return "";
        const TypePtr& d = it->second;
        return d->sdef ? d->sdef->cpp_name : d->udef ? d->udef->cpp_name : d->edef->cpp_name;
      }
      if (sym.interfaces.count(t->name)) return "";
      auto it = sym.typedefs.find(t->name);
      if (it == sym.typedefs.end()) return "";
      // An alias of a pointer typedef is itself a pointer typedef.
      return AliasTarget(it->second->type, sym).empty() ? "" : t->name;
    }
    case Type::Kind::kStruct: return t->sdef->cpp_name;
    case Type::Kind::kUnion: return t->udef->cpp_name;
    case Type::Kind::kEnum: return t->edef->cpp_name;
    default: return "";
  }
}

void DefineStruct(Out& o, const StructDef& s) {
  o.L("struct " + s.cpp_name + " {").In();
  for (const Field& f : s.fields) o.L(CppType(*f.wire) + " " + f.name + "{};");
  o.L("friend bool operator==(const " + s.cpp_name + "&, const " + s.cpp_name +
      "&) = default;");
  o.Un().L("};");
}

void DefineUnion(Out& o, const UnionDef& u) {
  o.L("// A union as a tagged structure: `" + UnionTag(u) +
      "` selects the arm that is on the wire.");
  o.L("struct " + u.cpp_name + " {").In();
  o.L(CppType(*u.discriminant) + " " + UnionTag(u) + "{};");
  for (const UnionArm& arm : u.arms) {
    if (arm.field) o.L(CppType(*arm.field->wire) + " " + arm.field->name + "{};");
  }
  o.L("friend bool operator==(const " + u.cpp_name + "&, const " + u.cpp_name +
      "&) = default;");
  o.Un().L("};");
}

void DefineEnum(Out& o, const EnumDef& e) {
  o.L(std::string("// ") + (e.v1 ? "[v1_enum]: 32 bits on the wire." : "16 bits on the wire (NDR20)."));
  o.L("enum " + e.cpp_name + " : int32_t {").In();
  for (const EnumItem& item : e.items) {
    o.L(item.name + " = " + std::to_string(item.resolved) + ",");
  }
  o.Un().L("};");
}

}  // namespace

void ForwardDeclare(Out& o, const File& file) {
  for (const Item& item : file.items) {
    TypePtr t = DefinedType(item);
    if (!t) continue;
    if (t->sdef) o.L("struct " + t->sdef->cpp_name + ";");
    if (t->udef) o.L("struct " + t->udef->cpp_name + ";");
  }
}

void DeclareItem(Out& o, const Item& item, const Symbols& sym) {
  switch (item.kind) {
    case Item::Kind::kCppQuote:
      o.L("}  // namespace comsec::idl");
      o.L(Unescape(item.text));
      o.L("namespace comsec::idl {");
      return;
    case Item::Kind::kConst: {
      const ConstDecl& c = *item.cd;
      if (c.is_string) {
        o.L("inline constexpr char " + c.name + "[] = " + Quote(c.value->text) + ";");
      } else {
        o.L("inline constexpr int64_t " + c.name + " = " + std::to_string(c.resolved) + ";");
      }
      return;
    }
    case Item::Kind::kTypedef:
    case Item::Kind::kTypeDecl: {
      if (TypePtr t = DefinedType(item)) {
        if (t->sdef) DefineStruct(o, *t->sdef);
        if (t->udef) DefineUnion(o, *t->udef);
        if (t->edef) DefineEnum(o, *t->edef);
        o.L();
        return;
      }
      if (item.kind == Item::Kind::kTypedef) {
        std::string target = AliasTarget(item.td->type, sym);
        if (target.empty()) {
          o.L("// typedef " + item.td->name + ": spelled out where it is used "
              "(pointers become values, std::optional, ndr::Box or std::shared_ptr).");
        } else {
          o.L("using " + item.td->name + " = " + target + ";");
        }
      }
      return;
    }
    default:
      return;
  }
}

void DeclareItemCodec(Out& o, const Item& item) {
  TypePtr t = DefinedType(item);
  if (!t) return;
  if (t->sdef) DeclareStructCodec(o, *t->sdef);
  if (t->udef) DeclareUnionCodec(o, *t->udef);
}

void DefineItemCodec(Out& o, const Item& item, const Symbols& sym, const std::string& prefix) {
  TypePtr t = DefinedType(item);
  if (!t) return;
  if (t->sdef) DefineStructCodec(o, *t->sdef, sym, prefix);
  if (t->udef) DefineUnionCodec(o, *t->udef, sym, prefix);
}

}  // namespace comsec::comidl::gen
