// Regular expressions (regex literals /.../im) on std::regex's ECMAScript grammar, working on
// UTF-8 bytes. Thread-safe after construction.
#pragma once

#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "vqi/base/status.h"

namespace vqi::jsonata {

class Regex {
 public:
  // std::regex matches recursively, one stack frame per input character for patterns like
  // (a|b)*: 12k characters overflow an 8 MiB stack. Longer subjects are an error instead.
  static constexpr size_t kMaxSubjectBytes = 4096;

  struct Match {
    size_t start = 0;  // byte offsets
    size_t end = 0;
    std::string text;
    std::vector<std::optional<std::string>> groups;
  };

  // InvalidArgument for patterns std::regex rejects.
  static Result<std::shared_ptr<const Regex>> Compile(const std::string& pattern,
                                                      const std::string& flags);

  // Finds the first match starting at or after byte `from`; false when there is none.
  // Errors when the regex engine gives up (too complex).
  Result<bool> Search(const std::string& s, size_t from, Match* m) const;

  const std::string& pattern() const { return pattern_; }

 private:
  std::string pattern_;
  std::regex re_;
};

}  // namespace vqi::jsonata
