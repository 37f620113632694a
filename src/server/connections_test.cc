#include "server/connections.h"

#include <gtest/gtest.h>

namespace amanah {
namespace {

using Admission = ConnectionGate::Admission;

TEST(ConnectionGateTest, ServesUpToTheCapThenKeepsOthersWaitingThenRefuses) {
  ConnectionLimits limits;
  limits.per_address = 2;
  limits.waiting_per_address = 2;
  ConnectionGate gate(limits);
  auto t0 = ConnectionGate::Clock::now();
  EXPECT_EQ(gate.Arrive("192.0.2.1", 10, t0), Admission::kServe);
  EXPECT_EQ(gate.Arrive("192.0.2.1", 11, t0), Admission::kServe);
  EXPECT_FALSE(gate.HasWaiting("192.0.2.1"));
  EXPECT_EQ(gate.Arrive("192.0.2.1", 12, t0), Admission::kWait);
  EXPECT_EQ(gate.Arrive("192.0.2.1", 13, t0), Admission::kWait);
  EXPECT_EQ(gate.Arrive("192.0.2.1", 14, t0), Admission::kRefuse);
  EXPECT_TRUE(gate.HasWaiting("192.0.2.1"));
  // Another address is not affected.
  EXPECT_EQ(gate.Arrive("192.0.2.2", 20, t0), Admission::kServe);
  EXPECT_FALSE(gate.HasWaiting("192.0.2.2"));

  // One served leaves: the longest waiting takes its place.
  auto next = gate.Leave("192.0.2.1");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->socket, 12);
  EXPECT_EQ(gate.served("192.0.2.1"), 2u);
  EXPECT_EQ(gate.Arrive("192.0.2.1", 15, t0), Admission::kWait);
  EXPECT_EQ(gate.Leave("192.0.2.1")->socket, 13);
  EXPECT_EQ(gate.Leave("192.0.2.1")->socket, 15);
  EXPECT_FALSE(gate.Leave("192.0.2.1"));
  EXPECT_EQ(gate.served("192.0.2.1"), 1u);
  EXPECT_FALSE(gate.Leave("192.0.2.1"));
  EXPECT_EQ(gate.served("192.0.2.1"), 0u);
  EXPECT_EQ(gate.waiting(), 0u);
}

TEST(ConnectionGateTest, WaitingIsBoundedOverAllAddresses) {
  ConnectionLimits limits;
  limits.per_address = 1;
  limits.waiting_per_address = 10;
  limits.waiting_total = 3;
  ConnectionGate gate(limits);
  auto t0 = ConnectionGate::Clock::now();
  int sock = 100;
  for (const char* a : {"192.0.2.1", "192.0.2.2"}) {
    EXPECT_EQ(gate.Arrive(a, sock++, t0), Admission::kServe);
    EXPECT_EQ(gate.Arrive(a, sock++, t0), Admission::kWait);
  }
  EXPECT_EQ(gate.Arrive("192.0.2.3", sock++, t0), Admission::kServe);
  EXPECT_EQ(gate.Arrive("192.0.2.3", sock++, t0), Admission::kWait);
  EXPECT_EQ(gate.Arrive("192.0.2.3", sock++, t0), Admission::kRefuse);
  EXPECT_EQ(gate.waiting(), 3u);
  // Stopping: every waiting socket is handed back to be closed.
  auto all = gate.TakeAllWaiting();
  EXPECT_EQ(all, (std::vector<int>{101, 103, 105}));
  EXPECT_EQ(gate.waiting(), 0u);
  EXPECT_FALSE(gate.HasWaiting("192.0.2.1"));
}

}  // namespace
}  // namespace amanah
