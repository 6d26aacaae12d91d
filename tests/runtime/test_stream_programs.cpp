// sk_skb and sk_msg programs run by bpfvm. The kernel cannot test-run either type (BPF_PROG_TEST_RUN
// gives -ENOTSUPP), so the kernel here judges the load (both objects must load in it as in bpfvm) and
// the runs are checked against filter.c's documented semantics of each helper.
#include <catch2/catch.hpp>
#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "bpfvm/bpfvm.hpp"
#include "loader/object.hpp"
#include "vm/program.hpp"
#include "tests/kernel/kernel_oracle.hpp"
#include "tests/kernel/skipped_cases.hpp"
#include "tests/runtime/kernel_object.hpp"
#include "tests/runtime/own_cgroup.hpp"

namespace bpfvm::testing {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes read_object(std::string_view stem) { return read_file_bytes(runtime_object_path(stem)); }

template <class T>
std::span<const std::uint8_t> bytes_of(const T& v) {
  return {reinterpret_cast<const std::uint8_t*>(&v), sizeof v};
}

// A command payload: the letter, then u32 arguments at offsets 4, 8, 12, then `tail` bytes 'a', 'b', ...
Bytes command(char letter, std::uint32_t a = 0, std::uint32_t b = 0, std::uint32_t c = 0, std::size_t tail = 0) {
  Bytes out(16, 0);
  out[0] = static_cast<std::uint8_t>(letter);
  std::memcpy(out.data() + 4, &a, 4);
  std::memcpy(out.data() + 8, &b, 4);
  std::memcpy(out.data() + 12, &c, 4);
  for (std::size_t i = 0; i < tail; ++i) out.push_back(static_cast<std::uint8_t>('a' + i % 26));
  return out;
}

// head followed by tail.
Bytes cat(Bytes head, std::span<const std::uint8_t> tail) {
  head.reserve(head.size() + tail.size());
  for (const auto b : tail) head.push_back(b);
  return head;
}

void require_kernel_loads(const Bytes& elf, const char* stem) {
  std::string log;
  auto kobj = KernelObject::load_elf(elf, {}, &log);
  INFO(stem << ": " << (kobj ? std::string() : kobj.error().reason + "\n" + log));
  CHECK(kobj.has_value());
}

// The object `elf` in the kernel; the test stops when the file was empty or the loader or the kernel
// refuses it.
KernelObject require_kernel_object(const Bytes& elf) {
  REQUIRE_FALSE(elf.empty());
  auto kobj = KernelObject::load_elf(elf);
  INFO((kobj ? std::string() : kobj.error().message()));
  REQUIRE(kobj.has_value());
  return std::move(*kobj);
}

// BPF_PROG_ATTACH of the kernel's program `prog` to `target` (a SOCKMAP or a cgroup) as `type`; the
// attr returned also serves BPF_PROG_DETACH.
bpf_attr attach_kernel_program(const Fd& target, const Fd& prog, bpf_attach_type type) {
  bpf_attr attach{};
  attach.target_fd = static_cast<std::uint32_t>(target.get());
  attach.attach_bpf_fd = static_cast<std::uint32_t>(prog.get());
  attach.attach_type = type;
  REQUIRE(kernel_bpf(BPF_PROG_ATTACH, attach) == 0);
  return attach;
}

// A one-slot SOCKMAP in the kernel with `prog` attached as `type`.
Fd attached_sockmap(const Fd& prog, bpf_attach_type type) {
  Fd sockmap;
  REQUIRE(map_create(MapSpec{BPF_MAP_TYPE_SOCKMAP, 4, 4, 1}, sockmap) == 0);
  attach_kernel_program(sockmap, prog, type);
  return sockmap;
}

constexpr Engine kEngines[] = {Engine::Interpreter, Engine::Jit};

TEST_CASE("sk_skb: stream parser and verdict run on the caller's stream bytes", "[runtime][sk_skb]") {
  const Bytes elf = read_object("sk_skb_stream");
  REQUIRE_FALSE(elf.empty());
  require_kernel_loads(elf, "sk_skb_stream");
  Vm vm;
  auto obj = vm.open_elf(elf, {}, "sk_skb_stream");
  REQUIRE(obj.has_value());
  const int client = ::socket(AF_INET, SOCK_STREAM, 0), listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in lo{};
  lo.sin_family = AF_INET;
  lo.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof lo;
  REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&lo), sizeof lo) == 0);
  REQUIRE(::listen(listener, 1) == 0);
  REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&lo), &len) == 0);
  REQUIRE(::connect(client, reinterpret_cast<sockaddr*>(&lo), sizeof lo) == 0);
  auto sock_map = obj->map("sock_map");
  auto result = obj->map("result");
  REQUIRE((sock_map.has_value() && result.has_value()));
  CHECK(sock_map->update(bytes_of(std::uint32_t{1}), bytes_of(std::uint64_t(client))) == 0);

  for (const auto engine : kEngines) {
    for (const bool checked : {false, true}) {
      INFO("engine " << static_cast<int>(engine) << " checked " << checked);
      auto parser = obj->load("parser", {.engine = engine, .checked = checked});
      auto verdict = obj->load("verdict", {.engine = engine, .checked = checked});
      REQUIRE((parser.has_value() && verdict.has_value()));
      // stream_parser: the frame length from a big-endian u16 prefix; 0 (need more) on one byte.
      auto framed = parser->run(RunInput{.data = Bytes{0x00, 0x05, 'h', 'e'}});
      REQUIRE(framed.has_value());
      CHECK(framed->retval == 7);
      CHECK(parser->run(RunInput{.data = Bytes{0x00}})->retval == 0);
      // No stream bytes: refused, as a strparser never runs a program on an empty skb.
      CHECK_FALSE(verdict->run(RunInput{}).has_value());

      struct Seen {
        RunOutput out;
        std::int64_t ret = 0, len = 0, linear = 0;  // `result`: the helper's answer, skb->len, data_end - data
      };
      auto run = [&](const Bytes& data, std::span<const std::uint8_t> ctx = {}) {
        auto out = verdict->run(RunInput{.data = data, .ctx = ctx});
        INFO((out ? std::string() : out.error().message()));
        REQUIRE(out.has_value());
        Seen seen{*out};
        std::int64_t* fields[] = {&seen.ret, &seen.len, &seen.linear};
        for (std::uint32_t k = 0; k < 3; ++k)
          REQUIRE(result->lookup(bytes_of(k), {reinterpret_cast<std::uint8_t*>(fields[k]), 8}) == 0);
        return seen;
      };
      // Direct packet write, SK_PASS; data_out is the skb after the verdict.
      const Seen pass = run(Bytes{'p', 'q', 'r'});
      CHECK(pass.out.retval == SK_PASS);
      CHECK(pass.out.data_out == Bytes{'p', 'x', 'r'});
      CHECK(run(Bytes{'d', 0}).out.retval == SK_DROP);
      // bpf_sk_redirect_map: slot 1 holds a connected TCP socket (egress and ingress allowed); an empty
      // slot or an unknown flag drops; the redirect is reported with map and key.
      const RunOutput redirected = run(command('m', 1)).out;
      CHECK(redirected.retval == SK_PASS);
      REQUIRE(redirected.redirect_map.has_value());
      CHECK((redirected.redirect_map->map == "sock_map" && redirected.redirect_map->key == 1));
      CHECK(run(command('m', 1, BPF_F_INGRESS)).out.retval == SK_PASS);
      CHECK(run(command('m', 2)).out.retval == SK_DROP);
      CHECK_FALSE(run(command('m', 2)).out.redirect_map.has_value());
      CHECK(run(command('m', 1, 4)).out.retval == SK_DROP);
      CHECK(run(command('h', 1)).out.retval == SK_DROP);  // the sockhash is empty
      // bpf_skb_pull_data: up to skb->len is 0, past it -ENOMEM.
      CHECK(run(command('l', 16)).ret == 0);
      CHECK(run(command('l', 0)).ret == 0);
      CHECK(run(command('l', 17)).ret == -ENOMEM);
      // bpf_skb_change_tail: trims, grows with zeroes; flags or more than BPF_SKB_MAX_LEN -EINVAL.
      const Bytes trim = command('t', 5, 0, 0, 4);
      const Seen trimmed = run(trim);
      CHECK((trimmed.ret == 0 && trimmed.len == 5 && trimmed.linear == 5));
      CHECK(trimmed.out.data_out == Bytes(trim.begin(), trim.begin() + 5));
      const Seen grown = run(command('t', 20, 0, 0, 2));
      CHECK((grown.ret == 0 && grown.len == 20));
      REQUIRE(grown.out.data_out.size() == 20);
      CHECK((grown.out.data_out[16] == 'a' && grown.out.data_out[17] == 'b' && grown.out.data_out[18] == 0 &&
             grown.out.data_out[19] == 0));
      CHECK(run(command('t', 5, 1)).ret == -EINVAL);
      CHECK(run(command('t', 16065)).ret == -EINVAL);
      CHECK(run(command('t', 16064)).out.data_out.size() == 16064);
      // bpf_skb_change_head: zeroed bytes in front; flags, or a length above the maximum, -EINVAL.
      const Seen headed = run(command('e', 3));
      CHECK((headed.ret == 0 && headed.len == 19));
      REQUIRE(headed.out.data_out.size() == 19);
      CHECK((headed.out.data_out[0] == 0 && headed.out.data_out[2] == 0 && headed.out.data_out[3] == 'e'));
      CHECK(run(command('e', 3, 1)).ret == -EINVAL);
      CHECK(run(command('e', 16064 - 15)).ret == -EINVAL);
      CHECK(run(command('e', 0xffffffffu)).ret == -EINVAL);  // wraps the u32 length
      // bpf_skb_adjust_room: mode/flags -EINVAL, |len_diff| > 0xfff -EFAULT, grow in front, shrink off the front.
      CHECK(run(command('a', 2, 1)).ret == -EINVAL);
      CHECK(run(command('a', 2, 0, 1)).ret == -EINVAL);
      CHECK(run(command('a', 0x1000)).ret == -EFAULT);
      CHECK(run(command('a', static_cast<std::uint32_t>(-0x1000))).ret == -EFAULT);
      const Seen roomier = run(command('a', 2));
      CHECK(roomier.ret == 0);
      CHECK((roomier.out.data_out.size() == 18 && roomier.out.data_out[0] == 0 && roomier.out.data_out[2] == 'a'));
      const Bytes shrink = command('a', static_cast<std::uint32_t>(-4), 0, 0, 3);
      const Seen shrunk = run(shrink);
      CHECK(shrunk.ret == 0);
      CHECK(shrunk.out.data_out == Bytes(shrink.begin() + 4, shrink.end()));
      CHECK(run(command('a', static_cast<std::uint32_t>(-17))).ret == -ENOMEM);
      // Context fields from ctx_in: ports and family, also through skb->sk; len is the run's.
      __sk_buff md{};
      md.family = AF_INET;
      md.local_port = 8080;
      md.remote_port = std::uint32_t{htons(443)} << 16;
      const Seen fields = run(command('f'), bytes_of(md));
      CHECK(fields.ret == 8080 + htons(443) + 8080 + htons(443) + AF_INET);
      CHECK(fields.len == 16);
      md.len = 3;
      CHECK(run(command('f'), bytes_of(md)).len == 16);
      __sk_buff with_pointer{};
      with_pointer.data = 1;
      CHECK_FALSE(verdict->run(RunInput{.data = command('f'), .ctx = bytes_of(with_pointer)}).has_value());
    }
  }
  for (const int fd : {client, listener}) ::close(fd);
}

