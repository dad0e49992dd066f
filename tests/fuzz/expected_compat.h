// A minimal std::expected for building the fuzz targets with clang < 16.
//
// libstdc++ 12's <expected> is guarded by __cpp_concepts >= 202002L because it
// relies on conditionally trivial special members (P0848), which clang 14
// lacks, so with clang 14 it declares nothing. The fuzz build force-includes
// this header (-include) in that case only; it covers exactly what our code
// uses and is never part of a normal (GCC) build.
#pragma once

#include <expected>

#if !defined(__cpp_lib_expected)

#include <type_traits>
#include <utility>
#include <variant>

namespace std {

template <class E>
class unexpected {
 public:
  constexpr explicit unexpected(E e) : error_(std::move(e)) {}
  constexpr const E& error() const& noexcept { return error_; }
  constexpr E& error() & noexcept { return error_; }
  constexpr E&& error() && noexcept { return std::move(error_); }

 private:
  E error_;
};

template <class E>
unexpected(E) -> unexpected<E>;

template <class T, class E>
class expected {
 public:
  using value_type = T;
  using error_type = E;

  constexpr expected() : v_(in_place_index<0>) {}
  template <class U = T, class = enable_if_t<!is_same_v<remove_cvref_t<U>, expected> &&
                                             !is_same_v<remove_cvref_t<U>, in_place_t> &&
                                             is_constructible_v<T, U&&>>>
  constexpr expected(U&& value) : v_(in_place_index<0>, std::forward<U>(value)) {}
  template <class G>
  constexpr expected(const unexpected<G>& u) : v_(in_place_index<1>, u.error()) {}
  template <class G>
  constexpr expected(unexpected<G>&& u) : v_(in_place_index<1>, std::move(u).error()) {}

  constexpr bool has_value() const noexcept { return v_.index() == 0; }
  constexpr explicit operator bool() const noexcept { return has_value(); }

  constexpr T& operator*() & noexcept { return *get_if<0>(&v_); }
  constexpr const T& operator*() const& noexcept { return *get_if<0>(&v_); }
  constexpr T* operator->() noexcept { return get_if<0>(&v_); }
  constexpr const T* operator->() const noexcept { return get_if<0>(&v_); }
  constexpr T& value() & { return get<0>(v_); }
  constexpr const T& value() const& { return get<0>(v_); }
  constexpr E& error() & noexcept { return *get_if<1>(&v_); }
  constexpr const E& error() const& noexcept { return *get_if<1>(&v_); }
  template <class U>
  constexpr T value_or(U&& fallback) const& {
    return has_value() ? **this : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  variant<T, E> v_;
};

}  // namespace std

#endif  // !defined(__cpp_lib_expected)
