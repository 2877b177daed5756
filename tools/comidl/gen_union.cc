// Union codecs (gen_ndr.h). NDR20 (C706 14.3.8): a non-encapsulated union
// is its discriminant at the discriminant's alignment, then the selected
// arm at the arm's own alignment; an encapsulated union is a structure of
// the discriminant and the union, the union part aligned to its largest
// arm.
#include "comidl/gen_ndr.h"

namespace comsec::comidl::gen {
namespace {

const char* kE = "::comsec::ndr::Encoder";
const char* kD = "::comsec::ndr::Decoder";

std::string Labels(const UnionArm& arm) {
  std::string out;
  for (int64_t v : arm.values) out += "case " + std::to_string(v) + ": ";
  if (arm.is_default) out += "default: ";
  return out;
}

bool HasDefault(const UnionDef& u) {
  for (const UnionArm& a : u.arms) {
    if (a.is_default) return true;
  }
  return false;
}

}  // namespace

void DeclareUnionCodec(Out& o, const UnionDef& u) {
  const std::string& n = u.cpp_name;
  o.L(std::string("::comsec::Status Encode(") + kE + "& e, const " + n + "& v);");
  o.L(std::string("::comsec::Status Decode(") + kD + "& d, " + n + "& v);");
  o.L(std::string("::comsec::Status EncodeScalars(") + kE + "& e, const " + n + "& v);");
  o.L(std::string("::comsec::Status EncodeBuffers(") + kE + "& e, const " + n + "& v);");
  o.L(std::string("::comsec::Status DecodeScalars(") + kD + "& d, " + n + "& v);");
  o.L(std::string("::comsec::Status DecodeBuffers(") + kD + "& d, " + n + "& v);");
}

void DefineUnionCodec(Out& o, const UnionDef& u, const Symbols& sym, const std::string& prefix) {
  const std::string& n = u.cpp_name;
  const std::string tag = "v." + UnionTag(u);
  const std::string mu = "[[maybe_unused]] ";
  const size_t arms_align = AlignOfUnionArms(u);
  const size_t disc_align = AlignOf(*u.discriminant);
  o.L(prefix + "::comsec::Status Encode(" + kE + "& e, const " + n + "& v) {").In();
  o.L("COMSEC_RETURN_IF_ERROR(EncodeScalars(e, v));");
  o.L("return EncodeBuffers(e, v);");
  o.Un().L("}").L();
  o.L(prefix + "::comsec::Status Decode(" + kD + "& d, " + n + "& v) {").In();
  o.L("COMSEC_RETURN_IF_ERROR(d.Enter());");
  o.L("COMSEC_RETURN_IF_ERROR(DecodeScalars(d, v));");
  o.L("COMSEC_RETURN_IF_ERROR(DecodeBuffers(d, v));");
  o.L("d.Leave();");
  o.L("return ::comsec::Status();");
  o.Un().L("}").L();

  auto arms = [&](bool encode, Phase phase) {
    Scope scope;
    Emit x{o, sym, scope};
    o.L("switch (static_cast<int64_t>(" + tag + ")) {").In();
    for (const UnionArm& arm : u.arms) {
      o.L(Labels(arm) + "{").In();
      if (arm.field && phase == Phase::kScalars && u.encapsulated) {
        // The arm's own alignment; the union part's was applied above.
      }
      if (arm.field) {
        if (encode) {
          EncodeValue(x, *arm.field->wire, "v." + arm.field->name, phase, false);
        } else {
          DecodeValue(x, *arm.field->wire, "v." + arm.field->name, phase, false);
        }
      }
      o.L("break;");
      o.Un().L("}");
    }
    if (!HasDefault(u)) {
      if (phase == Phase::kScalars) {
        o.L("default:");
        o.L(encode ? "  return ::comsec::ndr::NoUnionArm(static_cast<int64_t>(" + tag + "));"
                   : "  return d.Error(\"union " + n + " has no arm for discriminant \" + "
                     "std::to_string(static_cast<int64_t>(" + tag + ")));");
      } else {
        o.L("default:");
        o.L("  break;");
      }
    }
    o.Un().L("}");
  };

  Scope none;
  Emit x{o, sym, none};
  o.L(prefix + "::comsec::Status EncodeScalars(" + mu + kE + "& e, " + mu + "const " + n +
      "& v) {").In();
  if (u.encapsulated) {
    o.L("e.Align(" + std::to_string(std::max(arms_align, disc_align)) + ");");
  }
  EncodeValue(x, *u.discriminant, tag, Phase::kScalars, false);
  if (u.encapsulated) o.L("e.Align(" + std::to_string(arms_align) + ");");
  arms(true, Phase::kScalars);
  o.L("return ::comsec::Status();");
  o.Un().L("}").L();

  o.L(prefix + "::comsec::Status EncodeBuffers(" + mu + kE + "& e, " + mu + "const " + n +
      "& v) {").In();
  if (UnionHasBuffers(u)) arms(true, Phase::kBuffers);
  o.L("return ::comsec::Status();");
  o.Un().L("}").L();

  o.L(prefix + "::comsec::Status DecodeScalars(" + mu + kD + "& d, " + mu + n + "& v) {").In();
  if (u.encapsulated) {
    o.L("COMSEC_RETURN_IF_ERROR(d.Align(" + std::to_string(std::max(arms_align, disc_align)) +
        "));");
  }
  DecodeValue(x, *u.discriminant, tag, Phase::kScalars, false);
  if (u.encapsulated) o.L("COMSEC_RETURN_IF_ERROR(d.Align(" + std::to_string(arms_align) + "));");
  arms(false, Phase::kScalars);
  o.L("return ::comsec::Status();");
  o.Un().L("}").L();

  o.L(prefix + "::comsec::Status DecodeBuffers(" + mu + kD + "& d, " + mu + n + "& v) {").In();
  if (UnionHasBuffers(u)) arms(false, Phase::kBuffers);
  o.L("return ::comsec::Status();");
  o.Un().L("}").L();
}

}  // namespace comsec::comidl::gen