// sock_ops adds its socket with bpf_sock_map_update / bpf_sock_hash_update (sock_map_op_okay, then
// sock_map_update_common's errnos); a tc program's lookup of a filled slot then reads that socket as
// the context described it (struct bpf_sock), and its delete empties the slot. The kernel cannot
// test-run sock_ops: it judges the load; the answers follow net/core/sock_map.c.
TEST_CASE("sock_ops: bpf_sock_map_update and bpf_sock_hash_update; a tc lookup of the socket", "[runtime][sockmap]") {
  const Bytes elf = read_object("sockmap_ops");
  REQUIRE_FALSE(elf.empty());
  require_kernel_loads(elf, "sockmap_ops");
  for (const auto engine : kEngines) {
    Vm vm;
    auto obj = vm.open_elf(elf, {}, "sockmap_ops");
    REQUIRE(obj.has_value());
    auto ops = obj->load("sock_ops_add", {.engine = engine, .checked = true});
    auto tc = obj->load("sockmap_ops", {.engine = engine, .checked = true});
    INFO((ops ? std::string() : ops.error().message()) << (tc ? std::string() : tc.error().message()));
    REQUIRE((ops.has_value() && tc.has_value()));
    auto seen = obj->map("seen");
    auto socks = obj->map("socks");
    auto sock_hash = obj->map("sock_hash");
    REQUIRE((seen.has_value() && socks.has_value() && sock_hash.has_value()));
    // One sock_ops run: {sockmap answer, sockhash answer}.
    auto add = [&](std::uint32_t op, std::uint32_t state, std::uint32_t flags, std::uint32_t key) {
      bpf_sock_ops in{};
      in.op = op;
      in.state = state;
      in.is_fullsock = 1;
      in.family = AF_INET;
      in.args[0] = flags;
      in.args[1] = key;
      auto out = ops->run(RunInput{.ctx = bytes_of(in)});
      REQUIRE(out.has_value());
      CHECK(out->r0 == 1);
      std::int64_t map_rc = 1, hash_rc = 1;
      REQUIRE(seen->lookup(std::uint32_t{10}, map_rc));
      REQUIRE(seen->lookup(std::uint32_t{11}, hash_rc));
      return std::pair{map_rc, hash_rc};
    };
    using Answer = std::pair<std::int64_t, std::int64_t>;
    CHECK(add(BPF_SOCK_OPS_TCP_CONNECT_CB, 2, BPF_ANY, 1) == Answer{-EOPNOTSUPP, -EOPNOTSUPP});
    CHECK(add(BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB, 1, BPF_EXIST, 1) == Answer{-ENOENT, -ENOENT});
    CHECK(add(BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB, 1, BPF_NOEXIST, 1) == Answer{0, 0});
    CHECK(add(BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB, 1, BPF_NOEXIST, 1) == Answer{-EEXIST, -EEXIST});
    CHECK(add(BPF_SOCK_OPS_TCP_LISTEN_CB, 10, BPF_EXIST, 1) == Answer{0, 0});
    CHECK(add(BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB, 1, BPF_EXIST + 1, 2) == Answer{-EINVAL, -EINVAL});
    CHECK(add(BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB, 1, BPF_ANY, 4) == Answer{-E2BIG, 0});  // sockmap: index 4 of 4
    // What the host sees: a socket at key 1 of both (bpfvm knows no cookie for a context's socket: 0).
    std::uint64_t cookie = 1;
    CHECK(socks->lookup(bytes_of(std::uint32_t{1}), {reinterpret_cast<std::uint8_t*>(&cookie), 8}) == 0);
    CHECK(cookie == 0);
    CHECK(sock_hash->lookup(bytes_of(std::uint32_t{4}), {reinterpret_cast<std::uint8_t*>(&cookie), 8}) == 0);
    // A tc lookup of key 1 (a packet of length 4k + 1) reads the socket the last add put there.
    auto reader = obj->load("sockmap_ops_read", {.engine = engine, .checked = true});
    INFO((reader ? std::string() : reader.error().message()));
    REQUIRE(reader.has_value());
    bpf_sock_ops described{};
    described.op = BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB;
    described.state = BPF_TCP_ESTABLISHED;
    described.is_fullsock = 1;
    described.family = AF_INET;
    described.local_ip4 = htonl(0x7f000001);
    described.remote_ip4 = htonl(0x7f000002);
    described.local_port = 8080;                              // host order
    described.remote_port = std::uint32_t{htons(443)} << 16;  // __be16 in the upper half, as the kernel's ctx
    described.args[0] = BPF_ANY;
    described.args[1] = 1;
    REQUIRE(ops->run(RunInput{.ctx = bytes_of(described)}).has_value());
    const Bytes packet(61, 0);
    auto read = reader->run(RunInput{.data = packet});
    INFO((read ? std::string() : read.error().message()));
    REQUIRE(read.has_value());
    CHECK(read->r0 == 1);
    std::uint64_t field = 0;
    REQUIRE(seen->lookup(std::uint32_t{12}, field));
    CHECK(field == (std::uint64_t{1} << 32 | AF_INET));
    REQUIRE(seen->lookup(std::uint32_t{13}, field));
    CHECK(field == (std::uint64_t{htonl(0x7f000001)} << 32 | 8080));
    REQUIRE(seen->lookup(std::uint32_t{14}, field));
    CHECK(field == (std::uint64_t{htonl(0x7f000002)} << 32 | htons(443)));
    REQUIRE(seen->lookup(std::uint32_t{15}, field));
    CHECK(field == (std::uint64_t{BPF_TCP_ESTABLISHED} << 32 | SOCK_STREAM << 16 | IPPROTO_TCP));
    // The sockmap_ops tc program finds it too (and releases it), then deletes key 1 of both maps.
    auto lookup = tc->run(RunInput{.data = packet});
    INFO((lookup ? std::string() : lookup.error().message()));
    REQUIRE(lookup.has_value());
    REQUIRE(seen->lookup(std::uint32_t{5}, field));
    CHECK(field == 1);
    REQUIRE(seen->lookup(std::uint32_t{7}, field));
    CHECK(field == 0);
    CHECK(reader->run(RunInput{.data = packet}).has_value());  // key 1 empty now
    REQUIRE(seen->lookup(std::uint32_t{12}, field));
    CHECK(field == 0);
    // Key 2 is empty in both maps: the tc run goes through (its update of the test-run socket -EOPNOTSUPP)
    // and deletes nothing (sockmap -EINVAL, sockhash -ENOENT).
    auto empty = tc->run(RunInput{.data = Bytes(62, 0)});
    REQUIRE(empty.has_value());
    std::int64_t v = 0;
    REQUIRE(seen->lookup(std::uint32_t{1}, v));
    CHECK(v == -EOPNOTSUPP);
    REQUIRE(seen->lookup(std::uint32_t{7}, v));
    CHECK(v == -EINVAL);
    REQUIRE(seen->lookup(std::uint32_t{8}, v));
    CHECK(v == -ENOENT);
  }
}

