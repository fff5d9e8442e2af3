// SHA-256 (OpenSSL), as lowercase hex.
#pragma once

#include <string>
#include <string_view>

#include "vqi/base/status.h"

namespace vqi {

std::string Sha256Hex(std::string_view data);
// Streams the file; NotFound/Unavailable on I/O errors.
Result<std::string> Sha256File(const std::string& path);

// Incremental hashing for digests over many parts (e.g. a split snapshot).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(std::string_view data);
  std::string FinalHex();

 private:
  void* ctx_;
};

}  // namespace vqi
