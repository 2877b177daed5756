// The syntax tree of a MIDL file as comidl parses it: expressions,
// attributes, types as written (declarators unfolded into pointer and array
// levels), definitions, and the file's items in source order. Sema fills in
// the resolved fields (marked "sema:") and the wire shapes of wire.h.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "comidl/diagnostics.h"

namespace comsec::comidl {

struct Expr;
using ExprPtr = std::shared_ptr<Expr>;

// A constant or correlation expression (size_is(*pcb * 2), case labels).
struct Expr {
  enum class Kind { kNumber, kIdent, kString, kChar, kUnary, kBinary, kTernary };
  Kind kind = Kind::kNumber;
  int64_t value = 0;  // kNumber, kChar
  std::string text;   // identifier, string, or operator
  ExprPtr a, b, c;
  Loc loc;
};

struct Type;
using TypePtr = std::shared_ptr<Type>;

struct Attr {
  std::string name;
  Loc loc;
  // Arguments; an empty position (size_is(, n)) is a null entry.
  std::vector<ExprPtr> args;
  // The source text between the parentheses (uuid, version).
  std::string raw;
  // switch_type(T), transmit_as(T): a type argument.
  TypePtr type_arg;
  bool has_parens = false;
};
using Attrs = std::vector<Attr>;

const Attr* FindAttr(const Attrs& attrs, std::string_view name);
inline bool HasAttr(const Attrs& attrs, std::string_view name) {
  return FindAttr(attrs, name) != nullptr;
}

// MIDL's base types. kInt3264 is __int3264 (32 bits in NDR20).
enum class Base {
  kByte, kChar, kWchar, kSmall, kUSmall, kShort, kUShort, kLong, kULong,
  kHyper, kUHyper, kFloat, kDouble, kBoolean, kErrorStatus, kHandle, kVoid,
  kGuid,  // GUID: bundled wtypes.idl declares it as a builtin (comsec::Guid)
};

struct StructDef;
struct UnionDef;
struct EnumDef;

struct Type {
  enum class Kind { kBase, kNamed, kPointer, kArray, kStruct, kUnion, kEnum };
  Kind kind = Kind::kBase;
  Base base = Base::kLong;
  // kNamed: a typedef or interface name, or "struct X" / "union X" /
  // "enum X" for a reference by tag.
  std::string name;
  TypePtr inner;         // kPointer: pointee; kArray: element
  ExprPtr size;          // kArray: fixed size; null when conformant ([] or [*])
  bool is_const = false;
  Loc loc;
  std::shared_ptr<StructDef> sdef;  // kStruct
  std::shared_ptr<UnionDef> udef;   // kUnion
  std::shared_ptr<EnumDef> edef;    // kEnum
};

struct Wire;
using WirePtr = std::shared_ptr<const Wire>;

struct Field {
  std::string name;
  Attrs attrs;
  TypePtr type;
  Loc loc;
  WirePtr wire;  // sema:
};

struct StructDef {
  std::string tag;
  std::vector<Field> fields;
  Loc loc;
  std::string cpp_name;  // sema: the typedef name (else the tag)
  bool bundled = false;  // sema: declared in a bundled base file
};

struct UnionArm {
  std::vector<ExprPtr> labels;
  bool is_default = false;
  std::optional<Field> field;  // empty arm: nullopt
  Loc loc;
  std::vector<int64_t> values;  // sema: the labels' values
};

struct UnionDef {
  std::string tag;
  bool encapsulated = false;
  // Encapsulated: switch (type name) body_name { case ...: }.
  TypePtr switch_type;
  std::string switch_name;
  std::string body_name;
  std::vector<UnionArm> arms;
  Loc loc;
  std::string cpp_name;  // sema:
  WirePtr discriminant;  // sema: the discriminant's wire type
  bool bundled = false;
};

struct EnumItem {
  std::string name;
  ExprPtr value;
  Loc loc;
  int64_t resolved = 0;  // sema:
};

struct EnumDef {
  std::string tag;
  std::vector<EnumItem> items;
  Loc loc;
  std::string cpp_name;  // sema:
  bool v1 = false;       // sema: [v1_enum]: 32 bits on the wire
  bool bundled = false;
};

struct Typedef {
  Attrs attrs;
  TypePtr type;
  std::string name;
  Loc loc;
};

struct ConstDecl {
  TypePtr type;
  std::string name;
  ExprPtr value;
  Loc loc;
  int64_t resolved = 0;      // sema: integer constants
  bool is_string = false;    // sema: a string constant
};

struct Param {
  Attrs attrs;
  TypePtr type;
  std::string name;
  Loc loc;
  WirePtr wire;  // sema: null for handle_t
  bool in = false, out = false;  // sema
};

struct Method {
  Attrs attrs;
  TypePtr ret;
  std::string name;
  std::vector<Param> params;
  Loc loc;
  int opnum = -1;        // sema: -1 for a [local] method without wire form
  bool local = false;    // sema
  WirePtr ret_wire;      // sema: null for void
};

struct Item;

struct Interface {
  Attrs attrs;
  std::string name;
  std::string base_name;
  Loc loc;
  bool forward = false;  // "interface X;"
  std::vector<Method> methods;
  // sema:
  const Interface* base = nullptr;
  bool object = false;
  bool local = false;
  bool bundled = false;
  std::string uuid;  // "8-4-4-4-12", lower case
  uint16_t major = 0, minor = 0;
  std::string pointer_default = "unique";
  int first_opnum = 0;  // opnums inherited from the base chain
  int opnum_count = 0;  // total including the bases
};

struct Item {
  enum class Kind { kImport, kCppQuote, kTypedef, kConst, kInterface, kTypeDecl };
  Kind kind = Kind::kTypedef;
  Loc loc;
  std::string text;  // import path, cpp_quote text
  std::shared_ptr<Typedef> td;
  std::shared_ptr<ConstDecl> cd;
  std::shared_ptr<Interface> itf;
  TypePtr type;  // kTypeDecl: "struct X {...};" without typedef
  // Items declared inside an interface body name it here (pointer_default).
  const Interface* owner = nullptr;
};

struct File {
  std::string path;       // as given or found
  std::string base_name;  // "echo" for echo.idl
  bool bundled = false;   // one of comidl's base files
  std::vector<Item> items;
};

}  // namespace comsec::comidl
