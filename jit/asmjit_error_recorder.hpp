// The asmjit error handler every backend installs: it keeps the first error asmjit reports so the
// emitter can finish its pass and then turn that error into one Result. Included only by backend
// code (jit/x86_64/, jit/arm64/), which is where asmjit may appear.
#pragma once

#include <asmjit/core.h>

#include <string>

namespace bpfvm::jit {

class AsmjitErrorRecorder : public asmjit::ErrorHandler {
 public:
  void handleError(asmjit::Error err, const char* message, asmjit::BaseEmitter*) override {
    if (first_ == asmjit::kErrorOk) {
      first_ = err;
      message_ = message ? message : "";
    }
  }
  bool failed() const { return first_ != asmjit::kErrorOk; }
  /// A short (rel8) displacement did not reach its label (x86-64 retries with rel32).
  bool displacement_overflow() const { return first_ == asmjit::kErrorInvalidDisplacement; }
  const std::string& message() const { return message_; }

 private:
  asmjit::Error first_ = asmjit::kErrorOk;
  std::string message_;
};

}  // namespace bpfvm::jit
