#include "comidl/gen_interface.h"

#include <set>

#include "comidl/gen_ndr.h"

namespace comsec::comidl::gen {
namespace {

// Parameter names that would collide with the generated locals.
std::string ParamName(const std::string& name) {
  static const std::set<std::string> kTaken = {
      "e", "d", "reply", "ret", "hook", "impl", "call", "stub", "opnum", "current", "status"};
  return kTaken.count(name) ? name + "_" : name;
}

std::string ReturnType(const Method& m) {
  return m.ret_wire ? "::comsec::Result<" + CppType(*m.ret_wire) + ">" : "::comsec::Status";
}

std::string Signature(const Method& m, const std::string& qualifier) {
  std::string s = ReturnType(m) + " " + qualifier + m.name + "(";
  bool first = true;
  for (const Param& p : m.params) {
    if (!p.wire) continue;  // handle_t
    s += (first ? "" : ", ") + ParamCpp(p) + " " + ParamName(p.name);
    first = false;
  }
  return s + ")";
}

// The methods with a wire form, in opnum order, this interface's own.
std::vector<const Method*> RemoteMethods(const Interface& itf) {
  std::vector<const Method*> out;
  for (const Method& m : itf.methods) {
    if (!m.local) out.push_back(&m);
  }
  return out;
}

std::vector<const Method*> AllRemoteMethods(const Interface& itf) {
  std::vector<const Method*> out;
  if (itf.base) out = AllRemoteMethods(*itf.base);
  for (const Method* m : RemoteMethods(itf)) out.push_back(m);
  return out;
}

Scope ParamScope(const Method& m) {
  Scope s;
  for (const Param& p : m.params) s.names[p.name] = ParamName(p.name);
  return s;
}

void EmitBody(Out& o, Out& body, const std::vector<std::string>& decls) {
  for (const std::string& d : decls) o.L(d);
  std::string text = body.str();
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    std::string line = text.substr(start, end - start);
    o.L(line);
    start = end + 1;
  }
}

// The client side of one method: encode [in], call, decode [out] and the
// return value.
void DefineProxyMethod(Out& o, const Interface& itf, const Method& m, const Symbols& sym,
                       const std::string& cls, const std::string& prefix) {
  o.L(prefix + Signature(m, cls + "::") + " {").In();
  Out body;
  std::vector<std::string> later, decls;
  Scope scope = ParamScope(m);
  scope.later = &later;
  scope.decls = &decls;
  scope.hook = itf.object ? "channel_->marshaler()" : "nullptr";
  for (const Param& p : m.params) scope.available.insert(p.name);
  Emit x{body, sym, scope};
  body.L("::comsec::ndr::Encoder e;");
  // Room for the fixed part of most stubs: no growth from one byte.
  body.L("e.Reserve(64);");
  for (const Param& p : m.params) {
    if (p.wire && p.in) EncodeValue(x, *p.wire, ParamName(p.name), Phase::kAll, true);
  }
  if (itf.object) {
    body.L("COMSEC_ASSIGN_OR_RETURN(::comsec::rpc::CallReply reply, channel_->Invoke(IID_" +
           itf.name + ", " + std::to_string(m.opnum) + ", e.bytes()));");
  } else {
    body.L("COMSEC_ASSIGN_OR_RETURN(::comsec::rpc::CallReply reply, client_->CallForReply(options_, " +
           std::to_string(m.opnum) + ", e.bytes()));");
  }
  // In the server's byte order (C706 14.2: the receiver makes it right).
  body.L("::comsec::ndr::Decoder d(reply.stub, reply.data_rep);");
  if (itf.object) body.L("COMSEC_RETURN_IF_ERROR(d.SkipTo(reply.stub_offset));");
  for (const Param& p : m.params) {
    if (p.wire && p.out) DecodeValue(x, *p.wire, ParamName(p.name), Phase::kAll, true);
  }
  if (m.ret_wire) {
    body.L(CppType(*m.ret_wire) + " ret{};");
    DecodeValue(x, *m.ret_wire, "ret", Phase::kAll, true);
  }
  for (const std::string& l : later) body.L(l);
  body.L("COMSEC_RETURN_IF_ERROR(d.ExpectEnd());");
  body.L(m.ret_wire ? "return ret;" : "return ::comsec::Status();");
  EmitBody(o, body, decls);
  o.Un().L("}").L();
}

// The server side of one method: decode [in], call the implementation,
// encode [out] and the return value.
void DefineStubBody(Out& o, const Method& m, const Symbols& sym, const std::string& impl) {
  Out body;
  std::vector<std::string> later, decls;
  Scope scope = ParamScope(m);
  scope.later = &later;
  scope.decls = &decls;
  scope.hook = "hook";
  Emit x{body, sym, scope};
  body.L("::comsec::ndr::Decoder d(stub, call.data_rep);");
  body.L("COMSEC_RETURN_IF_ERROR(d.SkipTo(call.stub_offset));");
  std::string args;
  for (const Param& p : m.params) {
    if (!p.wire) continue;
    const Wire& w = *p.wire;
    std::string t = w.kind == Wire::Kind::kPointer && w.ptr == PtrKind::kRef ? CppType(*w.elem)
                                                                            : CppType(w);
    if (IsSpanParam(p)) t = ParamCpp(p);
    body.L(t + " " + ParamName(p.name) + "{};");
    args += (args.empty() ? "" : ", ") + ParamName(p.name);
  }
  for (const Param& p : m.params) {
    if (!p.wire || !p.in) continue;
    x.span_target = IsSpanParam(p);
    DecodeValue(x, *p.wire, ParamName(p.name), Phase::kAll, true);
    x.span_target = false;
    scope.available.insert(p.name);
  }
  for (const std::string& l : later) body.L(l);
  later.clear();
  // Bytes after the last [in] parameter are ignored, as Windows's NDR
  // engine ignores them ([MS-DCOM] clients and impacket send fillers; the
  // issue's tolerance rule): every byte that was read was checked.
  body.L("::comsec::rpc::CurrentCallScope current(call);");
  if (m.ret_wire) {
    body.L("COMSEC_ASSIGN_OR_RETURN(" + CppType(*m.ret_wire) + " ret, " + impl + "." + m.name + "(" +
           args + "));");
  } else {
    body.L("COMSEC_RETURN_IF_ERROR(" + impl + "." + m.name + "(" + args + "));");
  }
  for (const Param& p : m.params) scope.available.insert(p.name);
  body.L("::comsec::ndr::Encoder e;");
  // Room for the fixed part of most stubs: no growth from one byte.
  body.L("e.Reserve(64);");
  for (const Param& p : m.params) {
    if (p.wire && p.out) EncodeValue(x, *p.wire, ParamName(p.name), Phase::kAll, true);
  }
  if (m.ret_wire) EncodeValue(x, *m.ret_wire, "ret", Phase::kAll, true);
  body.L("return std::move(e).Take();");
  EmitBody(o, body, decls);
}

}  // namespace

