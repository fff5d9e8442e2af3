#include "vqi/jsonata/jsonata.h"

#include <mutex>
#include <unordered_map>

#include "evaluator.h"
#include "parser.h"

namespace vqi::jsonata {
namespace {

// Parsed programs by expression text. Bounded: cleared when it reaches kMaxEntries (definitions
// hold a few hundred distinct expressions at most).
class ProgramCache {
 public:
  static constexpr size_t kMaxEntries = 4096;

  Result<std::shared_ptr<const Program>> Get(std::string_view text) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = programs_.find(text);
      if (it != programs_.end()) return it->second;
    }
    VQI_ASSIGN_OR_RETURN(std::shared_ptr<const Program> program, Parse(text));
    std::lock_guard<std::mutex> lock(mu_);
    if (programs_.size() >= kMaxEntries) programs_.clear();
    programs_.emplace(std::string(text), program);
    return program;
  }

 private:
  std::mutex mu_;
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  std::unordered_map<std::string, std::shared_ptr<const Program>, Hash, std::equal_to<>>
      programs_;  // GUARDED_BY(mu_)
};

ProgramCache& Cache() {
  static ProgramCache* cache = new ProgramCache();
  return *cache;
}

}  // namespace

Result<std::optional<Json>> Evaluate(std::string_view expression, const Json& input,
                                     const std::map<std::string, Json>& bindings) {
  VQI_ASSIGN_OR_RETURN(std::shared_ptr<const Program> program, Cache().Get(expression));
  Evaluator evaluator(std::move(program), bindings);
  VQI_ASSIGN_OR_RETURN(Value result, evaluator.Run(input));
  return ToJson(result);
}

Status Check(std::string_view expression) {
  auto program = Cache().Get(expression);
  return program.ok() ? Status::Ok() : program.status();
}

}  // namespace vqi::jsonata
