// Generated code of [object] interfaces (constructs.idl IShape, IFactory):
// proxies over rpc::ObjectChannel, stubs through IFactoryInvoke, inherited
// opnums (IUnknown's three, then IShape's, then IFactory's), interface
// pointers through rpc::InterfaceMarshaler; and a DCE interface's
// registration (Constructs) called as the server calls it.
#include <gtest/gtest.h>

#include <map>

#include "comsec/base/com_object.h"
#include "comsec/base/hex.h"
#include "constructs.h"

namespace comsec::idl {
namespace {

class Shape final : public ComObject<IShape> {
 public:
  explicit Shape(int32_t sides) : sides_(sides) {}
  Result<HRESULT> Area(int32_t w, int32_t h, int32_t& area) override {
    area = w * h;
    return HRESULT{0};
  }
  Result<HRESULT> Describe(Color color, std::optional<std::u16string>& text) override {
    text = color == BLUE ? u"blue" : u"other";
    return HRESULT{0};
  }
  int32_t sides() const { return sides_; }

 private:
  int32_t sides_;
};

class Factory final : public ComObject<IFactory> {
 public:
  Result<HRESULT> Area(int32_t, int32_t, int32_t& area) override {
    area = -1;
    return HRESULT{0};
  }
  Result<HRESULT> Describe(Color, std::optional<std::u16string>& text) override {
    text.reset();
    return HRESULT{1};
  }
  Result<HRESULT> Make(int32_t sides, ComPtr<IShape>& shape) override {
    shape = MakeComObject<Shape>(sides);
    return HRESULT{0};
  }
  Result<HRESULT> Query(const IID& riid, ComPtr<IUnknown>& object) override {
    // [iid_is(riid)]: the pointer of interface riid.
    if (riid == IID_IShape) object = ComPtr<IShape>(MakeComObject<Shape>(4));
    return HRESULT{object ? 0 : static_cast<int32_t>(0x80004002u)};
  }
  Result<HRESULT> Take(const ComPtr<IShape>& shape, int32_t& sides) override {
    taken = shape;
    sides = shape ? static_cast<Shape*>(shape.get())->sides() : 0;
    return HRESULT{0};
  }
  ComPtr<IShape> taken;
};

// OBJREFs are 4-byte indexes into a table: enough to see objects travel.
class TableMarshaler : public rpc::InterfaceMarshaler {
 public:
  Result<std::vector<uint8_t>> Marshal(const Guid& iid, IUnknown* object) override {
    objects_.push_back({iid, ComPtr<IUnknown>(object)});
    uint32_t i = static_cast<uint32_t>(objects_.size() - 1);
    return std::vector<uint8_t>{static_cast<uint8_t>(i), 0, 0, 0};
  }
  Result<ComPtr<IUnknown>> Unmarshal(const Guid& iid,
                                     std::span<const uint8_t> objref) override {
    if (objref.size() != 4 || objref[0] >= objects_.size() || objects_[objref[0]].first != iid) {
      return Status(E_INVALIDARG, "no such object");
    }
    return objects_[objref[0]].second;
  }

 private:
  std::vector<std::pair<Guid, ComPtr<IUnknown>>> objects_;
};

// The channel hands the request to the stub in process, as the COM layer
// will across the wire.
class LoopbackChannel : public rpc::ObjectChannel {
 public:
  explicit LoopbackChannel(IFactory* impl) : impl_(impl) {}
  Result<rpc::CallReply> Invoke(const Guid& iid, uint16_t opnum,
                                std::span<const uint8_t> stub) override {
    last_iid = iid;
    last_opnum = opnum;
    last_request.assign(stub.begin(), stub.end());
    rpc::CallContext call;
    COMSEC_ASSIGN_OR_RETURN(last_reply, IFactoryInvoke(*impl_, opnum, stub, call, &hook));
    return rpc::CallReply{last_reply, ndr::DataRep::Native()};
  }
  rpc::InterfaceMarshaler* marshaler() override { return &hook; }
  IUnknown* identity() override { return impl_; }

  TableMarshaler hook;
  Guid last_iid;
  uint16_t last_opnum = 0;
  std::vector<uint8_t> last_request, last_reply;

