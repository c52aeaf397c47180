# Used by run-dm-tests.sh (the UML xstate shim's AVX-512 guard).
# Reads `objdump -d` output; prints every function holding AVX-512 code
# (EVEX-only registers) that is neither in an allowed crate nor a core::arch
# intrinsic reached only from one.
function allowed(f) { return f ~ /^_ZN(8crc_fast|9crc32fast)/ }
function intrinsic(f) { return f ~ /^_ZN4core9core_arch/ }
/^[0-9a-f]+ <.*>:$/ { fn = substr($2, 2, length($2) - 3); next }
/%zmm[0-9]|%k[0-7]([^0-9]|$)|%[xy]mm(1[6-9]|2[0-9]|3[01])([^0-9]|$)/ { evex[fn] = 1 }
/\tcall / && match($0, /<_ZN4core9core_arch[^>+]*/) {
  edge[fn SUBSEP substr($0, RSTART + 1, RLENGTH - 1)] = 1
}
END {
  # An intrinsic that calls AVX-512 intrinsics is AVX-512 code too.
  do {
    grew = 0
    for (e in edge) {
      split(e, p, SUBSEP)
      if (evex[p[2]] && intrinsic(p[1]) && !evex[p[1]]) { evex[p[1]] = 1; grew = 1 }
    }
  } while (grew)
  for (f in evex) if (!allowed(f) && !intrinsic(f)) print f
  for (e in edge) {
    split(e, p, SUBSEP)
    if (evex[p[2]] && !allowed(p[1]) && !intrinsic(p[1])) print p[1] " (calls " p[2] ")"
  }
}
