#include "comsec/com/orpc_channel.h"

#include <openssl/rand.h>

#include "comsec/com/orpc_this_that.h"

namespace comsec::com {

OrpcChannel::OrpcChannel(std::unique_ptr<rpc::Client> client, const Guid& ipid,
                         IUnknown* identity)
    : client_(std::move(client)), ipid_(ipid), identity_(identity) {}

Result<rpc::CallReply> OrpcChannel::Invoke(const Guid&, uint16_t opnum,
                                           std::span<const uint8_t> stub) {
  OrpcThis header;
  // A new causality for a call that continues none (a call made while
  // serving another carries that one's; with the call context, next).
  uint8_t cid[16];
  if (RAND_bytes(cid, sizeof cid) != 1) return Status(E_FAIL, "the CSPRNG failed");
  header.cid = Guid::FromBytes(cid);
  std::vector<uint8_t> request;
  EncodeOrpcThis(header, request);  // 32 bytes: the parameters stay 8-aligned
  request.insert(request.end(), stub.begin(), stub.end());
  rpc::CallOptions options;
  options.object = ipid_;
  COMSEC_ASSIGN_OR_RETURN(rpc::CallReply reply, client_->CallForReply(options, opnum, request));
  COMSEC_ASSIGN_OR_RETURN(Decoded<OrpcThat> that, DecodeOrpcThat(reply.stub, reply.data_rep));
  reply.stub_offset = that.params_offset;
  return reply;
}

}  // namespace comsec::com
