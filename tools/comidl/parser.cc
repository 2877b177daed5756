#include "comidl/parser.h"

#include <cstdlib>

#include "comidl/lexer.h"

namespace comsec::comidl {

const Attr* FindAttr(const Attrs& attrs, std::string_view name) {
  for (const Attr& a : attrs) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

namespace {

class Parser {
 public:
  Parser(std::string_view src, int file, Diagnostics& diags, File& out)
      : src_(src), diags_(diags), out_(out), toks_(Lex(src, file, diags)) {}

  void ParseFile() {
    while (!AtEof()) {
      size_t start = pos_;
      ParseItem(nullptr, out_.items);
      Resynchronize(start);
    }
  }

 private:
  // After a syntax error the parser reads as if at the end of the file, so
  // every parse function returns through its ordinary path (no exceptions);
  // Resynchronize() then skips to the next declaration.
  const Token& Peek(size_t k = 0) const {
    if (failed_) return toks_.back();
    return toks_[std::min(pos_ + k, toks_.size() - 1)];
  }
  bool AtEof() const { return Peek().kind == TokenKind::kEof; }
  const Token& Next() {
    const Token& t = Peek();
    if (!failed_ && pos_ + 1 < toks_.size()) ++pos_;
    return t;
  }
  void Resynchronize(size_t start) {
    if (!failed_) return;
    failed_ = false;
    Recover();
    if (pos_ == start) Next();
  }
  bool Is(std::string_view text, size_t k = 0) const {
    const Token& t = Peek(k);
    return (t.kind == TokenKind::kPunct || t.kind == TokenKind::kIdent) && t.text == text;
  }
  bool Accept(std::string_view text) {
    if (!Is(text)) return false;
    Next();
    return true;
  }
  // Reports the first error of a declaration; the rest of it is skipped.
  void Fail(const Token& at, const std::string& what) {
    if (failed_) return;
    std::string got = at.kind == TokenKind::kEof ? "end of file" : "'" + at.text + "'";
    if (at.kind == TokenKind::kString) got = "a string";
    FailWith(at.loc, what + ", found " + got);
  }
  void FailWith(Loc loc, const std::string& message) {
    if (failed_) return;
    diags_.Error(loc, message);
    failed_ = true;
  }
  void Expect(std::string_view text) {
    if (!Accept(text)) Fail(Peek(), "expected '" + std::string(text) + "'");
  }
  std::string ExpectIdent(const char* what) {
    if (Peek().kind != TokenKind::kIdent) {
      Fail(Peek(), std::string("expected ") + what);
      return "";
    }
    return Next().text;
  }
  // Skips to just after the next ';' at brace depth 0, or to a '}' closing
  // the current block.
  void Recover() {
    int depth = 0;
    while (!AtEof()) {
      if (Is("{")) ++depth;
      if (Is("}")) {
        if (depth == 0) return;
        --depth;
        if (depth == 0) {
          Next();
          Accept(";");
          return;
        }
      }
      if (Is(";") && depth == 0) {
        Next();
        return;
      }
      Next();
    }
  }

  // ==== items ================================================================

  void ParseItem(const Interface* owner, std::vector<Item>& items) {
    Item item;
    item.loc = Peek().loc;
    item.owner = owner;
    if (Accept("import")) {
      do {
        if (Peek().kind != TokenKind::kString) return Fail(Peek(), "expected a file name string");
        Item imp = item;
        imp.kind = Item::Kind::kImport;
        imp.loc = Peek().loc;
        imp.text = Next().text;
        items.push_back(imp);
      } while (Accept(","));
      Expect(";");
      return;
    }
    if (Accept("cpp_quote")) {
      Expect("(");
      if (Peek().kind != TokenKind::kString) return Fail(Peek(), "expected a string");
      item.kind = Item::Kind::kCppQuote;
      item.text = Next().text;
      Expect(")");
      Accept(";");
      items.push_back(item);
      return;
    }
    if (Is("midl_pragma")) {
      Loc at = Next().loc;
      if (!Is("warning")) return Fail(Peek(), "expected 'warning' after midl_pragma");
      Next();
      SkipParens();
      Accept(";");
      diags_.Note(at, "midl_pragma warning ignored (comidl's warnings cannot be disabled)");
      return;
    }
    if (Is("const")) {
      Next();
      auto cd = std::make_shared<ConstDecl>();
      cd->loc = item.loc;
      cd->type = ParseTypeSpec();
      cd->type = ParsePointers(cd->type);
      cd->loc = Peek().loc;
      cd->name = ExpectIdent("a constant name");
      Expect("=");
      cd->value = ParseExpr();
      Expect(";");
      item.kind = Item::Kind::kConst;
      item.cd = cd;
      items.push_back(item);
      return;
    }
    for (const char* unsupported : {"library", "coclass", "dispinterface", "module"}) {
      if (Is(unsupported)) {
        return FailWith(Peek().loc, std::string("'") + unsupported +
                                        "' is not supported by comidl (type libraries come "
                                        "with OLE Automation)");
      }
    }
    Attrs attrs;
    if (Is("[")) attrs = ParseAttrs();
    for (const char* unsupported : {"library", "coclass", "dispinterface", "module"}) {
      if (Is(unsupported)) {
        return FailWith(Peek().loc, std::string("'") + unsupported +
                                        "' is not supported by comidl (type libraries come "
                                        "with OLE Automation)");
      }
    }
    if (Accept("interface")) {
      auto itf = std::make_shared<Interface>();
      itf->attrs = std::move(attrs);
      itf->loc = Peek().loc;
      itf->name = ExpectIdent("an interface name");
      if (Accept(";")) {
        itf->forward = true;
      } else {
        if (Accept(":")) itf->base_name = ExpectIdent("a base interface name");
        Expect("{");
        ParseInterfaceBody(*itf, items);
        Expect("}");
        Accept(";");
      }
      item.kind = Item::Kind::kInterface;
      item.itf = itf;
      items.push_back(item);
      return;
    }
    if (Accept("typedef")) {
      Attrs td_attrs = std::move(attrs);
      if (Is("[")) {
        Attrs more = ParseAttrs();
        td_attrs.insert(td_attrs.end(), more.begin(), more.end());
      }
      TypePtr spec = ParseTypeSpec();
      do {
        auto td = std::make_shared<Typedef>();
        td->attrs = td_attrs;
        td->loc = Peek().loc;
        td->type = ParseDeclarator(spec, &td->name, &td->loc);
        Item t = item;
        t.kind = Item::Kind::kTypedef;
        t.td = td;
        items.push_back(t);
      } while (Accept(","));
      Expect(";");
      return;
    }
    if (!attrs.empty()) {
      return FailWith(attrs.front().loc,
                      "attributes must be followed by 'interface' or 'typedef' here");
    }
    if (Is("struct") || Is("union") || Is("enum")) {
      item.kind = Item::Kind::kTypeDecl;
      item.type = ParseTypeSpec();
      Expect(";");
      items.push_back(item);
      return;
    }
    Fail(Peek(), "expected a declaration");
  }

  void SkipParens() {
    Expect("(");
    int depth = 1;
    while (depth > 0 && !AtEof()) {
      if (Is("(")) ++depth;
      if (Is(")")) --depth;
      Next();
    }
  }

  void ParseInterfaceBody(Interface& itf, std::vector<Item>& items) {
    while (!Is("}") && !AtEof()) {
      size_t start = pos_;
      {
        if (Is("typedef") || Is("const") || Is("cpp_quote") || Is("midl_pragma") ||
            Is("import") || ((Is("struct") || Is("union") || Is("enum")) &&
                             (Is("{", 1) || Is("{", 2) || Is("switch", 2)))) {
          ParseItem(&itf, items);
        } else if (Is("[") && IsTypedefAfterAttrs()) {
          ParseItem(&itf, items);
        } else {
          itf.methods.push_back(ParseMethod());
        }
      }
      Resynchronize(start);
    }
  }

  // "[...] typedef" inside an interface body.
  bool IsTypedefAfterAttrs() const {
    int depth = 0;
    for (size_t k = 0;; ++k) {
      const Token& t = Peek(k);
      if (t.kind == TokenKind::kEof) return false;
      if (t.kind == TokenKind::kPunct && t.text == "[") ++depth;
      if (t.kind == TokenKind::kPunct && t.text == "]" && --depth == 0) {
        return Is("typedef", k + 1);
      }
    }
  }

  Method ParseMethod() {
    Method m;
    if (Is("[")) m.attrs = ParseAttrs();
    TypePtr spec = ParseTypeSpec();
    m.ret = ParsePointers(spec);
    m.loc = Peek().loc;
    m.name = ExpectIdent("a method name");
    Expect("(");
    if (Is("void") && Is(")", 1)) {
      Next();
    } else if (!Is(")")) {
      do {
        Param p;
        if (Is("[")) p.attrs = ParseAttrs();
        TypePtr pspec = ParseTypeSpec();
        p.loc = Peek().loc;
        p.type = ParseDeclarator(pspec, &p.name, &p.loc);
        m.params.push_back(std::move(p));
      } while (Accept(","));
    }
    Expect(")");
    Expect(";");
    return m;
  }

  // ==== attributes ===========================================================

  Attrs ParseAttrs() {
    Attrs out;
    Expect("[");
    if (Accept("]")) return out;
    do {
      Attr a;
      a.loc = Peek().loc;
      a.name = ExpectIdent("an attribute name");
      if (Is("(")) {
        a.has_parens = true;
        size_t open = Peek().end;
        if (a.name == "uuid" || a.name == "version") {
          SkipParens();
          size_t close = toks_[pos_ - 1].begin;
          a.raw = std::string(src_.substr(open, close - open));
        } else if (a.name == "switch_type" || a.name == "transmit_as" ||
                   a.name == "wire_marshal" || a.name == "user_marshal" ||
                   a.name == "represent_as") {
          Next();
          a.type_arg = ParsePointers(ParseTypeSpec());
          Expect(")");
        } else {
          Next();
          if (!Is(")")) {
            do {
              if (Is(",") || Is(")")) {
                a.args.push_back(nullptr);
              } else {
                a.args.push_back(ParseExpr());
              }
            } while (Accept(","));
          }
          Expect(")");
        }
      }
      out.push_back(std::move(a));
    } while (Accept(","));
    Expect("]");
    return out;
  }

  // ==== types ================================================================

  TypePtr NewType(Type::Kind k, Loc loc) {
    auto t = std::make_shared<Type>();
    t->kind = k;
    t->loc = loc;
    return t;
  }

  TypePtr ParseTypeSpec() {
    Loc loc = Peek().loc;
    bool is_const = false;
    while (Accept("const")) is_const = true;
    TypePtr t;
    if (Is("struct")) {
      t = ParseStruct();
    } else if (Is("union")) {
      t = ParseUnion();
    } else if (Is("enum")) {
      t = ParseEnum();
    } else {
      t = ParseBaseOrNamed();
    }
    while (Accept("const")) is_const = true;
    t->is_const = is_const;
    t->loc = loc;
    return t;
  }

  TypePtr ParseBaseOrNamed() {
    Loc loc = Peek().loc;
    bool is_unsigned = false, is_signed = false;
    if (Accept("unsigned")) is_unsigned = true;
    else if (Accept("signed")) is_signed = true;
    auto base = [&](Base b) {
      TypePtr t = NewType(Type::Kind::kBase, loc);
      t->base = b;
      return t;
    };
    if (Accept("small")) return base(is_unsigned ? Base::kUSmall : Base::kSmall);
    if (Accept("short")) {
      Accept("int");
      return base(is_unsigned ? Base::kUShort : Base::kShort);
    }
    if (Accept("long")) {
      if (Accept("long")) return base(is_unsigned ? Base::kUHyper : Base::kHyper);
      Accept("int");
      return base(is_unsigned ? Base::kULong : Base::kLong);
    }
    if (Accept("int") || Accept("__int32") || Accept("__int3264")) {
      return base(is_unsigned ? Base::kULong : Base::kLong);
    }
    if (Accept("hyper") || Accept("__int64")) {
      return base(is_unsigned ? Base::kUHyper : Base::kHyper);
    }
    if (Accept("char")) {
      return base(is_unsigned ? Base::kByte : is_signed ? Base::kSmall : Base::kChar);
    }
    if (is_unsigned || is_signed) {
      // "unsigned" alone is unsigned int.
      return base(is_unsigned ? Base::kULong : Base::kLong);
    }
    if (Accept("byte")) return base(Base::kByte);
    if (Accept("wchar_t")) return base(Base::kWchar);
    if (Accept("float")) return base(Base::kFloat);
    if (Accept("double")) return base(Base::kDouble);
    if (Accept("boolean")) return base(Base::kBoolean);
    if (Accept("error_status_t")) return base(Base::kErrorStatus);
    if (Accept("handle_t")) return base(Base::kHandle);
    if (Accept("void")) return base(Base::kVoid);
    if (Accept("__comidl_guid")) return base(Base::kGuid);
    if (Peek().kind != TokenKind::kIdent) {
      Fail(Peek(), "expected a type");
      return base(Base::kLong);
    }
    TypePtr t = NewType(Type::Kind::kNamed, loc);
    t->name = Next().text;
    return t;
  }

  TypePtr ParseStruct() {
    Loc loc = Next().loc;
    std::string tag;
    if (Peek().kind == TokenKind::kIdent) tag = Next().text;
    if (!Is("{")) {
      if (tag.empty()) Fail(Peek(), "expected a structure tag or '{'");
      TypePtr t = NewType(Type::Kind::kNamed, loc);
      t->name = "struct " + tag;
      return t;
    }
    auto def = std::make_shared<StructDef>();
    def->tag = tag;
    def->loc = loc;
    Expect("{");
    while (!Is("}") && !AtEof()) ParseFields(def->fields);
    Expect("}");
    TypePtr t = NewType(Type::Kind::kStruct, loc);
    t->sdef = def;
    return t;
  }

  void ParseFields(std::vector<Field>& fields) {
    Attrs attrs;
    if (Is("[")) attrs = ParseAttrs();
    TypePtr spec = ParseTypeSpec();
    do {
      Field f;
      f.attrs = attrs;
      f.loc = Peek().loc;
      f.type = ParseDeclarator(spec, &f.name, &f.loc);
      fields.push_back(std::move(f));
    } while (Accept(","));
    Expect(";");
  }

  TypePtr ParseUnion() {
    Loc loc = Next().loc;
    std::string tag;
    if (Peek().kind == TokenKind::kIdent && !Is("switch")) tag = Next().text;
    auto def = std::make_shared<UnionDef>();
    def->tag = tag;
    def->loc = loc;
    if (Accept("switch")) {
      def->encapsulated = true;
      Expect("(");
      def->switch_type = ParseTypeSpec();
      def->switch_name = ExpectIdent("the discriminant's name");
      Expect(")");
      if (Peek().kind == TokenKind::kIdent) def->body_name = Next().text;
    } else if (!Is("{")) {
      if (tag.empty()) Fail(Peek(), "expected a union tag or '{'");
      TypePtr t = NewType(Type::Kind::kNamed, loc);
      t->name = "union " + tag;
      return t;
    }
    Expect("{");
    while (!Is("}") && !AtEof()) {
      UnionArm arm;
      arm.loc = Peek().loc;
      Attrs attrs;
      if (def->encapsulated) {
        bool any = false;
        while (true) {
          if (Accept("case")) {
            arm.labels.push_back(ParseExpr());
            Expect(":");
          } else if (Accept("default")) {
            arm.is_default = true;
            Expect(":");
          } else {
            break;
          }
          any = true;
        }
        if (!any) {
          Fail(Peek(), "expected 'case' or 'default'");
          break;
        }
        if (Is("[")) attrs = ParseAttrs();
      } else {
        if (!Is("[")) {
          Fail(Peek(), "expected [case(...)] or [default]");
          break;
        }
        attrs = ParseAttrs();
        for (auto it = attrs.begin(); it != attrs.end();) {
          if (it->name == "case") {
            for (auto& e : it->args) arm.labels.push_back(e);
            it = attrs.erase(it);
          } else if (it->name == "default") {
            arm.is_default = true;
            it = attrs.erase(it);
          } else {
            ++it;
          }
        }
        if (arm.labels.empty() && !arm.is_default) {
          diags_.Error(arm.loc, "a union arm needs [case(...)] or [default]");
        }
      }
      if (!Accept(";")) {
        Field f;
        f.attrs = attrs;
        TypePtr spec = ParseTypeSpec();
        f.loc = Peek().loc;
        f.type = ParseDeclarator(spec, &f.name, &f.loc);
        Expect(";");
        arm.field = std::move(f);
      }
      def->arms.push_back(std::move(arm));
    }
    Expect("}");
    TypePtr t = NewType(Type::Kind::kUnion, loc);
    t->udef = def;
    return t;
  }

  TypePtr ParseEnum() {
    Loc loc = Next().loc;
    std::string tag;
    if (Peek().kind == TokenKind::kIdent) tag = Next().text;
    if (!Is("{")) {
      if (tag.empty()) Fail(Peek(), "expected an enum tag or '{'");
      TypePtr t = NewType(Type::Kind::kNamed, loc);
      t->name = "enum " + tag;
      return t;
    }
    auto def = std::make_shared<EnumDef>();
    def->tag = tag;
    def->loc = loc;
    Expect("{");
    while (!Is("}")) {
      EnumItem item;
      item.loc = Peek().loc;
      item.name = ExpectIdent("an enumerator");
      if (Accept("=")) item.value = ParseExpr();
      def->items.push_back(std::move(item));
      if (!Accept(",")) break;
    }
    Expect("}");
    TypePtr t = NewType(Type::Kind::kEnum, loc);
    t->edef = def;
    return t;
  }

  TypePtr ParsePointers(TypePtr t) {
    while (Is("*")) {
      TypePtr p = NewType(Type::Kind::kPointer, Next().loc);
      p->inner = t;
      while (Accept("const")) p->is_const = true;
      t = p;
    }
    return t;
  }

  // pointers, a name, then array dimensions: "**name[2][3]". Array levels
  // wrap outermost-first, so "a[2][3]" is an array of 2 arrays of 3.
  TypePtr ParseDeclarator(TypePtr spec, std::string* name, Loc* loc) {
    TypePtr t = ParsePointers(spec);
    *loc = Peek().loc;
    *name = ExpectIdent("a name");
    std::vector<std::pair<ExprPtr, Loc>> dims;
    while (Is("[")) {
      Loc at = Next().loc;
      ExprPtr size;
      if (Accept("*")) {
      } else if (!Is("]")) {
        size = ParseExpr();
      }
      Expect("]");
      dims.emplace_back(size, at);
    }
    for (size_t i = dims.size(); i-- > 0;) {
      TypePtr a = NewType(Type::Kind::kArray, dims[i].second);
      a->size = dims[i].first;
      a->inner = t;
      t = a;
    }
    return t;
  }

  // ==== expressions ==========================================================

  ExprPtr NewExpr(Expr::Kind k, Loc loc) {
    auto e = std::make_shared<Expr>();
    e->kind = k;
    e->loc = loc;
    return e;
  }

  ExprPtr ParseExpr() {
    ExprPtr c = ParseBinary(0);
    if (Is("?")) {
      ExprPtr t = NewExpr(Expr::Kind::kTernary, Next().loc);
      t->a = c;
      t->b = ParseExpr();
      Expect(":");
      t->c = ParseExpr();
      return t;
    }
    return c;
  }

  static int Precedence(std::string_view op) {
    static const std::pair<std::string_view, int> kTable[] = {
        {"||", 1}, {"&&", 2}, {"|", 3}, {"^", 4}, {"&", 5}, {"==", 6}, {"!=", 6},
        {"<", 7}, {">", 7}, {"<=", 7}, {">=", 7}, {"<<", 8}, {">>", 8},
        {"+", 9}, {"-", 9}, {"*", 10}, {"/", 10}, {"%", 10}};
    for (auto& [o, p] : kTable) {
      if (o == op) return p;
    }
    return -1;
  }

  ExprPtr ParseBinary(int min_prec) {
    ExprPtr lhs = ParseUnary();
    while (Peek().kind == TokenKind::kPunct) {
      int prec = Precedence(Peek().text);
      if (prec < 0 || prec <= min_prec) break;
      ExprPtr b = NewExpr(Expr::Kind::kBinary, Peek().loc);
      b->text = Next().text;
      b->a = lhs;
      b->b = ParseBinary(prec);
      lhs = b;
    }
    return lhs;
  }

  ExprPtr ParseUnary() {
    const Token& t = Peek();
    if (t.kind == TokenKind::kPunct &&
        (t.text == "-" || t.text == "~" || t.text == "!" || t.text == "*" || t.text == "+")) {
      ExprPtr u = NewExpr(Expr::Kind::kUnary, t.loc);
      u->text = Next().text;
      u->a = ParseUnary();
      return u;
    }
    if (Accept("(")) {
      ExprPtr e = ParseExpr();
      Expect(")");
      return e;
    }
    if (t.kind == TokenKind::kNumber) {
      ExprPtr e = NewExpr(Expr::Kind::kNumber, t.loc);
      std::string text = t.text;
      while (!text.empty() && (text.back() == 'L' || text.back() == 'l' ||
                               text.back() == 'U' || text.back() == 'u')) {
        text.pop_back();
      }
      char* end = nullptr;
      e->value = static_cast<int64_t>(std::strtoull(text.c_str(), &end, 0));
      if (text.empty() || *end != '\0') {
        diags_.Error(t.loc, "'" + t.text + "' is not an integer");
      }
      Next();
      return e;
    }
    if (t.kind == TokenKind::kIdent) {
      ExprPtr e = NewExpr(Expr::Kind::kIdent, t.loc);
      e->text = Next().text;
      return e;
    }
    if (t.kind == TokenKind::kString) {
      ExprPtr e = NewExpr(Expr::Kind::kString, t.loc);
      e->text = Next().text;
      return e;
    }
    if (t.kind == TokenKind::kChar) {
      ExprPtr e = NewExpr(Expr::Kind::kChar, t.loc);
      e->text = t.text;
      e->value = t.text.empty() ? 0 : static_cast<unsigned char>(t.text[0]);
      Next();
      return e;
    }
    Fail(t, "expected an expression");
    return NewExpr(Expr::Kind::kNumber, t.loc);
  }

  std::string_view src_;
  Diagnostics& diags_;
  File& out_;
  std::vector<Token> toks_;
  size_t pos_ = 0;
  bool failed_ = false;
};

}  // namespace

void Parse(std::string_view source, int file, Diagnostics& diags, File& out) {
  Parser p(source, file, diags, out);
  p.ParseFile();
}

}  // namespace comsec::comidl
