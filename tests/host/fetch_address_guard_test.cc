// The address classifier and the guard's policy: pure functions, so every
// range is checked here without connecting anywhere.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include "host/fetch/address_guard.h"

namespace host::fetch {
namespace {

struct Case {
  const char* address;
  AddressClass expected;
};

TEST(AddressGuard, ClassifiesIpv4Ranges) {
  const Case cases[] = {
      {"8.8.8.8", AddressClass::kPublic},
      {"93.184.216.34", AddressClass::kPublic},
      {"127.0.0.1", AddressClass::kLoopback},
      {"127.255.0.2", AddressClass::kLoopback},
      {"10.0.0.1", AddressClass::kPrivate},
      {"172.16.0.1", AddressClass::kPrivate},
      {"172.31.255.255", AddressClass::kPrivate},
      {"172.32.0.1", AddressClass::kPublic},
      {"192.168.1.1", AddressClass::kPrivate},
      {"100.64.0.1", AddressClass::kCarrierNat},
      {"100.127.255.254", AddressClass::kCarrierNat},
      {"100.128.0.1", AddressClass::kPublic},
      {"169.254.1.1", AddressClass::kLinkLocal},
      {"169.254.169.254", AddressClass::kMetadata},
      {"169.254.170.2", AddressClass::kMetadata},
      {"100.100.100.200", AddressClass::kMetadata},
      {"168.63.129.16", AddressClass::kMetadata},
      {"0.0.0.0", AddressClass::kUnspecified},
      {"0.1.2.3", AddressClass::kUnspecified},
      {"224.0.0.1", AddressClass::kMulticast},
      {"239.255.255.250", AddressClass::kMulticast},
      {"255.255.255.255", AddressClass::kReserved},
      {"240.0.0.1", AddressClass::kReserved},
      {"192.0.2.1", AddressClass::kReserved},
      {"198.51.100.7", AddressClass::kReserved},
      {"203.0.113.9", AddressClass::kReserved},
      {"198.18.0.1", AddressClass::kReserved},
      {"192.0.0.8", AddressClass::kReserved},
  };
  for (const Case& c : cases) EXPECT_EQ(classify(c.address), c.expected) << c.address;
}

TEST(AddressGuard, ClassifiesIpv6Ranges) {
  const Case cases[] = {
      {"2606:4700:4700::1111", AddressClass::kPublic},
      {"::1", AddressClass::kLoopback},
      {"[::1]", AddressClass::kLoopback},
      {"::", AddressClass::kUnspecified},
      {"fe80::1", AddressClass::kLinkLocal},
      {"fe80::1%eth0", AddressClass::kLinkLocal},
      {"febf::1", AddressClass::kLinkLocal},
      {"fc00::1", AddressClass::kPrivate},
      {"fd12:3456::1", AddressClass::kPrivate},
      {"fec0::1", AddressClass::kPrivate},
      {"fd00:ec2::254", AddressClass::kMetadata},
      {"ff02::1", AddressClass::kMulticast},
      {"2001:db8::1", AddressClass::kReserved},
      {"2001::1", AddressClass::kReserved},  // Teredo
      {"100::1", AddressClass::kReserved},
      {"::2", AddressClass::kReserved},  // IPv4-compatible, deprecated
      {"4000::1", AddressClass::kReserved},
      {"64:ff9b:1::1", AddressClass::kPrivate},
  };
  for (const Case& c : cases) EXPECT_EQ(classify(c.address), c.expected) << c.address;
}

TEST(AddressGuard, Ipv4InsideIpv6IsClassifiedByTheIpv4Address) {
  const Case cases[] = {
      {"::ffff:10.0.0.1", AddressClass::kPrivate},
      {"::ffff:127.0.0.1", AddressClass::kLoopback},
      {"::ffff:169.254.169.254", AddressClass::kMetadata},
      {"::ffff:8.8.8.8", AddressClass::kPublic},
      {"64:ff9b::10.1.2.3", AddressClass::kPrivate},
      {"64:ff9b::8.8.8.8", AddressClass::kPublic},
      {"2002:7f00:0001::1", AddressClass::kLoopback},  // 6to4 of 127.0.0.1
      {"2002:0808:0808::1", AddressClass::kPublic},
  };
  for (const Case& c : cases) EXPECT_EQ(classify(c.address), c.expected) << c.address;
}

TEST(AddressGuard, HostNamesAndGarbageAreInvalid) {
  for (const char* text : {"", "localhost", "example.com", "1.2.3", "1.2.3.4.5", "::g"}) {
    EXPECT_EQ(classify(text), AddressClass::kInvalid) << text;
  }
  EXPECT_EQ(classify(static_cast<const sockaddr*>(nullptr)), AddressClass::kInvalid);
}

TEST(AddressGuard, ClassifiesSocketAddresses) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  inet_pton(AF_INET, "169.254.169.254", &in.sin_addr);
  EXPECT_EQ(classify(reinterpret_cast<const sockaddr*>(&in)), AddressClass::kMetadata);
  EXPECT_EQ(address_text(reinterpret_cast<const sockaddr*>(&in)), "169.254.169.254");

  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "::ffff:192.168.0.1", &in6.sin6_addr);
  EXPECT_EQ(classify(reinterpret_cast<const sockaddr*>(&in6)), AddressClass::kPrivate);
}

