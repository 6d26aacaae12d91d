// ProgramType: the public description of how a program is entered, and its mappings onto the
// verifier's type descriptions and the helpers' kernel contexts.
#include "api/program_type.hpp"

#include "loader/section_names.hpp"

namespace bpfvm {

namespace {
struct KernelType {
  std::uint32_t number;
  const char* name;
};
// The kernel program types bpfvm gives a context to (helpers/contexts.hpp, verifier/program_types.cpp).
constexpr KernelType kKernelTypes[] = {
    {1, "socket_filter"},  {2, "kprobe"},          {3, "sched_cls"},          {4, "sched_act"},
    {5, "tracepoint"},     {6, "xdp"},             {7, "perf_event"},         {8, "cgroup_skb"},
    {9, "cgroup_sock"},    {10, "lwt_in"},         {11, "lwt_out"},           {12, "lwt_xmit"},
    {13, "sock_ops"},      {14, "sk_skb"},         {15, "cgroup_device"},     {16, "sk_msg"},
    {17, "raw_tracepoint"}, {18, "cgroup_sock_addr"}, {19, "lwt_seg6local"},  {22, "flow_dissector"},
    {23, "cgroup_sysctl"},  {24, "raw_tracepoint_writable"},
    {25, "cgroup_sockopt"}, {26, "tracing"},       {31, "syscall"},       {30, "sk_lookup"},
    {21, "sk_reuseport"},
};
}  // namespace

ProgramType ProgramType::plain(std::uint32_t max_input_bytes) {
  ProgramType t;
  t.name = "plain";
  t.entry = Entry::PlainMemory;
  t.ctx_size_bytes = max_input_bytes;
  return t;
}

Result<ProgramType> ProgramType::kernel(std::uint32_t bpf_prog_type) {
  for (const auto& k : kKernelTypes)
    if (k.number == bpf_prog_type) {
      ProgramType t;
      t.name = k.name;
      t.kernel_type = k.number;
      t.entry = Entry::Context;
      return t;
    }
  return make_error(Errc::Unsupported, "program type " + std::string(loader::prog_type_name(bpf_prog_type)) +
                                           " (" + std::to_string(bpf_prog_type) + ") is not supported yet");
}

Result<ProgramType> ProgramType::from_section(std::string_view section) {
  const auto def = loader::find_program_section_def(section);
  if (!def) return make_error(Errc::Unsupported, "section '" + std::string(section) + "' names no program type libbpf knows");
  auto t = kernel(def->prog_type);
  if (t) t->expected_attach_type = def->expected_attach_type;
  return t;
}

ProgramType ProgramType::host(std::string name, std::uint32_t ctx_size_bytes, std::vector<ContextField> fields) {
  ProgramType t;
  t.name = std::move(name);
  t.entry = Entry::Context;
  t.ctx_size_bytes = ctx_size_bytes;
  t.fields = std::move(fields);
  return t;
}

Result<verifier::ProgramTypeInfo> verifier_type_of(const ProgramType& type) {
  namespace pt = verifier::program_types;
  switch (type.kernel_type) {
    case 1: return pt::socket_filter();
    case 2: return pt::kprobe();
    case 3: case 4: return pt::sched_cls();
    case 5: return pt::tracepoint();
    case 6: return pt::xdp(type.expected_attach_type);
    case 7: return pt::perf_event();
    case 8: {
      auto t = pt::cgroup_skb();
      if (type.expected_attach_type == 1) t.max_return = 3;  // BPF_CGROUP_INET_EGRESS: 0-3 (congestion bits)
      return t;
    }
    case 9: return pt::cgroup_sock(type.expected_attach_type);
    case 10: return pt::lwt_in();
    case 11: return pt::lwt_out();
    case 12: return pt::lwt_xmit();
    case 13: return pt::sock_ops();
    case 15: return pt::cgroup_device();
    case 17: return pt::raw_tracepoint();
    case 18: {
      auto t = pt::cgroup_sock_addr(type.expected_attach_type);
      if (!t)
        return make_error(Errc::Unsupported,
                          "cgroup_sock_addr needs its hook as the expected attach type (" +
                              std::to_string(type.expected_attach_type) +
                              " is none; the kernel refuses the load): a section name such as cgroup/connect4, "
                              "cgroup/bind6 or cgroup/sendmsg4 gives it; the unix socket hooks are not supported yet");
      return std::move(*t);
    }
    case 14: return pt::sk_skb();
    case 16: return pt::sk_msg();
    case 19: return pt::lwt_seg6local();
    case 22: return pt::flow_dissector();
    case 30: return pt::sk_lookup();
    case 21: return pt::sk_reuseport();
    case 31: return pt::syscall();
    case 24: return pt::raw_tracepoint_writable();
    case 23: return pt::cgroup_sysctl();
    case 26:  // its context is the attach target's arguments: tracing_type_of
      return make_error(Errc::Unsupported, "tracing programs need their attach target (an ELF section such as "
                                           "tp_btf/<tracepoint>) and the kernel's BTF");
    case 25: {
      auto t = pt::cgroup_sockopt(type.expected_attach_type);
      if (!t)
        return make_error(Errc::Unsupported, "cgroup_sockopt needs its hook as the expected attach type (" +
                                                 std::to_string(type.expected_attach_type) +
                                                 " is neither; the kernel refuses the load): the section name "
                                                 "cgroup/getsockopt or cgroup/setsockopt gives it");
      return std::move(*t);
    }
    default: break;
  }
  if (type.entry == ProgramType::Entry::PlainMemory) return pt::plain(type.ctx_size_bytes);
  verifier::ProgramTypeInfo info;
  info.name = type.name;
  info.entry = verifier::EntryKind::Ctx;
  info.ctx_size_bytes = type.ctx_size_bytes;
  for (const auto& f : type.fields)
    info.fields.push_back(verifier::CtxField{f.offset, f.size_bytes, f.writable, verifier::CtxFieldKind::Scalar});
  return info;
}

Result<verifier::ProgramTypeInfo> tracing_type_of(const ProgramType& type, std::string_view attach_target,
                                                  const KernelBtfTypes* kernel) {
  if (attach_target.empty()) return verifier_type_of(type);  // the error naming what is missing
  if (kernel == nullptr)
    return make_error(Errc::Unsupported, "tracing programs need the kernel's BTF (/sys/kernel/btf/vmlinux, or "
                                         "LoadOptions::target_btf) for their attach target's arguments");
  auto args = kernel->tracing_args(type.expected_attach_type, attach_target);
  if (!args) return std::move(args).error();
  return verifier::program_types::tracing(type.expected_attach_type, *args);
}

std::optional<helpers::ProgType> packet_prog_type(const ProgramType& type) {
  switch (type.kernel_type) {
    case 1: return helpers::ProgType::SocketFilter;
    case 3: return helpers::ProgType::SchedCls;
    case 4: return helpers::ProgType::SchedAct;
    case 6: return helpers::ProgType::Xdp;
    case 8: return helpers::ProgType::CgroupSkb;
    case 10: return helpers::ProgType::LwtIn;
    case 11: return helpers::ProgType::LwtOut;
    case 12: return helpers::ProgType::LwtXmit;
    case 22: return helpers::ProgType::FlowDissector;
    case 14: return helpers::ProgType::SkSkb;
    case 16: return helpers::ProgType::SkMsg;
    case 30: return helpers::ProgType::SkLookup;
    case 21: return helpers::ProgType::SkReuseport;
    default: return std::nullopt;
  }
}

}  // namespace bpfvm
