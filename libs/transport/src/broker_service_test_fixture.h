// The fixture of the broker_service tests: a fresh vqi home in a temporary folder.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>

#include "gtest/gtest.h"
#include "vqi/transport/broker_service.h"

namespace vqi::transport {

class BrokerServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "vqi-broker-svc-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    home_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(home_, ec);
  }
  BrokerHomeOptions Options() {
    BrokerHomeOptions o;
    o.home = home_;
    o.port = 18830;  // not started by the preparation tests
    return o;
  }
  std::string home_;
};

}  // namespace vqi::transport
