// The address guard: which IP addresses a fetch may connect to.
//
// The fetcher asks check_address() for every socket it is about to open
// (CURLOPT_OPENSOCKETFUNCTION) and again for the address of every connection
// before a request is sent on it (CURLOPT_PREREQFUNCTION, which also covers
// reused connections). The check is on the address actually connected to, so
// neither a redirect nor a DNS answer that changes between lookups can route a
// request to a private address the settings refuse.
//
// Pure functions; thread-safe.
#pragma once

#include <sys/socket.h>

#include <optional>
#include <string>
#include <string_view>

#include "host/fetch/fetch_options.h"

namespace host::fetch {

enum class AddressClass {
  kPublic,       // globally routable unicast
  kLoopback,     // 127.0.0.0/8, ::1
  kPrivate,      // 10/8, 172.16/12, 192.168/16, fc00::/7, fec0::/10, 64:ff9b:1::/48
  kCarrierNat,   // 100.64.0.0/10 (shared address space)
  kLinkLocal,    // 169.254.0.0/16, fe80::/10
  kMetadata,     // cloud instance metadata: 169.254.169.254, 169.254.170.2,
                 // 100.100.100.200, 168.63.129.16, fd00:ec2::254
  kUnspecified,  // 0.0.0.0/8, :: (Linux connects 0.0.0.0 to the local host)
  kMulticast,    // 224.0.0.0/4, ff00::/8
  kReserved,     // documentation, benchmarking, 240/4, broadcast, Teredo,
                 // IETF assignments, anything outside 2000::/3, ...
  kInvalid,      // not an IPv4 or IPv6 address
};

// "public", "loopback", "private", "carrier-grade NAT", "link-local",
// "cloud metadata", "unspecified", "multicast", "reserved", "invalid".
std::string_view to_string(AddressClass c);

// Classifies an AF_INET or AF_INET6 socket address (`address` must point to a
// whole sockaddr_in or sockaddr_in6, as from getaddrinfo or libcurl). IPv4-mapped (::ffff:a.b.c.d),
// NAT64 (64:ff9b::/96) and 6to4 (2002::/16) addresses are classified by the
// IPv4 address they carry. nullptr or another family gives kInvalid.
AddressClass classify(const sockaddr* address);
// The same for a textual address ("10.0.0.1", "::ffff:10.0.0.1", "[::1]",
// "fe80::1%eth0"); host names are kInvalid.
AddressClass classify(std::string_view address);

// Decides whether a fetch of a URL on `host` (as written in the URL, lower
// case, IPv6 without brackets) may connect to `address` (textual) of class
// `cls`. Returns nullopt when allowed, else a message for the user naming
// the address, its class, and the setting that would allow it:
//  - public addresses are always allowed;
//  - a host listed in options.allow_hosts may connect anywhere;
//  - options.allow_private allows every class except kMetadata and kInvalid.
std::optional<std::string> check_address(AddressClass cls, std::string_view address,
                                         std::string_view host, const FetchOptions& options);

// The textual form of an AF_INET/AF_INET6 socket address ("" for others).
std::string address_text(const sockaddr* address);

}  // namespace host::fetch