// An IPv4 or IPv6 socket on loopback, bound to an ephemeral port (SO_REUSEPORT when `reuseport`),
// listening when it is TCP; closed at the end of the test.
struct LoopbackSocket {
  int fd = -1;
  LoopbackSocket(int family, int type, bool reuseport) {
    fd = ::socket(family, type, 0);
    REQUIRE(fd >= 0);
    const int one = 1;
    if (reuseport) REQUIRE(::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) == 0);
    sockaddr_storage at{};
    socklen_t len = 0;
    if (family == AF_INET) {
      auto* a = reinterpret_cast<sockaddr_in*>(&at);
      a->sin_family = AF_INET;
      a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      len = sizeof *a;
    } else {
      auto* a = reinterpret_cast<sockaddr_in6*>(&at);
      a->sin6_family = AF_INET6;
      a->sin6_addr = in6addr_loopback;
      len = sizeof *a;
    }
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&at), len) == 0);
    if (type == SOCK_STREAM) REQUIRE(::listen(fd, 4) == 0);
  }
  ~LoopbackSocket() { ::close(fd); }
  std::uint64_t cookie() const {
    std::uint64_t c = 0;
    socklen_t len = sizeof c;
    REQUIRE(::getsockopt(fd, SOL_SOCKET, SO_COOKIE, &c, &len) == 0);
    return c;
  }
};

