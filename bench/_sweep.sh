#!/bin/bash
# KC,MC sweep: each config in its own process, configs interleaved, 2 rounds
SH="2048x128x512 2048x512x128 1024x768x768 1024x768x3072 4096x768x768 768x2048x768 1024x3072x768 640x640x128"
for r in 1 2; do for b in "$@"; do echo -n "$b: "; FMN_GEMM_BLOCKS=$b npx tsx bench/_tn.ts $SH | awk '{printf "%s %s/%s  ", $1, $3, $5} END {print ""}'; done; done
