// find_host_device: a net_device's MTU and hard header length by ifindex, through socket ioctls in
// the calling thread's network namespace (sysfs may show another namespace's devices).
#include "helpers/host_device.hpp"

#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace bpfvm::helpers::detail {
namespace {
constexpr std::int32_t kEthHeaderBytes = 14;  // ETH_HLEN: ether_setup's and loopback_setup's hard_header_len

// The socket the ioctls go through; closed on every path.
class IoctlSocket {
 public:
  IoctlSocket() : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {}
  IoctlSocket(const IoctlSocket&) = delete;
  IoctlSocket& operator=(const IoctlSocket&) = delete;
  ~IoctlSocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

// Whether /proc/net/vlan/config (this thread's namespace) lists `name` as an 802.1Q device.
bool is_vlan_device(const char* name) {
  std::FILE* f = std::fopen("/proc/net/vlan/config", "r");
  if (f == nullptr) return false;  // no 8021q module: no VLAN devices
  char line[256];
  bool found = false;
  const std::size_t len = std::strlen(name);
  while (!found && std::fgets(line, sizeof line, f) != nullptr)
    found = std::strncmp(line, name, len) == 0 && (line[len] == ' ' || line[len] == '|');
  std::fclose(f);
  return found;
}
}  // namespace

HostDeviceLookup find_host_device(std::uint32_t ifindex) {
  const IoctlSocket sock;
  if (sock.fd() < 0) return UnknownHostDevice{"no socket to ask for device " + std::to_string(ifindex)};
  ifreq req{};
  req.ifr_ifindex = static_cast<int>(ifindex);
  if (::ioctl(sock.fd(), SIOCGIFNAME, &req) != 0) {
    if (errno == ENODEV) return NoHostDevice{};
    return UnknownHostDevice{"SIOCGIFNAME for device " + std::to_string(ifindex) + ": " + std::strerror(errno)};
  }
  const std::string name = req.ifr_name;
  if (::ioctl(sock.fd(), SIOCGIFMTU, &req) != 0) return NoHostDevice{};  // gone since SIOCGIFNAME
  const std::int32_t mtu = req.ifr_mtu;
  std::strncpy(req.ifr_name, name.c_str(), IFNAMSIZ - 1);
  if (::ioctl(sock.fd(), SIOCGIFHWADDR, &req) != 0) return NoHostDevice{};
  const auto type = req.ifr_hwaddr.sa_family;
  if ((type == ARPHRD_ETHER && !is_vlan_device(name.c_str())) || type == ARPHRD_LOOPBACK)
    return HostDevice{mtu, kEthHeaderBytes};
  return UnknownHostDevice{"device " + name + " (link type " + std::to_string(type) +
                           (type == ARPHRD_ETHER ? ", 802.1Q" : "") + ") has a hard header length bpfvm does not know"};
}

}  // namespace bpfvm::helpers::detail
