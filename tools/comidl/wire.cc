#include "comidl/wire.h"

#include <algorithm>

namespace comsec::comidl {

size_t PrimSize(Base b) {
  switch (b) {
    case Base::kByte: case Base::kChar: case Base::kSmall: case Base::kUSmall:
    case Base::kBoolean:
      return 1;
    case Base::kWchar: case Base::kShort: case Base::kUShort:
      return 2;
    case Base::kLong: case Base::kULong: case Base::kFloat: case Base::kErrorStatus:
      return 4;
    case Base::kHyper: case Base::kUHyper: case Base::kDouble:
      return 8;
    case Base::kGuid:
      return 16;
    case Base::kHandle: case Base::kVoid:
      return 0;
  }
  return 0;
}

size_t PrimAlign(Base b) { return b == Base::kGuid ? 4 : std::max<size_t>(PrimSize(b), 1); }

bool IsIntegral(Base b) {
  switch (b) {
    case Base::kFloat: case Base::kDouble: case Base::kGuid: case Base::kHandle:
    case Base::kVoid:
      return false;
    default:
      return true;
  }
}

bool IsCharLike(Base b) { return b == Base::kChar || b == Base::kWchar || b == Base::kByte; }

size_t AlignOfStruct(const StructDef& s) {
  size_t a = IsConformantStruct(s) ? 4 : 1;
  for (const Field& f : s.fields) {
    if (f.wire) a = std::max(a, AlignOf(*f.wire));
  }
  return a;
}

size_t AlignOfUnionArms(const UnionDef& u) {
  size_t a = 1;
  for (const UnionArm& arm : u.arms) {
    if (arm.field && arm.field->wire) a = std::max(a, AlignOf(*arm.field->wire));
  }
  return a;
}

size_t AlignOf(const Wire& w) {
  switch (w.kind) {
    case Wire::Kind::kPrim: return PrimAlign(w.prim);
    case Wire::Kind::kEnum: return w.enm->v1 ? 4 : 2;
    case Wire::Kind::kStruct: return AlignOfStruct(*w.strct);
    case Wire::Kind::kUnion: {
      size_t d = w.uni->discriminant ? AlignOf(*w.uni->discriminant) : 4;
      return std::max(d, AlignOfUnionArms(*w.uni));
    }
    case Wire::Kind::kString:  // its counts lead it
      return 4;
    case Wire::Kind::kPointer: return 4;
    case Wire::Kind::kArray: {
      size_t e = AlignOf(*w.elem);
      return w.conformant || w.varying ? std::max<size_t>(e, 4) : e;
    }
    case Wire::Kind::kContextHandle: return 4;
    case Wire::Kind::kInterface: return 4;
  }
  return 1;
}

size_t MinSizeOf(const Wire& w) {
  switch (w.kind) {
    case Wire::Kind::kPrim: return PrimSize(w.prim);
    case Wire::Kind::kEnum: return w.enm->v1 ? 4 : 2;
    case Wire::Kind::kStruct: {
      size_t n = 0;
      for (const Field& f : w.strct->fields) n += f.wire ? MinSizeOf(*f.wire) : 0;
      return n;
    }
    case Wire::Kind::kUnion: {
      size_t least = SIZE_MAX;
      for (const UnionArm& arm : w.uni->arms) {
        least = std::min(least, arm.field && arm.field->wire ? MinSizeOf(*arm.field->wire) : 0);
      }
      size_t d = w.uni->discriminant ? MinSizeOf(*w.uni->discriminant) : 0;
      return d + (least == SIZE_MAX ? 0 : least);
    }
    case Wire::Kind::kString: return w.fixed_string ? 8 : 12;
    case Wire::Kind::kPointer: return 4;
    case Wire::Kind::kArray:
      if (w.conformant || w.varying) return 0;
      return w.fixed * MinSizeOf(*w.elem);
    case Wire::Kind::kContextHandle: return 20;
    case Wire::Kind::kInterface: return 4;
  }
  return 0;
}

bool StructHasBuffers(const StructDef& s) {
  for (const Field& f : s.fields) {
    if (f.wire && HasBuffers(*f.wire)) return true;
  }
  return false;
}

bool UnionHasBuffers(const UnionDef& u) {
  for (const UnionArm& arm : u.arms) {
    if (arm.field && arm.field->wire && HasBuffers(*arm.field->wire)) return true;
  }
  return false;
}

bool HasBuffers(const Wire& w) {
  switch (w.kind) {
    case Wire::Kind::kPointer: case Wire::Kind::kInterface: return true;
    case Wire::Kind::kStruct: return StructHasBuffers(*w.strct);
    case Wire::Kind::kUnion: return UnionHasBuffers(*w.uni);
    case Wire::Kind::kArray: return HasBuffers(*w.elem);
    default: return false;
  }
}

bool IsConformantStruct(const StructDef& s) {
  if (s.fields.empty() || !s.fields.back().wire) return false;
  const Wire& last = *s.fields.back().wire;
  if (last.kind == Wire::Kind::kArray) return last.conformant;
  if (last.kind == Wire::Kind::kString) return last.fixed_string == 0;
  if (last.kind == Wire::Kind::kStruct) return IsConformantStruct(*last.strct);
  return false;
}

}  // namespace comsec::comidl
