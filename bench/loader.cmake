# Loader benchmark (included by bench/CMakeLists.txt): parse + relocate the example objects.
bpfvm_add_bench(bench_loader SOURCES bench_loader.cpp LIBS bpfvm_loader bpfvm_vm)
target_compile_definitions(bench_loader PRIVATE BPFVM_EXAMPLES_DIR="${BPFVM_EXAMPLES_DIR}")
if(TARGET bpfvm_examples)
  add_dependencies(bench_loader bpfvm_examples)
endif()
