// A representative NDR type for the decoder's fuzz target and tests: a
// structure with a unique pointer to a [string] wchar_t, a unique pointer to
// a conformant array of structures, and a recursive unique-pointer list —
// the shapes MS-DCOM's OBJREF, DUALSTRINGARRAY and ORPCTHAT use.
//
//   typedef struct Item { unsigned short kind; [unique] struct Item* next; } Item;
//   typedef struct Sample {
//     unsigned long id;
//     [unique, string] wchar_t* name;
//     unsigned long count;
//     [unique, size_is(count)] Item* items;
//     hyper stamp;
//   } Sample;
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "comsec/ndr/decoder.h"
#include "comsec/ndr/encoder.h"

namespace comsec::ndr::sample {

struct Item {
  uint16_t kind = 0;
  std::unique_ptr<Item> next;
  bool operator==(const Item& o) const {
    return kind == o.kind && ((!next && !o.next) || (next && o.next && *next == *o.next));
  }
};

struct Sample {
  uint32_t id = 0;
  std::optional<std::u16string> name;
  std::optional<std::vector<Item>> items;  // count is items->size()
  uint64_t stamp = 0;
  bool operator==(const Sample& o) const {
    return id == o.id && name == o.name && items == o.items && stamp == o.stamp;
  }
};

// The list's referents come after the array (deferred), each node's next
// after the node.
inline Status ReadItemChain(Decoder& d, std::unique_ptr<Item>& slot) {
  COMSEC_RETURN_IF_ERROR(d.Enter());
  slot = std::make_unique<Item>();
  COMSEC_ASSIGN_OR_RETURN(slot->kind, d.U16());
  COMSEC_ASSIGN_OR_RETURN(uint32_t next, d.UniquePointer());
  if (next != 0) COMSEC_RETURN_IF_ERROR(ReadItemChain(d, slot->next));
  d.Leave();
  return Status();
}

inline Result<Sample> Read(Decoder& d) {
  Sample s;
  COMSEC_RETURN_IF_ERROR(d.Enter());
  COMSEC_ASSIGN_OR_RETURN(s.id, d.U32());
  COMSEC_ASSIGN_OR_RETURN(uint32_t name_ptr, d.UniquePointer());
  COMSEC_ASSIGN_OR_RETURN(uint32_t count, d.U32());
  COMSEC_ASSIGN_OR_RETURN(uint32_t items_ptr, d.UniquePointer());
  COMSEC_ASSIGN_OR_RETURN(s.stamp, d.U64());
  // [MS-RPCE] strict checks: a NULL array pointer must have a zero count.
  if (items_ptr == 0 && count != 0) {
    return d.Error("NULL items pointer with a count of " + std::to_string(count));
  }
  if (name_ptr != 0) {
    COMSEC_ASSIGN_OR_RETURN(s.name, d.WString());
  }
  if (items_ptr != 0) {
    // Each Item takes at least 8 bytes (u16, padding, pointer).
    COMSEC_ASSIGN_OR_RETURN(uint32_t max_count, d.Conformance(8));
    if (max_count != count) {
      return d.Error("size_is(count) = " + std::to_string(count) +
                     " but the array's max_count is " + std::to_string(max_count));
    }
    s.items.emplace(max_count);
    std::vector<uint32_t> nexts(max_count);
    for (uint32_t i = 0; i < max_count; ++i) {
      COMSEC_ASSIGN_OR_RETURN((*s.items)[i].kind, d.U16());
      COMSEC_ASSIGN_OR_RETURN(nexts[i], d.UniquePointer());
    }
    // Embedded pointers' referents follow the whole array.
    for (uint32_t i = 0; i < max_count; ++i) {
      if (nexts[i] != 0) {
        COMSEC_RETURN_IF_ERROR(ReadItemChain(d, (*s.items)[i].next));
      }
    }
  }
  d.Leave();
  return s;
}

inline void WriteItemChain(Encoder& e, const Item& item) {
  e.U16(item.kind);
  e.Pointer(item.next != nullptr);
  if (item.next) WriteItemChain(e, *item.next);
}

inline void Write(Encoder& e, const Sample& s) {
  e.U32(s.id);
  e.Pointer(s.name.has_value());
  e.U32(s.items ? static_cast<uint32_t>(s.items->size()) : 0);
  e.Pointer(s.items.has_value());
  e.U64(s.stamp);
  if (s.name) e.WString(*s.name);
  if (s.items) {
    e.Conformance(static_cast<uint32_t>(s.items->size()));
    for (const Item& item : *s.items) {
      e.U16(item.kind);
      e.Pointer(item.next != nullptr);
    }
    for (const Item& item : *s.items) {
      if (item.next) WriteItemChain(e, *item.next);
    }
  }
}

}  // namespace comsec::ndr::sample
