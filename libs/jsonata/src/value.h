// Runtime values of the evaluator: JSON values plus `undefined`, functions and JSONata's
// sequences. Values are cheap to copy: strings, arrays and objects are either borrowed from a
// caller-owned Json (which must outlive the evaluation) or shared, immutable-after-construction
// heap blocks.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vqi/base/json.h"
#include "vqi/base/status.h"

namespace vqi::jsonata {

struct Array;
struct Object;
struct Function;

enum class Type : uint8_t {
  kUndefined,
  kNull,
  kBool,
  kNumber,
  kString,
  kArray,
  kObject,
  kFunction
};

class Value {
 public:
  Value() = default;  // undefined
  static Value Null();
  static Value Bool(bool b);
  static Value Number(double n);
  static Value String(std::string s);
  // Borrows strings, arrays and objects from `j` (which must outlive the value).
  static Value Ref(const Json& j);
  static Value FromArray(std::shared_ptr<Array> a);
  static Value FromObject(std::shared_ptr<Object> o);
  static Value FromFunction(std::shared_ptr<const Function> f);

  Type type() const { return type_; }
  bool IsUndefined() const { return type_ == Type::kUndefined; }
  bool IsDefined() const { return type_ != Type::kUndefined; }
  bool IsNull() const { return type_ == Type::kNull; }
  bool IsBool() const { return type_ == Type::kBool; }
  bool IsNumber() const { return type_ == Type::kNumber; }
  bool IsString() const { return type_ == Type::kString; }
  bool IsArray() const { return type_ == Type::kArray; }
  bool IsObject() const { return type_ == Type::kObject; }
  bool IsFunction() const { return type_ == Type::kFunction; }

  bool boolean() const { return b_; }
  double number() const { return n_; }
  const std::string& str() const;
  // True for strings, arrays, objects and functions the evaluation built (not borrowed).
  bool owned() const { return p_ != nullptr; }

  // Arrays (borrowed or owned).
  size_t size() const;
  Value at(size_t i) const;
  // The owned array block, or nullptr for borrowed arrays and non-arrays.
  Array* owned_array() const;
  // The owned object block, or nullptr for borrowed objects and non-objects.
  Object* owned_object() const;
  bool IsSequence() const;
  bool IsOuterWrapper() const;
  bool IsCons() const;
  bool KeepSingleton() const;

  // Objects (borrowed or owned). Get returns undefined for a missing key.
  Value Get(std::string_view key) const;
  size_t ObjectSize() const;
  // Visits fields in order (insertion order for owned objects, sorted for borrowed ones).
  void ForEachField(const std::function<void(const std::string&, const Value&)>& fn) const;
  std::vector<std::string> Keys() const;

  const Function* function() const;
  std::shared_ptr<const Function> function_ptr() const;

 private:
  Type type_ = Type::kUndefined;
  bool b_ = false;
  double n_ = 0;
  const Json* ref_ = nullptr;  // borrowed string/array/object
  std::shared_ptr<void> p_;    // owned std::string / Array / Object / Function
};

// Deepest nesting of arrays/objects the evaluator builds (borrowed input adds at most
// kMaxJsonDepth more). Code walking values recursively (ToJson, Stringify, DeepEqual, the
// destructors) relies on it; the evaluator refuses deeper results with D1011.
inline constexpr int kMaxValueDepth = 512;

struct Array {
  std::vector<Value> items;
  int depth = 1;                // nesting of owned blocks (see NestingDepth)
  bool sequence = false;        // a JSONata sequence: collapses to its item when singleton
  bool keep_singleton = false;  // `[]` was applied: never collapse
  bool cons = false;            // built by an array constructor inside a path: never flatten
  bool outer_wrapper = false;   // wraps a top-level input array
  bool charged = false;         // counted against the evaluation's build budget (D1013)
};

struct Object {
  std::vector<std::pair<std::string, Value>> fields;  // insertion order
  int depth = 1;                                      // nesting of owned blocks (see NestingDepth)
  bool charged = false;  // counted against the evaluation's build budget (D1013)
  // Sets (or replaces) a field.
  void Set(const std::string& key, Value v);
  const Value* Find(std::string_view key) const;
};

// Nesting of an owned array/object counting owned blocks only (borrowed Json counts 0), from
// the recorded depth of its direct children; records it on the block. Scalars: 0.
int NestingDepth(const Value& v);

std::shared_ptr<Array> NewSequence();
Value MakeSequence(std::vector<Value> items);
Value MakeArray(std::vector<Value> items);

// JSONata type name ("string", "number", "boolean", "null", "array", "object", "function").
const char* TypeName(const Value& v);

// Converts to Json. Functions become omitted fields / nulls in arrays; non-finite numbers are
// an error (D1001). Top-level undefined and functions give nullopt.
Result<std::optional<Json>> ToJson(const Value& v);

// JSON text the way jsonata-js's $string()/JSON.stringify prints it: numbers with 15
// significant digits, functions as "", undefined fields omitted. indent > 0 pretty-prints.
std::string Stringify(const Value& v, int indent = 0);
// JavaScript's Number.prototype.toString().
std::string FormatJsNumber(double d);
// Number(d.toPrecision(15)).
double RoundTo15Digits(double d);

// Deep equality (numbers by value, objects by key set).
bool DeepEqual(const Value& a, const Value& b);
// JSONata's $boolean() (undefined stays undefined: returns false with *defined = false).
bool ToBoolean(const Value& v);

}  // namespace vqi::jsonata
