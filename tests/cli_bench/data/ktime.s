# r0 = bpf_ktime_get_ns(): every engine runs at another moment, so the results must disagree.
call 5
exit
