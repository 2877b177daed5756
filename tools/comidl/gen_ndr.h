// NDR20 code generation: statements that encode or decode one value of a
// wire shape in one phase, and the codec functions of structs and unions.
//
// Phases follow pidl and MIDL: kScalars writes the flat part (embedded
// pointers as referent ids, a conformant member's elements but not its
// max_count, which the outermost structure hoists to its front); kBuffers
// writes the referents of embedded pointers, depth first in member order;
// kAll is both, as for a parameter or a pointer's referent. Every decoded
// count is checked before anything is allocated from it (Decoder::
// Conformance/VarianceOf bound it by the bytes left and the limits) and
// against its correlation (size_is vs max_count, length_is vs
// actual_count, first_is vs offset), and [range] bounds are enforced.
#pragma once

#include <string>

#include "comidl/gen_util.h"

namespace comsec::comidl::gen {

enum class Phase { kScalars, kBuffers, kAll };

struct Emit {
  Out& o;
  const Symbols& sym;
  Scope& scope;
  // Set for a conformant structure's tail array, whose max_count the
  // structure wrote at its front.
  bool inline_tail = false;
  // Set for an [in] byte array a server stub decodes as a std::span into
  // the request (no copy, as MIDL's stubs pass a pointer into the buffer).
  bool span_target = false;
};

// Whether a parameter is an [in]-only array of bytes or characters, which
// a method takes as std::span<const T> (gen_util ParamCpp).
bool IsSpanParam(const Param& p);

// `top`: a parameter itself (a [ref] pointer there has no referent id).
// `conformance`: for a conformant member inside a structure's scalars, the
// C++ name of the max_count the structure read at its front.
void EncodeValue(Emit& x, const Wire& w, const std::string& v, Phase phase, bool top);
void DecodeValue(Emit& x, const Wire& w, const std::string& v, Phase phase, bool top,
                 const std::string& conformance = "");

// Declarations (header) and definitions of a struct's or union's codec
// functions; `prefix` is "inline " for bundled types defined in a header.
void DeclareStructCodec(Out& o, const StructDef& s);
void DefineStructCodec(Out& o, const StructDef& s, const Symbols& sym, const std::string& prefix);
void DeclareUnionCodec(Out& o, const UnionDef& u);
void DefineUnionCodec(Out& o, const UnionDef& u, const Symbols& sym, const std::string& prefix);
// The C++ member holding a union's discriminant.
std::string UnionTag(const UnionDef& u);

}  // namespace comsec::comidl::gen
