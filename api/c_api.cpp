// The C API (include/bpfvm/bpfvm.h) on top of the C++ API: handle structs, error translation, and the
// boundary that keeps every C++ exception (only std::bad_alloc is expected) from reaching C callers.
#include "bpfvm/bpfvm.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bpfvm/bpfvm.hpp"

namespace {

using bpfvm::ArgType;
using bpfvm::Errc;
using bpfvm::RetType;

// STYLE.md section 3: Errc is mirrored one to one.
static_assert(BPFVM_OK == static_cast<int>(Errc::Ok));
static_assert(BPFVM_EINVALID_ARGUMENT == static_cast<int>(Errc::InvalidArgument));
static_assert(BPFVM_EMALFORMED == static_cast<int>(Errc::Malformed));
static_assert(BPFVM_EUNSUPPORTED == static_cast<int>(Errc::Unsupported));
static_assert(BPFVM_EREJECTED == static_cast<int>(Errc::Rejected));
static_assert(BPFVM_EMEMORY_FAULT == static_cast<int>(Errc::MemoryFault));
static_assert(BPFVM_EBUDGET_EXCEEDED == static_cast<int>(Errc::BudgetExceeded));
static_assert(BPFVM_ECALL_DEPTH == static_cast<int>(Errc::CallDepth));
static_assert(BPFVM_EHELPER_FAULT == static_cast<int>(Errc::HelperFault));
static_assert(BPFVM_EIO == static_cast<int>(Errc::Io));
static_assert(BPFVM_EERRNO == static_cast<int>(Errc::Errno));
static_assert(BPFVM_EINTERNAL == static_cast<int>(Errc::Internal));
constexpr int kLastErrc = BPFVM_EERRNO;
static_assert(BPFVM_NO_PC == bpfvm::kNoPc);

static_assert(BPFVM_ARG_DONTCARE == static_cast<int>(ArgType::DontCare));
static_assert(BPFVM_ARG_ANYTHING == static_cast<int>(ArgType::Anything));
static_assert(BPFVM_ARG_CONST_MAP_PTR == static_cast<int>(ArgType::ConstMapPtr));
static_assert(BPFVM_ARG_PTR_TO_MAP_KEY == static_cast<int>(ArgType::PtrToMapKey));
static_assert(BPFVM_ARG_PTR_TO_MAP_VALUE == static_cast<int>(ArgType::PtrToMapValue));
static_assert(BPFVM_ARG_PTR_TO_MEM == static_cast<int>(ArgType::PtrToMem));
static_assert(BPFVM_ARG_PTR_TO_UNINIT_MEM == static_cast<int>(ArgType::PtrToUninitMem));
static_assert(BPFVM_ARG_CONST_SIZE == static_cast<int>(ArgType::ConstSize));
static_assert(BPFVM_ARG_CONST_SIZE_OR_ZERO == static_cast<int>(ArgType::ConstSizeOrZero));
static_assert(BPFVM_ARG_PTR_TO_CTX == static_cast<int>(ArgType::PtrToCtx));
static_assert(BPFVM_ARG_PTR_TO_STACK == static_cast<int>(ArgType::PtrToStack));
static_assert(BPFVM_ARG_PTR_TO_FUNC == static_cast<int>(ArgType::PtrToFunc));
static_assert(BPFVM_ARG_PTR_TO_RINGBUF_MEM == static_cast<int>(ArgType::PtrToRingbufMem));
static_assert(BPFVM_ARG_PTR_TO_SPIN_LOCK == static_cast<int>(ArgType::PtrToSpinLock));
static_assert(BPFVM_ARG_PTR_TO_LONG == static_cast<int>(ArgType::PtrToLong));
static_assert(BPFVM_ARG_PTR_TO_CONST_STR == static_cast<int>(ArgType::PtrToConstStr));
static_assert(BPFVM_ARG_CONST_ALLOC_SIZE_OR_ZERO == static_cast<int>(ArgType::ConstAllocSizeOrZero));
static_assert(BPFVM_ARG_PTR_TO_UNINIT_MAP_VALUE == static_cast<int>(ArgType::PtrToUninitMapValue));
static_assert(BPFVM_ARG_PTR_TO_INT == static_cast<int>(ArgType::PtrToInt));
// The ArgType/RetType values after these name kernel objects the verifier does not model (refused at
// every call); the C API does not offer them.
constexpr int kLastArgType = BPFVM_ARG_PTR_TO_INT;

static_assert(BPFVM_RET_INTEGER == static_cast<int>(RetType::Integer));
static_assert(BPFVM_RET_VOID == static_cast<int>(RetType::Void));
static_assert(BPFVM_RET_PTR_TO_MAP_VALUE_OR_NULL == static_cast<int>(RetType::PtrToMapValueOrNull));
static_assert(BPFVM_RET_PTR_TO_ALLOC_MEM_OR_NULL == static_cast<int>(RetType::PtrToAllocMemOrNull));
static_assert(BPFVM_RET_PTR_TO_MEM_OR_NULL == static_cast<int>(RetType::PtrToMemOrNull));
constexpr int kLastRetType = BPFVM_RET_PTR_TO_MEM_OR_NULL;

static_assert(BPFVM_ENGINE_INTERPRETER == static_cast<int>(bpfvm::Engine::Interpreter));
static_assert(BPFVM_ENGINE_JIT == static_cast<int>(bpfvm::Engine::Jit));
static_assert(BPFVM_ENGINE_JIT_OPTIMIZED == static_cast<int>(bpfvm::Engine::JitOptimized));

// A C helper as registered: the C++ side registers c_helper_trampoline with `user` pointing here.
struct CHelper {
  bpfvm_helper_fn fn;
  void* user;
};

// What every handle of one vm shares: objects and programs keep it alive, because registered
// helpers point into `helpers` for as long as any program may call them.
struct VmState {
  explicit VmState(unsigned nr_cpus) : vm(bpfvm::VmOptions{nr_cpus}) {}
  bpfvm::Vm vm;
  std::mutex mutex;               // guards `helpers`
  std::deque<CHelper> helpers;    // deque: stable addresses; replaced entries stay (cheap, rare)
};

}  // namespace

