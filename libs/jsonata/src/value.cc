#include "value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace vqi::jsonata {

Value Value::Null() {
  Value v;
  v.type_ = Type::kNull;
  return v;
}

Value Value::Bool(bool b) {
  Value v;
  v.type_ = Type::kBool;
  v.b_ = b;
  return v;
}

Value Value::Number(double n) {
  Value v;
  v.type_ = Type::kNumber;
  v.n_ = n;
  return v;
}

Value Value::String(std::string s) {
  Value v;
  v.type_ = Type::kString;
  v.p_ = std::make_shared<std::string>(std::move(s));
  return v;
}

Value Value::Ref(const Json& j) {
  Value v;
  switch (j.type()) {
    case Json::value_t::null:
    case Json::value_t::discarded:
      v.type_ = Type::kNull;
      break;
    case Json::value_t::boolean:
      v.type_ = Type::kBool;
      v.b_ = j.get<bool>();
      break;
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      v.type_ = Type::kNumber;
      v.n_ = j.get<double>();
      break;
    case Json::value_t::string:
      v.type_ = Type::kString;
      v.ref_ = &j;
      break;
    case Json::value_t::array:
      v.type_ = Type::kArray;
      v.ref_ = &j;
      break;
    case Json::value_t::object:
      v.type_ = Type::kObject;
      v.ref_ = &j;
      break;
    case Json::value_t::binary:
      v.type_ = Type::kNull;
      break;
  }
  return v;
}

namespace {
// The recorded depth of an owned array/object; 0 for scalars and borrowed Json.
int StoredDepth(const Value& v) {
  if (Array* a = v.owned_array()) return a->depth;
  if (Object* o = v.owned_object()) return o->depth;
  return 0;
}
}  // namespace

int NestingDepth(const Value& v) {
  int d = 0;
  if (Array* a = v.owned_array()) {
    for (const Value& c : a->items) d = std::max(d, StoredDepth(c));
    return a->depth = d + 1;
  }
  if (Object* o = v.owned_object()) {
    for (const auto& f : o->fields) d = std::max(d, StoredDepth(f.second));
    return o->depth = d + 1;
  }
  return 0;
}

Value Value::FromArray(std::shared_ptr<Array> a) {
  Value v;
  v.type_ = Type::kArray;
  v.p_ = std::move(a);
  NestingDepth(v);
  return v;
}

Value Value::FromObject(std::shared_ptr<Object> o) {
  Value v;
  v.type_ = Type::kObject;
  v.p_ = std::move(o);
  NestingDepth(v);
  return v;
}

Object* Value::owned_object() const {
  if (type_ != Type::kObject || ref_) return nullptr;
  return static_cast<Object*>(p_.get());
}

Value Value::FromFunction(std::shared_ptr<const Function> f) {
  Value v;
  v.type_ = Type::kFunction;
  v.p_ = std::const_pointer_cast<Function>(std::move(f));
  return v;
}

const std::string& Value::str() const {
  static const std::string kEmpty;
  if (type_ != Type::kString) return kEmpty;
  if (ref_) return ref_->get_ref<const std::string&>();
  return *static_cast<const std::string*>(p_.get());
}

size_t Value::size() const {
  if (type_ != Type::kArray) return 0;
  if (ref_) return ref_->size();
  return static_cast<const Array*>(p_.get())->items.size();
}

Value Value::at(size_t i) const {
  if (ref_) return Ref((*ref_)[i]);
  return static_cast<const Array*>(p_.get())->items[i];
}

Array* Value::owned_array() const {
  if (type_ != Type::kArray || ref_) return nullptr;
  return static_cast<Array*>(p_.get());
}

bool Value::IsSequence() const {
  const Array* a = owned_array();
  return a && a->sequence;
}
bool Value::IsOuterWrapper() const {
  const Array* a = owned_array();
  return a && a->outer_wrapper;
}
bool Value::IsCons() const {
  const Array* a = owned_array();
  return a && a->cons;
}
bool Value::KeepSingleton() const {
  const Array* a = owned_array();
  return a && a->keep_singleton;
}

Value Value::Get(std::string_view key) const {
  if (type_ != Type::kObject) return Value();
  if (ref_) {
    auto it = ref_->find(key);
    if (it == ref_->end()) return Value();
    return Ref(*it);
  }
  const Value* v = static_cast<const Object*>(p_.get())->Find(key);
  return v ? *v : Value();
}

size_t Value::ObjectSize() const {
  if (type_ != Type::kObject) return 0;
  if (ref_) return ref_->size();
  return static_cast<const Object*>(p_.get())->fields.size();
}

