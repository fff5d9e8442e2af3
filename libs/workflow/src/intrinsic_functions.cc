// The intrinsic function table and the array, math and JSON functions.
#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "intrinsics.h"

namespace vqi::workflow {

void AddStringIntrinsics(std::map<std::string, IntrinsicFn>& table);

namespace {

Status ArgCount(const char* fn, const std::vector<Json>& a, size_t lo, size_t hi) {
  if (a.size() < lo || a.size() > hi)
    return InvalidArgument(
        std::string("Function ") + fn + " expects " +
        (lo == hi ? std::to_string(lo) : std::to_string(lo) + " to " + std::to_string(hi)) +
        " arguments, got " + std::to_string(a.size()));
  return Status::Ok();
}

Result<long long> Int(const char* fn, const Json& v, const char* what) {
  if (v.is_number_integer()) return v.get<long long>();
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::floor(d) == d) return static_cast<long long>(d);
  }
  return InvalidArgument(std::string("Function ") + fn + ": " + what + " must be an integer, got " +
                         v.dump());
}

Result<Json> Array(const std::vector<Json>& a) {
  Json out = Json::array();
  for (const Json& v : a) out.push_back(v);
  return out;
}

Result<Json> ArrayPartition(const std::vector<Json>& a) {
  VQI_RETURN_IF_ERROR(ArgCount("States.ArrayPartition", a, 2, 2));
  if (!a[0].is_array())
    return InvalidArgument("Function States.ArrayPartition: first argument must be an array");
  VQI_ASSIGN_OR_RETURN(long long n, Int("States.ArrayPartition", a[1], "chunk size"));
  if (n <= 0)
    return InvalidArgument(
        "Function States.ArrayPartition: chunk size must be greater than 0, got " +
        std::to_string(n));
  Json out = Json::array();
  Json chunk = Json::array();
  for (const Json& v : a[0]) {
    chunk.push_back(v);
    if (static_cast<long long>(chunk.size()) == n) {
      out.push_back(std::move(chunk));
      chunk = Json::array();
    }
  }
  if (!chunk.empty()) out.push_back(std::move(chunk));
  return out;
}

Result<Json> ArrayContains(const std::vector<Json>& a) {
  VQI_RETURN_IF_ERROR(ArgCount("States.ArrayContains", a, 2, 2));
  if (!a[0].is_array())
    return InvalidArgument("Function States.ArrayContains: first argument must be an array");
  return Json(std::find(a[0].begin(), a[0].end(), a[1]) != a[0].end());
}

Result<Json> ArrayRange(const std::vector<Json>& a) {
  VQI_RETURN_IF_ERROR(ArgCount("States.ArrayRange", a, 3, 3));
  VQI_ASSIGN_OR_RETURN(long long b, Int("States.ArrayRange", a[0], "start"));
  VQI_ASSIGN_OR_RETURN(long long e, Int("States.ArrayRange", a[1], "end"));
  VQI_ASSIGN_OR_RETURN(long long s, Int("States.ArrayRange", a[2], "step"));
  if (s == 0) return InvalidArgument("Function States.ArrayRange: step cannot be 0");
  Json out = Json::array();
  for (long long v = b; s > 0 ? v <= e : v >= e; v += s) {
    out.push_back(v);
    if (out.size() > 1000)
      return InvalidArgument(
          "Function States.ArrayRange: the result cannot hold more than 1000 items");
  }
  return out;
}

Result<Json> ArrayGetItem(const std::vector<Json>& a) {
  VQI_RETURN_IF_ERROR(ArgCount("States.ArrayGetItem", a, 2, 2));
  if (!a[0].is_array())
    return InvalidArgument("Function States.ArrayGetItem: first argument must be an array");
  VQI_ASSIGN_OR_RETURN(long long i, Int("States.ArrayGetItem", a[1], "index"));
  if (i < 0 || i >= static_cast<long long>(a[0].size()))
    return InvalidArgument("Function States.ArrayGetItem: index " + std::to_string(i) +
                           " out of bounds");
  return a[0][static_cast<size_t>(i)];
}

Result<Json> ArrayLength(const std::vector<Json>& a) {
  VQI_RETURN_IF_ERROR(ArgCount("States.ArrayLength", a, 1, 1));
  if (!a[0].is_array())
    return InvalidArgument("Function States.ArrayLength: argument must be an array");
  return Json(a[0].size());
}

