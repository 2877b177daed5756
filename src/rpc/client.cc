#include "comsec/rpc/client.h"

#include <algorithm>
#include <chrono>

#include "comsec/base/win32_error.h"
#include "comsec/rpc/fragmenter.h"
#include "comsec/rpc/pdu_codec.h"
#include "comsec/rpc/pdu_protection.h"
#include "comsec/rpc/verification_trailer.h"

namespace comsec::rpc {
namespace {

// See Client::last_response_us_.
constexpr int64_t kFreshResponseUs = 2000;

int64_t SteadyMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

constexpr HResult kUnknownIf = RPC_S_UNKNOWN_IF;
constexpr HResult kSecPkgError = RPC_S_SEC_PKG_ERROR;
constexpr HResult kAccessDenied = ERROR_ACCESS_DENIED;

std::string SyntaxName(const SyntaxId& s) {
  return s.uuid.ToString() + " v" + std::to_string(s.major) + "." + std::to_string(s.minor);
}

}  // namespace

HResult FaultToHResult(uint32_t status) {
  switch (status) {
    case nca_s_op_rng_error: return RPC_S_PROCNUM_OUT_OF_RANGE;
    case nca_s_unknown_if: return kUnknownIf;
    case nca_s_proto_error: return RPC_S_PROTOCOL_ERROR;
    case nca_s_fault_context_mismatch: return ERROR_INVALID_HANDLE;
    case nca_s_fault_remote_no_memory: return ERROR_OUTOFMEMORY;
    default:
      // Win32 codes travel as themselves; HRESULTs too.
      return static_cast<int32_t>(status) < 0 ? HResult(status)
                                              : HResult::FromWin32(status);
  }
}

Client::Client(Socket s, ClientOptions o, StringBinding binding)
    : socket_(std::move(s)),
      options_(std::move(o)),
      binding_(std::move(binding)),
      local_(binding_.IsLocal()) {}

Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::Connect(const StringBinding& binding,
                                                ClientOptions options) {
  COMSEC_ASSIGN_OR_RETURN(Socket s, options.dial ? options.dial(binding, options.timeout_ms)
                                                 : Socket::Connect(binding, options.timeout_ms));
  COMSEC_RETURN_IF_ERROR(s.VerifyLocalServer(options.trusted_server_uids));
  return std::unique_ptr<Client>(new Client(std::move(s), options, binding));
}

// ==== The association: bind, handshakes, alter_context ====================
// Invariant: everything here runs with assoc_mu_ held exclusively, so no
// call is in flight and a reply read is the reply to what was just sent.

Pdu Client::NewAlterContext(uint16_t context_id, const SyntaxId& syntax) {
  Pdu p;
  p.header.type = PduType::kAlterContext;
  p.header.call_id = next_call_id_++;
  BindBody b;
  b.max_xmit_frag = b.max_recv_frag = options_.max_frag;
  b.contexts.push_back({context_id, syntax, {Ndr20Syntax()}});
  p.body = std::move(b);
  return p;
}

Result<Pdu> Client::Exchange(const Pdu& pdu) {
  COMSEC_RETURN_IF_ERROR(socket_.WriteAll(EncodePdu(pdu)));
  COMSEC_ASSIGN_OR_RETURN(std::vector<uint8_t> reply, socket_.ReadFragment(options_.timeout_ms));
  COMSEC_ASSIGN_OR_RETURN(Pdu r, DecodePdu(reply));
  if (r.header.call_id != pdu.header.call_id) {
    return Status(RPC_S_PROTOCOL_ERROR, std::string("the reply to a ") +
                                            PduTypeName(pdu.header.type) +
                                            " names another call");
  }
  return r;
}

Status Client::Handshake(AuthState& state, Pdu first, Pdu* first_reply) {
  const ClientAuth& auth = state.auth;
  StartParams params;
  params.role = Role::kClient;
  params.auth_level = auth.level;
  params.credentials = auth.credentials;
  params.target_name = auth.target_name;
  params.imp_level = auth.imp_level;
  params.wanted = auth.wanted;
  params.connection.local = local_;
  params.connection.peer = binding_.ToString();
  params.connection.local_address = socket_.LocalDescription();
  params.connection.local_endpoint = socket_.LocalEndpoint();
  params.connection.peer_endpoint = socket_.PeerEndpoint();
  COMSEC_ASSIGN_OR_RETURN(std::unique_ptr<SecurityContext> context,
                          auth.package->Start(params));
  COMSEC_ASSIGN_OR_RETURN(UpdateResult step, context->Update({}));
  const uint8_t type = auth.package->auth_type();
  first.auth =
      SecTrailer{type, WireAuthnLevel(auth.level), 0, 0, auth.context_id, std::move(step.output)};
  COMSEC_ASSIGN_OR_RETURN(*first_reply, Exchange(first));
  const bool bind = first.header.type == PduType::kBind;
  if (first_reply->header.type != (bind ? PduType::kBindAck : PduType::kAlterContextResp)) {
    return Status::Ok();  // the caller maps the refusal
  }
  Pdu reply = *first_reply;
  for (;;) {
    if (!reply.auth || reply.auth->auth_type != type ||
        reply.auth->auth_level != WireAuthnLevel(auth.level) ||
        reply.auth->auth_context_id != auth.context_id) {
      return Status(kSecPkgError, "the server did not answer the authentication as asked");
    }
    COMSEC_ASSIGN_OR_RETURN(step, context->Update(reply.auth->auth_value));
    if (step.done) {
      // The context is complete on our side: a wanted feature it did not
      // achieve fails the handshake before its last leg leaves, so that a
      // server that proved nothing never gets our final proof (NTLM's
      // AUTHENTICATE, open to offline guessing).
      if ((auth.wanted & kFeatureMutualAuth) && !(context->features() & kFeatureMutualAuth)) {
        return Status(kSecPkgError, std::string("mutual authentication was required, but the ") +
                                        auth.package->name() +
                                        " package did not prove the server's identity");
      }
      // A wanted kFeatureDelegate that was not granted is not an error
      // (Windows goes on without forwarding the ticket); unmet_features()
      // reports it.
      if (!step.output.empty()) {
        // The last leg has no reply: auth3.
        Pdu auth3;
        auth3.header.type = PduType::kAuth3;
        auth3.header.call_id = next_call_id_++;
        auth3_call_ids_.push_back(auth3.header.call_id);
        auth3.body = EmptyBody{};
        auth3.auth = SecTrailer{
            type, WireAuthnLevel(auth.level), 0, 0, auth.context_id, std::move(step.output)};
        COMSEC_RETURN_IF_ERROR(socket_.WriteAll(EncodePdu(auth3)));
      }
      break;
    }
    // Another leg with a reply: alter_context on the current presentation
    // context.
    Pdu alter = NewAlterContext(context_id_, syntax_);
    alter.auth =
        SecTrailer{type, WireAuthnLevel(auth.level), 0, 0, auth.context_id, std::move(step.output)};
    COMSEC_ASSIGN_OR_RETURN(reply, Exchange(alter));
    if (reply.header.type == PduType::kFault) {
      return Status(FaultToHResult(std::get<FaultBody>(reply.body).status),
                    "the server refused the authentication's next leg");
    }
    if (reply.header.type != PduType::kAlterContextResp) {
      return Status(RPC_S_PROTOCOL_ERROR, std::string("expected alter_context_resp, got ") +
                                              PduTypeName(reply.header.type));
    }
  }
  state.context = std::move(context);
  return Status::Ok();
}

Status Client::Bind(const SyntaxId& syntax, const ClientAuth* auth) {
  std::unique_lock<std::shared_mutex> lock(assoc_mu_);
  return BindLocked(syntax, auth);
}

Status Client::BindLocked(const SyntaxId& syntax, const ClientAuth* auth) {
  Pdu p;
  p.header.type = PduType::kBind;
  p.header.call_id = next_call_id_++;
  if (options_.multiplex) p.header.pfc_flags |= PFC_CONC_MPX;
  BindBody b;
  b.max_xmit_frag = b.max_recv_frag = options_.max_frag;
  b.contexts.push_back({0, syntax, {Ndr20Syntax()}});
  p.body = b;
  auth_.clear();
  bind_auth_id_.reset();
  syntax_ = syntax;
  context_id_ = 0;
  Pdu r;
  if (auth) {
    if (auth->package == nullptr || auth->level < security::AuthnLevel::kConnect ||
        auth->level > security::AuthnLevel::kPktPrivacy) {
      return Status(E_INVALIDARG, "authentication needs a package and a level 2-6");
    }
    // Offer header signing, as Windows clients do ([MS-RPCE] 3.3.1.5.2.1).
    p.header.pfc_flags |= PFC_SUPPORT_HEADER_SIGN;
    AuthState state{*auth, nullptr};
    Status s = Handshake(state, p, &r);
    if (!s.ok()) return s;
    if (r.header.type == PduType::kBindAck) {
      auth_.emplace(auth->context_id, std::move(state));
      bind_auth_id_ = auth->context_id;
    }
  } else {
    COMSEC_ASSIGN_OR_RETURN(r, Exchange(p));
  }
  if (r.header.type == PduType::kBindNak) {
    return Status(RPC_S_PROTOCOL_ERROR,
                  "the server refused the bind (bind_nak reason " +
                      std::to_string(std::get<BindNakBody>(r.body).reason) + ")");
  }
  if (r.header.type != PduType::kBindAck) {
    return Status(RPC_S_PROTOCOL_ERROR,
                  std::string("expected bind_ack, got ") + PduTypeName(r.header.type));
  }
  const auto& ack = std::get<BindAckBody>(r.body);
  if (ack.results.empty() || ack.results[0].result != ContextResult::kAcceptance) {
    return Status(kUnknownIf, "the server does not offer interface " + SyntaxName(syntax));
  }
  if (ack.max_xmit_frag < 2048 || ack.max_recv_frag < 2048) {
    return Status(RPC_S_PROTOCOL_ERROR, "the server negotiated a fragment size below 2048");
  }
  max_xmit_ = std::min(ack.max_recv_frag, options_.max_frag);
  header_signing_ = auth && (r.header.pfc_flags & PFC_SUPPORT_HEADER_SIGN);
  multiplexed_ = options_.multiplex && (r.header.pfc_flags & PFC_CONC_MPX);
  contexts_.clear();
  contexts_[known_key(syntax)] = 0;
  bound_ = true;
  return Status::Ok();
}

Status Client::AddAuthContext(const ClientAuth& auth) {
  std::unique_lock<std::shared_mutex> lock(assoc_mu_);
  if (!bound_) return Status(E_UNEXPECTED, "AddAuthContext before Bind");
  if (auth.package == nullptr || auth.level < security::AuthnLevel::kConnect ||
      auth.level > security::AuthnLevel::kPktPrivacy) {
    return Status(E_INVALIDARG, "authentication needs a package and a level 2-6");
  }
  if (auth_.count(auth.context_id)) {
    return Status(E_INVALIDARG, "authentication context " + std::to_string(auth.context_id) +
                                    " is already in use on this association");
  }
  return AddAuthContextLocked(auth);
}

Status Client::AddAuthContextLocked(const ClientAuth& auth) {
  AuthState state{auth, nullptr};
  Pdu r;
  COMSEC_RETURN_IF_ERROR(Handshake(state, NewAlterContext(context_id_, syntax_), &r));
  if (r.header.type == PduType::kFault) {
    return Status(FaultToHResult(std::get<FaultBody>(r.body).status),
                  "the server refused the new authentication context");
  }
  if (r.header.type != PduType::kAlterContextResp) {
    return Status(RPC_S_PROTOCOL_ERROR,
                  std::string("expected alter_context_resp, got ") + PduTypeName(r.header.type));
  }
  auth_.emplace(auth.context_id, std::move(state));
  return Status::Ok();
}

const SecurityContext* Client::auth_context(uint32_t context_id) const {
  auto it = auth_.find(context_id);
  return it == auth_.end() ? nullptr : it->second.context.get();
}

uint32_t Client::achieved_features(uint32_t context_id) const {
  const SecurityContext* context = auth_context(context_id);
  return context ? context->features() : 0;
}

uint32_t Client::unmet_features(uint32_t context_id) const {
  auto it = auth_.find(context_id);
  if (it == auth_.end() || !it->second.context) return 0;
  return it->second.auth.wanted & ~it->second.context->features();
}

Status Client::ReconnectLocked() {
  COMSEC_ASSIGN_OR_RETURN(Socket s, options_.dial
                                        ? options_.dial(binding_, options_.timeout_ms)
                                        : Socket::Connect(binding_, options_.timeout_ms));
  COMSEC_RETURN_IF_ERROR(s.VerifyLocalServer(options_.trusted_server_uids));
  socket_ = std::move(s);
  bound_ = false;
  {
    std::lock_guard<std::mutex> lock(recv_mu_);
    broken_ = false;
  }
  std::optional<ClientAuth> bind_auth;
  std::vector<ClientAuth> others;
  for (const auto& [id, state] : auth_) {
    if (bind_auth_id_ == id) {
      bind_auth = state.auth;
    } else {
      others.push_back(state.auth);
    }
  }
  COMSEC_RETURN_IF_ERROR(BindLocked(syntax_, bind_auth ? &*bind_auth : nullptr));
  for (const ClientAuth& a : others) COMSEC_RETURN_IF_ERROR(AddAuthContextLocked(a));
  return Status::Ok();
}

Status Client::AlterContext(const SyntaxId& syntax) {
  std::unique_lock<std::shared_mutex> lock(assoc_mu_);
  if (!bound_) return Status(E_UNEXPECTED, "AlterContext before Bind");
  COMSEC_ASSIGN_OR_RETURN(uint16_t id, AddContextLocked(syntax));
  context_id_ = id;
  syntax_ = syntax;
  return Status::Ok();
}

Result<uint16_t> Client::AddContextLocked(const SyntaxId& syntax) {
  auto known = contexts_.find(known_key(syntax));
  if (known != contexts_.end()) return known->second;
  const uint16_t id = static_cast<uint16_t>(contexts_.size());
  COMSEC_ASSIGN_OR_RETURN(Pdu r, Exchange(NewAlterContext(id, syntax)));
  if (r.header.type == PduType::kFault) {
    return Status(FaultToHResult(std::get<FaultBody>(r.body).status),
                  "the server refused the alter_context");
  }
  if (r.header.type != PduType::kAlterContextResp) {
    return Status(RPC_S_PROTOCOL_ERROR,
                  std::string("expected alter_context_resp, got ") + PduTypeName(r.header.type));
  }
  const auto& resp = std::get<BindAckBody>(r.body);
  if (resp.results.empty() || resp.results[0].result != ContextResult::kAcceptance) {
    return Status(kUnknownIf, "the server does not offer interface " + SyntaxName(syntax));
  }
  contexts_[known_key(syntax)] = id;
  return id;
}

// ==== Calls =================================================================
// Invariant: calls hold assoc_mu_ shared; one thread at a time is the
// reader, and it alone reads the socket and verifies responses, in arrival
// order; a waiter is registered before its request's first byte is sent.

std::future<Result<std::vector<uint8_t>>> Client::CallAsync(uint16_t opnum,
                                                            std::vector<uint8_t> stub) {
  return CallAsync(CallOptions{}, opnum, std::move(stub));
}

std::future<Result<std::vector<uint8_t>>> Client::CallAsync(CallOptions options,
                                                            uint16_t opnum,
                                                            std::vector<uint8_t> stub) {
  return std::async(std::launch::async,
                    [this, options = std::move(options), opnum, stub = std::move(stub)] {
                      return Call(options, opnum, stub);
                    });
}

Result<std::vector<uint8_t>> Client::Call(uint16_t opnum, std::span<const uint8_t> stub) {
  return Call(CallOptions{}, opnum, stub);
}

Result<std::vector<uint8_t>> Client::Call(const CallOptions& options, uint16_t opnum,
                                          std::span<const uint8_t> stub) {
  COMSEC_ASSIGN_OR_RETURN(CallReply reply, CallForReply(options, opnum, stub));
  return std::move(reply.stub);
}

Result<CallReply> Client::CallForReply(const CallOptions& options, uint16_t opnum,
                                       std::span<const uint8_t> stub) {
  {
    std::shared_lock<std::shared_mutex> lock(assoc_mu_);
    if (!bound_) return Status(E_UNEXPECTED, "Call before Bind");
    bool idle, broken, fresh, peer_closed = false;
    {
      std::lock_guard<std::mutex> recv(recv_mu_);
      idle = waiters_.empty() && !reader_active_;
      broken = broken_;
      fresh = SteadyMicros() - last_response_us_ < kFreshResponseUs;
      // A peer close is only told apart from a reply while no call is in
      // flight; nothing of this call was sent yet, so a fresh association
      // is safe. A server that answered within kFreshResponseUs did not
      // close for idleness (its shortest idle timeout is far longer).
      // Looked at under recv_mu_: with no waiter there is no reader, and
      // none can start (a reader registers its waiter under recv_mu_)
      // while the socket's buffered bytes are read here.
      if (idle && !fresh && !broken) peer_closed = socket_.PeerClosed();
    }
    const bool negotiated = !options.syntax || contexts_.count(known_key(*options.syntax));
    if (negotiated && !broken && !peer_closed) {
      return CallShared(options, opnum, stub);
    }
  }
  std::unique_lock<std::shared_mutex> lock(assoc_mu_);
  bool reconnect;
  {
    std::lock_guard<std::mutex> recv(recv_mu_);
    reconnect = broken_;
  }
  if (reconnect || socket_.PeerClosed()) COMSEC_RETURN_IF_ERROR(ReconnectLocked());
  if (options.syntax && bound_) COMSEC_RETURN_IF_ERROR(AddContextLocked(*options.syntax).status());
  lock.unlock();
  std::shared_lock<std::shared_mutex> shared(assoc_mu_);
  if (!bound_) return Status(E_UNEXPECTED, "Call before Bind");
  return CallShared(options, opnum, stub);
}

Result<CallReply> Client::CallShared(const CallOptions& options, uint16_t opnum,
                                                std::span<const uint8_t> stub_in) {
  std::unique_lock<std::mutex> serial;
  if (!multiplexed_) serial = std::unique_lock<std::mutex>(serial_mu_);
  std::optional<uint32_t> auth_id = options.auth_context_id ? options.auth_context_id
                                                            : bind_auth_id_;
  uint16_t context_id = context_id_;
  const SyntaxId* syntax = &syntax_;
  if (options.syntax) {
    auto known = contexts_.find(known_key(*options.syntax));
    if (known == contexts_.end()) {
      // A reconnection between negotiating it and this call dropped it.
      return Status(RPC_S_CALL_FAILED, "the association was re-established; call again");
    }
    context_id = known->second;
    syntax = &*options.syntax;
  }
  AuthState* auth = nullptr;
  if (auth_id) {
    auto it = auth_.find(*auth_id);
    if (it == auth_.end()) {
      return Status(E_INVALIDARG, "no authentication context " + std::to_string(*auth_id) +
                                      " on this association");
    }
    auth = &it->second;
  }
  Waiter waiter;
  waiter.authenticated = auth != nullptr;
  waiter.auth_context_id = auth_id.value_or(0);
  uint32_t call_id;
  {
    std::lock_guard<std::mutex> send(send_mu_);
    call_id = next_call_id_++;
    {
      std::lock_guard<std::mutex> recv(recv_mu_);
      if (broken_) return Status(RPC_S_CALL_FAILED, "the connection broke");
      waiters_[call_id] = &waiter;
    }
    std::vector<uint8_t> with_trailer;
    std::span<const uint8_t> stub = stub_in;
    if (auth) {
      // Case 29: authenticated requests carry a verification trailer naming
      // their context and header, protected by the PDU's signature.
      with_trailer.assign(stub_in.begin(), stub_in.end());
      VtHeader2 h;
      h.ptype = static_cast<uint8_t>(PduType::kRequest);
      h.drep = {0x10, 0, 0, 0};
      h.call_id = call_id;
      h.context_id = context_id;
      h.opnum = opnum;
      AppendVerificationTrailer(with_trailer, *syntax, Ndr20Syntax(), h, header_signing_);
      stub = with_trailer;
    }
    PduAuth protection;
    if (auth) {
      protection = PduAuth{auth->context.get(), auth->auth.package->auth_type(),
                           auth->auth.level, auth->auth.context_id, header_signing_};
    }
    FragmentPlan plan;
    plan.request = true;
    plan.call_id = call_id;
    plan.context_id = context_id;
    plan.opnum = opnum;
    plan.object = options.object;
    plan.max_frag = max_xmit_;
    plan.auth = auth ? &protection : nullptr;
    // Protected in sending order, then written without holding the
    // contexts: a reader verifying a response must not wait for a write
    // that waits for the server, which waits for us to read.
    std::vector<std::vector<uint8_t>> fragments;
    Status sent;
    {
      std::lock_guard<std::mutex> context(context_mu_);
      sent = Fragment(plan, stub, [&](std::vector<uint8_t> bytes) {
        fragments.push_back(std::move(bytes));
        return Status::Ok();
      });
    }
    for (size_t i = 0; sent.ok() && i < fragments.size(); ++i) {
      sent = socket_.WriteAll(fragments[i]);
    }
    if (!sent.ok()) {
      std::lock_guard<std::mutex> recv(recv_mu_);
      waiters_.erase(call_id);
      broken_ = true;
      return sent;
    }
  }
  std::unique_lock<std::mutex> lock(recv_mu_);
  while (!waiter.done) {
    if (!reader_active_) {
      reader_active_ = true;
      lock.unlock();
      ReadOne();
      lock.lock();
      reader_active_ = false;
      recv_cv_.notify_all();
    } else {
      recv_cv_.wait(lock);
    }
  }
  waiters_.erase(call_id);
  if (!waiter.error.ok()) return waiter.error;
  // A representation we cannot decode (EBCDIC, VAX floats) fails here,
  // RPC_S_UNSUPPORTED_TYPE, rather than being misread by the caller.
  COMSEC_ASSIGN_OR_RETURN(ndr::DataRep rep, ndr::DataRep::FromBytes(waiter.drep.data()));
  return CallReply{std::move(waiter.stub), rep};
}

void Client::FailAllLocked(const Status& why) {
  broken_ = true;
  for (auto& [id, w] : waiters_) {
    if (!w->done) {
      w->error = why;
      w->done = true;
    }
  }
}

Status Client::VerifyResponse(std::vector<uint8_t>& bytes, const Pdu& r, const Waiter& w,
                              std::vector<uint8_t>* stub) {
  const AuthState* auth = nullptr;
  if (w.authenticated) auth = &auth_.at(w.auth_context_id);
  if (!auth || auth->auth.level < security::AuthnLevel::kCall) {
    *stub = std::get<ResponseBody>(r.body).stub;
    return Status::Ok();
  }
  if (!r.auth || r.auth->auth_type != auth->auth.package->auth_type() ||
      r.auth->auth_level != WireAuthnLevel(auth->auth.level) ||
      r.auth->auth_context_id != auth->auth.context_id) {
    return Status(kSecPkgError, "a response arrived without the verifier its level requires");
  }
  PduAuth protection{auth->context.get(), auth->auth.package->auth_type(), auth->auth.level,
                     auth->auth.context_id, header_signing_};
  std::lock_guard<std::mutex> context(context_mu_);
  COMSEC_ASSIGN_OR_RETURN(*stub, VerifyProtected(bytes, r, protection));
  return Status::Ok();
}

void Client::ReadOne() {
  auto fail = [&](Status why) {
    std::lock_guard<std::mutex> lock(recv_mu_);
    FailAllLocked(why);
  };
  auto bytes = socket_.ReadFragment(options_.timeout_ms);
  if (!bytes.ok()) return fail(bytes.status());
  auto r = DecodePdu(*bytes);
  if (!r.ok()) return fail(r.status());
  const uint32_t call_id = r->header.call_id;
  if (r->header.type == PduType::kFault &&
      std::find(auth3_call_ids_.begin(), auth3_call_ids_.end(), call_id) !=
          auth3_call_ids_.end()) {
    // auth3 has no reply unless the server refused it.
    return fail(Status(kAccessDenied,
                       "the server refused our authentication (fault " +
                           FaultToHResult(std::get<FaultBody>(r->body).status).ToString() +
                           " on auth3): wrong credentials, or a level or package it does "
                           "not accept"));
  }
  Waiter* w = nullptr;
  {
    std::lock_guard<std::mutex> lock(recv_mu_);
    auto it = waiters_.find(call_id);
    if (it != waiters_.end() && !it->second->done) w = it->second;
  }
  if (w == nullptr) {
    return fail(Status(RPC_S_PROTOCOL_ERROR,
                       "a reply for call " + std::to_string(call_id) +
                           ", which is not in progress, arrived"));
  }
  auto finish = [&](Status error, bool done) {
    std::lock_guard<std::mutex> lock(recv_mu_);
    if (!error.ok()) w->error = std::move(error);
    w->done = done || !w->error.ok();
  };
  if (r->header.type == PduType::kFault) {
    HResult hr = FaultToHResult(std::get<FaultBody>(r->body).status);
    return finish(Status(hr, "the server returned fault " + hr.ToString()), true);
  }
  if (r->header.type != PduType::kResponse) {
    return fail(Status(RPC_S_PROTOCOL_ERROR,
                       std::string("expected a response, got ") + PduTypeName(r->header.type)));
  }
  if (w->first_seen == bool(r->header.pfc_flags & PFC_FIRST_FRAG)) {
    return fail(Status(RPC_S_PROTOCOL_ERROR, "response fragments out of order"));
  }
  if (!w->first_seen) w->drep = r->header.drep;
  w->first_seen = true;
  std::vector<uint8_t> stub;
  Status verified = VerifyResponse(*bytes, *r, *w, &stub);
  if (!verified.ok()) return fail(verified);
  if (stub.size() > options_.max_response_bytes - w->stub.size()) {
    return fail(Status(RPC_S_PROTOCOL_ERROR, "the response exceeds the client's limit"));
  }
  w->stub.insert(w->stub.end(), stub.begin(), stub.end());
  std::lock_guard<std::mutex> lock(recv_mu_);
  last_response_us_ = SteadyMicros();
  w->done = r->header.pfc_flags & PFC_LAST_FRAG;
}

}  // namespace comsec::rpc