void Value::ForEachField(const std::function<void(const std::string&, const Value&)>& fn) const {
  if (type_ != Type::kObject) return;
  if (ref_) {
    for (auto it = ref_->begin(); it != ref_->end(); ++it) fn(it.key(), Ref(it.value()));
    return;
  }
  for (const auto& [k, v] : static_cast<const Object*>(p_.get())->fields) fn(k, v);
}

std::vector<std::string> Value::Keys() const {
  std::vector<std::string> keys;
  ForEachField([&](const std::string& k, const Value&) { keys.push_back(k); });
  return keys;
}

const Function* Value::function() const {
  if (type_ != Type::kFunction) return nullptr;
  return static_cast<const Function*>(p_.get());
}

std::shared_ptr<const Function> Value::function_ptr() const {
  if (type_ != Type::kFunction) return nullptr;
  return std::static_pointer_cast<const Function>(p_);
}

void Object::Set(const std::string& key, Value v) {
  for (auto& f : fields) {
    if (f.first == key) {
      f.second = std::move(v);
      return;
    }
  }
  fields.emplace_back(key, std::move(v));
}

const Value* Object::Find(std::string_view key) const {
  for (const auto& f : fields) {
    if (f.first == key) return &f.second;
  }
  return nullptr;
}

std::shared_ptr<Array> NewSequence() {
  auto a = std::make_shared<Array>();
  a->sequence = true;
  return a;
}

Value MakeSequence(std::vector<Value> items) {
  auto a = NewSequence();
  a->items = std::move(items);
  return Value::FromArray(std::move(a));
}

Value MakeArray(std::vector<Value> items) {
  auto a = std::make_shared<Array>();
  a->items = std::move(items);
  return Value::FromArray(std::move(a));
}

const char* TypeName(const Value& v) {
  switch (v.type()) {
    case Type::kUndefined:
      return "undefined";
    case Type::kNull:
      return "null";
    case Type::kBool:
      return "boolean";
    case Type::kNumber:
      return "number";
    case Type::kString:
      return "string";
    case Type::kArray:
      return "array";
    case Type::kObject:
      return "object";
    case Type::kFunction:
      return "function";
  }
  return "undefined";
}

