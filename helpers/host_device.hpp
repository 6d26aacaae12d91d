// The host's network devices as helpers see them: a device of the calling thread's network
// namespace by ifindex, with the MTU and hard header length the kernel's net_device holds.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

namespace bpfvm::helpers::detail {

/// What bpf_check_mtu reads of a net_device: dev->mtu and dev->hard_header_len.
struct HostDevice {
  std::int32_t mtu = 0;
  std::int32_t hard_header_len = 0;
};

/// No device has that ifindex in this thread's network namespace (dev_get_by_index_rcu's NULL).
struct NoHostDevice {};

/// The device is there but bpfvm cannot tell its hard_header_len: the reason, one line.
struct UnknownHostDevice {
  std::string reason;
};

using HostDeviceLookup = std::variant<HostDevice, NoHostDevice, UnknownHostDevice>;

/// The device `ifindex` names in the calling thread's network namespace, read at call time (the
/// kernel reads dev->mtu at each call too): name (SIOCGIFNAME), MTU (SIOCGIFMTU) and link type
/// (SIOCGIFHWADDR's ARPHRD_*). Ethernet and loopback devices have ETH_HLEN of hard header, except an
/// 802.1Q device (listed in /proc/net/vlan/config), whose header depends on its lower device's
/// offloads; other link types and 802.1Q devices are UnknownHostDevice.
HostDeviceLookup find_host_device(std::uint32_t ifindex);

}  // namespace bpfvm::helpers::detail