struct bpfvm_vm {
  std::shared_ptr<VmState> state;
};

struct bpfvm_map {
  bpfvm::Map map;
};

struct bpfvm_object {
  std::shared_ptr<VmState> vm;
  bpfvm::Object object;
  std::vector<std::string> program_names;
  std::deque<bpfvm_map> maps;  // handles given out; deque keeps their addresses stable
};

struct bpfvm_program {
  std::shared_ptr<VmState> vm;
  bpfvm::Program program;
};

struct bpfvm_runner {
  std::shared_ptr<VmState> vm;
  bpfvm::Runner runner;
};

namespace {

bpfvm::HelperCall* from_c(bpfvm_helper_call* call) { return reinterpret_cast<bpfvm::HelperCall*>(call); }
const bpfvm::HelperCall* from_c(const bpfvm_helper_call* call) {
  return reinterpret_cast<const bpfvm::HelperCall*>(call);
}

std::uint64_t c_helper_trampoline(std::uint64_t r1, std::uint64_t r2, std::uint64_t r3, std::uint64_t r4,
                                  std::uint64_t r5, bpfvm::HelperCall* call) {
  const auto* helper = static_cast<const CHelper*>(bpfvm::helper_user_data(call));
  return helper->fn(r1, r2, r3, r4, r5, reinterpret_cast<bpfvm_helper_call*>(call));
}

void clear(bpfvm_error* err) noexcept {
  if (err == nullptr) return;
  err->code = BPFVM_OK;
  err->sys_errno = 0;
  err->pc = BPFVM_NO_PC;
  err->message[0] = '\0';
}

int fail(bpfvm_error* err, int code, std::string_view message, std::uint32_t pc = BPFVM_NO_PC) noexcept {
  if (err != nullptr) {
    err->code = code;
    err->pc = pc;
    const auto n = std::min(message.size(), sizeof err->message - 1);
    std::memcpy(err->message, message.data(), n);
    err->message[n] = '\0';
  }
  return code;
}

int fail(bpfvm_error* err, const bpfvm::Error& e) noexcept {
  try {
    return fail(err, static_cast<int>(e.code), e.message(), e.pc);
  } catch (...) {  // message() allocates
    return fail(err, static_cast<int>(e.code), e.reason, e.pc);
  }
}

// Runs `body` with `err` cleared and turns any escaping exception into BPFVM_EINTERNAL.
template <class Body>
int boundary(bpfvm_error* err, Body&& body) noexcept {
  clear(err);
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return fail(err, BPFVM_EINTERNAL, "out of memory");
  } catch (const std::exception& e) {
    return fail(err, BPFVM_EINTERNAL, e.what());
  } catch (...) {
    return fail(err, BPFVM_EINTERNAL, "unknown exception");
  }
}

// Map calls return 0 or the kernel's negative errno; a failing errno also fills `err` (BPFVM_EERRNO,
// sys_errno, its name). A call the boundary refuses is -EINVAL (BPFVM_EINVALID_ARGUMENT), a failure
// inside is -ENOMEM.
template <class Body>
int map_boundary(bpfvm_error* err, Body&& body) noexcept {
  clear(err);
  try {
    const int rc = body();
    if (rc < 0 && err != nullptr && err->code == BPFVM_OK) {
      const bpfvm::Error e = bpfvm::Map::errno_error(rc);
      fail(err, BPFVM_EERRNO, e.reason);
      err->sys_errno = -rc;
    }
    return rc;
  } catch (const std::bad_alloc&) {
    fail(err, BPFVM_EINTERNAL, "out of memory");
    return -ENOMEM;
  } catch (...) {
    fail(err, BPFVM_EINTERNAL, "unknown exception");
    return -EFAULT;
  }
}

int invalid(bpfvm_error* err, const std::string& message) { return fail(err, BPFVM_EINVALID_ARGUMENT, message); }

std::span<const std::uint8_t> bytes(const void* p, std::size_t n) {
  return {static_cast<const std::uint8_t*>(p), p == nullptr ? 0 : n};
}

int adopt_object(const bpfvm_vm* vm, bpfvm::Result<bpfvm::Object> opened, bpfvm_object** out, bpfvm_error* err) {
  if (!opened) return fail(err, opened.error());
  auto obj = std::make_unique<bpfvm_object>(bpfvm_object{vm->state, std::move(*opened), {}, {}});
  for (const auto& p : obj->object.programs()) obj->program_names.push_back(p.name);
  for (const auto& m : obj->object.maps()) obj->maps.push_back(bpfvm_map{m});
  *out = obj.release();
  return BPFVM_OK;
}

bpfvm::Result<bpfvm::ProgramType> program_type(std::uint32_t bpf_prog_type, std::uint32_t max_input_bytes) {
  if (bpf_prog_type == BPFVM_PROG_TYPE_PLAIN) return bpfvm::ProgramType::plain(max_input_bytes);
  return bpfvm::ProgramType::kernel(bpf_prog_type);
}