namespace {

Json NumberToJson(double d) {
  if (d == 0) return Json(0);
  if (std::floor(d) == d && std::fabs(d) < 9.2e18) return Json(static_cast<int64_t>(d));
  return Json(d);
}

Status ToJsonInto(const Value& v, Json* out, bool* defined) {
  *defined = true;
  switch (v.type()) {
    case Type::kUndefined:
    case Type::kFunction:
      *defined = false;
      return Status::Ok();
    case Type::kNull:
      *out = nullptr;
      return Status::Ok();
    case Type::kBool:
      *out = v.boolean();
      return Status::Ok();
    case Type::kNumber:
      if (!std::isfinite(v.number())) return InvalidArgument("D1001: Number out of range: null");
      *out = NumberToJson(v.number());
      return Status::Ok();
    case Type::kString:
      *out = v.str();
      return Status::Ok();
    case Type::kArray: {
      *out = Json::array();
      for (size_t i = 0; i < v.size(); ++i) {
        Json item;
        bool item_defined;
        VQI_RETURN_IF_ERROR(ToJsonInto(v.at(i), &item, &item_defined));
        if (!item_defined) {
          // JSON.stringify writes null for functions in arrays; undefined items are skipped.
          if (v.at(i).IsFunction()) out->push_back(nullptr);
          continue;
        }
        out->push_back(std::move(item));
      }
      return Status::Ok();
    }
    case Type::kObject: {
      *out = Json::object();
      Status st;
      v.ForEachField([&](const std::string& k, const Value& f) {
        if (!st.ok()) return;
        Json item;
        bool item_defined;
        st = ToJsonInto(f, &item, &item_defined);
        if (st.ok() && item_defined) (*out)[k] = std::move(item);
      });
      return st;
    }
  }
  return Status::Ok();
}

void AppendQuoted(const std::string& s, std::string* out) {
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\b':
        *out += "\\b";
        break;
      case '\f':
        *out += "\\f";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          *out += buf;
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

void Newline(int indent, int level, std::string* out) {
  if (indent <= 0) return;
  out->push_back('\n');
  out->append(static_cast<size_t>(indent * level), ' ');
}

// Returns false when the value is omitted (undefined).
bool StringifyInto(const Value& v, int indent, int level, std::string* out) {
  switch (v.type()) {
    case Type::kUndefined:
      return false;
    case Type::kFunction:
      *out += "\"\"";
      return true;
    case Type::kNull:
      *out += "null";
      return true;
    case Type::kBool:
      *out += v.boolean() ? "true" : "false";
      return true;
    case Type::kNumber:
      if (!std::isfinite(v.number())) {
        *out += "null";
      } else {
        *out += FormatJsNumber(RoundTo15Digits(v.number()));
      }
      return true;
    case Type::kString:
      AppendQuoted(v.str(), out);
      return true;
    case Type::kArray: {
      if (v.size() == 0) {
        *out += "[]";
        return true;
      }
      out->push_back('[');
      for (size_t i = 0; i < v.size(); ++i) {
        if (i > 0) out->push_back(',');
        Newline(indent, level + 1, out);
        if (!StringifyInto(v.at(i), indent, level + 1, out)) *out += "null";
      }
      Newline(indent, level, out);
      out->push_back(']');
      return true;
    }
    case Type::kObject: {
      bool any = false;
      out->push_back('{');
      v.ForEachField([&](const std::string& k, const Value& f) {
        if (f.IsUndefined()) return;
        if (any) out->push_back(',');
        any = true;
        Newline(indent, level + 1, out);
        AppendQuoted(k, out);
        out->push_back(':');
        if (indent > 0) out->push_back(' ');
        StringifyInto(f, indent, level + 1, out);
      });
      if (any) Newline(indent, level, out);
      out->push_back('}');
      return true;
    }
  }
  return false;
}

}  // namespace

Result<std::optional<Json>> ToJson(const Value& v) {
  Json out;
  bool defined;
  VQI_RETURN_IF_ERROR(ToJsonInto(v, &out, &defined));
  if (!defined) return std::optional<Json>();
  return std::optional<Json>(std::move(out));
}

std::string Stringify(const Value& v, int indent) {
  std::string out;
  StringifyInto(v, indent, 0, &out);
  return out;
}

std::string FormatJsNumber(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  if (d == 0) return "0";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  std::string sign;
  if (sci[0] == '-') {
    sign = "-";
    sci.erase(0, 1);
  }
  size_t epos = sci.find('e');
  std::string mant = sci.substr(0, epos);
  int exp = std::atoi(sci.c_str() + epos + 1);
  std::string digits;
  for (char c : mant) {
    if (c != '.') digits.push_back(c);
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  int k = static_cast<int>(digits.size());
  int n = exp + 1;
  std::string out;
  if (k <= n && n <= 21) {
    out = digits + std::string(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out = digits.substr(0, static_cast<size_t>(n)) + "." + digits.substr(static_cast<size_t>(n));
  } else if (-6 < n && n <= 0) {
    out = "0." + std::string(static_cast<size_t>(-n), '0') + digits;
  } else {
    int e = n - 1;
    out = digits.substr(0, 1);
    if (k > 1) out += "." + digits.substr(1);
    out += "e";
    out += e >= 0 ? "+" : "-";
    out += std::to_string(std::abs(e));
  }
  return sign + out;
}

double RoundTo15Digits(double d) {
  if (!std::isfinite(d) || d == 0) return d;
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.14e", d);
  return std::strtod(buf, nullptr);
}

bool DeepEqual(const Value& a, const Value& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case Type::kUndefined:
    case Type::kNull:
      return true;
    case Type::kBool:
      return a.boolean() == b.boolean();
    case Type::kNumber:
      return a.number() == b.number();
    case Type::kString:
      return a.str() == b.str();
    case Type::kArray:
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i) {
        if (!DeepEqual(a.at(i), b.at(i))) return false;
      }
      return true;
    case Type::kObject: {
      if (a.ObjectSize() != b.ObjectSize()) return false;
      bool eq = true;
      a.ForEachField([&](const std::string& k, const Value& v) {
        if (eq && !DeepEqual(v, b.Get(k))) eq = false;
      });
      return eq;
    }
    case Type::kFunction:
      return a.function() == b.function();
  }
  return false;
}

bool ToBoolean(const Value& v) {
  switch (v.type()) {
    case Type::kUndefined:
    case Type::kNull:
    case Type::kFunction:
      return false;
    case Type::kBool:
      return v.boolean();
    case Type::kNumber:
      return v.number() != 0;
    case Type::kString:
      return !v.str().empty();
    case Type::kArray:
      if (v.size() == 1) return ToBoolean(v.at(0));
      for (size_t i = 0; i < v.size(); ++i) {
        if (ToBoolean(v.at(i))) return true;
      }
      return false;
    case Type::kObject:
      return v.ObjectSize() > 0;
  }
  return false;
}

}  // namespace vqi::jsonata
