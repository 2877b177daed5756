// The endpoint mapper on the wire: the server's handlers for the ept
// interface and the client helpers (C706 appendix O; [MS-RPCE] 2.2.1.2).
#include "comsec/base/win32_error.h"
#include "comsec/ndr/decoder.h"
#include "comsec/ndr/encoder.h"
#include "comsec/rpc/epmapper.h"

namespace comsec::rpc {
namespace {

constexpr size_t kMaxAnnotation = 64;  // ept_max_annotation_size
constexpr uint32_t kMaxEnts = 500;     // [MS-RPCE] 2.2.1.2.4 range(0, 500)

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

// One ept_entry_t's inline part: object, tower pointer, annotation.
Result<uint32_t> ReadEntryHead(ndr::Decoder& d, EndpointEntry& entry) {
  COMSEC_ASSIGN_OR_RETURN(entry.object, d.Uuid());
  COMSEC_ASSIGN_OR_RETURN(auto ptr, d.PtrPointer());
  COMSEC_ASSIGN_OR_RETURN(ndr::Variance v, d.VarianceOf(kMaxAnnotation, 1));
  COMSEC_ASSIGN_OR_RETURN(auto chars, d.Bytes(v.actual_count));
  std::string a(chars.begin(), chars.end());
  while (!a.empty() && a.back() == '\0') a.pop_back();
  entry.annotation = a;
  return ptr.id;
}

void WriteEntryHead(ndr::Encoder& e, const EndpointEntry& entry) {
  e.Uuid(entry.object);
  e.Pointer(true);
  std::string a = entry.annotation.substr(0, kMaxAnnotation - 1);
  e.VarianceOf({0, static_cast<uint32_t>(a.size() + 1)});
  e.Bytes(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(a.data()), a.size()));
  e.U8(0);
}

// ept_insert/ept_delete's ept_entry_t array: heads inline, towers after.
Result<std::vector<EndpointEntry>> ReadEntries(ndr::Decoder& d) {
  COMSEC_ASSIGN_OR_RETURN(uint32_t num, d.U32());
  COMSEC_ASSIGN_OR_RETURN(uint32_t max_count, d.Conformance(28));
  if (max_count != num) return d.Error("num_ents disagrees with the array");
  std::vector<EndpointEntry> entries(max_count);
  std::vector<uint32_t> tower_ptrs(max_count);
  for (uint32_t i = 0; i < max_count; ++i) {
    COMSEC_ASSIGN_OR_RETURN(tower_ptrs[i], ReadEntryHead(d, entries[i]));
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
  for (const EndpointEntry& entry : entries) WriteEntryHead(e, entry);
  for (const EndpointEntry& entry : entries) WriteTwr(e, entry.tower);
}

// ept_lookup's [out, size_is(max_ents), length_is(*num_ents)] entries: a
// conformant-varying array whose towers follow it.
void WriteLookupEntries(ndr::Encoder& e, const std::vector<EndpointEntry>& entries,
                        uint32_t max_ents) {
  e.Conformance(max_ents);
  e.VarianceOf({0, static_cast<uint32_t>(entries.size())});
  for (const EndpointEntry& entry : entries) WriteEntryHead(e, entry);
  for (const EndpointEntry& entry : entries) {
    WriteTwr(e, entry.tower);
    e.Align(4);
  }
}

Result<std::vector<EndpointEntry>> ReadLookupEntries(ndr::Decoder& d, uint32_t num) {
  COMSEC_ASSIGN_OR_RETURN(uint32_t max_count, d.Conformance(0));
  COMSEC_ASSIGN_OR_RETURN(ndr::Variance v, d.VarianceOf(max_count, 28));
  if (v.offset != 0 || v.actual_count != num) {
    return d.Error("num_ents disagrees with the entries' length_is");
  }
  std::vector<EndpointEntry> entries(num);
  std::vector<uint32_t> tower_ptrs(num);
  for (uint32_t i = 0; i < num; ++i) {
    COMSEC_ASSIGN_OR_RETURN(tower_ptrs[i], ReadEntryHead(d, entries[i]));
  }
  for (uint32_t i = 0; i < num; ++i) {
    if (tower_ptrs[i] == 0) return d.Error("an entry without a tower");
    COMSEC_ASSIGN_OR_RETURN(entries[i].tower, ReadTwr(d));
    COMSEC_RETURN_IF_ERROR(d.Align(4));
  }
  return entries;
}

HResult EptStatusToHResult(uint32_t status) {
  // C706's ept_s_not_registered travels as itself; Windows reports it as
  // EPT_S_NOT_REGISTERED (1753), base/win32_error.h's, not rpc::'s wire value.
  if (status == EPT_S_NOT_REGISTERED) return ::comsec::EPT_S_NOT_REGISTERED;
  return status <= 0xFFFF ? HResult::FromWin32(status) : HResult(status);
}

Result<std::unique_ptr<Client>> BindMapper(const StringBinding& mapper,
                                           const ClientOptions& options) {
  COMSEC_ASSIGN_OR_RETURN(auto client, Client::Connect(mapper, options));
  COMSEC_RETURN_IF_ERROR(client->Bind(EndpointMapperSyntax()));
  return client;
}

Status InsertOrDelete(uint16_t opnum, const StringBinding& mapper,
                      const std::vector<EndpointEntry>& entries, const ClientOptions& options) {
  COMSEC_ASSIGN_OR_RETURN(auto client, BindMapper(mapper, options));
  ndr::Encoder e;
  WriteEntries(e, entries);
  if (opnum == 0) e.U32(1);  // replace
  COMSEC_ASSIGN_OR_RETURN(std::vector<uint8_t> reply, client->Call(opnum, e.bytes()));
  ndr::Decoder d(reply);
  COMSEC_ASSIGN_OR_RETURN(uint32_t status, d.U32());
  if (status != 0) {
    return Status(EptStatusToHResult(status),
                  std::string("the endpoint mapper refused the ") +
                      (opnum == 0 ? "registration" : "removal") +
                      (status == EPT_S_CANT_PERFORM_OP
                           ? ": it accepts changes only over its ncalrpc endpoint, and only "
                             "from the user that registered an interface (or root)"
                           : status == EPT_S_CANT_CREATE
                                 ? ": this user has registered as many entries as it may"
                                 : ""));
  }
  return Status();
}

}  // namespace

InterfaceRegistration EndpointMapper::Interface() {
  InterfaceRegistration r;
  r.syntax = EndpointMapperSyntax();
  auto insert_or_delete = [this](bool insert) {
    return [this, insert](std::span<const uint8_t> stub,
                          const CallContext& call) -> Result<std::vector<uint8_t>> {
      ndr::Decoder d(stub, call.data_rep);
      COMSEC_ASSIGN_OR_RETURN(auto entries, ReadEntries(d));
      uint32_t replace = 0;
      if (insert) {
        COMSEC_ASSIGN_OR_RETURN(replace, d.U32());
      }
      COMSEC_RETURN_IF_ERROR(d.ExpectEnd());
      uint32_t status;
      if (!call.local || !call.has_peer) {
        // Only ncalrpc names the caller; TCP callers, loopback included,
        // may look up but not change the map.
        const char* op = insert ? "ept_insert" : "ept_delete";
        Log(LogEvent(insert ? "epm.insert_refused" : "epm.delete_refused",
                     LogSeverity::kWarning,
                     std::string("refused ") + op +
                         " from a TCP caller: the map changes only over ncalrpc")
                .Peer(call.peer)
                .Reason("the map changes only over ncalrpc")
                .Hresult(HResult::FromWin32(EPT_S_CANT_PERFORM_OP)));
        status = EPT_S_CANT_PERFORM_OP;
      } else {
        status = insert ? Insert(entries, replace != 0, call.peer_uid)
                        : Delete(entries, call.peer_uid);
      }
      ndr::Encoder out;
      out.U32(status);
      return std::move(out).Take();
    };
  };
  auto unsupported = [](std::span<const uint8_t>, const CallContext&)
      -> Result<std::vector<uint8_t>> {
    return Status(RPC_S_PROCNUM_OUT_OF_RANGE, "not implemented");
  };
  auto map = [this](std::span<const uint8_t> stub,
                    const CallContext& call) -> Result<std::vector<uint8_t>> {
    ndr::Decoder d(stub, call.data_rep);
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
    if (max_towers > kMaxEnts) return d.Error("max_towers above its range(0, 500)");
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
  auto lookup = [this](std::span<const uint8_t> stub,
                       const CallContext& call) -> Result<std::vector<uint8_t>> {
    ndr::Decoder d(stub, call.data_rep);
    LookupQuery q;
    COMSEC_ASSIGN_OR_RETURN(q.inquiry_type, d.U32());
    COMSEC_ASSIGN_OR_RETURN(auto obj_ptr, d.PtrPointer());
    if (obj_ptr.id != 0) {
      COMSEC_ASSIGN_OR_RETURN(q.object, d.Uuid());
    }
    COMSEC_ASSIGN_OR_RETURN(auto if_ptr, d.PtrPointer());
    if (if_ptr.id != 0) {
      SyntaxId s;
      COMSEC_ASSIGN_OR_RETURN(s.uuid, d.Uuid());
      COMSEC_ASSIGN_OR_RETURN(s.major, d.U16());
      COMSEC_ASSIGN_OR_RETURN(s.minor, d.U16());
      q.interface = s;
    }
    COMSEC_ASSIGN_OR_RETURN(q.vers_option, d.U32());
    COMSEC_ASSIGN_OR_RETURN(ndr::ContextHandle handle, d.Context());
    COMSEC_ASSIGN_OR_RETURN(uint32_t max_ents, d.U32());
    COMSEC_RETURN_IF_ERROR(d.ExpectEnd());
    if (max_ents > kMaxEnts) return d.Error("max_ents above its range(0, 500)");
    COMSEC_ASSIGN_OR_RETURN(LookupPiece piece,
                            Lookup(q, handle, max_ents, call.assoc_group_id));
    ndr::Encoder e;
    e.Context(piece.handle);
    e.U32(static_cast<uint32_t>(piece.entries.size()));
    WriteLookupEntries(e, piece.entries, max_ents);
    e.U32(piece.status);
    return std::move(e).Take();
  };
  auto lookup_handle_free = [this](std::span<const uint8_t> stub,
                                   const CallContext& call) -> Result<std::vector<uint8_t>> {
    ndr::Decoder d(stub, call.data_rep);
    COMSEC_ASSIGN_OR_RETURN(ndr::ContextHandle handle, d.Context());
    COMSEC_RETURN_IF_ERROR(d.ExpectEnd());
    COMSEC_RETURN_IF_ERROR(FreeLookup(handle, call.assoc_group_id));
    ndr::Encoder e;
    e.Context(ndr::ContextHandle{});
    e.U32(0);
    return std::move(e).Take();
  };
  r.operations = {insert_or_delete(true), insert_or_delete(false), lookup, map,
                  lookup_handle_free, unsupported, unsupported};
  return r;
}

Status EptInsert(const StringBinding& mapper, const std::vector<EndpointEntry>& entries,
                 ClientOptions options) {
  return InsertOrDelete(0, mapper, entries, options);
}

Status EptDelete(const StringBinding& mapper, const std::vector<EndpointEntry>& entries,
                 ClientOptions options) {
  return InsertOrDelete(1, mapper, entries, options);
}

Result<StringBinding> EptMap(const StringBinding& mapper, const SyntaxId& interface,
                             const std::string& protseq, ClientOptions options) {
  COMSEC_ASSIGN_OR_RETURN(auto client, BindMapper(mapper, options));
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
    return Status(EptStatusToHResult(EPT_S_NOT_REGISTERED),
                  "no endpoint is registered for interface " + interface.uuid.ToString());
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

Result<LookupPiece> EptLookup(Client& client, const LookupQuery& query,
                              const ndr::ContextHandle& handle, uint32_t max_ents) {
  ndr::Encoder e;
  e.U32(query.inquiry_type);
  e.Pointer(true);
  e.Uuid(query.object);
  e.Pointer(query.interface.has_value());
  if (query.interface) {
    e.Uuid(query.interface->uuid);
    e.U16(query.interface->major);
    e.U16(query.interface->minor);
  }
  e.U32(query.vers_option);
  e.Context(handle);
  e.U32(max_ents);
  COMSEC_ASSIGN_OR_RETURN(std::vector<uint8_t> reply, client.Call(2, e.bytes()));
  ndr::Decoder d(reply);
  LookupPiece piece;
  COMSEC_ASSIGN_OR_RETURN(piece.handle, d.Context());
  COMSEC_ASSIGN_OR_RETURN(uint32_t num, d.U32());
  if (num > max_ents) return d.Error("more entries than max_ents");
  COMSEC_ASSIGN_OR_RETURN(piece.entries, ReadLookupEntries(d, num));
  COMSEC_ASSIGN_OR_RETURN(piece.status, d.U32());
  COMSEC_RETURN_IF_ERROR(d.ExpectEnd());
  return piece;
}

Status EptLookupHandleFree(Client& client, const ndr::ContextHandle& handle) {
  ndr::Encoder e;
  e.Context(handle);
  COMSEC_ASSIGN_OR_RETURN(std::vector<uint8_t> reply, client.Call(4, e.bytes()));
  ndr::Decoder d(reply);
  COMSEC_RETURN_IF_ERROR(d.Context().status());
  COMSEC_ASSIGN_OR_RETURN(uint32_t status, d.U32());
  if (status != 0) return Status(EptStatusToHResult(status), "ept_lookup_handle_free failed");
  return Status();
}

Result<std::vector<EndpointEntry>> EptLookupAll(const StringBinding& mapper, uint32_t max_ents,
                                                ClientOptions options) {
  if (max_ents == 0 || max_ents > kMaxEnts) {
    return Status(E_INVALIDARG, "max_ents must be 1-500");
  }
  COMSEC_ASSIGN_OR_RETURN(auto client, BindMapper(mapper, options));
  std::vector<EndpointEntry> all;
  ndr::ContextHandle handle;
  // A mapper that never ends the enumeration cannot keep us here: its map
  // holds at most EndpointMapperLimits::max_entries, ours at most this.
  constexpr size_t kMaxTotal = 65536;
  for (;;) {
    COMSEC_ASSIGN_OR_RETURN(LookupPiece piece, EptLookup(*client, {}, handle, max_ents));
    if (piece.status == EPT_S_NOT_REGISTERED) break;
    if (piece.status != 0) {
      return Status(EptStatusToHResult(piece.status), "ept_lookup failed");
    }
    all.insert(all.end(), piece.entries.begin(), piece.entries.end());
    if (piece.handle.IsNull()) break;
    if (piece.entries.empty() || all.size() > kMaxTotal) {
      return Status(RPC_S_PROTOCOL_ERROR,
                    "the endpoint mapper's enumeration does not end");
    }
    handle = piece.handle;
  }
  return all;
}

}  // namespace comsec::rpc
