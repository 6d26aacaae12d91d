// register_kernel_helpers: every family adds its rows; ids come from <linux/bpf.h>.
#include "helpers/kernel_helpers.hpp"

#include "helpers/guest_memory.hpp"
#include "helpers/kfunc_table.hpp"

namespace bpfvm::helpers {

void register_kernel_helpers(vm::HelperRegistry& registry, HelperRuntime& runtime) {
  detail::add_catalog_helpers(registry, runtime);
  detail::add_map_helpers(registry, runtime);
  detail::add_time_helpers(registry, runtime);
  detail::add_timer_helpers(registry, runtime);
  detail::add_task_helpers(registry, runtime);
  detail::add_probe_helpers(registry, runtime);
  detail::add_print_helpers(registry, runtime);
  detail::add_string_helpers(registry, runtime);
  detail::add_packet_helpers(registry, runtime);
  detail::add_xdp_helpers(registry, runtime);
  detail::add_ringbuf_helpers(registry, runtime);
  detail::add_program_helpers(registry, runtime);
  detail::add_user_ringbuf_helpers(registry, runtime);
  detail::add_dynptr_helpers(registry, runtime);
  detail::add_socket_helpers(registry, runtime);
  detail::add_sockmap_helpers(registry, runtime);
  detail::add_msg_helpers(registry, runtime);
  detail::add_dynptr_kfuncs(registry, runtime);  // kfuncs (kfunc_table.hpp), by name
  detail::add_iter_kfuncs(registry, runtime);
  detail::add_storage_helpers(registry, runtime);
  detail::add_skb_state_helpers(registry, runtime);
  detail::add_skb_socket_helpers(registry, runtime);
  detail::add_vlan_helpers(registry, runtime);
  detail::add_tunnel_helpers(registry, runtime);
  detail::add_signal_helpers(registry, runtime);
  detail::add_cgroup_retval_helpers(registry, runtime);
  detail::add_netns_cookie_helpers(registry, runtime);
  detail::add_sysctl_helpers(registry, runtime);
}

}  // namespace bpfvm::helpers
