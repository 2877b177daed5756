// Types to wire shapes, and constant expressions (sema_internal.h).
#include <functional>
#include <set>

#include "comidl/sema_internal.h"

namespace comsec::comidl::internal {

void UseAttrs::Merge(const Attrs& attrs) {
  auto take = [](const Attr*& slot, const Attr& a) {
    if (!slot) slot = &a;
  };
  for (const Attr& a : attrs) {
    if (a.name == "size_is") take(size_is, a);
    else if (a.name == "max_is") take(max_is, a);
    else if (a.name == "length_is") take(length_is, a);
    else if (a.name == "first_is") take(first_is, a);
    else if (a.name == "string") take(string, a);
    else if (a.name == "ref" || a.name == "unique" || a.name == "ptr") take(ptr, a);
    else if (a.name == "context_handle") take(context_handle, a);
    else if (a.name == "switch_is") take(switch_is, a);
    else if (a.name == "switch_type") take(switch_type, a);
    else if (a.name == "iid_is") take(iid_is, a);
    else if (a.name == "range") take(range, a);
    else if (a.name == "v1_enum") take(v1_enum, a);
  }
}

std::optional<int64_t> Analyzer::Eval(const ExprPtr& e) {
  if (!e) return std::nullopt;
  switch (e->kind) {
    case Expr::Kind::kNumber:
    case Expr::Kind::kChar:
      return e->value;
    case Expr::Kind::kIdent: {
      auto it = sym_.constants.find(e->text);
      if (it == sym_.constants.end()) {
        diags_.Error(e->loc, "'" + e->text + "' is not a constant");
        return std::nullopt;
      }
      return it->second;
    }
    case Expr::Kind::kString:
      diags_.Error(e->loc, "a string is not an integer constant");
      return std::nullopt;
    case Expr::Kind::kUnary: {
      auto a = Eval(e->a);
      if (!a) return std::nullopt;
      if (e->text == "-") return -*a;
      if (e->text == "+") return *a;
      if (e->text == "~") return ~*a;
      if (e->text == "!") return int64_t{!*a};
      diags_.Error(e->loc, "'*' in a constant expression");
      return std::nullopt;
    }
    case Expr::Kind::kTernary: {
      auto c = Eval(e->a), a = Eval(e->b), b = Eval(e->c);
      if (!c || !a || !b) return std::nullopt;
      return *c ? *a : *b;
    }
    case Expr::Kind::kBinary: {
      auto a = Eval(e->a), b = Eval(e->b);
      if (!a || !b) return std::nullopt;
      const std::string& op = e->text;
      if ((op == "/" || op == "%") && *b == 0) {
        diags_.Error(e->loc, "division by zero in a constant expression");
        return std::nullopt;
      }
      if (op == "+") return *a + *b;
      if (op == "-") return *a - *b;
      if (op == "*") return *a * *b;
      if (op == "/") return *a / *b;
      if (op == "%") return *a % *b;
      if (op == "<<") return *a << (*b & 63);
      if (op == ">>") return *a >> (*b & 63);
      if (op == "&") return *a & *b;
      if (op == "|") return *a | *b;
      if (op == "^") return *a ^ *b;
      if (op == "&&") return int64_t{*a && *b};
      if (op == "||") return int64_t{*a || *b};
      if (op == "==") return int64_t{*a == *b};
      if (op == "!=") return int64_t{*a != *b};
      if (op == "<") return int64_t{*a < *b};
      if (op == ">") return int64_t{*a > *b};
      if (op == "<=") return int64_t{*a <= *b};
      if (op == ">=") return int64_t{*a >= *b};
      return std::nullopt;
    }
  }
  return std::nullopt;
}

void Analyzer::CheckNames(const ExprPtr& e, const std::set<std::string>& names,
                          const char* what, const char* scope) {
  if (!e) return;
  if (e->kind == Expr::Kind::kIdent) {
    if (!names.count(e->text) && !sym_.constants.count(e->text)) {
      diags_.Error(e->loc, std::string(what) + " names '" + e->text + "', which is not a " +
                               scope);
    }
    return;
  }
  if (e->kind == Expr::Kind::kString) {
    diags_.Error(e->loc, std::string(what) + " takes an expression, not a string");
    return;
  }
  if (e->kind == Expr::Kind::kUnary && e->text == "*" && e->a &&
      e->a->kind != Expr::Kind::kIdent) {
    diags_.Error(e->loc, std::string(what) + ": '*' applies only to a parameter's name");
  }
  CheckNames(e->a, names, what, scope);
  CheckNames(e->b, names, what, scope);
  CheckNames(e->c, names, what, scope);
}

TypePtr Analyzer::StripTypedefs(TypePtr t, UseAttrs* merge, std::string* alias) {
  for (int guard = 0; t && t->kind == Type::Kind::kNamed && guard < 64; ++guard) {
    if (t->name.rfind("struct ", 0) == 0 || t->name.rfind("union ", 0) == 0 ||
        t->name.rfind("enum ", 0) == 0) {
      auto it = sym_.tags.find(t->name);
      if (it == sym_.tags.end()) {
        diags_.Error(t->loc, "unknown type '" + t->name + "'");
        return nullptr;
      }
      return it->second;
    }
    if (sym_.interfaces.count(t->name)) return t;
    auto it = sym_.typedefs.find(t->name);
    if (it == sym_.typedefs.end()) {
      diags_.Error(t->loc, "unknown type '" + t->name + "'");
      return nullptr;
    }
    if (merge) merge->Merge(it->second->attrs);
    if (alias && alias->empty()) *alias = t->name;
    t = it->second->type;
  }
  return t;
}

const ExprPtr* Analyzer::Arg(UseAttrs& u, const Attr* a, int level) {
  if (!a || level >= static_cast<int>(a->args.size())) return nullptr;
  if (!a->args[level]) return nullptr;
  u.Use(a);
  return &a->args[level];
}

WirePtr Analyzer::Resolve(const TypePtr& type, const Attrs& attrs, const Site& site) {
  UseAttrs u;
  u.Merge(attrs);
  WirePtr w = Build(type, u, 0, site);
  if (!w) return w;
  // The use site's type attributes must each have shaped the type.
  for (const Attr& a : attrs) {
    static const std::set<std::string> kShaping = {
        "size_is", "max_is", "length_is", "first_is", "string", "ref", "unique",
        "ptr", "context_handle", "switch_is", "iid_is"};
    if (kShaping.count(a.name) && !u.used.count(&a)) {
      diags_.Error(a.loc, "attribute '" + a.name + "' does not apply to this type");
    }
  }
  return w;
}

WirePtr Analyzer::Build(TypePtr t, UseAttrs& u, int level, const Site& site) {
  std::string alias;
  t = StripTypedefs(t, &u, &alias);
  if (!t) return nullptr;
  auto w = std::make_shared<Wire>();
  w->alias = alias;
  if (u.range && level == 0) {
    auto lo = Eval(u.range->args.size() == 2 ? u.range->args[0] : nullptr);
    auto hi = Eval(u.range->args.size() == 2 ? u.range->args[1] : nullptr);
    if (u.range->args.size() != 2) diags_.Error(u.range->loc, "range takes two bounds");
    if (lo && hi) w->range = std::make_pair(*lo, *hi);
  }
  switch (t->kind) {
    case Type::Kind::kNamed:  // an interface used by value
      diags_.Error(t->loc, "interface '" + t->name + "' is used by value; write '" +
                               t->name + "*'");
      return nullptr;
    case Type::Kind::kBase:
      if (t->base == Base::kVoid || t->base == Base::kHandle) {
        diags_.Error(t->loc, t->base == Base::kVoid
                                 ? "'void' has no wire form here"
                                 : "handle_t is only allowed as an operation's first parameter");
        return nullptr;
      }
      w->kind = Wire::Kind::kPrim;
      w->prim = t->base;
      if (w->range && !IsIntegral(w->prim)) {
        diags_.Error(u.range->loc, "range applies only to integer types");
      }
      return w;
    case Type::Kind::kEnum:
      w->kind = Wire::Kind::kEnum;
      w->enm = t->edef.get();
      return w;
    case Type::Kind::kStruct:
      w->kind = Wire::Kind::kStruct;
      w->strct = t->sdef.get();
      if (t->sdef->cpp_name.empty()) {
        diags_.Error(t->loc, "a nested anonymous structure needs a name: declare it with a typedef");
        return nullptr;
      }
      return w;
    case Type::Kind::kUnion:
      w->kind = Wire::Kind::kUnion;
      w->uni = t->udef.get();
      if (t->udef->cpp_name.empty()) {
        diags_.Error(t->loc, "a nested anonymous union needs a name: declare it with a typedef");
        return nullptr;
      }
      if (!t->udef->encapsulated) {
        if (!u.switch_is || u.switch_is->args.size() != 1 || !u.switch_is->args[0]) {
          diags_.Error(site.loc, "non-encapsulated union '" + t->udef->cpp_name +
                                     "' needs [switch_is(...)] where it is used");
          return nullptr;
        }
        w->switch_is = u.switch_is->args[0];
        u.Use(u.switch_is);
      }
      return w;
    case Type::Kind::kPointer: {
      std::string inner_alias;
      TypePtr inner = StripTypedefs(t->inner, nullptr, &inner_alias);
      if (!inner) return nullptr;
      // [context_handle] void* (directly, or through the typedef this
      // level came from: ept_lookup_handle_t* is a pointer to one).
      if (u.context_handle &&
          (level == 0 || (inner->kind == Type::Kind::kBase && inner->base == Base::kVoid))) {
        u.Use(u.context_handle);
        if (level == 0) u.Use(u.ptr);
        w->kind = Wire::Kind::kContextHandle;
        return w;
      }
      if (inner->kind == Type::Kind::kNamed) {  // an interface
        w->kind = Wire::Kind::kInterface;
        w->itf = sym_.interfaces.at(inner->name);
        if (u.iid_is) w->iid_is = u.iid_is->args.empty() ? nullptr : u.iid_is->args[0];
        u.Use(u.iid_is);
        if (level == 0) u.Use(u.ptr);  // [unique] IFoo*: interface pointers are unique
        return w;
      }
      if (inner->kind == Type::Kind::kBase && inner->base == Base::kVoid) {
        if (u.iid_is && !u.iid_is->args.empty()) {
          w->kind = Wire::Kind::kInterface;
          w->iid_is = u.iid_is->args[0];
          u.Use(u.iid_is);
          if (level == 0) u.Use(u.ptr);
          return w;
        }
        diags_.Error(t->loc, "'void*' is not remotable: use a typed pointer, [context_handle], "
                             "or [iid_is] for an interface pointer");
        return nullptr;
      }
      w->kind = Wire::Kind::kPointer;
      if (level == 0) u.Use(u.ptr);
      std::string kind = level == 0 && u.ptr ? u.ptr->name
                         : level == 0 && site.top_param ? "ref"
                                                        : site.pointer_default;
      if (!(level == 0 && (u.ptr || site.top_param))) NoteDefaultPointer(site);
      w->ptr = kind == "ref" ? PtrKind::kRef : kind == "ptr" ? PtrKind::kFull : PtrKind::kUnique;
      const ExprPtr* sz = Arg(u, u.size_is, level);
      const ExprPtr* mx = Arg(u, u.max_is, level);
      const ExprPtr* ln = Arg(u, u.length_is, level);
      const ExprPtr* fi = Arg(u, u.first_is, level);
      if (sz || mx || ln || fi) {
        if (!sz && !mx) {
          diags_.Error(site.loc, "length_is/first_is on a pointer needs size_is or max_is");
          return nullptr;
        }
        if (u.string) {
          diags_.Error(u.string->loc, "[string] with size_is is not supported");
          return nullptr;
        }
        auto arr = std::make_shared<Wire>();
        arr->kind = Wire::Kind::kArray;
        arr->conformant = true;
        arr->varying = ln || fi;
        if (sz) arr->size_is = *sz;
        if (mx) arr->max_is = *mx;
        if (ln) arr->length_is = *ln;
        if (fi) arr->first_is = *fi;
        arr->elem = Build(t->inner, u, level + 1, site);
        if (!arr->elem) return nullptr;
        w->elem = arr;
        return w;
      }
      if (u.string && inner->kind == Type::Kind::kBase && IsCharLike(inner->base)) {
        u.Use(u.string);
        auto s = std::make_shared<Wire>();
        s->kind = Wire::Kind::kString;
        s->wide = inner->base == Base::kWchar;
        s->alias = inner_alias;
        w->elem = s;
        return w;
      }
      w->elem = Build(t->inner, u, level + 1, site);
      if (!w->elem) return nullptr;
      return w;
    }
    case Type::Kind::kArray: {
      // A parameter declared as an array is a pointer to it (MIDL): [ref]
      // (the default) has no wire form, [unique] and [ptr] a referent id.
      std::string array_ptr;
      if (level == 0 && site.top_param && u.ptr) {
        u.Use(u.ptr);
        array_ptr = u.ptr->name;
      }
      auto wrap = [&](std::shared_ptr<Wire> a) -> WirePtr {
        if (array_ptr.empty() || array_ptr == "ref") return a;
        auto p = std::make_shared<Wire>();
        p->kind = Wire::Kind::kPointer;
        p->ptr = array_ptr == "ptr" ? PtrKind::kFull : PtrKind::kUnique;
        p->elem = a;
        return p;
      };
      const ExprPtr* sz = Arg(u, u.size_is, level);
      const ExprPtr* mx = Arg(u, u.max_is, level);
      const ExprPtr* ln = Arg(u, u.length_is, level);
      const ExprPtr* fi = Arg(u, u.first_is, level);
      TypePtr elem = StripTypedefs(t->inner, nullptr, nullptr);
      if (!elem) return nullptr;
      uint32_t fixed = 0;
      if (t->size) {
        auto n = Eval(t->size);
        if (!n) return nullptr;
        if (*n <= 0 || *n > 0x7FFFFFFF) {
          diags_.Error(t->loc, "array size " + std::to_string(*n) + " is out of range");
          return nullptr;
        }
        fixed = static_cast<uint32_t>(*n);
        if (sz || mx) {
          diags_.Error(t->loc, "size_is/max_is on a fixed-size array");
          return nullptr;
        }
      }
      if (u.string && elem->kind == Type::Kind::kBase && IsCharLike(elem->base)) {
        u.Use(u.string);
        if (sz || mx || ln || fi) {
          diags_.Error(u.string->loc, "[string] with size_is/length_is is not supported");
          return nullptr;
        }
        w->kind = Wire::Kind::kString;
        w->wide = elem->base == Base::kWchar;
        w->fixed_string = fixed;
        return wrap(w);
      }
      w->kind = Wire::Kind::kArray;
      w->fixed = fixed;
      w->conformant = !t->size;
      w->varying = ln || fi;
      if (w->conformant && !sz && !mx) {
        diags_.Error(t->loc, "a conformant array needs size_is or max_is");
        return nullptr;
      }
      if (sz) w->size_is = *sz;
      if (mx) w->max_is = *mx;
      if (ln) w->length_is = *ln;
      if (fi) w->first_is = *fi;
      if (!w->conformant && t->inner->kind == Type::Kind::kArray && w->varying) {
        diags_.Error(t->loc, "length_is on a multi-dimensional array is not supported");
        return nullptr;
      }
      w->elem = Build(t->inner, u, level + 1, site);
      if (!w->elem) return nullptr;
      if (w->elem->kind == Wire::Kind::kArray && (w->elem->conformant || w->elem->varying)) {
        diags_.Error(t->loc, "only the outermost dimension may be conformant or varying");
        return nullptr;
      }
      return wrap(w);
    }
  }
  return nullptr;
}

}  // namespace comsec::comidl::internal
