// Regular expressions (regex literals /.../im) on RE2, working on UTF-8 bytes.
//
// RE2 matches in time linear in the subject and never recurses on it, so no pattern can hang
// or overflow the stack (docs/design/jsonata.md: why RE2 rather than a step budget). The price:
// JavaScript's look-around and back-references are refused at compile time (S0303).
// Thread-safe after construction.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vqi/base/status.h"

namespace re2 {
class RE2;
}

namespace vqi::jsonata {

class Regex {
 public:
  // Pattern size (RE2 compiles in memory proportional to it; docs/limits.md).
  static constexpr size_t kMaxPatternBytes = 10000;
  // Memory RE2 may use for one compiled pattern.
  static constexpr int64_t kMaxProgramBytes = 8 << 20;

  struct Match {
    size_t start = 0;  // byte offsets
    size_t end = 0;
    std::string text;
    std::vector<std::optional<std::string>> groups;
  };

  // InvalidArgument (S0303) for patterns RE2 rejects or that use unsupported syntax.
  static Result<std::shared_ptr<const Regex>> Compile(const std::string& pattern,
                                                      const std::string& flags);
  ~Regex();

  // Finds the first match starting at or after byte `from` (text before `from` is context for
  // ^ and \b); false when there is none.
  Result<bool> Search(const std::string& s, size_t from, Match* m) const;

  const std::string& pattern() const { return pattern_; }

 private:
  std::string pattern_;
  std::unique_ptr<re2::RE2> re_;
};

}  // namespace vqi::jsonata
