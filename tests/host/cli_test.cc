// The command line's contract: help, version, exit codes, global options.
#include <gtest/gtest.h>

#include "tests/host/run_host.h"

namespace host::testing {
namespace {

TEST(Cli, HelpListsCommandsAndExitsZero) {
  const CommandResult r = run_host({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("parse"), std::string::npos);
  EXPECT_NE(r.out.find("--data"), std::string::npos);
}

TEST(Cli, VersionExitsZero) {
  const CommandResult r = run_host({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("Smart Data Pipeline"), std::string::npos);
}

TEST(Cli, CommandHelpExitsZero) {
  const CommandResult r = run_host({"parse", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--max-memory"), std::string::npos);
}

TEST(Cli, NoCommandIsAUsageError) {
  const CommandResult r = run_host({});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--help"), std::string::npos);
}

TEST(Cli, UnknownCommandIsAUsageError) {
  const CommandResult r = run_host({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_FALSE(r.err.empty());
}

TEST(Cli, UnknownOptionIsAUsageError) {
  const CommandResult r = run_host({"parse", "--bogus", "x.lua", "p.html"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("host parse --help"), std::string::npos);
}

}  // namespace
}  // namespace host::testing
