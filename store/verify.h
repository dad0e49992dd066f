// What Store::verify() reports.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace store {

// One damaged item.
struct Damage {
  // What is damaged, in the store's terms: "bronze body 3fa2...",
  // "bronze snapshot 17", "silver record books/isbn-1",
  // "index tasks_by_state", "counter tasks/PENDING".
  std::string item;
  // What is wrong with it, for a human.
  std::string description;
};

struct VerifyReport {
  std::vector<Damage> damage;
  // How many items of each kind were checked ("bronze bodies", "silver
  // records", ...).
  std::map<std::string, std::uint64_t> checked;

  bool ok() const { return damage.empty(); }
};

}  // namespace store
