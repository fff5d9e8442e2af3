// Test support: a fleet store and a component store in a temporary folder, with components put
// straight into the store (fake signature: resolution reads recipes only).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "vqi/base/clock.h"
#include "vqi/component/recipe.h"
#include "vqi/component/store.h"
#include "vqi/fleet/store.h"

namespace vqi::fleet {

class FleetFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t = (std::filesystem::temp_directory_path() / "vqi-fleet-XXXXXX").string();
    ASSERT_NE(::mkdtemp(t.data()), nullptr);
    dir_ = t;
    auto f = OpenSqliteFleetStore(dir_ + "/fleet/fleet.db", {true, &clock_});
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    fleet_ = std::move(*f);
    auto c = component::OpenSqliteStore(dir_ + "/components/components.db", {true, &clock_});
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    components_ = std::move(*c);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  // Stores name@version depending on `deps` (name -> range, HARD).
  void PutComponent(const std::string& name, const std::string& version,
                    const std::map<std::string, std::string>& deps = {}) {
    component::Recipe r;
    r.name = name;
    r.version = version;
    r.publisher = "Acme";
    for (const auto& [d, range] : deps)
      r.dependencies[d] = {range, component::DependencyType::kHard};
    component::Manifest m;
    m.platform = {{"os", "linux"}};
    r.manifests.push_back(m);
    component::StoredComponent c;
    c.name = name;
    c.version = version;
    c.publisher = "Acme";
    c.key_id = "k";
    c.recipe_json = component::RecipeToJson(r).dump();
    c.recipe_text = c.recipe_json;
    c.manifest = "manifest " + name + "@" + version;
    c.signature = std::string(64, 's');
    auto put = components_->Put(c);
    ASSERT_TRUE(put.ok()) << put.status().ToString();
  }
  void MakeThing(const std::string& name, const std::string& group = "") {
    ASSERT_TRUE(fleet_->CreateThing(name).ok());
    if (!group.empty()) {
      ASSERT_TRUE(fleet_->AddToGroup(name, group).ok());
    }
  }

  FakeClock clock_{1796000000000};
  std::string dir_;
  std::unique_ptr<FleetStore> fleet_;
  std::unique_ptr<component::Store> components_;
};

}  // namespace vqi::fleet
