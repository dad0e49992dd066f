// Parser versions: numbered per source, one ACTIVE at a time, and a cheap way
// to notice a promotion.
#include "store/versions.h"

#include <gtest/gtest.h>

#include "store/detail/codec.h"
#include "store/keys.h"
#include "test_util.h"

namespace store {
namespace {

using testing::at_seconds;
using testing::error_kind;
using testing::must;

class VersionsTest : public testing::StoreTest {
 protected:
  std::uint32_t add(std::string source, std::string script, Author author = {}) {
    NewParserVersion v;
    v.script = std::move(script);
    v.author = std::move(author);
    v.created_at = at_seconds(1);
    return must(
        store().update([&](WriteTxn& txn) { return store().versions().add(txn, source, v); }));
  }
  void promote(std::string source, std::uint32_t number) {
    must(store().update([&](WriteTxn& txn) {
      return store().versions().promote(txn, source, number, at_seconds(9));
    }));
  }
};

TEST_F(VersionsTest, NumbersCountFromOnePerSource) {
  EXPECT_EQ(add("a", "x"), 1u);
  EXPECT_EQ(add("a", "y"), 2u);
  EXPECT_EQ(add("b", "z"), 1u);
  auto txn = read();
  auto list = must(store().versions().list(txn, "a"));
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[1].script, "y");
  EXPECT_EQ(list[1].script_sha256, sha256("y"));
  EXPECT_EQ(list[1].state, VersionState::kStaged);
}

TEST_F(VersionsTest, KeepsAuthorAndValidationReport) {
  add("a", "x", Author{AuthorKind::kLlm, "claude-x"});
  must(store().update([&](WriteTxn& txn) {
    return store().versions().set_validation_report(txn, "a", 1, R"({"passed": 12})");
  }));
  auto txn = read();
  auto v = *must(store().versions().get(txn, "a", 1));
  EXPECT_EQ(to_string(v.author), "llm:claude-x");
  EXPECT_EQ(v.validation_report, R"({"passed": 12})");
}

TEST_F(VersionsTest, AuthorsParseFromTheirNames) {
  EXPECT_EQ(parse_author("human"), std::optional<Author>(Author{AuthorKind::kHuman, ""}));
  EXPECT_EQ(parse_author("heuristic")->kind, AuthorKind::kHeuristic);
  EXPECT_EQ(parse_author("llm:m1")->model, "m1");
  EXPECT_EQ(parse_author("llm:"), std::nullopt);
  EXPECT_EQ(parse_author("robot"), std::nullopt);
  EXPECT_EQ(parse_version_state("retired"), std::optional<VersionState>(VersionState::kRetired));
}

TEST_F(VersionsTest, PromotionRetiresThePreviousActiveVersion) {
  add("a", "x");
  add("a", "y");
  promote("a", 1);
  promote("a", 2);
  auto txn = read();
  EXPECT_EQ(must(store().versions().active_number(txn, "a")), std::optional<std::uint32_t>(2));
  EXPECT_EQ(must(store().versions().get(txn, "a", 1))->state, VersionState::kRetired);
  auto active = *must(store().versions().active(txn, "a"));
  EXPECT_EQ(active.state, VersionState::kActive);
  EXPECT_EQ(active.activated_at, std::optional<Time>(at_seconds(9)));
  EXPECT_FALSE(must(store().versions().active_number(txn, "b")).has_value());
}

TEST_F(VersionsTest, GenerationCountsPromotionsAndRetirements) {
  add("a", "x");
  std::uint64_t before = must(store().versions().generation(read()));
  promote("a", 1);
  std::uint64_t after_promote = must(store().versions().generation(read()));
  must(store().update(
      [&](WriteTxn& txn) { return store().versions().retire(txn, "a", 1, at_seconds(10)); }));
  auto txn = read();
  EXPECT_GT(after_promote, before);
  EXPECT_GT(must(store().versions().generation(txn)), after_promote);
  EXPECT_FALSE(must(store().versions().active_number(txn, "a")).has_value());
}

TEST_F(VersionsTest, UnknownVersionIsNotFound) {
  auto promoted = store().update(
      [&](WriteTxn& txn) { return store().versions().promote(txn, "a", 7, at_seconds(1)); });
  EXPECT_EQ(error_kind(promoted), ErrorKind::kNotFound);
}

TEST_F(VersionsTest, FindsAVersionByItsScriptDigest) {
  add("a", "x");
  add("a", "y");
  auto txn = read();
  EXPECT_EQ(must(store().versions().find_by_sha(txn, "a", sha256("y"))),
            std::optional<std::uint32_t>(2));
  EXPECT_FALSE(must(store().versions().find_by_sha(txn, "a", sha256("z"))).has_value());
}

TEST_F(VersionsTest, KeepsTheFileAVersionWasStagedFrom) {
  NewParserVersion v;
  v.script = "x";
  v.origin = "/srv/scripts/a.lua";
  v.created_at = at_seconds(1);
  must(store().update([&](WriteTxn& txn) { return store().versions().add(txn, "a", v); }));
  add("a", "y");
  promote("a", 1);  // rewrites the value: origin must survive
  auto txn = read();
  EXPECT_EQ(must(store().versions().get(txn, "a", 1))->origin, "/srv/scripts/a.lua");
  EXPECT_EQ(must(store().versions().get(txn, "a", 2))->origin, "");
}

TEST_F(VersionsTest, OriginCanBeMovedLater) {
  add("a", "x");
  must(store().update(
      [&](WriteTxn& txn) { return store().versions().set_origin(txn, "a", 1, "/new/a.lua"); }));
  EXPECT_EQ(must(store().versions().get(read(), "a", 1))->origin, "/new/a.lua");
  auto missing = store().update(
      [&](WriteTxn& txn) { return store().versions().set_origin(txn, "a", 9, "/x.lua"); });
  EXPECT_EQ(error_kind(missing), ErrorKind::kNotFound);
}

TEST_F(VersionsTest, ReadsFormatOneValuesWithoutOrigin) {
  // A value as written before versions had an origin: format byte 1.
  std::string value;
  detail::Packer(value)
      .u8(1)
      .str("old script")
      .raw(as_bytes(sha256("old script")))
      .u8(static_cast<std::uint8_t>(AuthorKind::kHuman))
      .str("")
      .u8(static_cast<std::uint8_t>(VersionState::kStaged))
      .str("")
      .str("an old note")
      .time(at_seconds(3))
      .opt_time(std::nullopt)
      .opt_time(std::nullopt);
  // Written behind the library's back, as an older binary would have.
  Env& env = store().env();
  must(env.update([&](WriteTxn& txn) -> std::expected<void, Error> {
    auto dbi = must(env.open_dbi(txn, "versions", false));
    return txn.put(*dbi, KeyWriter().str("a").u32(1).take(), value);
  }));
  {
    auto txn = read();
    auto v = *must(store().versions().get(txn, "a", 1));
    EXPECT_EQ(v.script, "old script");
    EXPECT_EQ(v.note, "an old note");
    EXPECT_EQ(v.origin, "");
    EXPECT_EQ(v.created_at, at_seconds(3));
  }
  // Rewriting it (a promotion) stores the new format, and numbering goes on.
  promote("a", 1);
  EXPECT_EQ(add("a", "new script"), 2u);
  auto txn = read();
  EXPECT_EQ(must(store().versions().get(txn, "a", 1))->state, VersionState::kActive);
}

}  // namespace
}  // namespace store
