#include "host/fetch/address_guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

namespace host::fetch {
namespace {

using V6 = std::array<std::uint8_t, 16>;

bool in_v4(std::uint32_t a, std::uint32_t net, int bits) {
  const std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
  return (a & mask) == (net & mask);
}

constexpr std::uint32_t v4(int a, int b, int c, int d) {
  return (static_cast<std::uint32_t>(a) << 24) | (static_cast<std::uint32_t>(b) << 16) |
         (static_cast<std::uint32_t>(c) << 8) | static_cast<std::uint32_t>(d);
}

// `a` in host byte order.
AddressClass classify_v4(std::uint32_t a) {
  // Metadata first: they sit inside link-local, CGNAT or public ranges.
  for (std::uint32_t m : {v4(169, 254, 169, 254), v4(169, 254, 170, 2), v4(100, 100, 100, 200),
                          v4(168, 63, 129, 16)}) {
    if (a == m) return AddressClass::kMetadata;
  }
  if (in_v4(a, v4(0, 0, 0, 0), 8)) return AddressClass::kUnspecified;
  if (in_v4(a, v4(127, 0, 0, 0), 8)) return AddressClass::kLoopback;
  if (in_v4(a, v4(10, 0, 0, 0), 8) || in_v4(a, v4(172, 16, 0, 0), 12) ||
      in_v4(a, v4(192, 168, 0, 0), 16)) {
    return AddressClass::kPrivate;
  }
  if (in_v4(a, v4(100, 64, 0, 0), 10)) return AddressClass::kCarrierNat;
  if (in_v4(a, v4(169, 254, 0, 0), 16)) return AddressClass::kLinkLocal;
  if (in_v4(a, v4(224, 0, 0, 0), 4)) return AddressClass::kMulticast;
  if (in_v4(a, v4(240, 0, 0, 0), 4) ||      // reserved, and 255.255.255.255
      in_v4(a, v4(192, 0, 0, 0), 24) ||     // IETF protocol assignments
      in_v4(a, v4(192, 0, 2, 0), 24) ||     // TEST-NET-1
      in_v4(a, v4(198, 51, 100, 0), 24) ||  // TEST-NET-2
      in_v4(a, v4(203, 0, 113, 0), 24) ||   // TEST-NET-3
      in_v4(a, v4(198, 18, 0, 0), 15) ||    // benchmarking
      in_v4(a, v4(192, 88, 99, 0), 24)) {   // 6to4 relay anycast (deprecated)
    return AddressClass::kReserved;
  }
  return AddressClass::kPublic;
}

std::uint32_t v4_at(const V6& b, std::size_t i) {
  return (static_cast<std::uint32_t>(b[i]) << 24) | (static_cast<std::uint32_t>(b[i + 1]) << 16) |
         (static_cast<std::uint32_t>(b[i + 2]) << 8) | static_cast<std::uint32_t>(b[i + 3]);
}

bool prefix(const V6& b, std::initializer_list<std::uint8_t> bytes) {
  return std::equal(bytes.begin(), bytes.end(), b.begin());
}

AddressClass classify_v6(const V6& b) {
  static constexpr V6 kMetadata6{0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54};
  if (b == kMetadata6) return AddressClass::kMetadata;
  const bool first12_zero = std::all_of(b.begin(), b.begin() + 12, [](auto x) { return x == 0; });
  if (first12_zero) {
    const std::uint32_t last = v4_at(b, 12);
    if (last == 0) return AddressClass::kUnspecified;
    if (last == 1) return AddressClass::kLoopback;
    return AddressClass::kReserved;  // IPv4-compatible, deprecated
  }
  // ::ffff:a.b.c.d (IPv4-mapped) and 64:ff9b::a.b.c.d (NAT64).
  if (prefix(b, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}) ||
      prefix(b, {0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0})) {
    return classify_v4(v4_at(b, 12));
  }
  if (prefix(b, {0x00, 0x64, 0xff, 0x9b, 0x00, 0x01})) return AddressClass::kPrivate;
  if (prefix(b, {0x20, 0x02})) {  // 6to4 carries an IPv4 address in bytes 2..5
    return classify_v4(v4_at(b, 2));
  }
  if (b[0] == 0xff) return AddressClass::kMulticast;
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return AddressClass::kLinkLocal;  // fe80::/10
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return AddressClass::kPrivate;    // fec0::/10
  if ((b[0] & 0xfe) == 0xfc) return AddressClass::kPrivate;                    // fc00::/7
  if (prefix(b, {0x20, 0x01, 0x0d, 0xb8}) ||                                   // documentation
      prefix(b, {0x20, 0x01, 0x00, 0x00}) ||                                   // Teredo
      (prefix(b, {0x20, 0x01, 0x00}) && b[3] >= 0x10 &&
       b[3] < 0x30) ||                                    // ORCHID 2001:10::/28, 2001:20::/28
      prefix(b, {0x01, 0x00, 0, 0, 0, 0, 0, 0}) ||        // discard-only 100::/64
      (prefix(b, {0x3f, 0xff}) && (b[2] & 0xf0) == 0)) {  // documentation 3fff::/20
    return AddressClass::kReserved;
  }
  if ((b[0] & 0xe0) != 0x20) return AddressClass::kReserved;  // outside 2000::/3
  return AddressClass::kPublic;
}

bool host_listed(std::string_view host, const FetchOptions& options) {
  return std::any_of(options.allow_hosts.begin(), options.allow_hosts.end(),
                     [&](const std::string& h) {
                       if (h.size() != host.size()) return false;
                       for (std::size_t i = 0; i < h.size(); ++i) {
                         if (std::tolower(static_cast<unsigned char>(h[i])) !=
                             std::tolower(static_cast<unsigned char>(host[i]))) {
                           return false;
                         }
                       }
                       return true;
                     });
}

}  // namespace