// No kernel oracle for these runs: the kernel has no BPF_PROG_TEST_RUN for sk_reuseport (its programs
// run only on a reuseport group's receive path), so the kernel judges the load and the answers are
// sk_select_reuseport's in net/core/filter.c (6.18): -ENOENT for an empty or missing slot, -EINVAL for
// a sockmap socket in no reuseport group, -EPROTOTYPE / -EAFNOSUPPORT for one of another protocol or
// family; the context is what reuseport_select_sock gives on receive (data at the TCP header).
TEST_CASE("sk_reuseport: bpf_sk_select_reuseport on a reuseport array, sockmap and sockhash; the context from the frame",
          "[runtime][sk_reuseport]") {
  const Bytes elf = read_object("sk_reuseport");
  REQUIRE_FALSE(elf.empty());
  require_kernel_loads(elf, "sk_reuseport");
  // Ethernet, IPv4 (TCP, 127.0.0.2 -> 127.0.0.1), a TCP header to port 8080, 4 payload bytes.
  Bytes frame(14 + 20 + 20 + 4, 0);
  frame[12] = 0x08;
  frame[14] = 0x45;
  frame[14 + 9] = IPPROTO_TCP;
  const std::uint8_t src[4] = {127, 0, 0, 2}, dst[4] = {127, 0, 0, 1};
  std::memcpy(&frame[14 + 12], src, 4);
  std::memcpy(&frame[14 + 16], dst, 4);
  frame[34 + 2] = 8080 >> 8;
  frame[34 + 3] = 8080 & 0xff;
  frame[34 + 12] = 0x50;
  const LoopbackSocket in_array(AF_INET, SOCK_STREAM, true), in_maps(AF_INET, SOCK_STREAM, true),
      no_reuseport(AF_INET, SOCK_STREAM, false), udp(AF_INET, SOCK_DGRAM, true), v6(AF_INET6, SOCK_STREAM, true);
  for (const auto engine : kEngines) {
    Vm vm;
    auto obj = vm.open_elf(elf, {}, "sk_reuseport");
    REQUIRE(obj.has_value());
    auto prog = obj->load("select_by_hash", {.engine = engine, .checked = true});
    INFO((prog ? std::string() : prog.error().message()));
    REQUIRE(prog.has_value());
    auto array = obj->map("reuse_array"), sockmap = obj->map("reuse_map"), sockhash = obj->map("reuse_hash"),
         seen = obj->map("seen");
    REQUIRE((array.has_value() && sockmap.has_value() && sockhash.has_value() && seen.has_value()));
    REQUIRE(array->update(std::uint32_t{0}, std::uint64_t(in_array.fd)).has_value());
    REQUIRE(sockmap->update(std::uint32_t{0}, std::uint64_t(in_maps.fd)).has_value());
    REQUIRE(sockmap->update(std::uint32_t{1}, std::uint64_t(no_reuseport.fd)).has_value());
    REQUIRE(sockmap->update(std::uint32_t{2}, std::uint64_t(udp.fd)).has_value());
    REQUIRE(sockmap->update(std::uint32_t{3}, std::uint64_t(v6.fd)).has_value());
    REQUIRE(sockhash->update(std::uint32_t{0}, std::uint64_t(in_maps.fd)).has_value());
    struct Case {
      std::uint32_t which, key;
      std::int64_t rc;
      std::uint64_t selected;  // 0: none
    };
    const Case cases[] = {
        {0, 0, 0, in_array.cookie()}, {0, 1, -ENOENT, 0},     {0, 9, -ENOENT, 0},
        {1, 0, 0, in_maps.cookie()},  {1, 1, -EINVAL, 0},     {1, 2, -EPROTOTYPE, 0},
        {1, 3, -EAFNOSUPPORT, 0},     {2, 0, 0, in_maps.cookie()}, {2, 5, -ENOENT, 0},
    };
    for (const auto& c : cases) {
      INFO("map " << c.which << " key " << c.key);
      sk_reuseport_md in{};
      in.hash = c.which << 8 | c.key;
      in.bind_inany = 1;
      auto out = prog->run(RunInput{.data = frame, .ctx = bytes_of(in)});
      INFO((out ? std::string() : out.error().message()));
      REQUIRE(out.has_value());
      std::int64_t v = 1;
      REQUIRE(seen->lookup(std::uint32_t{0}, v));
      CHECK(v == c.rc);
      CHECK(out->r0 == (c.rc == 0 ? SK_PASS : SK_DROP));
      CHECK(out->selected_socket.value_or(0) == c.selected);
      // seen[10]: bpf_skb_load_bytes of the port; seen[11]: the IP protocol and EtherType through
      // bpf_skb_load_bytes_relative, and bit 24 for -EFAULT with the buffer zeroed past the packet.
      const std::int64_t fields[] = {24, htons(0x0800), IPPROTO_TCP, 1,
                                     std::int64_t{AF_INET} << 32 | IPPROTO_TCP << 16 | BPF_TCP_LISTEN, 8080, 1, 8080,
                                     htons(0x0800), 8080, IPPROTO_TCP | 0x0800 << 8 | 1 << 24};
      for (std::uint32_t i = 0; i < std::size(fields); ++i) {
        INFO("seen[" << i + 1 << "]");
        REQUIRE(seen->lookup(i + 1, v));
        CHECK(v == fields[i]);
      }
    }
    // The context's pointers and len come from the frame: ctx_in setting them is EINVAL, as a frame
    // without IP is.
    sk_reuseport_md bad{};
    bad.len = 1;
    CHECK_FALSE(prog->run(RunInput{.data = frame, .ctx = bytes_of(bad)}).has_value());
    Bytes arp = frame;
    arp[13] = 0x06;
    CHECK_FALSE(prog->run(RunInput{.data = arp}).has_value());
  }
}

