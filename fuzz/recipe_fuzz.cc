// libFuzzer: Greengrass recipes (JSON and YAML through yaml-cpp) → validation → canonical JSON,
// which must round-trip exactly (it is what gets signed); then platform selection, recipe
// variables over every lifecycle and over the raw text, and placeholder filling.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "vqi/component/interpolate.h"
#include "vqi/component/placeholders.h"
#include "vqi/component/platform.h"
#include "vqi/component/recipe.h"

using namespace vqi::component;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  InterpolationContext ctx;
  ctx.component_name = "com.example.Fuzz";
  ctx.kernel_root_path = "/gg";
  ctx.thing_name = "thing";
  ctx.self = GreengrassLayout("/gg", "com.example.Fuzz", "1.0.0");
  ctx.self.configuration = {{"a", {{"b", 1}}}, {"s", "x"}};
  ctx.dependencies["com.example.Dep"] = GreengrassLayout("/gg", "com.example.Dep", "2.0.0");
  (void)Interpolate(text, ctx, "text");
  (void)FillPlaceholders(text, {{"COMPONENT_VERSION", "1.0.0"}, {"BUCKET_NAME", "b"}});

  auto r = ParseRecipe(text, "fuzz");
  if (!r.ok()) return 0;
  const vqi::Json canonical = RecipeToJson(*r);
  auto back = RecipeFromJson(canonical, "canonical");
  if (!back.ok() || !(*back == *r) || RecipeToJson(*back).dump() != canonical.dump()) abort();
  ctx.component_name = r->name;
  ctx.self.configuration = r->default_configuration;
  for (const Manifest& m : r->manifests)
    (void)InterpolateLifecycle(EffectiveLifecycle(*r, m), ctx, "m");
  if (auto m = SelectManifest(*r, {{"os", "linux"}, {"architecture", "amd64"}}); m.ok())
    (void)InterpolateLifecycle(EffectiveLifecycle(*r, *m), ctx, "selected");
  return 0;
}
