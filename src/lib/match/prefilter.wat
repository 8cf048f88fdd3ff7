;; The byte pre-filter's hot loop (src/lib/match/prefilter.ts), in WebAssembly with 128-bit SIMD.
;; `npm run build:wasm` assembles it into prefilter-wasm.ts; test/lib/match/prefilter-wasm.test.ts
;; checks that the committed bytes are this text's.
;;
;; It names the lines of a chunk that may hold a canary phone or e-mail, a superset of the lines
;; BytePrefilter's JavaScript pass names (which then reads only those lines, so the candidates are
;; the same). A line is named when
;;  - a run of ASCII digits ends and the last seven digits of the line so far are a canary's (a phone
;;    group's digits, across its separators, are the last ones of the line: the same seven the JS
;;    pass looks up when the group has seven or more), and so are the last eight by their hash (the
;;    JS pass's test when every canary number has eight digits or more);
;;  - an '@' is followed by a domain whose hash is in the set of the canaries' domains;
;;  - a mask ('*', 'x', 'X') has an ASCII digit among the four bytes before it, with only separators
;;    and masks (or bytes of characters other than ASCII) between, and no ASCII letter other than 'x'
;;    or 'X' after it;
;;  - a character other than ASCII may be part of a phone: a full-width digit, separator, mask or '＠'
;;    (UTF-8: decoded from the lead bytes C2 C3 E2 E3 EF; GB18030: the two bytes at a byte A1 A3 A8
;;    A9 that starts a character looked up in a table of two-byte characters),
;;    or a GB18030 four-byte character (lead, digit, lead, digit).
;; In GB18030 the bytes from 0x40 may be trail bytes; read as ASCII they only name more lines ('@',
;; 'x'), and digits are trail bytes only in four-byte characters. Everything else (ASCII letters and
;; punctuation, CJK ideographs) is passed 16 bytes at a time: a nibble lookup (two swizzles)
;; classifies each byte as a stop or not.
;;
;; Memory (set up by the JS side):
;;   0x000000  class of each byte for UTF-8 (256 B): 0 pass, 1 digit, 2 '\n', 3 '@', 4 mask, 5 lead
;;   0x000100  the same for GB18030, 6 for the leads of characters that may matter
;;   0x000200  e-mail domain characters (256 B, 1 or 0)
;;   0x000300  nibble tables: UTF-8 low, UTF-8 high, GB18030 low, GB18030 high (16 B each)
;;   0x001000  hash set of the canaries' e-mail domains (65,536 bits)
;;   0x004000  small first-level filter of the last seven digits (2^18 bits)
;;   0x010000  GB18030 two-byte characters by (lead << 8 | trail): 2 may matter, else 0
;;   0x020000  the last seven digits of every canary number (10^7 bits)
;;   0x160000  output: (line, line start) pairs, up to `cap`
;;   0x1e0000  the last eight digits of every canary number, hashed (2^20 bits; all set when some
;;             canary number has only seven digits: the test is then the seven digits' alone)
;;   0x200000  input bytes
(module
  (memory (export "memory") 94)
  ;; Where the next call resumes (a line start) and that line's number.
  (global $pos (export "pos") (mut i32) (i32.const 0))
  (global $line (export "line") (mut i32) (i32.const 0))

  ;; Whether the domain at $j (as BytePrefilter.domainAt reads it) hashes into the set.
  (func $domain (param $j i32) (param $n i32) (result i32)
    (local $e i32) (local $h i32) (local $c i32)
    (local.set $e (local.get $j))
    (block $done
      (loop $scan
        (br_if $done (i32.ge_u (local.get $e) (local.get $n)))
        (br_if $done (i32.ge_u (i32.sub (local.get $e) (local.get $j)) (i32.const 255)))
        (br_if $done (i32.eqz (i32.load8_u offset=0x200 (i32.load8_u offset=0x200000 (local.get $e)))))
        (local.set $e (i32.add (local.get $e) (i32.const 1)))
        (br $scan)))
    (block $trimmed
      (loop $trim
        (br_if $trimmed (i32.le_u (local.get $e) (local.get $j)))
        (local.set $c (i32.load8_u offset=0x200000 (i32.sub (local.get $e) (i32.const 1))))
        (br_if $trimmed (i32.and (i32.ne (local.get $c) (i32.const 0x2e)) (i32.ne (local.get $c) (i32.const 0x2d))))
        (local.set $e (i32.sub (local.get $e) (i32.const 1)))
        (br $trim)))
    (if (i32.le_u (local.get $e) (local.get $j)) (then (return (i32.const 0))))
    (local.set $h (i32.const 0x811c9dc5))
    (loop $hash
      (local.set $c (i32.load8_u offset=0x200000 (local.get $j)))
      (if (i32.lt_u (i32.sub (local.get $c) (i32.const 0x41)) (i32.const 26))
        (then (local.set $c (i32.or (local.get $c) (i32.const 0x20)))))
      (local.set $h (i32.mul (i32.xor (local.get $h) (local.get $c)) (i32.const 0x01000193)))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br_if $hash (i32.lt_u (local.get $j) (local.get $e))))
    (local.set $h (i32.shr_u (local.get $h) (i32.const 16)))
    (i32.and
      (i32.load8_u offset=0x1000 (i32.shr_u (local.get $h) (i32.const 3)))
      (i32.shl (i32.const 1) (i32.and (local.get $h) (i32.const 7)))))

  ;; Whether an ASCII digit is among the four bytes before $i with nothing between it and $i that
  ;; ends a digit group: ASCII separators (space - . / ( )) and masks (* x X) may stand there, and
  ;; bytes from 0x80 (of a separator or mask other than ASCII, or not: passed either way); any other
  ;; ASCII byte (a letter, a comma) ends the group before the mask.
  (func $digitBefore (param $i i32) (result i32)
    (local $k i32) (local $c i32)
    (local.set $k (i32.const 1))
    (loop $back
      (if (i32.gt_u (local.get $k) (local.get $i)) (then (return (i32.const 0))))
      (local.set $c (i32.load8_u offset=0x200000 (i32.sub (local.get $i) (local.get $k))))
      (if (i32.lt_u (i32.sub (local.get $c) (i32.const 0x30)) (i32.const 10))
        (then (return (i32.const 1))))
      (if (i32.lt_u (local.get $c) (i32.const 0x80))
        (then
          (if (i32.eqz (i32.or (i32.or (i32.or (i32.eq (local.get $c) (i32.const 0x20)) (i32.eq (local.get $c) (i32.const 0x2a)))
                  (i32.or (i32.eq (i32.or (local.get $c) (i32.const 0x20)) (i32.const 0x78)) (i32.lt_u (i32.sub (local.get $c) (i32.const 0x2d)) (i32.const 3))))
                (i32.lt_u (i32.sub (local.get $c) (i32.const 0x28)) (i32.const 2))))
            (then (return (i32.const 0))))))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $back (i32.le_u (local.get $k) (i32.const 4))))
    (i32.const 0))

  ;; Whether a character other than ASCII may be part of a phone or e-mail (chars.ts: full-width
  ;; digits and '＠', isPhoneSeparator, isPhoneMask).
  (func $significant (param $c i32) (result i32)
    (if (i32.or (i32.eq (local.get $c) (i32.const 0xa0)) (i32.eq (local.get $c) (i32.const 0xd7))) (then (return (i32.const 1))))
    (if (i32.le_u (i32.sub (local.get $c) (i32.const 0x2010)) (i32.const 5)) (then (return (i32.const 1))))
    (if (i32.or (i32.eq (local.get $c) (i32.const 0x2022)) (i32.eq (local.get $c) (i32.const 0x2212))) (then (return (i32.const 1))))
    (if (i32.or (i32.eq (local.get $c) (i32.const 0x2217)) (i32.eq (local.get $c) (i32.const 0x25cf))) (then (return (i32.const 1))))
    (if (i32.or (i32.eq (local.get $c) (i32.const 0x3000)) (i32.eq (local.get $c) (i32.const 0x30fc))) (then (return (i32.const 1))))
    (if (i32.le_u (i32.sub (local.get $c) (i32.const 0xff08)) (i32.const 2)) (then (return (i32.const 1))))
    (if (i32.or (i32.eq (local.get $c) (i32.const 0xff0d)) (i32.eq (local.get $c) (i32.const 0xff0e))) (then (return (i32.const 1))))
    (if (i32.le_u (i32.sub (local.get $c) (i32.const 0xff10)) (i32.const 9)) (then (return (i32.const 1))))
    (i32.eq (local.get $c) (i32.const 0xff20)))

  ;; Name the lines of input[pos, n) that may hold a canary (gb: 0 UTF-8, 1 GB18030); returns how
  ;; many pairs were written. When `cap` were written before the end, pos and line say where to resume.
  (func (export "scan") (param $n i32) (param $gb i32) (param $cap i32) (result i32)
    (local $i i32) (local $line i32) (local $start i32) (local $count i32)
    (local $b i32) (local $cls i32) (local $m i32) (local $t i32) (local $p i32)
    (local $tbl i32) (local $flag i32) (local $acc i64) (local $x i64) (local $bs i32) (local $bm i32)
    (local $v v128) (local $lo v128) (local $hi v128) (local $nib v128) (local $nl v128)
    (local.set $i (global.get $pos))
    (local.set $line (global.get $line))
    (local.set $start (local.get $i))
    (local.set $bs (i32.sub (local.get $i) (i32.const 32))) ;; no block classified yet
    (local.set $tbl (i32.shl (local.get $gb) (i32.const 8)))
    (local.set $lo (v128.load offset=0x300 (i32.shl (local.get $gb) (i32.const 5))))
    (local.set $hi (v128.load offset=0x310 (i32.shl (local.get $gb) (i32.const 5))))
    (local.set $nib (i8x16.splat (i32.const 15)))
    (local.set $nl (i8x16.splat (i32.const 10)))
    (block $end
      (loop $next
        ;; The next stop byte: first among those left in the block classified last, then 16 bytes at
        ;; a time, then the tail byte by byte.
        (block $found
          (if (i32.lt_u (i32.sub (local.get $i) (local.get $bs)) (i32.const 16))
            (then
              (local.set $m (i32.and (local.get $bm) (i32.shl (i32.const -1) (i32.sub (local.get $i) (local.get $bs)))))
              (if (local.get $m)
                (then
                  (local.set $i (i32.add (local.get $bs) (i32.ctz (local.get $m))))
                  (br $found)))
              (local.set $i (i32.add (local.get $bs) (i32.const 16)))))
          (loop $skip
            (if (i32.le_u (i32.add (local.get $i) (i32.const 16)) (local.get $n))
              (then
                (local.set $v (v128.load offset=0x200000 (local.get $i)))
                (local.set $m (i8x16.bitmask (i8x16.ne
                  (v128.and
                    (i8x16.swizzle (local.get $lo) (v128.and (local.get $v) (local.get $nib)))
                    (i8x16.swizzle (local.get $hi) (i8x16.shr_u (local.get $v) (i32.const 4))))
                  (v128.const i64x2 0 0))))
                (if (local.get $m)
                  (then
                    (local.set $bs (local.get $i))
                    (local.set $bm (local.get $m))
                    (local.set $i (i32.add (local.get $i) (i32.ctz (local.get $m))))
                    (br $found)))
                (local.set $i (i32.add (local.get $i) (i32.const 16)))
                (br $skip))))
          (loop $tail
            (br_if $end (i32.ge_u (local.get $i) (local.get $n)))
            (br_if $found (i32.load8_u (i32.add (local.get $tbl) (i32.load8_u offset=0x200000 (local.get $i)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $tail)))
        (local.set $b (i32.load8_u offset=0x200000 (local.get $i)))
        (local.set $cls (i32.load8_u (i32.add (local.get $tbl) (local.get $b))))
        (local.set $flag (i32.const 0))
        (block $dispatch
          ;; 1: a run of ASCII digits, then the last seven digits looked up
          (if (i32.eq (local.get $cls) (i32.const 1))
            (then
              ;; GB18030: lead, digit, lead, digit is a four-byte character (its digits are no digits)
              (if (i32.and (local.get $gb) (i32.gt_u (local.get $i) (i32.const 0)))
                (then
                  (if (i32.and (i32.ge_u (i32.load8_u offset=0x1fffff (local.get $i)) (i32.const 0x81))
                        (i32.lt_u (i32.add (local.get $i) (i32.const 2)) (local.get $n)))
                    (then
                      (if (i32.and
                            (i32.lt_u (i32.sub (i32.load8_u offset=0x200001 (local.get $i)) (i32.const 0x81)) (i32.const 0x7e))
                            (i32.lt_u (i32.sub (i32.load8_u offset=0x200002 (local.get $i)) (i32.const 0x30)) (i32.const 10)))
                        (then
                          (local.set $flag (i32.const 1))
                          (br $dispatch)))))))
              ;; The line's last eight digits, one a byte (the newest lowest): no division anywhere.
              (loop $digits
                (local.set $acc (i64.or (i64.shl (local.get $acc) (i64.const 8))
                  (i64.extend_i32_u (i32.sub (local.get $b) (i32.const 0x30)))))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (if (i32.lt_u (local.get $i) (local.get $n))
                  (then
                    (local.set $b (i32.load8_u offset=0x200000 (local.get $i)))
                    (br_if $digits (i32.lt_u (i32.sub (local.get $b) (i32.const 0x30)) (i32.const 10))))))
              ;; The seven digits looked up (the small filter, then the full set), then on a hit the eight
              ;; by their hash; written out here, as calls they cost as much as the rest of the step.
              ;; The number the low seven bytes of $acc spell (the lowest the units): three SWAR
              ;; multiplies, no division.
              (local.set $x (i64.and (local.get $acc) (i64.const 0x00ffffffffffffff)))
              (local.set $x (i64.add (i64.and (local.get $x) (i64.const 0x00ff00ff00ff00ff))
                (i64.mul (i64.and (i64.shr_u (local.get $x) (i64.const 8)) (i64.const 0x00ff00ff00ff00ff)) (i64.const 10))))
              (local.set $x (i64.add (i64.and (local.get $x) (i64.const 0x0000ffff0000ffff))
                (i64.mul (i64.and (i64.shr_u (local.get $x) (i64.const 16)) (i64.const 0x0000ffff0000ffff)) (i64.const 100))))
              (local.set $t (i32.wrap_i64 (i64.add (i64.and (local.get $x) (i64.const 0xffffffff))
                (i64.mul (i64.shr_u (local.get $x) (i64.const 32)) (i64.const 10000)))))
              (br_if $dispatch (i32.eqz (i32.and
                (i32.load8_u offset=0x4000 (i32.shr_u (i32.and (local.get $t) (i32.const 0x3ffff)) (i32.const 3)))
                (i32.shl (i32.const 1) (i32.and (local.get $t) (i32.const 7))))))
              (br_if $dispatch (i32.eqz (i32.and
                (i32.load8_u offset=0x20000 (i32.shr_u (local.get $t) (i32.const 3)))
                (i32.shl (i32.const 1) (i32.and (local.get $t) (i32.const 7))))))
              (local.set $t (i32.shr_u (i32.mul
                (i32.add (local.get $t) (i32.mul (i32.wrap_i64 (i64.shr_u (local.get $acc) (i64.const 56))) (i32.const 10000000)))
                (i32.const 0x9e3779b1)) (i32.const 12)))
              (local.set $flag (i32.ne (i32.const 0) (i32.and
                (i32.load8_u offset=0x1e0000 (i32.shr_u (local.get $t) (i32.const 3)))
                (i32.shl (i32.const 1) (i32.and (local.get $t) (i32.const 7))))))
              (br $dispatch)))
          ;; 2: a line end
          (if (i32.eq (local.get $cls) (i32.const 2))
            (then
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (local.set $line (i32.add (local.get $line) (i32.const 1)))
              (local.set $start (local.get $i))
              (local.set $acc (i64.const 0))
              (br $dispatch)))
          ;; 3: '@'
          (if (i32.eq (local.get $cls) (i32.const 3))
            (then
              (local.set $flag (call $domain (i32.add (local.get $i) (i32.const 1)) (local.get $n)))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $dispatch)))
          ;; 4: a mask, unless an ASCII letter other than a mask follows it (an e-mail "xu@..." after
          ;; a phone's column: a letter ends the digit group, so a mask run starts with two masks, or
          ;; a mask and a separator or digit, as the JS pass reads it)
          (if (i32.eq (local.get $cls) (i32.const 4))
            (then
              (if (i32.lt_u (i32.add (local.get $i) (i32.const 1)) (local.get $n))
                (then
                  (local.set $t (i32.or (i32.load8_u offset=0x200001 (local.get $i)) (i32.const 0x20)))
                  (if (i32.and (i32.lt_u (i32.sub (local.get $t) (i32.const 0x61)) (i32.const 26)) (i32.ne (local.get $t) (i32.const 0x78)))
                    (then
                      (local.set $i (i32.add (local.get $i) (i32.const 1)))
                      (br $dispatch)))))
              (local.set $flag (call $digitBefore (local.get $i)))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $dispatch)))
          ;; 5: a UTF-8 lead byte of characters among which some matter (valid UTF-8: checked before)
          (if (i32.eq (local.get $cls) (i32.const 5))
            (then
              (if (i32.lt_u (local.get $b) (i32.const 0xe0))
                (then
                  (local.set $t (i32.or (i32.shl (i32.and (local.get $b) (i32.const 0x1f)) (i32.const 6))
                    (i32.and (i32.load8_u offset=0x200001 (local.get $i)) (i32.const 0x3f))))
                  (local.set $p (i32.const 2)))
                (else
                  (local.set $t (i32.or (i32.or
                    (i32.shl (i32.and (local.get $b) (i32.const 0x0f)) (i32.const 12))
                    (i32.shl (i32.and (i32.load8_u offset=0x200001 (local.get $i)) (i32.const 0x3f)) (i32.const 6)))
                    (i32.and (i32.load8_u offset=0x200002 (local.get $i)) (i32.const 0x3f))))
                  (local.set $p (i32.const 3))))
              (local.set $flag (call $significant (local.get $t)))
              (local.set $i (i32.add (local.get $i) (local.get $p)))
              (br $dispatch)))
          ;; 6: a GB18030 byte that leads some character that may matter, looked up with the byte
          ;; after it where it starts a character: after an even number of bytes 81-FE since the line's
          ;; start or another byte. Any byte other than 81-FE ends a character (or is the second of
          ;; a four-byte one, whose third then counts as a lead: looked up in vain), and every pair
          ;; of bytes 81-FE is a two-byte character, so that is where the JS pass reads one. As a
          ;; trail (odd), e.g. A3 before B0-B9 (the full-width digits), it once named 3.7% of the
          ;; lines. Past 64 such bytes it is looked up whatever it is.
          (if (i32.lt_u (i32.add (local.get $i) (i32.const 1)) (local.get $n))
            (then
              (local.set $p (local.get $i))
              (block $counted
                (loop $back
                  (br_if $counted (i32.le_u (local.get $p) (local.get $start)))
                  (br_if $counted (i32.ge_u (i32.sub (i32.load8_u offset=0x1fffff (local.get $p)) (i32.const 0x81)) (i32.const 0x7e)))
                  (local.set $p (i32.sub (local.get $p) (i32.const 1)))
                  (br_if $back (i32.lt_u (i32.sub (local.get $i) (local.get $p)) (i32.const 64)))))
              (if (i32.or (i32.eqz (i32.and (i32.sub (local.get $i) (local.get $p)) (i32.const 1)))
                    (i32.ge_u (i32.sub (local.get $i) (local.get $p)) (i32.const 64)))
                (then
                  (local.set $flag (i32.eq (i32.const 2) (i32.load8_u offset=0x10000
                    (i32.or (i32.shl (local.get $b) (i32.const 8)) (i32.load8_u offset=0x200001 (local.get $i))))))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1))))
        (if (local.get $flag)
          (then
            (i32.store offset=0x160000 (i32.shl (local.get $count) (i32.const 3)) (local.get $line))
            (i32.store offset=0x160004 (i32.shl (local.get $count) (i32.const 3)) (local.get $start))
            (local.set $count (i32.add (local.get $count) (i32.const 1)))
            ;; The rest of a named line is the JS pass's: on to its end.
            (block $eol
              (loop $find
                (if (i32.le_u (i32.add (local.get $i) (i32.const 16)) (local.get $n))
                  (then
                    (local.set $m (i8x16.bitmask (i8x16.eq (v128.load offset=0x200000 (local.get $i)) (local.get $nl))))
                    (if (local.get $m)
                      (then
                        (local.set $i (i32.add (local.get $i) (i32.ctz (local.get $m))))
                        (br $eol)))
                    (local.set $i (i32.add (local.get $i) (i32.const 16)))
                    (br $find))))
              (loop $rest
                (br_if $end (i32.ge_u (local.get $i) (local.get $n)))
                (br_if $eol (i32.eq (i32.load8_u offset=0x200000 (local.get $i)) (i32.const 10)))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $rest)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (local.set $line (i32.add (local.get $line) (i32.const 1)))
            (local.set $start (local.get $i))
            (local.set $acc (i64.const 0))
            (if (i32.eq (local.get $count) (local.get $cap))
              (then
                (global.set $pos (local.get $i))
                (global.set $line (local.get $line))
                (return (local.get $count))))))
        (br $next)))
    (global.set $pos (local.get $n))
    (global.set $line (local.get $line))
    (local.get $count)))