TEST_CASE("sk_msg: apply/cork bytes and pull/push/pop data on the message", "[runtime][sk_msg]") {
  const Bytes elf = read_object("sk_msg_data");
  REQUIRE_FALSE(elf.empty());
  require_kernel_loads(elf, "sk_msg_data");
  Vm vm;
  auto obj = vm.open_elf(elf, {}, "sk_msg_data");
  REQUIRE(obj.has_value());
  auto after = obj->map("after");
  REQUIRE(after.has_value());
  for (const auto engine : kEngines) {
    for (const bool checked : {false, true}) {
      INFO("engine " << static_cast<int>(engine) << " checked " << checked);
      auto prog = obj->load("msg_data", {.engine = engine, .checked = checked});
      REQUIRE(prog.has_value());
      struct Seen {
        RunOutput out;
        std::int64_t ret = 0, window = 0, size = 0;
      };
      auto run = [&](const Bytes& message) {
        auto out = prog->run(RunInput{.data = message});
        INFO((out ? std::string() : out.error().message()));
        REQUIRE(out.has_value());
        Seen seen{*out};
        std::int64_t* fields[] = {&seen.ret, &seen.window, &seen.size};
        for (std::uint32_t k = 0; k < 3; ++k)
          REQUIRE(after->lookup(bytes_of(k), {reinterpret_cast<std::uint8_t*>(fields[k]), 8}) == 0);
        CHECK(seen.out.retval == SK_PASS);
        return seen;
      };
      const Bytes plain = command('a', 100, 0, 0, 4);
      const Seen applied = run(plain);
      CHECK((applied.ret == 0 && applied.out.msg_apply_bytes == 100u && !applied.out.msg_cork_bytes));
      CHECK((applied.window == 20 && applied.size == 20 && applied.out.data_out == plain));
      const Seen corked = run(command('c', 7));
      CHECK((corked.out.msg_cork_bytes == 7u && !corked.out.msg_apply_bytes));
      CHECK_FALSE(run(command('x')).out.msg_apply_bytes.has_value());

      // pull_data: [start, end) inside the one fragment becomes the window.
      const Seen pulled = run(command('l', 4, 8, 0, 4));
      CHECK((pulled.ret == 0 && pulled.window == 4 && pulled.size == 20));
      CHECK(run(command('l', 8, 8)).ret == -EINVAL);      // end <= start
      CHECK(run(command('l', 4, 8, 1)).ret == -EINVAL);   // flags
      CHECK(run(command('l', 16, 17)).ret == -EINVAL);    // start past the message
      CHECK(run(command('l', 4, 17)).ret == -EINVAL);     // end past the message
      CHECK(run(command('l', 4, 8, 0, 4)).window == 4);

      // push_data at the start: a fragment of its own in front, which the window then names.
      const Bytes msg = command('u', 0, 4, 0, 4);
      const Seen front = run(msg);
      CHECK((front.ret == 0 && front.window == 4 && front.size == 24));
      CHECK(front.out.data_out == cat({'#', 0, 0, 0}, msg));
      // Inside the fragment: split in three, the window is the part before start.
      const Bytes split_msg = command('u', 2, 3, 0, 4);
      const Seen split = run(split_msg);
      CHECK((split.ret == 0 && split.window == 2 && split.size == 23));
      CHECK(split.out.data_out == cat({'#', split_msg[1], 0, 0, 0}, std::span(split_msg).subspan(2)));
      const Seen appended = run(command('u', 16, 4));    // start == size appends
      CHECK((appended.ret == 0 && appended.size == 20 && appended.window == 16));
      CHECK(run(command('u', 17, 4)).ret == -EINVAL);     // start past the end
      CHECK(run(command('u', 0, 4, 1)).ret == -EINVAL);   // flags
      const Bytes empty_push = command('u', 0, 0);
      const Seen nothing = run(empty_push);
      CHECK((nothing.ret == 0 && nothing.size == 16 && nothing.out.data_out == cat({'#'}, std::span(empty_push).subspan(1))));
      CHECK(run(command('u', 0, 0x7fffffff)).ret == -ENOMEM);

      // pop_data inside the fragment: split around the hole; at its start: the fragment shrinks.
      const Bytes pop_msg = command('o', 4, 4, 0, 4);
      const Seen holed = run(pop_msg);
      CHECK((holed.ret == 0 && holed.window == 4 && holed.size == 16));
      CHECK(holed.out.data_out == cat(Bytes(pop_msg.begin(), pop_msg.begin() + 4), std::span(pop_msg).subspan(8)));
      const Bytes head_msg = command('o', 0, 4, 0, 4);
      const Seen headless = run(head_msg);
      CHECK((headless.ret == 0 && headless.window == 16 && headless.size == 16));
      CHECK(headless.out.data_out == Bytes(head_msg.begin() + 4, head_msg.end()));
      const Seen emptied = run(command('o', 0, 16));      // the whole message
      CHECK((emptied.ret == 0 && emptied.size == 0 && emptied.window == 0 && emptied.out.data_out.empty()));
      CHECK(run(command('o', 0, 17)).ret == -EINVAL);     // past the end
      CHECK(run(command('o', 0, 15)).size == 1);
      CHECK(run(command('o', 16, 0)).ret == 0);           // len 0: nothing, whatever start
      CHECK(run(command('o', 16, 1)).ret == -EINVAL);     // start past the message
      CHECK(run(command('o', 4, 4, 1)).ret == -EINVAL);   // flags
    }
  }
}

