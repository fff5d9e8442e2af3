// String intrinsics: Format, StringSplit, Base64Encode/Decode, Hash, UUID.
#include <openssl/evp.h>

#include <map>
#include <random>

#include "intrinsics.h"

namespace vqi::workflow {
namespace {

Status Count(const char* fn, const std::vector<Json>& a, size_t n) {
  if (a.size() != n)
    return InvalidArgument(std::string("Function ") + fn + " expects " + std::to_string(n) +
                           " arguments, got " + std::to_string(a.size()));
  return Status::Ok();
}

// Values print the way AWS's Java runtime prints them: strings raw, objects as {k=v, ..},
// arrays as [a, b].
std::string FormatValue(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object()) {
    std::string out = "{";
    bool first = true;
    for (auto& [k, c] : v.items()) {
      if (!first) out += ", ";
      first = false;
      out += k + "=" + FormatValue(c);
    }
    return out + "}";
  }
  if (v.is_array()) {
    std::string out = "[";
    for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + FormatValue(v[i]);
    return out + "]";
  }
  return v.dump();
}

Result<Json> Format(const std::vector<Json>& a) {
  if (a.empty() || !a[0].is_string())
    return InvalidArgument("Function States.Format: the first argument must be a string");
  const std::string& t = a[0].get_ref<const std::string&>();
  std::string out;
  size_t next = 1;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '\\' && i + 1 < t.size() && (t[i + 1] == '{' || t[i + 1] == '}')) {
      out += t[++i];
    } else if (t[i] == '{' && i + 1 < t.size() && t[i + 1] == '}') {
      if (next >= a.size())
        return InvalidArgument("Function States.Format: not enough arguments for the template");
      out += FormatValue(a[next++]);
      ++i;
    } else {
      out += t[i];
    }
  }
  if (next != a.size())
    return InvalidArgument("Function States.Format: more arguments than placeholders");
  return Json(out);
}

Result<Json> StringSplit(const std::vector<Json>& a) {
  VQI_RETURN_IF_ERROR(Count("States.StringSplit", a, 2));
  if (!a[0].is_string() || !a[1].is_string())
    return InvalidArgument("Function States.StringSplit: arguments must be strings");
  const std::string& s = a[0].get_ref<const std::string&>();
  const std::string& d = a[1].get_ref<const std::string&>();
  Json out = Json::array();
  std::string cur;
  for (char c : s) {
    if (d.find(c) != std::string::npos) {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

Result<Json> Base64Encode(const std::vector<Json>& a) {
  VQI_RETURN_IF_ERROR(Count("States.Base64Encode", a, 1));
  if (!a[0].is_string()) return InvalidArgument("Function States.Base64Encode: argument must be a string");
  const std::string& s = a[0].get_ref<const std::string&>();
  if (s.size() > 10000)
    return InvalidArgument("Function States.Base64Encode: input is longer than 10000 characters");
  std::string out;
  size_t i = 0;
  for (; i + 2 < s.size(); i += 3) {
    uint32_t v = (uint8_t(s[i]) << 16) | (uint8_t(s[i + 1]) << 8) | uint8_t(s[i + 2]);
    for (int k = 3; k >= 0; --k) out += kB64[(v >> (6 * k)) & 63];
  }
  if (i + 1 == s.size()) {
    uint32_t v = uint8_t(s[i]) << 16;
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == s.size()) {
    uint32_t v = (uint8_t(s[i]) << 16) | (uint8_t(s[i + 1]) << 8);
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += '=';
  }
  return Json(out);
}

Result<Json> Base64Decode(const std::vector<Json>& a) {
  VQI_RETURN_IF_ERROR(Count("States.Base64Decode", a, 1));
  if (!a[0].is_string()) return InvalidArgument("Function States.Base64Decode: argument must be a string");
  const std::string& s = a[0].get_ref<const std::string&>();
  if (s.size() > 10000)
    return InvalidArgument("Function States.Base64Decode: input is longer than 10000 characters");
  std::string out;
  uint32_t buf = 0;
  int bits = 0;
  for (char c : s) {
    if (c == '=') break;
    const char* p = std::strchr(kB64, c);
    if (p == nullptr || c == '\0')
      return InvalidArgument("Function States.Base64Decode: input is not valid base64");
    buf = (buf << 6) | static_cast<uint32_t>(p - kB64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buf >> bits) & 0xff);
    }
  }
  return Json(out);
}

Result<Json> Hash(const std::vector<Json>& a) {
  VQI_RETURN_IF_ERROR(Count("States.Hash", a, 2));
  if (!a[1].is_string()) return InvalidArgument("Function States.Hash: algorithm must be a string");
  static const std::map<std::string, const EVP_MD* (*)()> kAlgos = {
      {"MD5", EVP_md5},         {"SHA-1", EVP_sha1},     {"SHA-256", EVP_sha256},
      {"SHA-384", EVP_sha384},  {"SHA-512", EVP_sha512}};
  auto it = kAlgos.find(a[1].get<std::string>());
  if (it == kAlgos.end())
    return InvalidArgument("Function States.Hash: unsupported algorithm " + a[1].dump() +
                           " (use MD5, SHA-1, SHA-256, SHA-384 or SHA-512)");
  std::string data = a[0].is_string() ? a[0].get<std::string>() : a[0].dump();
  if (data.size() > 10000)
    return InvalidArgument("Function States.Hash: input is longer than 10000 characters");
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, it->second(), nullptr);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return Json(out);
}

Result<Json> Uuid(const std::vector<Json>& a) {
  VQI_RETURN_IF_ERROR(Count("States.UUID", a, 0));
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t hi = rng(), lo = rng();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", unsigned(hi >> 32),
                unsigned((hi >> 16) & 0xffff), unsigned(hi & 0xffff), unsigned(lo >> 48),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return Json(std::string(buf));
}

}  // namespace

void AddStringIntrinsics(std::map<std::string, IntrinsicFn>& t) {
  t["States.Format"] = Format;
  t["States.StringSplit"] = StringSplit;
  t["States.Base64Encode"] = Base64Encode;
  t["States.Base64Decode"] = Base64Decode;
  t["States.Hash"] = Hash;
  t["States.UUID"] = Uuid;
}

}  // namespace vqi::workflow
