#include "rpc/epmapper.h"

#include "ndr/decoder.h"
#include "ndr/encoder.h"
#include "rpc/client.h"

namespace comsec::rpc {
namespace {

constexpr uint32_t kAccessDenied = 5;
constexpr size_t kMaxAnnotation = 64;  // ept_max_annotation_size

bool SameInterface(const SyntaxId& registered, const SyntaxId& wanted) {
  return registered.uuid == wanted.uuid && registered.major == wanted.major &&
         registered.minor >= wanted.minor;
}

// twr_t: a conformant structure, so its max_count leads.
Result<Tower> ReadTwr(ndr::Decoder& d) {
  COMSEC_ASSIGN_OR_RETURN(uint32_t max_count, d.Conformance(1));
  COMSEC_ASSIGN_OR_RETURN(uint32_t length, d.U32());
  if (length != max_count) return d.Error("tower_length disagrees with its size_is");
  COMSEC_ASSIGN_OR_RETURN(auto bytes, d.Bytes(length));
  return Tower::Decode(bytes);
}

void WriteTwr(ndr::Encoder& e, const Tower& t) {
  std::vector<uint8_t> bytes = t.Encode();
  e.Conformance(static_cast<uint32_t>(bytes.size()));
  e.U32(static_cast<uint32_t>(bytes.size()));
  e.Bytes(bytes);
}

// ept_entry_t array: objects, tower pointers and annotations inline; the
// towers follow the array (deferred referents).
Result<std::vector<EndpointEntry>> ReadEntries(ndr::Decoder& d) {
  COMSEC_ASSIGN_OR_RETURN(uint32_t num, d.U32());
  COMSEC_ASSIGN_OR_RETURN(uint32_t max_count, d.Conformance(28));
  if (max_count != num) return d.Error("num_ents disagrees with the array");
  std::vector<EndpointEntry> entries(max_count);
  std::vector<uint32_t> tower_ptrs(max_count);
  for (uint32_t i = 0; i < max_count; ++i) {
    COMSEC_ASSIGN_OR_RETURN(entries[i].object, d.Uuid());
    COMSEC_ASSIGN_OR_RETURN(auto ptr, d.PtrPointer());
    tower_ptrs[i] = ptr.id;
    COMSEC_ASSIGN_OR_RETURN(ndr::Variance v, d.VarianceOf(kMaxAnnotation, 1));
    COMSEC_ASSIGN_OR_RETURN(auto chars, d.Bytes(v.actual_count));
    std::string a(chars.begin(), chars.end());
    while (!a.empty() && a.back() == '\0') a.pop_back();
    entries[i].annotation = a;
  }
  for (uint32_t i = 0; i < max_count; ++i) {
    if (tower_ptrs[i] == 0) return d.Error("an entry without a tower");
    COMSEC_ASSIGN_OR_RETURN(entries[i].tower, ReadTwr(d));
  }
  return entries;
}

void WriteEntries(ndr::Encoder& e, const std::vector<EndpointEntry>& entries) {
  e.U32(static_cast<uint32_t>(entries.size()));
  e.Conformance(static_cast<uint32_t>(entries.size()));
  for (const EndpointEntry& entry : entries) {
    e.Uuid(entry.object);
    e.Pointer(true);
    std::string a = entry.annotation.substr(0, kMaxAnnotation - 1);
    e.VarianceOf({0, static_cast<uint32_t>(a.size() + 1)});
    e.Bytes(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(a.data()), a.size()));
    e.U8(0);
  }
  for (const EndpointEntry& entry : entries) WriteTwr(e, entry.tower);
}

// ept_lookup's [out, size_is(max_ents), length_is(*num_ents)] entries: a
// conformant-varying array whose towers follow it.
void WriteLookupEntries(ndr::Encoder& e, const std::vector<EndpointEntry>& entries,
                        uint32_t max_ents) {
  e.Conformance(max_ents);
  e.VarianceOf({0, static_cast<uint32_t>(entries.size())});
  for (const EndpointEntry& entry : entries) {
    e.Uuid(entry.object);
    e.Pointer(true);
    std::string a = entry.annotation.substr(0, kMaxAnnotation - 1);
    e.VarianceOf({0, static_cast<uint32_t>(a.size() + 1)});
    e.Bytes(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(a.data()), a.size()));
    e.U8(0);
  }
  for (const EndpointEntry& entry : entries) {
    WriteTwr(e, entry.tower);
    e.Align(4);
  }
}

}  // namespace

SyntaxId EndpointMapperSyntax() {
  return {*Guid::Parse("e1af8308-5d1f-11c9-91a4-08002b14a0fa"), 3, 0};
}

