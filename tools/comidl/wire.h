// The wire shape of a type at one place of use (a field, a parameter, a
// typedef's target): typedefs seen through, attributes applied level by
// level (size_is(, n) on the second pointer, [string] on the character
// level, the pointer kind on the first), so the generators never look at
// attributes again. Also what NDR20 derives from a shape: alignment, the
// least bytes an element takes (for Decoder::Conformance), whether a type
// has deferred referents or a conformant tail.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "comidl/ast.h"

namespace comsec::comidl {

enum class PtrKind { kRef, kUnique, kFull };

struct Wire {
  enum class Kind {
    kPrim, kEnum, kStruct, kUnion, kString, kPointer, kArray, kContextHandle, kInterface,
  };
  Kind kind = Kind::kPrim;
  Base prim = Base::kLong;  // kPrim
  std::string alias;        // the typedef name written at the use (DWORD)
  const EnumDef* enm = nullptr;
  const StructDef* strct = nullptr;
  const UnionDef* uni = nullptr;
  // kString: wchar_t (else char/byte); fixed_string: [string] char a[N],
  // a varying array of N (else conformant-varying).
  bool wide = false;
  uint32_t fixed_string = 0;
  PtrKind ptr = PtrKind::kUnique;  // kPointer
  WirePtr elem;                    // kPointer: pointee; kArray: element
  // kArray: fixed size, or conformant (size_is/max_is), and varying
  // (length_is/first_is).
  uint32_t fixed = 0;
  bool conformant = false;
  bool varying = false;
  ExprPtr size_is, max_is, length_is, first_is;
  ExprPtr switch_is;  // kUnion, non-encapsulated
  ExprPtr iid_is;     // kInterface
  const Interface* itf = nullptr;  // kInterface; null for [iid_is] void*
  std::optional<std::pair<int64_t, int64_t>> range;
};

// NDR20 alignment of the type's first scalar (C706 14.2.2): a pointer 4, a
// structure the largest of its members, a conformant structure at least 4.
size_t AlignOf(const Wire& w);
size_t AlignOfStruct(const StructDef& s);
size_t AlignOfUnionArms(const UnionDef& u);
// The fewest bytes one value can take on the wire, padding ignored: a safe
// lower bound to check counts against the remaining bytes.
size_t MinSizeOf(const Wire& w);
// Whether encoding has a buffers phase (embedded pointer referents).
bool HasBuffers(const Wire& w);
bool StructHasBuffers(const StructDef& s);
bool UnionHasBuffers(const UnionDef& u);
// A structure whose last member is a conformant array (or a conformant
// structure): its max_count leads it on the wire (C706 14.3.7.2).
bool IsConformantStruct(const StructDef& s);
// The size of a primitive on the wire (GUID: 16).
size_t PrimSize(Base b);
size_t PrimAlign(Base b);
bool IsIntegral(Base b);
bool IsCharLike(Base b);

}  // namespace comsec::comidl
