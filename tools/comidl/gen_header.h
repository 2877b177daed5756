// C++ declarations of a file's types, constants and cpp_quote text
// (generator.h describes the mapping).
#pragma once

#include "comidl/gen_util.h"

namespace comsec::comidl::gen {

// Forward declarations of the file's structs and unions, so that pointers
// (ndr::Box, std::shared_ptr) may name a type defined later.
void ForwardDeclare(Out& o, const File& file);
// One item's C++ declaration (types, constants, cpp_quote); interfaces are
// gen_interface.h's.
void DeclareItem(Out& o, const Item& item, const Symbols& sym);
// Codec declarations / definitions of the item's struct or union, if any.
void DeclareItemCodec(Out& o, const Item& item);
void DefineItemCodec(Out& o, const Item& item, const Symbols& sym, const std::string& prefix);

}  // namespace comsec::comidl::gen