std::string_view to_string(AddressClass c) {
  switch (c) {
    case AddressClass::kPublic:
      return "public";
    case AddressClass::kLoopback:
      return "loopback";
    case AddressClass::kPrivate:
      return "private";
    case AddressClass::kCarrierNat:
      return "carrier-grade NAT";
    case AddressClass::kLinkLocal:
      return "link-local";
    case AddressClass::kMetadata:
      return "cloud metadata";
    case AddressClass::kUnspecified:
      return "unspecified";
    case AddressClass::kMulticast:
      return "multicast";
    case AddressClass::kReserved:
      return "reserved";
    case AddressClass::kInvalid:
      return "invalid";
  }
  return "invalid";
}

AddressClass classify(const sockaddr* address) {
  if (address == nullptr) return AddressClass::kInvalid;
  if (address->sa_family == AF_INET) {
    sockaddr_in in{};
    std::memcpy(&in, address, sizeof in);
    return classify_v4(ntohl(in.sin_addr.s_addr));
  }
  if (address->sa_family == AF_INET6) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, address, sizeof in6);
    V6 bytes{};
    std::memcpy(bytes.data(), &in6.sin6_addr, bytes.size());
    return classify_v6(bytes);
  }
  return AddressClass::kInvalid;
}

AddressClass classify(std::string_view address) {
  std::string text(address);
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  if (const auto pct = text.find('%'); pct != std::string::npos) text.resize(pct);  // zone id
  in_addr a4{};
  if (inet_pton(AF_INET, text.c_str(), &a4) == 1) return classify_v4(ntohl(a4.s_addr));
  in6_addr a6{};
  if (inet_pton(AF_INET6, text.c_str(), &a6) == 1) {
    V6 bytes{};
    std::memcpy(bytes.data(), &a6, bytes.size());
    return classify_v6(bytes);
  }
  return AddressClass::kInvalid;
}

std::optional<std::string> check_address(AddressClass cls, std::string_view address,
                                         std::string_view host, const FetchOptions& options) {
  if (cls == AddressClass::kPublic) return std::nullopt;
  if (cls != AddressClass::kInvalid && host_listed(host, options)) return std::nullopt;
  if (options.allow_private && cls != AddressClass::kMetadata && cls != AddressClass::kInvalid) {
    return std::nullopt;
  }
  std::string message = "refused to connect to " + std::string(address) + ", a " +
                        std::string(to_string(cls)) + " address, for host '" + std::string(host) +
                        "': ";
  if (cls == AddressClass::kMetadata) {
    message +=
        "cloud metadata addresses are never fetched unless the host is listed in "
        "fetch.allow_hosts";
  } else if (cls == AddressClass::kInvalid) {
    message += "the address could not be checked";
  } else {
    message +=
        "only public addresses are fetched by default; if this host is meant to be reached, "
        "add it to fetch.allow_hosts (or set fetch.allow_private=true)";
  }
  return message;
}

std::string address_text(const sockaddr* address) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (address == nullptr) return {};
  if (address->sa_family == AF_INET) {
    sockaddr_in in{};
    std::memcpy(&in, address, sizeof in);
    if (inet_ntop(AF_INET, &in.sin_addr, buf, sizeof buf) != nullptr) return buf;
  } else if (address->sa_family == AF_INET6) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, address, sizeof in6);
    if (inet_ntop(AF_INET6, &in6.sin6_addr, buf, sizeof buf) != nullptr) return buf;
  }
  return {};
}

}  // namespace host::fetch
