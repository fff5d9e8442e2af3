// libFuzzer: the ASL definition loader (JSON -> typed tree -> static analyser) and, for
// definitions that load, one in-memory run on a skipping clock with a small input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "vqi/workflow/definition.h"
#include "vqi/workflow/engine.h"
#include "vqi/workflow/resources.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto m = vqi::workflow::LoadDefinitionText(text, "fuzz");
  if (!m.ok()) return 0;
  // Bound the run: Task resources are not registered here and waits are skipped.
  vqi::workflow::ResourceRegistry none;
  auto clock = vqi::workflow::NewSkippingClock(0);
  std::atomic<bool> cancel{false};
  vqi::workflow::ExecutionOptions o;
  o.clock = clock.get();
  o.resources = &none;
  o.max_workers = 2;
  o.cancel = &cancel;
  o.max_transitions = 2000;
  (void)vqi::workflow::RunExecution(*m, vqi::Json::parse(R"({"a":[1,2,3],"b":"x"})"), o);
  return 0;
}