 private:
  IFactory* impl_;
};

TEST(ComidlObject, InheritedMethodsKeepTheirOpnumsAndUseTheProxysIid) {
  ComPtr<Factory> factory = MakeComObject<Factory>();
  LoopbackChannel channel(factory.get());
  IFactoryProxy proxy(&channel);
  int32_t area = 0;
  auto r = proxy.Area(3, 4, area);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, 0);
  EXPECT_EQ(area, -1);  // IFactory's implementation of IShape::Area
  EXPECT_EQ(channel.last_iid, IID_IFactory);
  EXPECT_EQ(channel.last_opnum, 3);
  EXPECT_EQ(ToHex(channel.last_request), "0300000004000000");
  EXPECT_EQ(ToHex(channel.last_reply), "ffffffff00000000");
  std::optional<std::u16string> text = u"stale";
  r = proxy.Describe(BLUE, text);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 1);
  EXPECT_FALSE(text.has_value());
  EXPECT_EQ(channel.last_opnum, 4);
  EXPECT_EQ(ToHex(channel.last_request), "ff7f");
}

TEST(ComidlObject, InterfacePointersTravelThroughTheHook) {
  ComPtr<Factory> factory = MakeComObject<Factory>();
  LoopbackChannel channel(factory.get());
  IFactoryProxy proxy(&channel);
  ComPtr<IShape> shape;
  auto r = proxy.Make(5, shape);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(channel.last_opnum, 5);
  // A unique pointer, then MInterfacePointer {ulCntData; abData[]}.
  EXPECT_EQ(ToHex(channel.last_reply), "000002000400000004000000" "00000000" "00000000");
  ASSERT_TRUE(shape);
  EXPECT_EQ(static_cast<Shape*>(shape.get())->sides(), 5);

  int32_t sides = 0;
  ASSERT_TRUE(proxy.Take(shape, sides).ok());
  EXPECT_EQ(sides, 5);
  EXPECT_EQ(factory->taken, shape);  // the same object, through the table
  ASSERT_TRUE(proxy.Take(nullptr, sides).ok());
  EXPECT_EQ(ToHex(channel.last_request), "00000000");
  EXPECT_EQ(sides, 0);

  ComPtr<IUnknown> object;
  r = proxy.Query(IID_IShape, object);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 0);
  ASSERT_TRUE(object);
  EXPECT_EQ(static_cast<Shape*>(object.get())->sides(), 4);
  r = proxy.Query(IID_IFactory, object);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(static_cast<uint32_t>(*r), 0x80004002u);
  EXPECT_FALSE(object);
}

TEST(ComidlObject, IUnknownOpnumsAndUnknownOpnumsAreRefused) {
  ComPtr<Factory> factory = MakeComObject<Factory>();
  rpc::CallContext call;
  TableMarshaler hook;
  for (uint16_t opnum : {0, 1, 2, 8}) {
    auto r = IFactoryInvoke(*factory, opnum, {}, call, &hook);
    ASSERT_FALSE(r.ok()) << opnum;
    EXPECT_EQ(r.status().code(), rpc::OpnumOutOfRange(opnum).code());
  }
  // Bytes after the last [in] parameter are tolerated, as Windows does;
  // a stub that ends early is not.
  std::vector<uint8_t> stub = {3, 0, 0, 0, 4, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  auto r = IFactoryInvoke(*factory, 3, stub, call, &hook);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(ToHex(*r), "ffffffff00000000");
  stub.resize(6);
  r = IFactoryInvoke(*factory, 3, stub, call, &hook);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), RPC_X_BAD_STUB_DATA);
}

// The COM runtime serves and calls interfaces through their Info(): the
// stub on a pointer it got from QueryInterface, and a proxy factory.
TEST(ComidlObject, InfoServesAndMakesProxiesWithoutTheGeneratedNames) {
  ComPtr<Factory> factory = MakeComObject<Factory>();
  const rpc::ObjectInterfaceInfo& info = IFactoryInfo();
  EXPECT_EQ(info.iid, IID_IFactory);
  EXPECT_STREQ(info.name, "IFactory");
  ComPtr<IFactory> itf;
  ASSERT_EQ(factory.As(&itf), HResult(0));
  rpc::CallContext call;
  TableMarshaler hook;
  auto r = info.invoke(itf.get(), 3, *FromHex("0300000004000000"), call, &hook);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(ToHex(*r), "ffffffff00000000");

  LoopbackChannel channel(factory.get());
  rpc::ProxyPtr proxy = info.make_proxy(&channel);
  IFactory* as_factory = static_cast<IFactory*>(proxy.get());
  int32_t area = 0;
  ASSERT_TRUE(as_factory->Area(1, 2, area).ok());
  EXPECT_EQ(area, -1);
  // The proxy's identity is the channel's.
  void* unknown = nullptr;
  ASSERT_EQ(as_factory->QueryInterface(IID_IUnknown, &unknown), HResult(0));
  ComPtr<IUnknown> u = ComPtr<IUnknown>::Adopt(static_cast<IUnknown*>(unknown));
  EXPECT_TRUE(SameObject(u.get(), factory.get()));
}