// A connected TCP pair on loopback: `client` (put in the sockmap) and the peer `server` that reads.
struct TcpPair {
  int listener = -1, client = -1, server = -1;
  TcpPair() {
    listener = ::socket(AF_INET, SOCK_STREAM, 0);
    client = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in lo{};
    lo.sin_family = AF_INET;
    lo.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof lo;
    if (::bind(listener, reinterpret_cast<sockaddr*>(&lo), sizeof lo) != 0 || ::listen(listener, 1) != 0 ||
        ::getsockname(listener, reinterpret_cast<sockaddr*>(&lo), &len) != 0 ||
        ::connect(client, reinterpret_cast<sockaddr*>(&lo), sizeof lo) != 0)
      return;
    server = ::accept(listener, nullptr, nullptr);
  }
  ~TcpPair() {
    for (const int fd : {listener, client, server})
      if (fd >= 0) ::close(fd);
  }
  // Whatever arrives until 200 ms pass without a byte.
  Bytes receive() const {
    Bytes got;
    pollfd p{server, POLLIN, 0};
    while (::poll(&p, 1, 200) == 1) {
      std::uint8_t buf[4096];
      const ssize_t n = ::recv(server, buf, sizeof buf, MSG_DONTWAIT);
      if (n <= 0) break;
      got.insert(got.end(), buf, buf + n);
    }
    return got;
  }
};

// The kernel runs sk_msg programs on sendmsg() of a socket in a SOCKMAP the program is attached to
// (BPF_SK_MSG_VERDICT): each message goes through the kernel's program and through bpfvm's run, and
// the helper's answer, the window, sk_msg_md.size and the bytes the peer receives must agree. Bytes
// bpf_msg_push_data adds are not compared: the kernel's new page is not cleared (bpfvm's are zero).
TEST_CASE("sk_msg data helpers against the kernel's sendmsg path", "[runtime][sk_msg][kernel]") {
  const Bytes elf = read_object("sk_msg_data");
  const KernelObject kobj = require_kernel_object(elf);
  const Fd* kprog = kobj.program("msg_data");
  const Fd* kafter = kobj.map("after");
  REQUIRE((kprog != nullptr && kafter != nullptr));
  const Fd sockmap = attached_sockmap(*kprog, BPF_SK_MSG_VERDICT);

  Vm vm;
  auto obj = vm.open_elf(elf, {}, "sk_msg_data");
  REQUIRE(obj.has_value());
  auto prog = obj->load("msg_data");
  REQUIRE(prog.has_value());
  auto after = obj->map("after");
  REQUIRE(after.has_value());

  const Bytes cases[] = {
      command('a', 100, 0, 0, 4), command('c', 7), command('l', 4, 8, 0, 4), command('l', 8, 8), command('l', 4, 8, 1),
      command('l', 16, 17), command('l', 4, 17), command('u', 0, 4, 0, 4), command('u', 2, 3, 0, 4),
      command('u', 16, 4), command('u', 0, 4, 1), command('u', 0, 0), command('u', 0, 0x7fffffff),
      command('o', 4, 4, 0, 4), command('o', 0, 4, 0, 4), command('o', 0, 16), command('o', 0, 15),
      command('o', 16, 0), command('o', 4, 4, 1), command('o', 4, 12, 0, 8), command('u', 20, 8, 0, 8),
      command('u', 17, 4), command('u', 24, 4, 0, 8), command('o', 0, 17), command('o', 16, 1), command('o', 10, 6),
      command('o', 8, 8, 0, 8), command('l', 0, 16), command('u', 8, 0x10000), command('u', 0, 0x400001),
  };
  int compared = 0;
  for (const Bytes& message : cases) {
    INFO("command '" << static_cast<char>(message[0]) << "' " << message.size() << " bytes");
    // A socket of its own per message: apply_bytes/cork_bytes state stays with the kernel's psock.
    TcpPair pair;
    REQUIRE(pair.server >= 0);
    const std::uint32_t slot = 0, fd = static_cast<std::uint32_t>(pair.client);
    REQUIRE(map_update(sockmap, bytes_of(slot), bytes_of(fd)) == 0);
    REQUIRE(::send(pair.client, message.data(), message.size(), 0) == static_cast<ssize_t>(message.size()));
    const Bytes kernel_got = pair.receive();
    std::int64_t kernel_rec[3] = {}, ours[3] = {};
    for (std::uint32_t k = 0; k < 3; ++k)
      REQUIRE(map_lookup(*kafter, bytes_of(k), {reinterpret_cast<std::uint8_t*>(&kernel_rec[k]), 8}) == 0);
    auto out = prog->run(RunInput{.data = message});
    REQUIRE(out.has_value());
    for (std::uint32_t k = 0; k < 3; ++k)
      REQUIRE(after->lookup(bytes_of(k), {reinterpret_cast<std::uint8_t*>(&ours[k]), 8}) == 0);
    CHECK(ours[0] == kernel_rec[0]);
    CHECK(ours[1] == kernel_rec[1]);
    CHECK(ours[2] == kernel_rec[2]);
    Bytes mine = out->data_out, theirs = kernel_got;
    std::uint32_t start = 0, len = 0;
    std::memcpy(&start, message.data() + 4, 4);
    std::memcpy(&len, message.data() + 8, 4);
    if (message[0] == 'u' && ours[0] == 0 && mine.size() == theirs.size())
      for (std::uint64_t i = start; i < std::uint64_t{start} + len && i < mine.size(); ++i) mine[i] = theirs[i] = 0;
    CHECK(mine == theirs);
    ++compared;
  }
  std::printf("sk_msg kernel differential: %d messages compared\n", compared);
}