void EndpointMapper::Insert(const EndpointEntry& entry, bool replace) {
  std::lock_guard<std::mutex> lock(mu_);
  if (replace) {
    std::erase_if(entries_, [&](const EndpointEntry& e) {
      return e.object == entry.object &&
             e.tower.interface == entry.tower.interface &&
             e.tower.protseq == entry.tower.protseq;
    });
  }
  entries_.push_back(entry);
}

void EndpointMapper::Delete(const EndpointEntry& entry) {
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(entries_, [&](const EndpointEntry& e) {
    return e.object == entry.object && e.tower.interface == entry.tower.interface &&
           e.tower.protseq == entry.tower.protseq &&
           e.tower.endpoint == entry.tower.endpoint;
  });
}

std::vector<EndpointEntry> EndpointMapper::All() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_;
}

std::vector<EndpointEntry> EndpointMapper::Map(const Guid& object,
                                               const SyntaxId& interface,
                                               const std::string& protseq,
                                               size_t max) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<EndpointEntry> out;
  for (auto it = entries_.rbegin(); it != entries_.rend() && out.size() < max; ++it) {
    if (SameInterface(it->tower.interface, interface) &&
        it->tower.protseq == protseq &&
        (object.IsNil() || it->object == object)) {
      out.push_back(*it);
    }
  }
  return out;
}

size_t EndpointMapper::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

InterfaceRegistration EndpointMapper::Interface() {
  InterfaceRegistration r;
  r.syntax = EndpointMapperSyntax();
  auto insert_or_delete = [this](bool insert) {
    return [this, insert](std::span<const uint8_t> stub,
                          const CallContext& call) -> Result<std::vector<uint8_t>> {
      ndr::Decoder d(stub);
      COMSEC_ASSIGN_OR_RETURN(auto entries, ReadEntries(d));
      uint32_t replace = 0;
      if (insert) {
        COMSEC_ASSIGN_OR_RETURN(replace, d.U32());
      }
      COMSEC_RETURN_IF_ERROR(d.ExpectEnd());
      uint32_t status = 0;
      if (!call.local && !call.loopback) {
        status = kAccessDenied;  // only servers on this machine register
      } else {
        for (const auto& e : entries) {
          insert ? Insert(e, replace != 0) : Delete(e);
        }
      }
      ndr::Encoder out;
      out.U32(status);
      return std::move(out).Take();
    };
  };
  auto unsupported = [](std::span<const uint8_t>, const CallContext&)
      -> Result<std::vector<uint8_t>> {
    return Status(HResult::FromWin32(1745), "not implemented");
  };
  auto map = [this](std::span<const uint8_t> stub,
                    const CallContext&) -> Result<std::vector<uint8_t>> {
    ndr::Decoder d(stub);
    Guid object;
    COMSEC_ASSIGN_OR_RETURN(auto obj_ptr, d.PtrPointer());
    if (obj_ptr.id != 0) {
      COMSEC_ASSIGN_OR_RETURN(object, d.Uuid());
    }
    COMSEC_ASSIGN_OR_RETURN(auto tower_ptr, d.PtrPointer());
    if (tower_ptr.id == 0) return d.Error("ept_map without a tower");
    COMSEC_ASSIGN_OR_RETURN(Tower wanted, ReadTwr(d));
    COMSEC_ASSIGN_OR_RETURN(ndr::ContextHandle handle, d.Context());
    COMSEC_ASSIGN_OR_RETURN(uint32_t max_towers, d.U32());
    COMSEC_RETURN_IF_ERROR(d.ExpectEnd());
    (void)handle;
    if (max_towers > 500) return d.Error("max_towers above its range(0, 500)");
    auto found = Map(object, wanted.interface, wanted.protseq, max_towers);
    ndr::Encoder e;
    e.Context(ndr::ContextHandle{});
    e.U32(static_cast<uint32_t>(found.size()));
    e.Conformance(max_towers);
    e.VarianceOf({0, static_cast<uint32_t>(found.size())});
    for (size_t i = 0; i < found.size(); ++i) e.Pointer(true);
    for (const EndpointEntry& entry : found) {
      Tower t = entry.tower;
      t.transfer_syntax = wanted.transfer_syntax;
      WriteTwr(e, t);
      e.Align(4);
    }
    e.U32(found.empty() ? EPT_S_NOT_REGISTERED : 0);
    return std::move(e).Take();
  };
  // ept_lookup (2): every entry, or those of one interface
  // (inquiry_type 1..3 with an Ifid), up to max_ents in one reply.
  auto lookup = [this](std::span<const uint8_t> stub,
                       const CallContext&) -> Result<std::vector<uint8_t>> {
    ndr::Decoder d(stub);
    COMSEC_ASSIGN_OR_RETURN(uint32_t inquiry, d.U32());
    COMSEC_ASSIGN_OR_RETURN(auto obj_ptr, d.PtrPointer());
    if (obj_ptr.id != 0) {
      COMSEC_RETURN_IF_ERROR(d.Uuid().status());
    }
    COMSEC_ASSIGN_OR_RETURN(auto if_ptr, d.PtrPointer());
    std::optional<SyntaxId> ifid;
    if (if_ptr.id != 0) {
      SyntaxId s;
      COMSEC_ASSIGN_OR_RETURN(s.uuid, d.Uuid());
      COMSEC_ASSIGN_OR_RETURN(s.major, d.U16());
      COMSEC_ASSIGN_OR_RETURN(s.minor, d.U16());
      ifid = s;
    }
    COMSEC_RETURN_IF_ERROR(d.U32().status());  // vers_option
    COMSEC_RETURN_IF_ERROR(d.Context().status());
    COMSEC_ASSIGN_OR_RETURN(uint32_t max_ents, d.U32());
    COMSEC_RETURN_IF_ERROR(d.ExpectEnd());
    if (max_ents > 500) return d.Error("max_ents above its range(0, 500)");
    std::vector<EndpointEntry> found;
    for (const EndpointEntry& e : All()) {
      if (found.size() >= max_ents) break;
      if (inquiry != 0 && ifid && !(e.tower.interface.uuid == ifid->uuid)) continue;
      found.push_back(e);
    }
    ndr::Encoder e;
    e.Context(ndr::ContextHandle{});
    e.U32(static_cast<uint32_t>(found.size()));
    WriteLookupEntries(e, found, max_ents);
    e.U32(found.empty() ? EPT_S_NOT_REGISTERED : 0);
    return std::move(e).Take();
  };
  r.operations = {insert_or_delete(true), insert_or_delete(false), lookup,
                  map, unsupported, unsupported, unsupported};
  return r;
}