Result<Json> ArrayUnique(const std::vector<Json>& a) {
  VQI_RETURN_IF_ERROR(ArgCount("States.ArrayUnique", a, 1, 1));
  if (!a[0].is_array())
    return InvalidArgument("Function States.ArrayUnique: argument must be an array");
  Json out = Json::array();
  for (const Json& v : a[0])
    if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
  return out;
}

Result<Json> JsonMerge(const std::vector<Json>& a) {
  VQI_RETURN_IF_ERROR(ArgCount("States.JsonMerge", a, 3, 3));
  if (!a[0].is_object() || !a[1].is_object())
    return InvalidArgument("Function States.JsonMerge: the first two arguments must be objects");
  if (!a[2].is_boolean())
    return InvalidArgument("Function States.JsonMerge: the third argument must be a boolean");
  if (a[2].get<bool>())
    return InvalidArgument("Function States.JsonMerge: deep merge is not supported");
  Json out = a[0];
  for (auto& [k, v] : a[1].items()) out[k] = v;
  return out;
}

Result<Json> StringToJson(const std::vector<Json>& a) {
  VQI_RETURN_IF_ERROR(ArgCount("States.StringToJson", a, 1, 1));
  if (!a[0].is_string())
    return InvalidArgument("Function States.StringToJson: argument must be a string");
  if (a[0].get_ref<const std::string&>().find_first_not_of(" \t\r\n") == std::string::npos)
    return Json();
  // ParseJson: the nesting limit (128) holds for values built at run time too.
  auto j = ParseJson(a[0].get<std::string>(), "States.StringToJson");
  if (j.status().code() == StatusCode::kResourceExhausted)
    return InvalidArgument("Function States.StringToJson: " + j.status().message());
  if (!j.ok())
    return InvalidArgument("Function States.StringToJson: argument is not valid JSON: " +
                           a[0].get<std::string>());
  return *j;
}

Result<Json> JsonToString(const std::vector<Json>& a) {
  VQI_RETURN_IF_ERROR(ArgCount("States.JsonToString", a, 1, 1));
  return Json(a[0].dump());
}

Result<Json> MathRandom(const std::vector<Json>& a) {
  VQI_RETURN_IF_ERROR(ArgCount("States.MathRandom", a, 2, 3));
  VQI_ASSIGN_OR_RETURN(long long lo, Int("States.MathRandom", a[0], "start"));
  VQI_ASSIGN_OR_RETURN(long long hi, Int("States.MathRandom", a[1], "end"));
  if (hi <= lo)
    return InvalidArgument("Function States.MathRandom: end must be greater than start");
  std::mt19937_64 rng;
  if (a.size() == 3) {
    VQI_ASSIGN_OR_RETURN(long long seed, Int("States.MathRandom", a[2], "seed"));
    rng.seed(static_cast<uint64_t>(seed));
  } else {
    rng.seed(std::random_device{}());
  }
  std::uniform_int_distribution<long long> dist(lo, hi - 1);
  return Json(dist(rng));
}

Result<Json> MathAdd(const std::vector<Json>& a) {
  VQI_RETURN_IF_ERROR(ArgCount("States.MathAdd", a, 2, 2));
  for (const Json& v : a)
    if (!v.is_number())
      return InvalidArgument("Function States.MathAdd: arguments must be numbers, got " + v.dump());
  // AWS rounds each operand half up (Java Math.round) before adding.
  auto round = [](const Json& v) {
    return v.is_number_integer() ? v.get<long long>()
                                 : static_cast<long long>(std::floor(v.get<double>() + 0.5));
  };
  return Json(round(a[0]) + round(a[1]));
}

}  // namespace

const IntrinsicFn* FindIntrinsic(const std::string& name) {
  static const std::map<std::string, IntrinsicFn> table = [] {
    std::map<std::string, IntrinsicFn> t = {
        {"States.Array", Array},
        {"States.ArrayPartition", ArrayPartition},
        {"States.ArrayContains", ArrayContains},
        {"States.ArrayRange", ArrayRange},
        {"States.ArrayGetItem", ArrayGetItem},
        {"States.ArrayLength", ArrayLength},
        {"States.ArrayUnique", ArrayUnique},
        {"States.JsonMerge", JsonMerge},
        {"States.StringToJson", StringToJson},
        {"States.JsonToString", JsonToString},
        {"States.MathRandom", MathRandom},
        {"States.MathAdd", MathAdd},
    };
    AddStringIntrinsics(t);
    return t;
  }();
  auto it = table.find(name);
  return it == table.end() ? nullptr : &it->second;
}

}  // namespace vqi::workflow