// The kernel runs sock_ops programs on the TCP sockets of a cgroup (BPF_CGROUP_SOCK_OPS): this process
// moves into a child cgroup with sockmap_ops' sock_ops_add attached, listens, connects and accepts over
// loopback, and moves back. Every op that ran left the answers of bpf_sock_map_update and
// bpf_sock_hash_update (key 0, BPF_ANY: these ops' args are 0) in ops_seen[op]; bpfvm runs each of those
// ops on a context with the socket's state then and must give the same answers.
TEST_CASE("sock_ops bpf_sock_map_update/bpf_sock_hash_update against the kernel's TCP callbacks",
          "[runtime][sockmap][kernel]") {
  const Bytes elf = read_object("sockmap_ops");
  const KernelObject kobj = require_kernel_object(elf);
  const Fd* kprog = kobj.program("sock_ops_add");
  const Fd* kseen = kobj.map("ops_seen");
  REQUIRE((kprog != nullptr && kseen != nullptr));
  const std::string own = own_cgroup2_dir();
  if (own.empty()) return skip_case("sock_ops differential: no cgroup v2 mount here to attach the kernel's program to");
  const std::string child = own + "/bpfvm_sock_ops_" + std::to_string(::getpid());
  REQUIRE((::mkdir(child.c_str(), 0755) == 0 || errno == EEXIST));
  {
    Fd cgroup(::open(child.c_str(), O_RDONLY | O_DIRECTORY));
    REQUIRE(cgroup.get() >= 0);
    bpf_attr attach = attach_kernel_program(cgroup, *kprog, BPF_CGROUP_SOCK_OPS);
    const bool moved = move_to_cgroup(child);
    if (moved) {
      TcpPair pair;
      CHECK(pair.server >= 0);
    }
    CHECK(move_to_cgroup(own));
    CHECK(kernel_bpf(BPF_PROG_DETACH, attach) == 0);
    REQUIRE(moved);
  }
  ::rmdir(child.c_str());

  Vm vm;
  auto obj = vm.open_elf(elf, {}, "sockmap_ops");
  REQUIRE(obj.has_value());
  auto prog = obj->load("sock_ops_add");
  REQUIRE(prog.has_value());
  auto ours_seen = obj->map("ops_seen");
  REQUIRE(ours_seen.has_value());
  int compared = 0, added = 0;
  for (std::uint32_t op = 0; op < 16; ++op) {
    std::uint64_t kernel_rc = 0;
    REQUIRE(map_lookup(*kseen, bytes_of(op), {reinterpret_cast<std::uint8_t*>(&kernel_rc), 8}) == 0);
    if (kernel_rc == 0) continue;  // the kernel never called the program with this op
    bpf_sock_ops in{};
    in.op = op;
    in.family = AF_INET;
    in.is_fullsock = 1;
    in.state = op == BPF_SOCK_OPS_TCP_LISTEN_CB ? BPF_TCP_LISTEN
               : op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB || op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB
                   ? BPF_TCP_ESTABLISHED
                   : BPF_TCP_SYN_SENT;
    auto out = prog->run(RunInput{.ctx = bytes_of(in)});
    REQUIRE(out.has_value());
    std::uint64_t ours = 0;
    REQUIRE(ours_seen->lookup(bytes_of(op), {reinterpret_cast<std::uint8_t*>(&ours), 8}) == 0);
    INFO("op " << op);
    CHECK(ours == kernel_rc);
    ++compared;
    if (kernel_rc == (std::uint64_t{1000} << 32 | 1000)) ++added;
  }
  std::printf("sock_ops kernel differential: %d ops compared, %d of them added the socket\n", compared, added);
  CHECK(added >= 2);  // at least the listen and an established callback
}

