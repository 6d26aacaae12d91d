// Names and messages for bpfvm::Error.
#include "bpfvm/result.hpp"

namespace bpfvm {

const char* errc_name(Errc code) noexcept {
  switch (code) {
    case Errc::Ok: return "ok";
    case Errc::InvalidArgument: return "invalid argument";
    case Errc::Malformed: return "malformed";
    case Errc::Unsupported: return "unsupported";
    case Errc::Rejected: return "rejected";
    case Errc::MemoryFault: return "memory fault";
    case Errc::BudgetExceeded: return "budget exceeded";
    case Errc::CallDepth: return "call depth exceeded";
    case Errc::HelperFault: return "helper fault";
    case Errc::Io: return "i/o error";
    case Errc::Internal: return "internal error";
    case Errc::Errno: return "errno";
  }
  return "unknown";
}

std::string Error::message() const {
  if (pc == kNoPc) return reason;
  return "insn " + std::to_string(pc) + ": " + reason;
}

}  // namespace bpfvm
