# Per-call cost through the public C++ and C APIs and the fuzzing harness's throughput
# (bench_per_call.cpp).
if(TARGET bpfvm_api AND TARGET bpfvm_fuzz AND TARGET bpfvm_examples)
  bpfvm_add_bench(bench_per_call SOURCES bench_per_call.cpp LIBS bpfvm_api bpfvm_fuzz)
  add_dependencies(bench_per_call bpfvm_examples)
  target_compile_definitions(bench_per_call PRIVATE BPFVM_EXAMPLES_DIR="${BPFVM_EXAMPLES_DIR}")
endif()