// The kernel runs a stream verdict on every skb a socket in its SOCKMAP receives
// (BPF_SK_SKB_STREAM_VERDICT): the same payload goes through the kernel's verdict and bpfvm's run,
// and the helper's answer, skb->len and the bytes the receiver reads (nothing after SK_DROP) must
// agree. The kernel's skb may be non-linear (data_end - data is not compared); bpfvm's is linear.
TEST_CASE("sk_skb stream verdict against the kernel's receive path", "[runtime][sk_skb][kernel]") {
  const Bytes elf = read_object("sk_skb_stream");
  const KernelObject kobj = require_kernel_object(elf);
  const Fd* kprog = kobj.program("verdict");
  const Fd* kresult = kobj.map("result");
  REQUIRE((kprog != nullptr && kresult != nullptr));
  const Fd sockmap = attached_sockmap(*kprog, BPF_SK_SKB_STREAM_VERDICT);

  Vm vm;
  auto obj = vm.open_elf(elf, {}, "sk_skb_stream");
  REQUIRE(obj.has_value());
  auto verdict = obj->load("verdict");
  REQUIRE(verdict.has_value());
  auto result = obj->map("result");
  REQUIRE(result.has_value());

  const Bytes cases[] = {
      Bytes{'p', 'q', 'r'}, Bytes{'d', 0}, command('l', 16), command('l', 0), command('l', 17),
      command('t', 5, 0, 0, 4), command('t', 20, 0, 0, 2), command('t', 5, 1), command('t', 16065),
      command('t', 16064), command('e', 3), command('e', 3, 1), command('e', 16064 - 15), command('e', 0xffffffffu),
      command('a', 2, 1), command('a', 2, 0, 1), command('a', 0x1000), command('a', static_cast<std::uint32_t>(-0x1000)),
      command('a', 2), command('a', static_cast<std::uint32_t>(-4), 0, 0, 3), command('a', static_cast<std::uint32_t>(-17)),
      command('f'),
  };
  int compared = 0;
  for (const Bytes& payload : cases) {
    INFO("command '" << static_cast<char>(payload[0]) << "' " << payload.size() << " bytes");
    TcpPair pair;
    REQUIRE(pair.server >= 0);
    const std::uint32_t slot = 0, fd = static_cast<std::uint32_t>(pair.server);
    REQUIRE(map_update(sockmap, bytes_of(slot), bytes_of(fd)) == 0);
    const std::int64_t unset = 0x5eed;
    for (std::uint32_t k = 0; k < 3; ++k) REQUIRE(map_update(*kresult, bytes_of(k), bytes_of(unset)) == 0);
    REQUIRE(::send(pair.client, payload.data(), payload.size(), 0) == static_cast<ssize_t>(payload.size()));
    const Bytes kernel_got = pair.receive();
    std::int64_t kernel_rec[3] = {}, ours[3] = {};
    for (std::uint32_t k = 0; k < 3; ++k)
      REQUIRE(map_lookup(*kresult, bytes_of(k), {reinterpret_cast<std::uint8_t*>(&kernel_rec[k]), 8}) == 0);
    // bpfvm's context: the receiving socket's family, addresses and ports, as the kernel reads them.
    sockaddr_in local{}, peer{};
    socklen_t n = sizeof local;
    REQUIRE(::getsockname(pair.server, reinterpret_cast<sockaddr*>(&local), &n) == 0);
    n = sizeof peer;
    REQUIRE(::getpeername(pair.server, reinterpret_cast<sockaddr*>(&peer), &n) == 0);
    __sk_buff md{};
    md.family = AF_INET;
    md.local_ip4 = local.sin_addr.s_addr;
    md.remote_ip4 = peer.sin_addr.s_addr;
    md.local_port = ntohs(local.sin_port);
    md.remote_port = std::uint32_t{peer.sin_port} << 16;
    for (std::uint32_t k = 0; k < 3; ++k) REQUIRE(result->update(bytes_of(k), bytes_of(unset)) == 0);
    auto out = verdict->run(RunInput{.data = payload, .ctx = bytes_of(md)});
    REQUIRE(out.has_value());
    for (std::uint32_t k = 0; k < 3; ++k)
      REQUIRE(result->lookup(bytes_of(k), {reinterpret_cast<std::uint8_t*>(&ours[k]), 8}) == 0);
    CHECK(ours[0] == kernel_rec[0]);
    CHECK(ours[1] == kernel_rec[1]);
    CHECK((out->retval == SK_PASS ? out->data_out : Bytes{}) == kernel_got);
    ++compared;
  }
  std::printf("sk_skb kernel differential: %d payloads compared\n", compared);
}

// bpf_skb_pull_data is also the tc program's: on a test-run skb (linear) up to skb->len is 0, past it
// -ENOMEM, as BPF_PROG_TEST_RUN answers. r0 = the helper's answer; the program is the same bytes on
// both sides.
TEST_CASE("bpf_skb_pull_data from tc against BPF_PROG_TEST_RUN", "[runtime][kernel]") {
  Bytes packet(60, 0);
  packet[12] = 0x08;
  packet[13] = 0x00;  // IPv4, 46 bytes of header and payload
  for (const std::uint32_t len : {0u, 14u, 59u, 60u, 61u, 0x7fffffffu, 0xffffffffu}) {
    INFO("len " << len);
    Vm vm;
    auto type = ProgramType::from_section("tc");
    REQUIRE(type.has_value());
    const std::string text = "mov %r2, " + std::to_string(static_cast<std::int32_t>(len)) + "\ncall 39\nexit\n";
    auto obj = vm.open_assembly(text, *type, "pull");
    REQUIRE(obj.has_value());
    auto prog = obj->load("pull");
    REQUIRE(prog.has_value());
    const auto code = prog->bytecode();
    auto decoded = vm::decode_program(code);
    REQUIRE(decoded.has_value());
    auto kfd = load_program(BPF_PROG_TYPE_SCHED_CLS, decoded->insns);
    REQUIRE(kfd.has_value());
    auto kernel = test_run(*kfd, packet);
    REQUIRE(kernel.has_value());
    auto ours = prog->run(RunInput{.data = packet});
    REQUIRE(ours.has_value());
    CHECK(ours->retval == kernel->retval);
    CHECK(ours->data_out == kernel->data_out);
  }
}

}  // namespace
}  // namespace bpfvm::testing
