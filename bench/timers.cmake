# bpf_timer queue benchmark (included by bench/CMakeLists.txt): one TimerQueue::run_due firing 10,000
# armed timers (issue #15: the firing order is kept ordered, not found by a scan per callback).
bpfvm_add_bench(bench_timers SOURCES bench_timers.cpp LIBS bpfvm_helpers bpfvm_maps bpfvm_vm)
