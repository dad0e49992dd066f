// Internal: early-return helpers for std::expected<T, store::Error>, the
// store's equivalent of `?`. Only for store/*.cc.
#pragma once

#include <expected>
#include <utility>

#define STORE_CONCAT_INNER_(a, b) a##b
#define STORE_CONCAT_(a, b) STORE_CONCAT_INNER_(a, b)
// A fresh name per expansion, so that nested uses (a STORE_TRY inside a
// lambda passed to a STORE_TRY) do not shadow each other.
#define STORE_TMP_ STORE_CONCAT_(store_tmp_, __COUNTER__)

// Evaluates `expr` (an expected); on error returns that error.
#define STORE_TRY(expr) STORE_TRY_IMPL_(STORE_TMP_, expr)
#define STORE_TRY_IMPL_(tmp, expr)                    \
  do {                                                \
    if (auto tmp = (expr); !tmp) {                    \
      return std::unexpected(std::move(tmp).error()); \
    }                                                 \
  } while (0)

// Declares or assigns `lhs` from the value of `expr`; on error returns it.
//   STORE_ASSIGN(auto txn, env.begin_read());
#define STORE_ASSIGN(lhs, expr) STORE_ASSIGN_IMPL_(STORE_TMP_, lhs, expr)
#define STORE_ASSIGN_IMPL_(tmp, lhs, expr)                  \
  auto tmp = (expr);                                        \
  if (!tmp) return std::unexpected(std::move(tmp).error()); \
  lhs = std::move(*tmp)
