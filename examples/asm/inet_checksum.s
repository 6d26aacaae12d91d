# RFC 1071 Internet checksum of the input buffer (r1 = data, r2 = length in bytes).
# Run: bpfvm run examples/asm/inet_checksum.s --mem "45 00 00 73 00 00 40 00 40 11 00 00 c0 a8 00 01 c0 a8 00 c7"
# (an IPv4 header with its checksum field zeroed; the answer is 0xb861).
mov %r0, 0              # running 32-bit sum
mov %r3, 0              # byte offset
loop:
mov %r4, %r3
add %r4, 1
jge %r4, %r2, tail      # fewer than two bytes left
mov %r5, %r1
add %r5, %r3
ldxh %r6, [%r5+0]
be16 %r6                # the sum is over big-endian 16-bit words
add %r0, %r6
add %r3, 2
ja loop
tail:
jge %r3, %r2, fold      # even length: done
mov %r5, %r1
add %r5, %r3
ldxb %r6, [%r5+0]
lsh %r6, 8              # odd trailing byte is the high half of a word
add %r0, %r6
fold:                   # two folds bring any sum of up to 65535 words into 16 bits
mov %r4, %r0
rsh %r4, 16
and %r0, 0xffff
add %r0, %r4
mov %r4, %r0
rsh %r4, 16
and %r0, 0xffff
add %r0, %r4
xor %r0, 0xffff
exit
