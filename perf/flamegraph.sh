#!/usr/bin/env bash
# Folded stacks -> flame graph SVG, self-contained (bash + awk), written for this project.
#
#   perf/flamegraph.sh fold < perf-script.txt > stacks.folded
#       `perf script -F comm,pid,tid,period,ip,sym` text -> one "frame;frame;...;leaf COUNT" line
#       per distinct stack (root first, the command name as the root frame).
#   perf/flamegraph.sh svg [--title TEXT] [--width PX] < stacks.folded > flame.svg
#       Stacks sorted so equal prefixes merge; every frame one <rect> (its width the share of
#       samples) with a <title> tooltip (name, samples, percent) and its name where it fits.
#       Callers below, callees above, as flame graphs are read.
#   perf/flamegraph.sh top [N] < stacks.folded
#       The N functions with the most samples on top of the stack (self time), and their share.
set -euo pipefail

usage() {
  awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"
  exit "${1:-2}"
}

fold() {
  awk '
    function flush(   i, s) {
      if (n == 0) return
      s = comm
      for (i = n; i >= 1; i--) s = s ";" frame[i]
      count[s]++
      n = 0
    }
    /^[^ \t]/ { flush(); comm = $1; gsub(/;/, ":", comm); next }
    /^[ \t]+[0-9a-f]+ / {
      line = $0
      sub(/^[ \t]+[0-9a-f]+ /, "", line)
      sub(/ \([^()]*\)$/, "", line)   # " (dso)" when perf adds it
      sub(/\+0x[0-9a-f]+$/, "", line)
      gsub(/;/, ":", line)
      if (line == "") line = "[unknown]"
      frame[++n] = line
      next
    }
    /^[ \t]*$/ { flush() }
    END { flush(); for (s in count) print s, count[s] }
  ' | LC_ALL=C sort
}

svg() {
  local title="Flame graph" width=1200
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --title) title="$2"; shift 2 ;;
      --width) width="$2"; shift 2 ;;
      *) usage ;;
    esac
  done
  LC_ALL=C sort | awk -v title="$title" -v W="$width" '
    function esc(s) {
      gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s); gsub(/"/, "\\&quot;", s)
      return s
    }
    # Closes frame d of the previous stack: a record name, depth, start, end (in samples).
    function close_frame(d) {
      nf++; fname[nf] = prev[d]; fdepth[nf] = d; fstart[nf] = start[d]; fend[nf] = x
      if (d > maxdepth) maxdepth = d
    }
    BEGIN { for (i = 0; i < 256; i++) ord[sprintf("%c", i)] = i; x = 0; pn = 0; nf = 0; maxdepth = 0 }
    {
      c = $NF
      stack = $0
      sub(/ [0-9]+$/, "", stack)
      if (c !~ /^[0-9]+$/ || stack == "") next
      n = split(stack, f, ";")
      k = 0
      while (k < n && k < pn && f[k + 1] == prev[k + 1]) k++
      for (d = pn; d > k; d--) close_frame(d)
      for (d = k + 1; d <= n; d++) { start[d] = x; prev[d] = f[d] }
      pn = n
      x += c
    }
    END {
      for (d = pn; d >= 1; d--) close_frame(d)
      total = x
      fh = 16; top = 40; bottom = 24
      H = top + (maxdepth + 1) * fh + bottom
      printf "<?xml version=\"1.0\" standalone=\"no\"?>\n"
      printf "<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" style=\"background-color:#f8f8f0\">\n", W, H, W, H

      printf "<text x=\"%d\" y=\"24\" text-anchor=\"middle\" font-family=\"Verdana,sans-serif\" font-size=\"16\">%s</text>\n", W / 2, esc(title)
      printf "<text x=\"10\" y=\"%d\" font-family=\"Verdana,sans-serif\" font-size=\"11\" fill=\"#555\">%d samples; width = share of samples, callers below callees</text>\n", H - 8, total
      if (total == 0) { print "</svg>"; exit }
      scale = (W - 20) / total
      # depth 0: all samples
      fname[0] = "all"; fdepth[0] = 0; fstart[0] = 0; fend[0] = total
      for (i = 0; i <= nf; i++) {
        w = (fend[i] - fstart[i]) * scale
        px = 10 + fstart[i] * scale
        py = H - bottom - (fdepth[i] + 1) * fh
        # A warm colour from the name (stable across runs).
        h = 0
        for (j = 1; j <= length(fname[i]) && j <= 40; j++) h = (h * 31 + ord[substr(fname[i], j, 1)]) % 65536
        r = 205 + h % 50; g = int(h / 50) % 200 + 20; b = int(h / 10000) % 55
        samples = fend[i] - fstart[i]
        printf "<g><title>%s (%d samples, %.2f%%)</title>", esc(fname[i]), samples, 100 * samples / total
        printf "<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"rgb(%d,%d,%d)\" rx=\"2\" ry=\"2\"/>", px, py, w, fh - 1, r, g, b
        chars = int((w - 6) / 7)
        if (chars >= 3) {
          label = fname[i]
          if (length(label) > chars) label = substr(label, 1, chars - 2) ".."
          printf "<text x=\"%.2f\" y=\"%d\" font-family=\"Verdana,sans-serif\" font-size=\"11\">%s</text>", px + 3, py + fh - 4, esc(label)
        }
        printf "</g>\n"
      }
      print "</svg>"
    }
  '
}

top() {
  local n="${1:-15}"
  # Reads the whole input before printing (no early-closed pipe under pipefail).
  awk '{ c = $NF; stack = $0; sub(/ [0-9]+$/, "", stack); k = split(stack, f, ";"); self[f[k]] += c; total += c }
       END { for (s in self) printf "%d\t%.2f%%\t%s\n", self[s], 100 * self[s] / total, s }' |
    LC_ALL=C sort -t "$(printf '\t')" -k1,1nr -k3,3 | awk -v N="$n" 'NR <= N'
}

case "${1:-}" in
  fold) fold ;;
  svg) shift; svg "$@" ;;
  top) shift; top "$@" ;;
  -h|--help) usage 0 ;;
  *) usage ;;
esac
