#include "comidl/gen_ndr.h"

#include <algorithm>

namespace comsec::comidl::gen {
namespace {

const char* kE = "::comsec::ndr::Encoder";
const char* kD = "::comsec::ndr::Decoder";

bool ByteLike(const Wire& w) {
  return w.kind == Wire::Kind::kPrim && PrimSize(w.prim) == 1 && !w.range;
}

std::string U(size_t n) { return std::to_string(n); }

// The expressions of an array's counts, as int64_t C++.
struct Counts {
  std::string max;     // max_count (conformant) or the fixed size
  std::string offset;  // first_is or 0
  std::string actual;  // length_is, else max - offset
};

Counts CountsOf(Emit& x, const Wire& w) {
  Counts c;
  if (w.conformant) {
    c.max = w.size_is ? ExprCpp(w.size_is, x.scope, x.sym)
                      : "(" + ExprCpp(w.max_is, x.scope, x.sym) + " + 1)";
  } else {
    c.max = "int64_t{" + U(w.fixed) + "}";
  }
  c.offset = w.first_is ? ExprCpp(w.first_is, x.scope, x.sym) : "int64_t{0}";
  c.actual = w.length_is ? ExprCpp(w.length_is, x.scope, x.sym) : "(" + c.max + " - " + c.offset + ")";
  return c;
}

bool CountsAvailable(Emit& x, const Wire& w) {
  return ExprAvailable(w.size_is, x.scope, x.sym) && ExprAvailable(w.max_is, x.scope, x.sym) &&
         ExprAvailable(w.length_is, x.scope, x.sym) && ExprAvailable(w.first_is, x.scope, x.sym);
}

void EncodePrim(Emit& x, const Wire& w, const std::string& v) {
  switch (w.prim) {
    case Base::kGuid: x.o.L("e.Uuid(" + v + ");"); return;
    case Base::kFloat: x.o.L("e.U32(std::bit_cast<uint32_t>(" + v + "));"); return;
    case Base::kDouble: x.o.L("e.U64(std::bit_cast<uint64_t>(" + v + "));"); return;
    default: break;
  }
  size_t n = PrimSize(w.prim);
  std::string t = n == 1 ? "uint8_t" : n == 2 ? "uint16_t" : n == 4 ? "uint32_t" : "uint64_t";
  std::string f = n == 1 ? "U8" : n == 2 ? "U16" : n == 4 ? "U32" : "U64";
  x.o.L("e." + f + "(static_cast<" + t + ">(" + v + "));");
}

void DecodePrim(Emit& x, const Wire& w, const std::string& v) {
  if (w.prim == Base::kGuid) {
    x.o.L("COMSEC_ASSIGN_OR_RETURN(" + v + ", d.Uuid());");
    return;
  }
  size_t n = PrimSize(w.prim);
  std::string f = n == 1 ? "U8" : n == 2 ? "U16" : n == 4 ? "U32" : "U64";
  std::string t = x.o.Fresh("t");
  x.o.L("{").In();
  x.o.L("COMSEC_ASSIGN_OR_RETURN(auto " + t + ", d." + f + "());");
  if (w.prim == Base::kFloat || w.prim == Base::kDouble) {
    x.o.L(v + " = std::bit_cast<" + PrimCpp(w.prim) + ">(" + t + ");");
  } else {
    x.o.L(v + " = static_cast<" + PrimCpp(w.prim) + ">(" + t + ");");
  }
  x.o.Un().L("}");
  if (w.range) {
    x.o.L("if (!::comsec::ndr::InRange(" + v + ", int64_t{" + std::to_string(w.range->first) +
          "}, int64_t{" + std::to_string(w.range->second) + "})) {");
    x.o.L("  return d.Error(\"a value outside its [range(" + std::to_string(w.range->first) +
          ", " + std::to_string(w.range->second) + ")]\");");
    x.o.L("}");
  }
}

void EncodeElements(Emit& x, const Wire& elem, const std::string& v, Phase phase) {
  if (phase != Phase::kBuffers && ByteLike(elem)) {
    x.o.L("e.Reserve(" + v + ".size() + 16);");
    x.o.L("e.Bytes(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(" + v +
          ".data()), " + v + ".size()));");
    return;
  }
  bool buffers = HasBuffers(elem);
  if (phase == Phase::kBuffers && !buffers) return;
  std::string it = x.o.Fresh("x");
  if (phase != Phase::kBuffers) {
    x.o.L("for (const auto& " + it + " : " + v + ") {").In();
    EncodeValue(x, elem, it, Phase::kScalars, false);
    x.o.Un().L("}");
  }
  if (phase != Phase::kScalars && buffers) {
    x.o.L("for (const auto& " + it + " : " + v + ") {").In();
    EncodeValue(x, elem, it, Phase::kBuffers, false);
    x.o.Un().L("}");
  }
}

void DecodeElements(Emit& x, const Wire& elem, const std::string& v, Phase phase) {
  if (phase != Phase::kBuffers && ByteLike(elem)) {
    std::string b = x.o.Fresh("b");
    x.o.L("COMSEC_ASSIGN_OR_RETURN(auto " + b + ", d.Bytes(" + v + ".size()));");
    x.o.L("if (!" + b + ".empty()) std::memcpy(" + v + ".data(), " + b + ".data(), " + b +
          ".size());");
    return;
  }
  bool buffers = HasBuffers(elem);
  if (phase == Phase::kBuffers && !buffers) return;
  std::string it = x.o.Fresh("x");
  // Elements refer to no sibling: correlations inside them are their own.
  if (phase != Phase::kBuffers) {
    x.o.L("for (auto& " + it + " : " + v + ") {").In();
    DecodeValue(x, elem, it, Phase::kScalars, false);
    x.o.Un().L("}");
  }
  if (phase != Phase::kScalars && buffers) {
    x.o.L("for (auto& " + it + " : " + v + ") {").In();
    DecodeValue(x, elem, it, Phase::kBuffers, false);
    x.o.Un().L("}");
  }
}

void EncodeArray(Emit& x, const Wire& w, const std::string& v, Phase phase) {
  if (phase == Phase::kBuffers) {
    EncodeElements(x, *w.elem, v, phase);
    return;
  }
  if (!w.conformant && !w.varying) {
    EncodeElements(x, *w.elem, v, phase);
    return;
  }
  const bool inline_tail = x.inline_tail;
  x.inline_tail = false;
  Counts c = CountsOf(x, w);
  std::string n = x.o.Fresh("n");
  x.o.L("{").In();
  x.o.L("const int64_t " + n + "_max = " + c.max + ";");
  x.o.L("const int64_t " + n + "_offset = " + c.offset + ";");
  x.o.L("const int64_t " + n + "_actual = " + (w.varying ? c.actual : n + "_max") + ";");
  x.o.L("COMSEC_RETURN_IF_ERROR(::comsec::ndr::CheckCounts(" + n + "_max, " + n + "_offset, " +
        n + "_actual, " + v + ".size()));");
  if (w.conformant && !inline_tail) {
    x.o.L("e.Conformance(static_cast<uint32_t>(" + n + "_max));");
  }
  if (w.varying) {
    x.o.L("e.VarianceOf({static_cast<uint32_t>(" + n + "_offset), static_cast<uint32_t>(" + n +
          "_actual)});");
  }
  EncodeElements(x, *w.elem, v, phase);
  x.o.Un().L("}");
}

// Emits `check` (a condition that must hold) now, or later when the names
// it needs are decoded after this point.
void Correlate(Emit& x, bool available, const std::string& cond, const std::string& what,
               const std::vector<std::pair<std::string, std::string>>& saved) {
  std::string line = "if (!(" + cond + ")) return d.Error(\"" + what + "\");";
  if (available) {
    x.o.L(line);
    return;
  }
  if (!x.scope.later) return;  // inside a structure: its members precede
  for (const auto& [name, value] : saved) x.o.L(name + " = " + value + ";");
  x.scope.later->push_back(line);
}

void DecodeArray(Emit& x, const Wire& w, const std::string& v, Phase phase,
                 const std::string& conformance) {
  if (phase == Phase::kBuffers) {
    DecodeElements(x, *w.elem, v, phase);
    return;
  }
  if (!w.conformant && !w.varying) {
    DecodeElements(x, *w.elem, v, phase);
    return;
  }
  size_t min = MinSizeOf(*w.elem);
  std::string n = x.o.Fresh("n");
  x.o.L("{").In();
  if (w.conformant) {
    if (!conformance.empty()) {
      x.o.L("const uint32_t " + n + "_max = " + conformance + ";");
    } else {
      x.o.L("COMSEC_ASSIGN_OR_RETURN(const uint32_t " + n + "_max, d.Conformance(" +
            U(w.varying ? 0 : min) + "));");
    }
  } else {
    x.o.L("const uint32_t " + n + "_max = " + U(w.fixed) + ";");
  }
  const bool span = x.span_target;
  x.span_target = false;
  std::string count = n + "_max";
  if (w.varying) {
    x.o.L("COMSEC_ASSIGN_OR_RETURN(const ::comsec::ndr::Variance " + n + "_var, d.VarianceOf(" +
          n + "_max, " + U(min) + "));");
    count = n + "_var.actual_count";
  }
  const bool bytes = ByteLike(*w.elem);
  if (bytes) {
    // One pass: no zero-filling before the copy, or no copy at all.
    std::string b = x.o.Fresh("b");
    std::string t = PrimCpp(w.elem->prim);
    x.o.L("COMSEC_ASSIGN_OR_RETURN(auto " + b + ", d.Bytes(" + count + "));");
    if (span) {
      x.o.L(v + " = std::span<const " + t + ">(reinterpret_cast<const " + t + "*>(" + b +
            ".data()), " + b + ".size());");
    } else {
      x.o.L(v + ".assign(" + b + ".begin(), " + b + ".end());");
    }
  } else {
    x.o.L(v + ".resize(" + count + ");");
  }
  Counts c = CountsOf(x, w);
  bool avail = CountsAvailable(x, w);
  std::string smax = n + "_max", soff = n + "_var.offset", sact = n + "_var.actual_count";
  std::vector<std::pair<std::string, std::string>> saved;
  if (!avail && x.scope.later && x.scope.decls) {
    std::string keep = x.o.Fresh("kept");
    x.scope.decls->push_back("uint32_t " + keep + "_max = 0;");
    saved = {{keep + "_max", smax}};
    smax = keep + "_max";
    if (w.varying) {
      x.scope.decls->push_back("uint32_t " + keep + "_offset = 0, " + keep + "_actual = 0;");
      saved.push_back({keep + "_offset", soff});
      saved.push_back({keep + "_actual", sact});
      soff = keep + "_offset";
      sact = keep + "_actual";
    }
  }
  if (w.conformant) {
    Correlate(x, avail, "int64_t{" + smax + "} == " + c.max,
              w.size_is ? "max_count differs from size_is" : "max_count differs from max_is + 1",
              saved);
    saved.clear();
  }
  if (w.varying) {
    Correlate(x, avail, "int64_t{" + soff + "} == " + c.offset, "offset differs from first_is",
              saved);
    saved.clear();
    Correlate(x, avail, "int64_t{" + sact + "} == " + c.actual,
              "actual_count differs from length_is", saved);
  }
  if (!bytes) DecodeElements(x, *w.elem, v, phase);
  x.o.Un().L("}");
}

}  // namespace

bool IsSpanParam(const Param& p) {
  if (p.out || !p.wire) return false;
  const Wire* w = p.wire.get();
  if (w->kind == Wire::Kind::kPointer && w->ptr == PtrKind::kRef) w = w->elem.get();
  return w->kind == Wire::Kind::kArray && (w->conformant || w->varying) && ByteLike(*w->elem);
}

std::string UnionTag(const UnionDef& u) { return u.encapsulated ? u.switch_name : "tag"; }

void EncodeValue(Emit& x, const Wire& w, const std::string& v, Phase phase, bool top) {
  switch (w.kind) {
    case Wire::Kind::kPrim:
      if (phase != Phase::kBuffers) EncodePrim(x, w, v);
      return;
    case Wire::Kind::kEnum:
      if (phase == Phase::kBuffers) return;
      if (w.enm->v1) {
        x.o.L("e.U32(static_cast<uint32_t>(" + v + "));");
      } else {
        x.o.L("COMSEC_RETURN_IF_ERROR(::comsec::ndr::CheckEnum16(static_cast<int64_t>(" + v +
              ")));");
        x.o.L("e.Enum16(static_cast<uint16_t>(" + v + "));");
      }
      return;
    case Wire::Kind::kStruct:
    case Wire::Kind::kUnion: {
      bool has_buffers = w.kind == Wire::Kind::kStruct ? StructHasBuffers(*w.strct)
                                                       : UnionHasBuffers(*w.uni);
      if (w.switch_is && phase != Phase::kBuffers) {
        x.o.L("if (static_cast<int64_t>(" + v + "." + UnionTag(*w.uni) + ") != " +
              ExprCpp(w.switch_is, x.scope, x.sym) +
              ") return ::comsec::ndr::SwitchMismatch();");
      }
      if (phase == Phase::kAll) {
        x.o.L("COMSEC_RETURN_IF_ERROR(Encode(e, " + v + "));");
      } else if (phase == Phase::kScalars) {
        x.o.L("COMSEC_RETURN_IF_ERROR(EncodeScalars(e, " + v + "));");
      } else if (has_buffers) {
        x.o.L("COMSEC_RETURN_IF_ERROR(EncodeBuffers(e, " + v + "));");
      }
      return;
    }
    case Wire::Kind::kString:
      if (phase == Phase::kBuffers) return;
      if (w.fixed_string) {
        x.o.L("COMSEC_RETURN_IF_ERROR(::comsec::ndr::EncodeFixedString(e, " + v + ", " +
              U(w.fixed_string) + "));");
      } else {
        x.o.L("COMSEC_RETURN_IF_ERROR(::comsec::ndr::EncodeString(e, " + v + "));");
      }
      return;
    case Wire::Kind::kContextHandle:
      if (phase != Phase::kBuffers) x.o.L("e.Context(" + v + ");");
      return;
    case Wire::Kind::kInterface: {
      std::string iid = w.iid_is ? x.scope.names[w.iid_is->text] : "IID_" + w.itf->name;
      x.o.L("COMSEC_RETURN_IF_ERROR(::comsec::rpc::EncodeInterfacePointer(e, " + x.scope.hook +
            ", " + iid + ", static_cast<::comsec::IUnknown*>(" + v + ".get())));");
      return;
    }
    case Wire::Kind::kArray:
      EncodeArray(x, w, v, phase);
      return;
    case Wire::Kind::kPointer: {
      if (top && w.ptr == PtrKind::kRef) {
        EncodeValue(x, *w.elem, v, Phase::kAll, false);
        return;
      }
      if (phase != Phase::kBuffers) {
        if (w.ptr == PtrKind::kRef) x.o.L("e.Pointer(true);");
        if (w.ptr == PtrKind::kUnique) x.o.L("e.Pointer(static_cast<bool>(" + v + "));");
        if (w.ptr == PtrKind::kFull) x.o.L("e.U32(e.FullPointerId(" + v + ".get()));");
      }
      if (phase != Phase::kScalars) {
        if (w.ptr == PtrKind::kRef) {
          EncodeValue(x, *w.elem, v, Phase::kAll, false);
          return;
        }
        if (w.ptr == PtrKind::kUnique) x.o.L("if (" + v + ") {").In();
        if (w.ptr == PtrKind::kFull) {
          x.o.L("if (" + v + " && e.FirstFullReferent(" + v + ".get())) {").In();
        }
        EncodeValue(x, *w.elem, "(*" + v + ")", Phase::kAll, false);
        x.o.Un().L("}");
      }
      return;
    }
  }
}

void DecodeValue(Emit& x, const Wire& w, const std::string& v, Phase phase, bool top,
                 const std::string& conformance) {
  switch (w.kind) {
    case Wire::Kind::kPrim:
      if (phase != Phase::kBuffers) DecodePrim(x, w, v);
      return;
    case Wire::Kind::kEnum:
      if (phase == Phase::kBuffers) return;
      {
        std::string t = x.o.Fresh("t");
        x.o.L("{").In();
        if (w.enm->v1) {
          x.o.L("COMSEC_ASSIGN_OR_RETURN(uint32_t " + t + ", d.U32());");
          x.o.L(v + " = static_cast<" + w.enm->cpp_name + ">(static_cast<int32_t>(" + t + "));");
        } else {
          x.o.L("COMSEC_ASSIGN_OR_RETURN(uint16_t " + t + ", d.Enum16());");
          x.o.L(v + " = static_cast<" + w.enm->cpp_name + ">(" + t + ");");
        }
        x.o.Un().L("}");
      }
      return;
    case Wire::Kind::kStruct:
    case Wire::Kind::kUnion: {
      bool has_buffers = w.kind == Wire::Kind::kStruct ? StructHasBuffers(*w.strct)
                                                       : UnionHasBuffers(*w.uni);
      if (phase == Phase::kAll) {
        x.o.L("COMSEC_RETURN_IF_ERROR(Decode(d, " + v + "));");
      } else if (phase == Phase::kScalars) {
        std::string extra = !conformance.empty() ? ", " + conformance : "";
        x.o.L("COMSEC_RETURN_IF_ERROR(DecodeScalars(d, " + v + extra + "));");
      } else if (has_buffers) {
        x.o.L("COMSEC_RETURN_IF_ERROR(DecodeBuffers(d, " + v + "));");
      }
      if (w.switch_is && phase != Phase::kBuffers) {
        bool avail = ExprAvailable(w.switch_is, x.scope, x.sym);
        Correlate(x, avail,
                  "static_cast<int64_t>(" + v + "." + UnionTag(*w.uni) +
                      ") == " + ExprCpp(w.switch_is, x.scope, x.sym),
                  "a union's discriminant differs from its switch_is", {});
      }
      return;
    }
    case Wire::Kind::kString:
      if (phase == Phase::kBuffers) return;
      if (w.fixed_string) {
        x.o.L("COMSEC_RETURN_IF_ERROR(::comsec::ndr::DecodeFixedString(d, " + v + ", " +
              U(w.fixed_string) + "));");
      } else {
        x.o.L("COMSEC_ASSIGN_OR_RETURN(" + v + ", " +
              (w.wide ? "d.WString()" : "d.CString()") + ");");
      }
      return;
    case Wire::Kind::kContextHandle:
      if (phase != Phase::kBuffers) x.o.L("COMSEC_ASSIGN_OR_RETURN(" + v + ", d.Context());");
      return;
    case Wire::Kind::kInterface: {
      std::string iid = w.iid_is ? x.scope.names[w.iid_is->text] : "IID_" + w.itf->name;
      std::string p = x.o.Fresh("object");
      x.o.L("{").In();
      x.o.L("::comsec::ComPtr<::comsec::IUnknown> " + p + ";");
      x.o.L("COMSEC_RETURN_IF_ERROR(::comsec::rpc::DecodeInterfacePointer(d, " + x.scope.hook +
            ", " + iid + ", " + p + "));");
      if (w.itf) {
        // The hook returns the pointer of interface `iid` (as QueryInterface
        // would), seen as its IUnknown base (rpc/object_channel.h).
        x.o.L(v + " = ::comsec::ComPtr<" + w.itf->name + ">::Adopt(static_cast<" +
              w.itf->name + "*>(" + p + ".Detach()));");
      } else {
        x.o.L(v + " = std::move(" + p + ");");
      }
      x.o.Un().L("}");
      return;
    }
    case Wire::Kind::kArray:
      DecodeArray(x, w, v, phase, conformance);
      return;
    case Wire::Kind::kPointer: {
      if (top && w.ptr == PtrKind::kRef) {
        DecodeValue(x, *w.elem, v, Phase::kAll, false);
        return;
      }
      if (phase != Phase::kBuffers) {
        std::string id = x.o.Fresh("id");
        if (w.ptr == PtrKind::kRef) x.o.L("COMSEC_RETURN_IF_ERROR(d.RefPointer().status());");
        if (w.ptr == PtrKind::kUnique) {
          x.o.L("{").In();
          x.o.L("COMSEC_ASSIGN_OR_RETURN(uint32_t " + id + ", d.UniquePointer());");
          x.o.L("if (" + id + " != 0) " + v + ".emplace(); else " + v + ".reset();");
          x.o.Un().L("}");
        }
        if (w.ptr == PtrKind::kFull) {
          x.o.L("{").In();
          x.o.L("COMSEC_ASSIGN_OR_RETURN(auto " + id + ", d.PtrPointer());");
          x.o.L("if (" + id + ".id == 0) {");
          x.o.L("  " + v + ".reset();");
          x.o.L("} else {");
          x.o.L("  COMSEC_ASSIGN_OR_RETURN(" + v + ", ::comsec::ndr::FullReferent<" +
                CppType(*w.elem) + ">(d, " + id + ".id));");
          x.o.L("}");
          x.o.Un().L("}");
        }
      }
      if (phase != Phase::kScalars) {
        if (w.ptr == PtrKind::kRef) {
          DecodeValue(x, *w.elem, v, Phase::kAll, false);
          return;
        }
        if (w.ptr == PtrKind::kUnique) x.o.L("if (" + v + ") {").In();
        if (w.ptr == PtrKind::kFull) {
          x.o.L("if (" + v + " && d.FirstFullReferent(" + v + ".get())) {").In();
        }
        DecodeValue(x, *w.elem, "(*" + v + ")", Phase::kAll, false);
        x.o.Un().L("}");
      }
      return;
    }
  }
}

// ==== structures ============================================================

namespace {

Scope StructScope(const StructDef& s, size_t available_before) {
  Scope scope;
  for (size_t i = 0; i < s.fields.size(); ++i) {
    scope.names[s.fields[i].name] = "v." + s.fields[i].name;
    if (i < available_before) scope.available.insert(s.fields[i].name);
  }
  return scope;
}

// The least bytes per element of the conformant array at a conformant
// structure's tail (0 when varying: max_count may exceed what is sent).
size_t TailMinSize(const StructDef& s) {
  const Wire& last = *s.fields.back().wire;
  if (last.kind == Wire::Kind::kStruct) return TailMinSize(*last.strct);
  if (last.kind == Wire::Kind::kArray && !last.varying) return MinSizeOf(*last.elem);
  return 0;
}

}  // namespace

void DeclareStructCodec(Out& o, const StructDef& s) {
  const std::string& n = s.cpp_name;
  o.L(std::string("::comsec::Status Encode(") + kE + "& e, const " + n + "& v);");
  o.L(std::string("::comsec::Status Decode(") + kD + "& d, " + n + "& v);");
  o.L(std::string("::comsec::Status EncodeScalars(") + kE + "& e, const " + n + "& v);");
  o.L(std::string("::comsec::Status EncodeBuffers(") + kE + "& e, const " + n + "& v);");
  if (IsConformantStruct(s)) {
    o.L(std::string("::comsec::Status EncodeConformance(") + kE + "& e, const " + n + "& v);");
    o.L(std::string("::comsec::Status DecodeScalars(") + kD + "& d, " + n +
        "& v, uint32_t max_count);");
  } else {
    o.L(std::string("::comsec::Status DecodeScalars(") + kD + "& d, " + n + "& v);");
  }
  o.L(std::string("::comsec::Status DecodeBuffers(") + kD + "& d, " + n + "& v);");
}

void DefineStructCodec(Out& o, const StructDef& s, const Symbols& sym, const std::string& prefix) {
  const std::string& n = s.cpp_name;
  const bool conformant = IsConformantStruct(s);
  const std::string mu = "[[maybe_unused]] ";
  // Encode: conformance hoisted to the front (C706 14.3.7.2), then the
  // flat part, then the referents.
  o.L(prefix + "::comsec::Status Encode(" + kE + "& e, const " + n + "& v) {").In();
  if (conformant) o.L("COMSEC_RETURN_IF_ERROR(EncodeConformance(e, v));");
  o.L("COMSEC_RETURN_IF_ERROR(EncodeScalars(e, v));");
  o.L("return EncodeBuffers(e, v);");
  o.Un().L("}").L();
  o.L(prefix + "::comsec::Status Decode(" + kD + "& d, " + n + "& v) {").In();
  o.L("COMSEC_RETURN_IF_ERROR(d.Enter());");
  if (conformant) {
    o.L("COMSEC_ASSIGN_OR_RETURN(uint32_t max_count, d.Conformance(" +
        std::to_string(TailMinSize(s)) + "));");
    o.L("COMSEC_RETURN_IF_ERROR(DecodeScalars(d, v, max_count));");
  } else {
    o.L("COMSEC_RETURN_IF_ERROR(DecodeScalars(d, v));");
  }
  o.L("COMSEC_RETURN_IF_ERROR(DecodeBuffers(d, v));");
  o.L("d.Leave();");
  o.L("return ::comsec::Status();");
  o.Un().L("}").L();
  if (conformant) {
    o.L(prefix + "::comsec::Status EncodeConformance(" + kE + "& e, const " + n + "& v) {").In();
    const Field& last = s.fields.back();
    if (last.wire->kind == Wire::Kind::kStruct) {
      o.L("return EncodeConformance(e, v." + last.name + ");");
    } else {
      Scope scope = StructScope(s, s.fields.size());
      const Wire& w = *last.wire;
      std::string max = w.size_is ? ExprCpp(w.size_is, scope, sym)
                                  : "(" + ExprCpp(w.max_is, scope, sym) + " + 1)";
      o.L("const int64_t max_count = " + max + ";");
      o.L("if (max_count < 0 || max_count > int64_t{0xFFFFFFFF}) return "
          "::comsec::ndr::BadCount(max_count);");
      o.L("e.Conformance(static_cast<uint32_t>(max_count));");
      o.L("return ::comsec::Status();");
    }
    o.Un().L("}").L();
  }
  size_t align = AlignOfStruct(s);
  o.L(prefix + "::comsec::Status EncodeScalars(" + mu + kE + "& e, " + mu + "const " + n +
      "& v) {").In();
  o.L("e.Align(" + std::to_string(align) + ");");
  {
    Scope scope = StructScope(s, s.fields.size());
    Emit x{o, sym, scope};
    for (size_t i = 0; i < s.fields.size(); ++i) {
      const Field& f = s.fields[i];
      if (conformant && i + 1 == s.fields.size() && f.wire->kind == Wire::Kind::kArray) {
        // The conformance went first; the elements (and variance) go here.
        x.inline_tail = true;
        EncodeValue(x, *f.wire, "v." + f.name, Phase::kScalars, false);
        x.inline_tail = false;
      } else {
        EncodeValue(x, *f.wire, "v." + f.name, Phase::kScalars, false);
      }
    }
  }
  o.L("return ::comsec::Status();");
  o.Un().L("}").L();
  o.L(prefix + "::comsec::Status EncodeBuffers(" + mu + kE + "& e, " + mu + "const " + n +
      "& v) {").In();
  {
    Scope scope = StructScope(s, s.fields.size());
    Emit x{o, sym, scope};
    for (const Field& f : s.fields) {
      if (HasBuffers(*f.wire)) EncodeValue(x, *f.wire, "v." + f.name, Phase::kBuffers, false);
    }
  }
  o.L("return ::comsec::Status();");
  o.Un().L("}").L();
  o.L(prefix + "::comsec::Status DecodeScalars(" + mu + kD + "& d, " + mu + n + "& v" +
      (conformant ? ", uint32_t max_count" : "") + ") {").In();
  o.L("COMSEC_RETURN_IF_ERROR(d.Align(" + std::to_string(align) + "));");
  for (size_t i = 0; i < s.fields.size(); ++i) {
    Scope scope = StructScope(s, i);
    Emit x{o, sym, scope};
    const Field& f = s.fields[i];
    bool tail = conformant && i + 1 == s.fields.size();
    DecodeValue(x, *f.wire, "v." + f.name, Phase::kScalars, false, tail ? "max_count" : "");
  }
  o.L("return ::comsec::Status();");
  o.Un().L("}").L();
  o.L(prefix + "::comsec::Status DecodeBuffers(" + mu + kD + "& d, " + mu + n + "& v) {").In();
  {
    Scope scope = StructScope(s, s.fields.size());
    Emit x{o, sym, scope};
    for (const Field& f : s.fields) {
      if (HasBuffers(*f.wire)) DecodeValue(x, *f.wire, "v." + f.name, Phase::kBuffers, false);
    }
  }
  o.L("return ::comsec::Status();");
  o.Un().L("}").L();
}

}  // namespace comsec::comidl::gen