Status EptInsert(const StringBinding& mapper,
                 const std::vector<EndpointEntry>& entries) {
  COMSEC_ASSIGN_OR_RETURN(auto client, Client::Connect(mapper));
  COMSEC_RETURN_IF_ERROR(client->Bind(EndpointMapperSyntax()));
  ndr::Encoder e;
  WriteEntries(e, entries);
  e.U32(1);  // replace
  COMSEC_ASSIGN_OR_RETURN(std::vector<uint8_t> reply, client->Call(0, e.bytes()));
  ndr::Decoder d(reply);
  COMSEC_ASSIGN_OR_RETURN(uint32_t status, d.U32());
  if (status != 0) {
    return Status(HResult::FromWin32(status),
                  "the endpoint mapper refused the registration");
  }
  return Status();
}

Result<StringBinding> EptMap(const StringBinding& mapper,
                             const SyntaxId& interface,
                             const std::string& protseq) {
  COMSEC_ASSIGN_OR_RETURN(auto client, Client::Connect(mapper));
  COMSEC_RETURN_IF_ERROR(client->Bind(EndpointMapperSyntax()));
  Tower wanted;
  wanted.interface = interface;
  wanted.transfer_syntax = Ndr20Syntax();
  wanted.protseq = protseq;
  wanted.endpoint = protseq == "ncacn_ip_tcp" ? "0" : "";
  ndr::Encoder e;
  e.Pointer(true);
  e.Uuid(Guid{});
  e.Pointer(true);
  WriteTwr(e, wanted);
  e.Context(ndr::ContextHandle{});
  e.U32(1);
  COMSEC_ASSIGN_OR_RETURN(std::vector<uint8_t> reply, client->Call(3, e.bytes()));
  ndr::Decoder d(reply);
  COMSEC_RETURN_IF_ERROR(d.Context().status());
  COMSEC_ASSIGN_OR_RETURN(uint32_t num, d.U32());
  COMSEC_ASSIGN_OR_RETURN(uint32_t max_count, d.Conformance(0));
  COMSEC_ASSIGN_OR_RETURN(ndr::Variance v, d.VarianceOf(max_count, 4));
  if (v.actual_count != num || num == 0) {
    return Status(HResult(0x800706D9u),  // EPT_S_NOT_REGISTERED
                  "no endpoint is registered for interface " +
                      interface.uuid.ToString());
  }
  std::vector<uint32_t> ptrs(num);
  for (auto& p : ptrs) {
    COMSEC_ASSIGN_OR_RETURN(p, d.U32());
  }
  COMSEC_ASSIGN_OR_RETURN(Tower found, ReadTwr(d));
  StringBinding b = found.ToBinding();
  if (b.IsTcp()) b.address = mapper.IsTcp() ? mapper.address : "127.0.0.1";
  return b;
}

}  // namespace comsec::rpc
