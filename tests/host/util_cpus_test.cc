// host/util/cpus.h: the CPU count follows the affinity mask (taskset,
// cpusets), not the machine, and pinning a thread narrows it to one CPU.
#include <gtest/gtest.h>
#include <sched.h>

#include <thread>
#include <vector>

#include "host/util/cpus.h"

namespace host::util {
namespace {

// Runs `body` on a fresh thread, so that narrowing its mask touches nothing
// else in the test binary.
template <typename F>
void on_own_thread(F body) {
  std::thread t(body);
  t.join();
}

TEST(UtilCpus, AllowedCpusAreTheAffinityMask) {
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
  const std::vector<int> cpus = allowed_cpus();
  ASSERT_EQ(cpus.size(), static_cast<std::size_t>(CPU_COUNT(&set)));
  for (int c : cpus) EXPECT_TRUE(CPU_ISSET(c, &set)) << c;
  EXPECT_EQ(usable_cpu_count(), cpus.size());
}

TEST(UtilCpus, APinnedThreadCountsOneCpu) {
  const std::vector<int> cpus = allowed_cpus();
  ASSERT_FALSE(cpus.empty());
  const int last = cpus.back();  // not always CPU 0
  on_own_thread([&] {
    pin_current_thread(last);
    EXPECT_EQ(allowed_cpus(), std::vector<int>{last});
    EXPECT_EQ(usable_cpu_count(), 1u);
  });
}

}  // namespace
}  // namespace host::util
