// Test support for app/: a fresh node in a temporary directory, over a
// FaultInjectionEnv whose clock and faults a test can move. Included only by
// tests.

#ifndef AMANAH_APP_TESTUTIL_H_
#define AMANAH_APP_TESTUTIL_H_

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "app/node.h"
#include "storage/fault_injection_env.h"
#include "storage/testutil.h"

namespace amanah::testutil {

class NodeFixture : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    std::string data = (dir_ / "data").string();
    ASSERT_TRUE(Node::Init(&env_, data, "ccd.moi.gov.kw").ok());
    auto node = Node::Open(&env_, data);
    ASSERT_TRUE(node.ok()) << node.status().ToString();
    node_ = std::move(node).value();
  }
  void TearDown() override {
    node_.reset();
    TempDirTest::TearDown();
  }
  uint64_t LogSize() { return (*node_->Log())->Latest().size; }

  FaultInjectionEnv env_{Env::Default()};
  std::unique_ptr<Node> node_;
};

}  // namespace amanah::testutil

#endif  // AMANAH_APP_TESTUTIL_H_