// Bundled oaidl.idl: IDispatch's remote methods at opnums 3-5 (Invoke, a
// [local] method, keeps opnum 6 off the wire); unknwn.idl's IClassFactory
// puts RemoteCreateInstance ([call_as]) at CreateInstance's opnum 3.
class CannedChannel : public rpc::ObjectChannel {
 public:
  Result<rpc::CallReply> Invoke(const Guid& iid, uint16_t opnum,
                                std::span<const uint8_t> stub) override {
    last_iid = iid;
    last_opnum = opnum;
    last_request.assign(stub.begin(), stub.end());
    return rpc::CallReply{reply, ndr::DataRep{little_endian}};
  }
  rpc::InterfaceMarshaler* marshaler() override { return nullptr; }
  IUnknown* identity() override { return identity_.get(); }
  std::vector<uint8_t> reply;
  bool little_endian = true;
  ComPtr<Shape> identity_ = MakeComObject<Shape>(0);
  Guid last_iid;
  uint16_t last_opnum = 0;
  std::vector<uint8_t> last_request;
};

TEST(ComidlObject, BundledBaseInterfacesKeepWindowsOpnums) {
  EXPECT_EQ(IID_IDispatch.ToString(), "00020400-0000-0000-c000-000000000046");
  CannedChannel channel;
  IDispatchProxy dispatch(&channel);
  channel.reply = *FromHex("0100000000000000");
  UINT count = 0;
  ASSERT_TRUE(dispatch.GetTypeInfoCount(count).ok());
  EXPECT_EQ(channel.last_opnum, 3);
  EXPECT_EQ(channel.last_iid, IID_IDispatch);
  EXPECT_EQ(count, 1u);
  channel.reply = *FromHex("02000000" "07000000" "08000000" "00000000");
  std::vector<DISPID> ids;
  std::vector<std::optional<std::u16string>> names = {u"A", u"B"};
  ASSERT_TRUE(dispatch.GetIDsOfNames(IID_IDispatch, names, 2, 0, ids).ok());
  EXPECT_EQ(channel.last_opnum, 5);
  EXPECT_EQ(ids, (std::vector<DISPID>{7, 8}));
  // [in, size_is(cNames)] LPOLESTR*: the array of pointer ids, then each
  // string (embedded referents after the array).
  EXPECT_EQ(ToHex(channel.last_request),
            "0004020000000000c000000000000046" "02000000" "00000200" "04000200"
            "02000000000000000200000041000000" "02000000000000000200000042000000"
            "02000000" "00000000");
  IClassFactoryProxy factory(&channel);
  channel.reply = *FromHex("00000000");
  ASSERT_TRUE(factory.RemoteLockServer(1).ok());
  EXPECT_EQ(channel.last_opnum, 4);
  EXPECT_EQ(ToHex(channel.last_request), "01000000");
}

// A server may answer big-endian: the proxy decodes the reply in the
// representation it came in (C706 14.2), here GetIDsOfNames's two DISPIDs
// and its HRESULT.
TEST(ComidlObject, ProxyDecodesABigEndianReply) {
  CannedChannel channel;
  IDispatchProxy dispatch(&channel);
  channel.little_endian = false;
  channel.reply = *FromHex("00000002" "00000007" "00000008" "00000000");
  std::vector<DISPID> ids;
  std::vector<std::optional<std::u16string>> names = {u"A", u"B"};
  ASSERT_TRUE(dispatch.GetIDsOfNames(IID_IDispatch, names, 2, 0, ids).ok());
  EXPECT_EQ(ids, (std::vector<DISPID>{7, 8}));
  // The same bytes read little-endian would be a count of 0x02000000.
  channel.little_endian = true;
  EXPECT_FALSE(dispatch.GetIDsOfNames(IID_IDispatch, names, 2, 0, ids).ok());
}

// ==== a DCE interface's registration ========================================

