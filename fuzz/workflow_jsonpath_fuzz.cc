// libFuzzer: the JSONPath parser and query, and the intrinsic function parser.
#include <cstddef>
#include <cstdint>
#include <string>

#include "vqi/workflow/jsonpath.h"

namespace vqi::workflow {
Status CheckIntrinsicSyntax(const std::string& text);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  static const vqi::Json doc =
      vqi::Json::parse(R"({"a":{"b":[1,2,{"c":"d"}]},"e":[{"k":1},{"k":"x"}],"f":null})");
  auto p = vqi::workflow::JsonPath::Parse(text);
  if (p.ok()) {
    (void)p->Query(doc).ok();
    (void)p->Normalized();
    vqi::Json copy = doc;
    (void)p->Set(copy, 1);
  }
  (void)vqi::workflow::CheckIntrinsicSyntax(text);
  return 0;
}