void DeclareInterface(Out& o, const Interface& itf, const Symbols& sym) {
  (void)sym;
  const std::string& n = itf.name;
  std::string base = itf.base ? " : public " + itf.base->name : "";
  o.L("// ==== interface " + n + " " + std::string(78 - std::min<size_t>(70, n.size() + 18), '='));
  if (itf.object && !itf.uuid.empty()) {
    o.L("inline constexpr ::comsec::Guid IID_" + n + " = " + GuidInit(itf.uuid) + ";");
  } else if (!itf.uuid.empty()) {
    o.L("inline ::comsec::rpc::SyntaxId " + n + "Syntax() {");
    o.L("  return {" + GuidInit(itf.uuid) + ", " + std::to_string(itf.major) + ", " +
        std::to_string(itf.minor) + "};");
    o.L("}");
  }
  if (itf.object && !itf.base) {
    // COM's root interface is comsec's own (base/unknown.h): objects,
    // proxies and the COM runtime share it.
    o.L("using " + n + " = ::comsec::IUnknown;").L();
    return;
  }
  o.L("class " + n + base + " {");
  o.L(" public:").In();
  if (!itf.base) o.L("virtual ~" + n + "() = default;");
  if (itf.object) {
    // What ComObject (base/com_object.h) and ComPtr::As need to answer
    // QueryInterface for this interface and its bases.
    o.L("static constexpr ::comsec::Guid kIid = IID_" + n + ";");
    o.L("using BaseInterface = " + itf.base->name + ";");
  }
  for (const Method* m : RemoteMethods(itf)) {
    o.L("// opnum " + std::to_string(m->opnum));
    o.L("virtual " + Signature(*m, "") + " = 0;");
  }
  o.Un().L("};").L();
  if (itf.local) return;
  const std::string proxy = n + "Proxy";
  if (itf.object) {
    o.L("// Calls " + n + " through the COM layer's channel, which outlives the proxy.");
    o.L("class " + proxy + " : public " + n + " {");
    o.L(" public:").In();
    o.L("explicit " + proxy + "(::comsec::rpc::ObjectChannel* channel) : channel_(channel) {}");
    o.L("// A proxy is a face of the object's identity, which the channel names.");
    o.L("::comsec::HResult QueryInterface(const ::comsec::Guid& iid, void** object) override {");
    o.L("  return channel_->identity()->QueryInterface(iid, object);");
    o.L("}");
    o.L("uint32_t AddRef() override { return channel_->identity()->AddRef(); }");
    o.L("uint32_t Release() override { return channel_->identity()->Release(); }");
  } else {
    o.L("// Calls " + n + " over a client bound to " + n +
        "Syntax(); the client outlives the proxy.");
    o.L("class " + proxy + " : public " + n + " {");
    o.L(" public:").In();
    o.L("explicit " + proxy + "(::comsec::rpc::Client* client, ::comsec::rpc::CallOptions "
        "options = {})");
    o.L("    : client_(client), options_(std::move(options)) {}");
  }
  for (const Method* m : itf.object ? AllRemoteMethods(itf) : RemoteMethods(itf)) {
    o.L(Signature(*m, "") + " override;");
  }
  o.Un().L(" private:").In();
  if (itf.object) {
    o.L("::comsec::rpc::ObjectChannel* channel_;");
  } else {
    o.L("::comsec::rpc::Client* client_;");
    o.L("::comsec::rpc::CallOptions options_;");
  }
  o.Un().L("};").L();
  if (itf.object) {
    o.L("// Serves one call of " + n + " (or of a base interface's opnum) on `impl`.");
    o.L("::comsec::Result<std::vector<uint8_t>> " + n + "Invoke(" + n +
        "& impl, uint16_t opnum, std::span<const uint8_t> stub, const "
        "::comsec::rpc::CallContext& call, ::comsec::rpc::InterfaceMarshaler* hook);");
    o.L("// " + n + " for the COM runtime: its IID, stub and proxy factory.");
    o.L("const ::comsec::rpc::ObjectInterfaceInfo& " + n + "Info();");
  } else {
    o.L("// The server side of " + n + ": one handler per opnum, each calling `impl`.");
    o.L("::comsec::rpc::InterfaceRegistration " + n + "Registration(std::shared_ptr<" + n +
        "> impl);");
  }
  o.L();
}