class ConstructsImpl : public Constructs {
 public:
  Result<int32_t> Sum(int32_t, const std::vector<int32_t>& values, int64_t& total) override {
    total = 0;
    for (int32_t v : values) total += v;
    seen_call = rpc::CurrentCall() != nullptr;
    return 7;
  }
  Status Reverse(Tree& tree) override {
    std::swap(tree.left, tree.right);
    return Status();
  }
  Status Lengthy(int32_t n, std::vector<uint8_t>& buf, int32_t& got) override {
    got = n / 2;
    buf.assign(got, 0xAB);
    return Status();
  }
  Result<int32_t> Open(const std::string& name, ndr::ContextHandle& session) override {
    session.attributes = 0;
    session.uuid = *Guid::Parse("00112233-4455-6677-8899-aabbccddeeff");
    return static_cast<int32_t>(name.size());
  }
  Result<int32_t> Close(ndr::ContextHandle& session) override {
    bool open = !session.IsNull();
    session = {};
    return open ? 0 : 6;
  }
  bool seen_call = false;
};

TEST(ComidlDce, RegistrationDecodesCallsAndEncodesTheReply) {
  auto impl = std::make_shared<ConstructsImpl>();
  rpc::InterfaceRegistration reg = ConstructsRegistration(impl);
  EXPECT_EQ(reg.syntax, ConstructsSyntax());
  ASSERT_EQ(reg.operations.size(), 5u);
  rpc::CallContext call;
  // Sum(3, [1, 2, 3]): the hyper aligns to 8, then the return value.
  auto r = reg.operations[0](*FromHex("03000000030000000100000002000000" "03000000"), call);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(ToHex(*r), "060000000000000007000000");
  EXPECT_TRUE(impl->seen_call);
  EXPECT_EQ(rpc::CurrentCall(), nullptr);
  // size_is(count) disagreeing with max_count faults the call.
  r = reg.operations[0](*FromHex("0300000002000000" "0100000002000000"), call);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), RPC_X_BAD_STUB_DATA);
  // Lengthy(5): [out, size_is(n), length_is(*got)] — conformant-varying.
  r = reg.operations[2](*FromHex("05000000"), call);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(ToHex(*r), "05000000" "00000000" "02000000" "abab0000" "02000000");
  // Reverse: [in, out] (so [ref], no referent id) to a struct with
  // embedded pointers.
  Tree t;
  t.left = Node{1, {}};
  ndr::Encoder e;
  ASSERT_TRUE(Encode(e, t).ok());
  r = reg.operations[1](e.bytes(), call);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ndr::Decoder d(*r);
  Tree back;
  ASSERT_TRUE(Decode(d, back).ok());
  EXPECT_FALSE(back.left);
  ASSERT_TRUE(back.right);
  EXPECT_EQ(back.right->value, 1);
  // Open: handle_t has no wire form; [string] char*, then a context handle
  // out.
  r = reg.operations[3](*FromHex("04000000000000000400000061626300"), call);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(ToHex(*r), "00000000" "33221100554477668899aabbccddeeff" "03000000");
  r = reg.operations[4](*FromHex("00000000" "33221100554477668899aabbccddeeff"), call);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(ToHex(*r), "00000000" "00000000000000000000000000000000" "00000000");
}

class PingerImpl : public Pinger {
 public:
  Result<uint32_t> Opnum0NotUsed() override { return 0u; }
  Result<uint32_t> Opnum1NotUsed() override { return 0u; }
  Result<uint32_t> ComplexPing(uint64_t& set_id, uint16_t seq, uint16_t, uint16_t,
                               const std::optional<std::vector<uint64_t>>& add,
                               const std::optional<std::vector<uint64_t>>& del,
                               uint16_t& backoff) override {
    seen_seq = seq;
    seen_add = add;
    seen_del_null = !del.has_value();
    set_id = 0x1234;
    backoff = 2;
    return 0u;
  }
  uint16_t seen_seq = 99;
  std::optional<std::vector<uint64_t>> seen_add;
  bool seen_del_null = false;
};

// impacket's ComplexPing request (../shared/fixtures/dcom), 0xAA padding
// and all: the [unique] arrays carry referent ids.
TEST(ComidlDce, ImpacketComplexPingRequestDecodes) {
  auto impl = std::make_shared<PingerImpl>();
  rpc::InterfaceRegistration reg = PingerRegistration(impl);
  rpc::CallContext call;
  auto r = reg.operations[2](
      *FromHex("0000000000000000000001000000aaaa25dc000001000000080706050403020100000000"),
      call);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(impl->seen_seq, 0);
  ASSERT_TRUE(impl->seen_add.has_value());
  EXPECT_EQ(*impl->seen_add, (std::vector<uint64_t>{0x0102030405060708}));
  EXPECT_TRUE(impl->seen_del_null);
  EXPECT_EQ(ToHex(*r), "3412000000000000" "0200" "0000" "00000000");
}

}  // namespace
}  // namespace comsec::idl