bpfvm::Result<bpfvm::ProgramType> host_program_type(const bpfvm_host_program_type* type) {
  if (type == nullptr) return bpfvm::make_error(bpfvm::Errc::InvalidArgument, "type is NULL");
  if (type->fields == nullptr && type->field_count > 0)
    return bpfvm::make_error(bpfvm::Errc::InvalidArgument, "type->fields is NULL");
  std::vector<bpfvm::ContextField> fields;
  for (std::size_t i = 0; i < type->field_count; ++i) {
    const auto& f = type->fields[i];
    fields.push_back(bpfvm::ContextField{f.offset, f.size_bytes, f.writable != 0});
  }
  return bpfvm::ProgramType::host(type->name != nullptr ? type->name : "host", type->ctx_size_bytes, std::move(fields));
}

// A map call's buffers: present and at least as large as the map's sizes.
int check_buffer(bpfvm_error* err, const char* what, const void* p, std::size_t have, std::size_t need) {
  if (p == nullptr) {
    fail(err, BPFVM_EINVALID_ARGUMENT, std::string(what) + " is NULL");
    return -EINVAL;
  }
  if (have < need) {
    fail(err, BPFVM_EINVALID_ARGUMENT,
         std::string(what) + " holds " + std::to_string(have) + " bytes; the map needs " + std::to_string(need));
    return -EINVAL;
  }
  return 0;
}

int null_map(bpfvm_error* err) {
  fail(err, BPFVM_EINVALID_ARGUMENT, "map is NULL");
  return -EINVAL;
}

// bpfvm_vm_open_bytecode / _assembly and their _host forms differ only in where the program type
// comes from: `type_of` makes it, after the arguments every form shares are checked.
template <class TypeOf>
int open_bytecode_as(const bpfvm_vm* vm, const void* insns, std::size_t size_bytes, TypeOf type_of, const char* name,
                     bpfvm_object** out, bpfvm_error* err) {
  return boundary(err, [&]() -> int {
    if (vm == nullptr) return invalid(err, "vm is NULL");
    if (out == nullptr) return invalid(err, "out is NULL");
    *out = nullptr;
    if (insns == nullptr && size_bytes > 0) return invalid(err, "insns is NULL");
    auto type = type_of();
    if (!type) return fail(err, type.error());
    return adopt_object(vm, vm->state->vm.open_bytecode(bytes(insns, size_bytes), *type, name != nullptr ? name : "prog"),
                        out, err);
  });
}

template <class TypeOf>
int open_assembly_as(const bpfvm_vm* vm, const char* text, TypeOf type_of, const char* name, bpfvm_object** out,
                     bpfvm_error* err) {
  return boundary(err, [&]() -> int {
    if (vm == nullptr) return invalid(err, "vm is NULL");
    if (out == nullptr) return invalid(err, "out is NULL");
    *out = nullptr;
    if (text == nullptr) return invalid(err, "text is NULL");
    auto type = type_of();
    if (!type) return fail(err, type.error());
    return adopt_object(vm, vm->state->vm.open_assembly(text, *type, name != nullptr ? name : "prog"), out, err);
  });
}

// `pairs` name/value pairs from a C array of 2 * pairs strings.
bpfvm::Result<void> string_pairs(const char* what, const char* const* strings, std::size_t pairs,
                                 std::map<std::string, std::string, std::less<>>& out) {
  if (pairs > 0 && strings == nullptr)
    return bpfvm::make_error(Errc::InvalidArgument, std::string(what) + " is NULL but its pair count is not 0");
  for (std::size_t i = 0; i < pairs; ++i) {
    const char* key = strings[2 * i];
    const char* value = strings[2 * i + 1];
    if (key == nullptr || value == nullptr)
      return bpfvm::make_error(Errc::InvalidArgument, std::string(what) + " pair " + std::to_string(i) + " holds NULL");
    out[key] = value;
  }
  return {};
}

}  // namespace

// The C open options as the C++ LoadOptions (outside extern "C": it returns a C++ type).
namespace {
bpfvm::Result<bpfvm::LoadOptions> load_options(const bpfvm_open_options* o) {
  bpfvm::LoadOptions lo;
  if (o == nullptr) return lo;
  if (o->target_btf_size > 0) {
    if (o->target_btf == nullptr)
      return bpfvm::make_error(Errc::InvalidArgument, "target_btf is NULL but target_btf_size is not 0");
    const auto* p = static_cast<const std::uint8_t*>(o->target_btf);
    lo.target_btf.assign(p, p + o->target_btf_size);
  }
  if (auto r = string_pairs("kconfig", o->kconfig, o->kconfig_pairs, lo.kconfig); !r) return std::move(r).error();
  if (auto r = string_pairs("inner_map_templates", o->inner_map_templates, o->inner_map_template_pairs,
                            lo.inner_map_templates);
      !r)
    return std::move(r).error();
  lo.verify_only = o->verify_only != 0;
  return lo;
}
}  // namespace