void DefineInterface(Out& o, const Interface& itf, const Symbols& sym, const std::string& prefix) {
  if (itf.local) return;
  const std::string& n = itf.name;
  for (const Method* m : itf.object ? AllRemoteMethods(itf) : RemoteMethods(itf)) {
    DefineProxyMethod(o, itf, *m, sym, n + "Proxy", prefix);
  }
  if (itf.object) {
    o.L(prefix + "::comsec::Result<std::vector<uint8_t>> " + n + "Invoke([[maybe_unused]] " + n +
        "& impl, uint16_t opnum, [[maybe_unused]] std::span<const uint8_t> stub, "
        "[[maybe_unused]] const ::comsec::rpc::CallContext& call, "
        "[[maybe_unused]] ::comsec::rpc::InterfaceMarshaler* hook) {").In();
    o.L("switch (opnum) {").In();
    for (const Method* m : RemoteMethods(itf)) {
      o.L("case " + std::to_string(m->opnum) + ": {").In();
      DefineStubBody(o, *m, sym, "impl");
      o.Un().L("}");
    }
    o.L("default:");
    if (itf.base && !itf.base->local) {
      o.L("  return " + itf.base->name + "Invoke(impl, opnum, stub, call, hook);");
    } else {
      o.L("  // Opnums of [local] methods, and IUnknown's (IRemUnknown serves them).");
      o.L("  return ::comsec::rpc::OpnumOutOfRange(opnum);");
    }
    o.Un().L("}");
    o.Un().L("}").L();
    o.L(prefix + "const ::comsec::rpc::ObjectInterfaceInfo& " + n + "Info() {").In();
    o.L("static const ::comsec::rpc::ObjectInterfaceInfo info{").In();
    o.L("IID_" + n + ", \"" + n + "\",");
    o.L("[](::comsec::IUnknown* object, uint16_t opnum, std::span<const uint8_t> stub,");
    o.L("   const ::comsec::rpc::CallContext& call, ::comsec::rpc::InterfaceMarshaler* hook) {");
    o.L("  return " + n + "Invoke(*static_cast<" + n + "*>(object), opnum, stub, call, hook);");
    o.L("},");
    o.L("[](::comsec::rpc::ObjectChannel* channel) {");
    o.L("  return ::comsec::rpc::ProxyPtr(new " + n + "Proxy(channel), [](::comsec::IUnknown* p) {");
    o.L("    delete static_cast<" + n + "Proxy*>(p);");
    o.L("  });");
    o.L("}};");
    o.Un().L("return info;");
    o.Un().L("}").L();
    return;
  }
  o.L(prefix + "::comsec::rpc::InterfaceRegistration " + n + "Registration(std::shared_ptr<" + n +
      "> impl) {").In();
  o.L("::comsec::rpc::InterfaceRegistration r;");
  o.L("r.syntax = " + n + "Syntax();");
  for (int opnum = 0; opnum < itf.opnum_count; ++opnum) {
    const Method* found = nullptr;
    for (const Method* m : RemoteMethods(itf)) {
      if (m->opnum == opnum) found = m;
    }
    if (!found) {
      o.L("r.operations.push_back([](std::span<const uint8_t>, const ::comsec::rpc::CallContext&)"
          " -> ::comsec::Result<std::vector<uint8_t>> {");
      o.L("  return ::comsec::rpc::OpnumOutOfRange(" + std::to_string(opnum) + ");");
      o.L("});");
      continue;
    }
    o.L("// opnum " + std::to_string(opnum) + ": " + found->name);
    o.L("r.operations.push_back([impl](std::span<const uint8_t> stub, const "
        "::comsec::rpc::CallContext& call) -> ::comsec::Result<std::vector<uint8_t>> {").In();
    o.L("[[maybe_unused]] ::comsec::rpc::InterfaceMarshaler* hook = nullptr;");
    DefineStubBody(o, *found, sym, "(*impl)");
    o.Un().L("});");
  }
  o.L("return r;");
  o.Un().L("}").L();
}

}  // namespace comsec::comidl::gen
