// Artifact URI schemes, plain file names and digest forms.
#include <openssl/evp.h>

#include <cctype>

#include "vqi/component/artifacts.h"

namespace vqi::component {
namespace {

bool IsHex64(std::string_view s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdefABCDEF") == std::string_view::npos;
}

}  // namespace

Status CheckPlainFileName(std::string_view name) {
  if (name.empty()) return InvalidArgument("the file name is empty");
  if (name.size() > 255) return InvalidArgument("the file name is longer than 255 bytes");
  if (name == "." || name == "..")
    return InvalidArgument("the file name '" + std::string(name) + "' is not a plain name");
  for (unsigned char c : name) {
    if (c == '/' || c == '\\')
      return InvalidArgument("the file name '" + std::string(name) +
                             "' contains a path separator; it must be a plain name");
    if (c < 0x20 || c == 0x7f)
      return InvalidArgument("the file name contains a control character (byte " +
                             std::to_string(c) + ")");
  }
  return Status::Ok();
}

Result<std::string> ArtifactFileName(std::string_view uri) {
  std::string_view rest;
  if (uri.empty()) return InvalidArgument("the URI is empty");
  if (uri.find('\0') != std::string_view::npos)
    return InvalidArgument("the URI contains a NUL byte");
  const size_t colon = uri.find(':');
  const std::string scheme =
      colon == std::string_view::npos ? "" : std::string(uri.substr(0, colon));
  std::string lower = scheme;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (colon == std::string_view::npos) {
    rest = uri;  // a bare file name
    if (Status st = CheckPlainFileName(rest); !st.ok())
      return InvalidArgument("'" + std::string(uri) + "': " + st.message());
    return std::string(rest);
  }
  if (lower == "docker")
    return InvalidArgument(
        "'" + std::string(uri) +
        "': docker image artifacts need aws.greengrass.DockerApplicationManager, "
        "which vqi does not provide (vqi runs native processes)");
  if (lower == "greengrass")
    return InvalidArgument("'" + std::string(uri) +
                           "': greengrass: URIs are Lambda artifacts, "
                           "which vqi cannot run");
  if (lower == "s3") {
    if (uri.substr(0, 5) != "s3://")
      return InvalidArgument("'" + std::string(uri) + "': an S3 URI reads s3://<bucket>/<key>");
    rest = uri.substr(5);
    const size_t slash = rest.find('/');
    if (slash == 0 || slash == std::string_view::npos || slash + 1 == rest.size())
      return InvalidArgument("'" + std::string(uri) + "': an S3 URI reads s3://<bucket>/<key>");
  } else if (lower == "vqi") {
    if (uri.substr(0, kContentUriPrefix.size()) != kContentUriPrefix)
      return InvalidArgument("'" + std::string(uri) + "': a vqi URI reads " +
                             std::string(kContentUriPrefix) + "<sha256>/<file name>");
    rest = uri.substr(kContentUriPrefix.size());
    const size_t slash = rest.find('/');
    if (slash == std::string_view::npos || !IsHex64(rest.substr(0, slash)) ||
        rest.substr(0, slash).find_first_of("ABCDEF") != std::string_view::npos)
      return InvalidArgument("'" + std::string(uri) + "': a vqi URI reads " +
                             std::string(kContentUriPrefix) +
                             "<sha256 in lowercase hex>/<file name>");
    rest = rest.substr(slash + 1);
    if (Status st = CheckPlainFileName(rest); !st.ok())
      return InvalidArgument("'" + std::string(uri) + "': " + st.message());
    return std::string(rest);
  } else if (lower == "https" || lower == "http") {
    if (uri.substr(colon, 3) != "://")
      return InvalidArgument("'" + std::string(uri) + "': malformed " + lower + " URI");
    rest = uri.substr(colon + 3);
    rest = rest.substr(0, rest.find_first_of("?#"));
    if (rest.find('/') == std::string_view::npos)
      return InvalidArgument("'" + std::string(uri) + "': the URI names no file");
  } else {
    return InvalidArgument("'" + std::string(uri) + "': unsupported URI scheme '" + scheme +
                           "'; accepted: s3://, vqi://artifacts/, https://, or a bare file name");
  }
  const std::string_view name = rest.substr(rest.find_last_of('/') + 1);
  if (Status st = CheckPlainFileName(name); !st.ok())
    return InvalidArgument("'" + std::string(uri) + "': " + st.message());
  // `..` segments anywhere in the key are refused too: some tools resolve them.
  for (size_t at = 0; at <= rest.size();) {
    const size_t end = std::min(rest.find('/', at), rest.size());
    if (rest.substr(at, end - at) == "..")
      return InvalidArgument("'" + std::string(uri) + "': the URI path contains '..'");
    at = end + 1;
  }
  return std::string(name);
}

Result<std::string> NormalizeSha256Digest(std::string_view digest) {
  if (IsHex64(digest)) {
    std::string out(digest);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  }
  // base64 of 32 bytes: 44 characters ending in one '='.
  if (digest.size() == 44 && digest.back() == '=' &&
      digest.substr(0, 43).find_first_not_of(
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") ==
          std::string_view::npos) {
    unsigned char raw[36];
    const int n = EVP_DecodeBlock(raw, reinterpret_cast<const unsigned char*>(digest.data()), 44);
    if (n == 33) {  // EVP_DecodeBlock counts the padding as a zero byte
      static const char kHex[] = "0123456789abcdef";
      std::string out;
      for (int i = 0; i < 32; ++i) {
        out += kHex[raw[i] >> 4];
        out += kHex[raw[i] & 15];
      }
      return out;
    }
  }
  return InvalidArgument("'" + std::string(digest) +
                         "' is not a SHA-256 digest (64 hex digits or 44 base64 characters)");
}

}  // namespace vqi::component