extern "C" {

const char* bpfvm_strerror(int code) noexcept {
  if (code < 0 || code > kLastErrc) return "unknown";
  return bpfvm::errc_name(static_cast<Errc>(code));
}

int bpfvm_vm_create(unsigned nr_cpus, bpfvm_vm** out, bpfvm_error* err) noexcept {
  return boundary(err, [&]() -> int {
    if (out == nullptr) return invalid(err, "out is NULL");
    *out = nullptr;
    *out = new bpfvm_vm{std::make_shared<VmState>(nr_cpus)};  // NOLINT(owning-memory): the C handle
    return BPFVM_OK;
  });
}

void bpfvm_vm_destroy(bpfvm_vm* vm) noexcept { delete vm; }

int bpfvm_vm_add_helper(bpfvm_vm* vm, std::uint32_t id, const char* name, bpfvm_helper_fn fn, void* user,
                        const bpfvm_helper_signature* signature, bpfvm_error* err) noexcept {
  return boundary(err, [&]() -> int {
    if (vm == nullptr) return invalid(err, "vm is NULL");
    if (fn == nullptr) return invalid(err, "helper function is NULL");
    bpfvm::HostHelper h;
    h.id = id;
    h.name = name != nullptr ? std::string(name) : "host_helper_" + std::to_string(id);
    h.fn = &c_helper_trampoline;
    if (signature != nullptr) {
      if (signature->ret < 0 || signature->ret > kLastRetType)
        return invalid(err, "helper '" + h.name + "': return type " + std::to_string(signature->ret) + " is not a BPFVM_RET_*");
      h.signature.ret = static_cast<RetType>(signature->ret);
      for (std::size_t i = 0; i < 5; ++i) {
        if (signature->args[i] < 0 || signature->args[i] > kLastArgType)
          return invalid(err, "helper '" + h.name + "': argument " + std::to_string(i + 1) + " type " +
                                  std::to_string(signature->args[i]) + " is not a BPFVM_ARG_*");
        h.signature.args[i] = static_cast<ArgType>(signature->args[i]);
      }
      h.signature.known = true;
    }
    std::lock_guard lock(vm->state->mutex);
    h.user = &vm->state->helpers.emplace_back(CHelper{fn, user});
    vm->state->vm.add_helper(std::move(h));
    return BPFVM_OK;
  });
}

int bpfvm_vm_set_trace_sink(bpfvm_vm* vm, bpfvm_trace_fn fn, void* user, bpfvm_error* err) noexcept {
  return boundary(err, [&]() -> int {
    if (vm == nullptr) return invalid(err, "vm is NULL");
    if (fn == nullptr) {
      vm->state->vm.set_trace_sink({});
    } else {
      vm->state->vm.set_trace_sink([fn, user](std::string_view line) { fn(user, line.data(), line.size()); });
    }
    return BPFVM_OK;
  });
}

int bpfvm_vm_set_current_task(bpfvm_vm* vm, std::uint32_t tgid, std::uint32_t pid, std::uint32_t uid,
                              std::uint32_t gid, const char* comm, bpfvm_error* err) noexcept {
  return boundary(err, [&]() -> int {
    if (vm == nullptr) return invalid(err, "vm is NULL");
    vm->state->vm.set_current_task(tgid, pid, uid, gid, comm != nullptr ? comm : "");
    return BPFVM_OK;
  });
}

int bpfvm_vm_set_clock(bpfvm_vm* vm, bpfvm_clock_fn now_ns, void* user, bpfvm_error* err) noexcept {
  return boundary(err, [&]() -> int {
    if (vm == nullptr) return invalid(err, "vm is NULL");
    if (now_ns == nullptr) {
      vm->state->vm.set_clock({});
    } else {
      vm->state->vm.set_clock([now_ns, user] { return now_ns(user); });
    }
    return BPFVM_OK;
  });
}

int bpfvm_vm_run_due_timers(bpfvm_vm* vm, std::size_t* fired, bpfvm_error* err) noexcept {
  return boundary(err, [&]() -> int {
    if (vm == nullptr) return invalid(err, "vm is NULL");
    auto r = vm->state->vm.run_due_timers();
    if (!r) return fail(err, r.error());
    if (fired != nullptr) *fired = *r;
    return BPFVM_OK;
  });
}

int bpfvm_vm_next_timer_expiry(const bpfvm_vm* vm, int* armed, std::uint64_t* expiry_ns, bpfvm_error* err) noexcept {
  return boundary(err, [&]() -> int {
    if (vm == nullptr) return invalid(err, "vm is NULL");
    if (armed == nullptr || expiry_ns == nullptr) return invalid(err, "armed or expiry_ns is NULL");
    const auto e = vm->state->vm.next_timer_expiry();
    *armed = e.has_value() ? 1 : 0;
    *expiry_ns = e.value_or(0);
    return BPFVM_OK;
  });
}

int bpfvm_vm_open_elf(const bpfvm_vm* vm, const void* elf, std::size_t size_bytes, const char* name,
                      const bpfvm_open_options* options, bpfvm_object** out, bpfvm_error* err) noexcept {
  return boundary(err, [&]() -> int {
    if (vm == nullptr) return invalid(err, "vm is NULL");
    if (out == nullptr) return invalid(err, "out is NULL");
    *out = nullptr;
    if (elf == nullptr) return invalid(err, "elf is NULL");
    auto lo = load_options(options);
    if (!lo) return fail(err, lo.error());
    return adopt_object(vm, vm->state->vm.open_elf(bytes(elf, size_bytes), *lo, name != nullptr ? name : "obj"), out, err);
  });
}

int bpfvm_vm_open_elf_file(const bpfvm_vm* vm, const char* path, const bpfvm_open_options* options,
                           bpfvm_object** out, bpfvm_error* err) noexcept {
  return boundary(err, [&]() -> int {
    if (vm == nullptr) return invalid(err, "vm is NULL");
    if (out == nullptr) return invalid(err, "out is NULL");
    *out = nullptr;
    if (path == nullptr) return invalid(err, "path is NULL");
    auto lo = load_options(options);
    if (!lo) return fail(err, lo.error());
    return adopt_object(vm, vm->state->vm.open_elf_file(path, *lo), out, err);
  });
}

int bpfvm_vm_open_bytecode(const bpfvm_vm* vm, const void* insns, std::size_t size_bytes, std::uint32_t bpf_prog_type,
                           std::uint32_t max_input_bytes, const char* name, bpfvm_object** out,
                           bpfvm_error* err) noexcept {
  return open_bytecode_as(vm, insns, size_bytes, [&] { return program_type(bpf_prog_type, max_input_bytes); }, name,
                          out, err);
}

int bpfvm_vm_open_assembly(const bpfvm_vm* vm, const char* text, std::uint32_t bpf_prog_type,
                           std::uint32_t max_input_bytes, const char* name, bpfvm_object** out,
                           bpfvm_error* err) noexcept {
  return open_assembly_as(vm, text, [&] { return program_type(bpf_prog_type, max_input_bytes); }, name, out, err);
}

int bpfvm_vm_open_bytecode_host(const bpfvm_vm* vm, const void* insns, std::size_t size_bytes,
                                const bpfvm_host_program_type* type, const char* name, bpfvm_object** out,
                                bpfvm_error* err) noexcept {
  return open_bytecode_as(vm, insns, size_bytes, [&] { return host_program_type(type); }, name, out, err);
}

int bpfvm_vm_open_assembly_host(const bpfvm_vm* vm, const char* text, const bpfvm_host_program_type* type,
                                const char* name, bpfvm_object** out, bpfvm_error* err) noexcept {
  return open_assembly_as(vm, text, [&] { return host_program_type(type); }, name, out, err);
}

void bpfvm_object_destroy(bpfvm_object* obj) noexcept { delete obj; }

int bpfvm_object_program_count(const bpfvm_object* obj, std::size_t* count, bpfvm_error* err) noexcept {
  return boundary(err, [&]() -> int {
    if (obj == nullptr) return invalid(err, "object is NULL");
    if (count == nullptr) return invalid(err, "count is NULL");
    *count = obj->program_names.size();
    return BPFVM_OK;
  });
}

int bpfvm_object_program_name(const bpfvm_object* obj, std::size_t index, const char** name, bpfvm_error* err) noexcept {
  return boundary(err, [&]() -> int {
    if (obj == nullptr) return invalid(err, "object is NULL");
    if (name == nullptr) return invalid(err, "name is NULL");
    *name = nullptr;
    if (index >= obj->program_names.size())
      return invalid(err, "program index " + std::to_string(index) + " out of range (the object has " +
                              std::to_string(obj->program_names.size()) + ")");
    *name = obj->program_names[index].c_str();
    return BPFVM_OK;
  });
}

int bpfvm_object_map_count(const bpfvm_object* obj, std::size_t* count, bpfvm_error* err) noexcept {
  return boundary(err, [&]() -> int {
    if (obj == nullptr) return invalid(err, "object is NULL");
    if (count == nullptr) return invalid(err, "count is NULL");
    *count = obj->maps.size();
    return BPFVM_OK;
  });
}

int bpfvm_object_map_at(const bpfvm_object* obj, std::size_t index, bpfvm_map** map, bpfvm_error* err) noexcept {
  return boundary(err, [&]() -> int {
    if (obj == nullptr) return invalid(err, "object is NULL");
    if (map == nullptr) return invalid(err, "map is NULL");
    *map = nullptr;
    if (index >= obj->maps.size())
      return invalid(err, "map index " + std::to_string(index) + " out of range (the object has " +
                              std::to_string(obj->maps.size()) + ")");
    *map = const_cast<bpfvm_map*>(&obj->maps[index]);  // the object owns the handle; the map is mutable
    return BPFVM_OK;
  });
}

int bpfvm_object_map(const bpfvm_object* obj, const char* name, bpfvm_map** map, bpfvm_error* err) noexcept {
  return boundary(err, [&]() -> int {
    if (obj == nullptr) return invalid(err, "object is NULL");
    if (map == nullptr) return invalid(err, "map is NULL");
    *map = nullptr;
    if (name == nullptr) return invalid(err, "name is NULL");
    auto found = obj->object.map(name);
    if (!found) return invalid(err, "no map '" + std::string(name) + "'");
    for (const auto& m : obj->maps) {
      if (&m.map.name() == &found->name()) {  // Map has no id; its name lives in the underlying map
        *map = const_cast<bpfvm_map*>(&m);
        return BPFVM_OK;
      }
    }
    return fail(err, BPFVM_EINTERNAL, "map '" + std::string(name) + "' has no handle");
  });
}

int bpfvm_object_load(const bpfvm_object* obj, const char* name, const bpfvm_program_options* options,
                      bpfvm_program** out, bpfvm_error* err) noexcept {
  return boundary(err, [&]() -> int {
    if (obj == nullptr) return invalid(err, "object is NULL");
    if (out == nullptr) return invalid(err, "out is NULL");
    *out = nullptr;
    if (name == nullptr) return invalid(err, "program name is NULL");
    const bpfvm_program_options defaults = BPFVM_PROGRAM_OPTIONS_DEFAULT;
    const bpfvm_program_options& o = options != nullptr ? *options : defaults;
    if (o.engine != BPFVM_ENGINE_INTERPRETER && o.engine != BPFVM_ENGINE_JIT && o.engine != BPFVM_ENGINE_JIT_OPTIMIZED)
      return invalid(err, "engine " + std::to_string(o.engine) + " is not a BPFVM_ENGINE_*");
    if (o.verifier_log == nullptr && o.verifier_log_size > 0)
      return invalid(err, "verifier_log is NULL but verifier_log_size is not 0");
    bpfvm::ProgramOptions po;
    po.engine = static_cast<bpfvm::Engine>(o.engine);
    po.verify = o.verify != 0;
    po.checked = o.checked != 0;
    po.unprivileged = o.unprivileged != 0;
    po.budget_insns = o.budget_insns;
    po.verifier_log_level = o.verifier_log_level;
    std::string log;
    if (o.verifier_log != nullptr && o.verifier_log_size > 0) po.verifier_log = &log;
    auto loaded = obj->object.load(name, po);
    if (po.verifier_log != nullptr) {
      const auto n = std::min(log.size(), o.verifier_log_size - 1);
      std::memcpy(o.verifier_log, log.data(), n);
      o.verifier_log[n] = '\0';
    }
    if (!loaded) return fail(err, loaded.error());
    *out = new bpfvm_program{obj->vm, std::move(*loaded)};  // NOLINT(owning-memory): the C handle
    return BPFVM_OK;
  });
}

void bpfvm_program_destroy(bpfvm_program* prog) noexcept { delete prog; }

namespace {
// The RunOutput of a thread's C-API runs, kept between calls so its buffers keep their capacity (the
// caller's data_out/ctx_out receive copies): a warm thread's call allocates nothing. A call made while
// another is active on the same thread (from inside a helper) uses its own.
thread_local bpfvm::RunOutput tl_run_output;
thread_local bool tl_run_output_busy = false;

class ThreadRunOutput {
 public:
  ThreadRunOutput() {
    if (tl_run_output_busy) {
      out_ = &nested_.emplace();
    } else {
      tl_run_output_busy = true;
      out_ = &tl_run_output;
    }
  }
  ~ThreadRunOutput() {
    if (!nested_) tl_run_output_busy = false;  // (not &tl_run_output: a second TLS-init call)
  }
  ThreadRunOutput(const ThreadRunOutput&) = delete;
  ThreadRunOutput& operator=(const ThreadRunOutput&) = delete;
  bpfvm::RunOutput& get() { return *out_; }

 private:
  bpfvm::RunOutput* out_ = nullptr;
  std::optional<bpfvm::RunOutput> nested_;  // built only when nested (a RunOutput per call cost ~40 Ir)
};

// Copies `from` into (buffer, *size: capacity in, produced out); false when it did not fit.
bool copy_out(const std::vector<std::uint8_t>& from, void* buffer, std::size_t* size) {
  const std::size_t capacity = *size;
  *size = from.size();
  if (buffer == nullptr) return true;
  std::memcpy(buffer, from.data(), std::min(capacity, from.size()));
  return from.size() <= capacity;
}
}  // namespace

int bpfvm_program_run(const bpfvm_program* prog, const void* data, std::size_t size_bytes, std::uint64_t* r0,
                      bpfvm_error* err) noexcept {
  return boundary(err, [&]() -> int {
    if (prog == nullptr) return invalid(err, "program is NULL");
    if (data == nullptr && size_bytes > 0) return invalid(err, "data is NULL");
    ThreadRunOutput out;
    auto ran = prog->program.run(bpfvm::RunInput{bytes(data, size_bytes), {}, 1, nullptr}, out.get());
    if (!ran) return fail(err, ran.error());
    if (r0 != nullptr) *r0 = out.get().r0;
    return BPFVM_OK;
  });
}

namespace {
// bpfvm_test_run's inputs as a RunInput; false (err filled) when a pointer is NULL with a size.
bool test_run_input(const bpfvm_test_run* run, bpfvm::RunInput& in, bpfvm_error* err) {
  const char* null_input = run->data_in == nullptr && run->data_size_in > 0  ? "data_in is NULL"
                           : run->ctx_in == nullptr && run->ctx_size_in > 0 ? "ctx_in is NULL"
                                                                             : nullptr;
  if (null_input != nullptr) {
    invalid(err, null_input);
    return false;
  }
  in = bpfvm::RunInput{.data = bytes(run->data_in, run->data_size_in),
                       .ctx = bytes(run->ctx_in, run->ctx_size_in),
                       .repeat = run->repeat,
                       .host_data = run->host_data,
                       .measure_time = run->measure_time != 0};
  return true;
}

// A run's output into bpfvm_test_run's outputs and the caller's buffers.
int test_run_output(const bpfvm::RunOutput& out, bpfvm_test_run* run, bpfvm_error* err) {
  run->r0 = out.r0;
  run->retval = out.retval;
  run->insns_executed = out.insns_executed;
  run->ns_per_run = out.ns_per_run;
  run->cpu_ns_per_run = out.cpu_ns_per_run;
  run->redirected = out.redirect_ifindex.has_value() ? 1 : 0;
  run->redirect_ifindex = out.redirect_ifindex.value_or(0);
  run->has_cgroup_retval = out.cgroup_retval.has_value() ? 1 : 0;
  run->cgroup_retval = out.cgroup_retval.value_or(0);
  const std::size_t data_capacity = run->data_size_out, ctx_capacity = run->ctx_size_out;
  const bool data_fit = copy_out(out.data_out, run->data_out, &run->data_size_out);
  const bool ctx_fit = copy_out(out.ctx_out, run->ctx_out, &run->ctx_size_out);
  if (!data_fit)
    return invalid(err, "data_out holds " + std::to_string(data_capacity) + " bytes; the run produced " +
                            std::to_string(run->data_size_out));
  if (!ctx_fit)
    return invalid(err, "ctx_out holds " + std::to_string(ctx_capacity) + " bytes; the run produced " +
                            std::to_string(run->ctx_size_out));
  return BPFVM_OK;
}
}  // namespace

int bpfvm_program_test_run(const bpfvm_program* prog, bpfvm_test_run* run, bpfvm_error* err) noexcept {
  return boundary(err, [&]() -> int {
    if (prog == nullptr) return invalid(err, "program is NULL");
    if (run == nullptr) return invalid(err, "run is NULL");
    bpfvm::RunInput in;
    if (!test_run_input(run, in, err)) return BPFVM_EINVALID_ARGUMENT;
    ThreadRunOutput scratch;
    bpfvm::RunOutput& out = scratch.get();
    auto ran = prog->program.run(in, out);
    if (!ran) return fail(err, ran.error());
    return test_run_output(out, run, err);
  });
}

int bpfvm_runner_new(const bpfvm_program* prog, bpfvm_runner** out, bpfvm_error* err) noexcept {
  return boundary(err, [&]() -> int {
    if (prog == nullptr) return invalid(err, "program is NULL");
    if (out == nullptr) return invalid(err, "out is NULL");
    *out = new bpfvm_runner{prog->vm, prog->program.runner()};
    return BPFVM_OK;
  });
}

void bpfvm_runner_destroy(bpfvm_runner* runner) noexcept { delete runner; }

int bpfvm_runner_run(bpfvm_runner* runner, const void* data, std::size_t size_bytes, std::uint64_t* r0,
                     bpfvm_error* err) noexcept {
  return boundary(err, [&]() -> int {
    if (runner == nullptr) return invalid(err, "runner is NULL");
    if (data == nullptr && size_bytes > 0) return invalid(err, "data is NULL");
    auto ran = runner->runner.run(bytes(data, size_bytes));
    if (!ran) return fail(err, ran.error());
    if (r0 != nullptr) *r0 = *ran;
    return BPFVM_OK;
  });
}

const void* bpfvm_runner_data_out(const bpfvm_runner* runner, std::size_t* size_bytes) noexcept {
  if (runner == nullptr) {
    if (size_bytes != nullptr) *size_bytes = 0;
    return nullptr;
  }
  const bpfvm::RunOutput& out = runner->runner.output();
  const auto& buffer = out.data_out.empty() ? out.ctx_out : out.data_out;
  if (size_bytes != nullptr) *size_bytes = buffer.size();
  return buffer.data();
}

int bpfvm_runner_test_run(bpfvm_runner* runner, bpfvm_test_run* run, bpfvm_error* err) noexcept {
  return boundary(err, [&]() -> int {
    if (runner == nullptr) return invalid(err, "runner is NULL");
    if (run == nullptr) return invalid(err, "run is NULL");
    bpfvm::RunInput in;
    if (!test_run_input(run, in, err)) return BPFVM_EINVALID_ARGUMENT;
    auto ran = runner->runner.run(in);
    if (!ran) return fail(err, ran.error());
    return test_run_output(runner->runner.output(), run, err);
  });
}

int bpfvm_map_get_info(const bpfvm_map* map, bpfvm_map_info* info, bpfvm_error* err) noexcept {
  return boundary(err, [&]() -> int {
    if (map == nullptr) return invalid(err, "map is NULL");
    if (info == nullptr) return invalid(err, "info is NULL");
    const auto& m = map->map;
    *info = bpfvm_map_info{m.name().c_str(), m.type(),  m.key_size(),       m.value_size(),
                           m.max_entries(),  m.flags(), m.host_value_size(), m.batch_cursor_size()};
    return BPFVM_OK;
  });
}

int bpfvm_map_lookup(const bpfvm_map* map, const void* key, std::size_t key_size, void* value,
                     std::size_t value_size, bpfvm_error* err) noexcept {
  return map_boundary(err, [&]() -> int {
    if (map == nullptr) return null_map(err);
    const auto& m = map->map;
    if (int e = check_buffer(err, "key", key, key_size, m.key_size()); e != 0) return e;
    if (int e = check_buffer(err, "value", value, value_size, m.host_value_size()); e != 0) return e;
    return m.lookup(bytes(key, key_size), std::span(static_cast<std::uint8_t*>(value), value_size));
  });
}

int bpfvm_map_update(bpfvm_map* map, const void* key, std::size_t key_size, const void* value, std::size_t value_size,
                     std::uint64_t flags, bpfvm_error* err) noexcept {
  return map_boundary(err, [&]() -> int {
    if (map == nullptr) return null_map(err);
    auto& m = map->map;
    if (int e = check_buffer(err, "key", key, key_size, m.key_size()); e != 0) return e;
    if (int e = check_buffer(err, "value", value, value_size, m.host_value_size()); e != 0) return e;
    return m.update(bytes(key, key_size), bytes(value, value_size), flags);
  });
}

int bpfvm_map_set_cgroup(bpfvm_map* map, uint32_t index, uint64_t cgroup_id, int holds_current_task,
                         bpfvm_error* err) noexcept {
  return map_boundary(err, [&]() -> int {
    if (map == nullptr) return null_map(err);
    return map->map.set_cgroup(index, cgroup_id, holds_current_task != 0);
  });
}

int bpfvm_map_set_xsk(bpfvm_map* map, uint32_t index, uint32_t queue_id, bpfvm_error* err) noexcept {
  return map_boundary(err, [&]() -> int {
    if (map == nullptr) return null_map(err);
    return map->map.set_xsk(index, queue_id);
  });
}

int bpfvm_map_user_ringbuf_reserve(bpfvm_map* map, uint32_t size, void** sample, bpfvm_error* err) noexcept {
  return map_boundary(err, [&]() -> int {
    if (map == nullptr) return null_map(err);
    if (sample == nullptr) return -EINVAL;
    std::span<std::uint8_t> out;
    const int rc = map->map.user_ringbuf_reserve(size, out);
    *sample = rc == 0 ? out.data() : nullptr;
    return rc;
  });
}

int bpfvm_map_user_ringbuf_submit(bpfvm_map* map, void* sample, bpfvm_error* err) noexcept {
  return map_boundary(err, [&]() -> int {
    if (map == nullptr) return null_map(err);
    return map->map.user_ringbuf_submit({static_cast<std::uint8_t*>(sample), 0});
  });
}

int bpfvm_map_user_ringbuf_discard(bpfvm_map* map, void* sample, bpfvm_error* err) noexcept {
  return map_boundary(err, [&]() -> int {
    if (map == nullptr) return null_map(err);
    return map->map.user_ringbuf_discard({static_cast<std::uint8_t*>(sample), 0});
  });
}

int bpfvm_map_ringbuf_consume(bpfvm_map* map, bpfvm_ringbuf_record_fn fn, void* ctx, bpfvm_error* err) noexcept {
  return map_boundary(err, [&]() -> int {
    if (map == nullptr) return null_map(err);
    if (fn == nullptr) return -EINVAL;
    return map->map.ringbuf_consume(
        [fn, ctx](std::span<const std::uint8_t> record) { return fn(ctx, record.data(), record.size()); });
  });
}

int bpfvm_map_delete(bpfvm_map* map, const void* key, std::size_t key_size, bpfvm_error* err) noexcept {
  return map_boundary(err, [&]() -> int {
    if (map == nullptr) return null_map(err);
    auto& m = map->map;
    if (int e = check_buffer(err, "key", key, key_size, m.key_size()); e != 0) return e;
    return m.erase(bytes(key, key_size));
  });
}

int bpfvm_map_next_key(const bpfvm_map* map, const void* key, std::size_t key_size, void* next_key,
                       std::size_t next_key_size, bpfvm_error* err) noexcept {
  return map_boundary(err, [&]() -> int {
    if (map == nullptr) return null_map(err);
    const auto& m = map->map;
    if (key != nullptr) {
      if (int e = check_buffer(err, "key", key, key_size, m.key_size()); e != 0) return e;
    }
    if (int e = check_buffer(err, "next_key", next_key, next_key_size, m.key_size()); e != 0) return e;
    return m.next_key(key != nullptr ? bytes(key, key_size) : std::span<const std::uint8_t>{},
                      std::span(static_cast<std::uint8_t*>(next_key), next_key_size));
  });
}

int bpfvm_map_lookup_and_delete(bpfvm_map* map, const void* key, std::size_t key_size, void* value,
                                std::size_t value_size, bpfvm_error* err) noexcept {
  return map_boundary(err, [&]() -> int {
    if (map == nullptr) return null_map(err);
    auto& m = map->map;
    if (int e = check_buffer(err, "key", key, key_size, m.key_size()); e != 0) return e;
    if (int e = check_buffer(err, "value", value, value_size, m.host_value_size()); e != 0) return e;
    return m.lookup_and_delete(bytes(key, key_size), std::span(static_cast<std::uint8_t*>(value), value_size));
  });
}

int bpfvm_map_lookup_batch(bpfvm_map* map, const void* in_batch, void* out_batch, void* keys, void* values,
                           uint32_t* count, int and_delete, bpfvm_error* err) noexcept {
  return map_boundary(err, [&]() -> int {
    if (map == nullptr) return null_map(err);
    if (count == nullptr) return check_buffer(err, "count", nullptr, 0, 0);
    if (*count > 0) {
      if (int e = check_buffer(err, "keys", keys, 1, 1); e != 0) return e;
      if (int e = check_buffer(err, "values", values, 1, 1); e != 0) return e;
    }
    if (int e = check_buffer(err, "out_batch", out_batch, 1, 1); e != 0) return e;
    auto& m = map->map;
    return m.lookup_batch(in_batch, out_batch, std::span(static_cast<std::uint8_t*>(keys), std::size_t{*count} * m.key_size()),
                          std::span(static_cast<std::uint8_t*>(values), std::size_t{*count} * m.host_value_size()),
                          *count, and_delete != 0);
  });
}

int bpfvm_map_update_batch(bpfvm_map* map, const void* keys, const void* values, uint32_t* count,
                           uint64_t elem_flags, bpfvm_error* err) noexcept {
  return map_boundary(err, [&]() -> int {
    if (map == nullptr) return null_map(err);
    if (count == nullptr) return check_buffer(err, "count", nullptr, 0, 0);
    if (*count > 0) {
      if (int e = check_buffer(err, "keys", keys, 1, 1); e != 0) return e;
      if (int e = check_buffer(err, "values", values, 1, 1); e != 0) return e;
    }
    auto& m = map->map;
    return m.update_batch(bytes(keys, std::size_t{*count} * m.key_size()),
                          bytes(values, std::size_t{*count} * m.host_value_size()), *count, elem_flags);
  });
}

int bpfvm_map_delete_batch(bpfvm_map* map, const void* keys, uint32_t* count, bpfvm_error* err) noexcept {
  return map_boundary(err, [&]() -> int {
    if (map == nullptr) return null_map(err);
    if (count == nullptr) return check_buffer(err, "count", nullptr, 0, 0);
    if (*count > 0) {
      if (int e = check_buffer(err, "keys", keys, 1, 1); e != 0) return e;
    }
    auto& m = map->map;
    return m.delete_batch(bytes(keys, std::size_t{*count} * m.key_size()), *count);
  });
}

void* bpfvm_helper_user_data(const bpfvm_helper_call* call) noexcept {
  if (call == nullptr) return nullptr;
  const auto* helper = static_cast<const CHelper*>(bpfvm::helper_user_data(from_c(call)));
  return helper != nullptr ? helper->user : nullptr;
}

void* bpfvm_helper_host_data(const bpfvm_helper_call* call) noexcept {
  return call != nullptr ? bpfvm::helper_host_data(from_c(call)) : nullptr;
}

int bpfvm_helper_fail(bpfvm_helper_call* call, const char* reason, bpfvm_error* err) noexcept {
  return boundary(err, [&]() -> int {
    if (call == nullptr) return invalid(err, "call is NULL");
    bpfvm::helper_fail(from_c(call), reason != nullptr ? reason : "failed");
    return BPFVM_OK;
  });
}

int bpfvm_helper_memory_ok(const bpfvm_helper_call* call, const void* addr, std::size_t size_bytes, int write) noexcept {
  if (call == nullptr) return 0;
  return bpfvm::helper_memory_ok(from_c(call), addr, size_bytes, write != 0) ? 1 : 0;
}

}  // extern "C"