TEST(AddressGuard, PublicAddressesAreAlwaysAllowed) {
  const FetchOptions defaults;
  EXPECT_FALSE(check_address(AddressClass::kPublic, "8.8.8.8", "dns.example", defaults));
}

TEST(AddressGuard, NonPublicAddressesAreRefusedByDefault) {
  const FetchOptions defaults;
  for (AddressClass c :
       {AddressClass::kLoopback, AddressClass::kPrivate, AddressClass::kLinkLocal,
        AddressClass::kMetadata, AddressClass::kCarrierNat, AddressClass::kUnspecified,
        AddressClass::kReserved, AddressClass::kMulticast, AddressClass::kInvalid}) {
    const auto refused = check_address(c, "10.1.2.3", "internal.example", defaults);
    ASSERT_TRUE(refused.has_value()) << to_string(c);
    EXPECT_NE(refused->find("10.1.2.3"), std::string::npos);
  }
}

TEST(AddressGuard, AllowPrivateAllowsAllButMetadata) {
  FetchOptions o;
  o.allow_private = true;
  for (AddressClass c : {AddressClass::kLoopback, AddressClass::kPrivate, AddressClass::kLinkLocal,
                         AddressClass::kCarrierNat}) {
    EXPECT_FALSE(check_address(c, "10.1.2.3", "internal.example", o)) << to_string(c);
  }
  const auto refused = check_address(AddressClass::kMetadata, "169.254.169.254", "x.example", o);
  ASSERT_TRUE(refused.has_value());
  EXPECT_NE(refused->find("fetch.allow_hosts"), std::string::npos);
}

TEST(AddressGuard, AllowListedHostsMayConnectAnywhere) {
  FetchOptions o;
  o.allow_hosts = {"intranet.example", "10.0.0.5"};
  EXPECT_FALSE(check_address(AddressClass::kPrivate, "10.9.9.9", "intranet.example", o));
  EXPECT_FALSE(check_address(AddressClass::kPrivate, "10.9.9.9", "INTRANET.example", o));
  EXPECT_FALSE(check_address(AddressClass::kMetadata, "169.254.169.254", "intranet.example", o));
  EXPECT_FALSE(check_address(AddressClass::kPrivate, "10.0.0.5", "10.0.0.5", o));
  // The list names hosts, not addresses: another name reaching 10.0.0.5 is refused.
  EXPECT_TRUE(check_address(AddressClass::kPrivate, "10.0.0.5", "rebind.example", o));
  EXPECT_TRUE(check_address(AddressClass::kPrivate, "10.9.9.9", "other.example", o));
}

}  // namespace
}  // namespace host::fetch
