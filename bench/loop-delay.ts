import fs from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

// Preloaded (`node --import …/loop-delay.js`) into a server the webhook benchmark measures: the
// server's event-loop delay over the load. The first SIGUSR2 starts measuring, the second writes
// { p50, p99, p999, max, stalls } (ms) to CRADLE_BENCH_LOOP_DELAY. `stalls`: each time a 1 ms timer
// fired more than 10 ms late, the monotonic times (µs, the clock of a --cpu-prof profile) the loop
// was held from and to, and the process's CPU time (ms, user + system) meanwhile: near the stall's
// length, a long task; far below it, the process waiting for a core (a busy machine).
// A profile shows what held it.

const out = process.env.CRADLE_BENCH_LOOP_DELAY;
if (out) {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  const stalls: [number, number, number][] = [];
  let timer: NodeJS.Timeout | undefined;
  let cpu = process.cpuUsage();
  const tick = (due: number) => {
    const now = Number(process.hrtime.bigint() / 1000n);
    const was = cpu;
    cpu = process.cpuUsage();
    if (now - due > 10_000) stalls.push([due, now, Math.round((cpu.user - was.user + cpu.system - was.system) / 100) / 10]);
    timer = setTimeout(tick, 1, now + 1000).unref();
  };
  process.on('SIGUSR2', () => {
    if (!timer) {
      histogram.enable();
      tick(Number(process.hrtime.bigint() / 1000n));
      return;
    }
    histogram.disable();
    clearTimeout(timer);
    const ms = (ns: number) => Math.round(ns / 1e4) / 100;
    fs.writeFileSync(out, JSON.stringify({ p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), p999: ms(histogram.percentile(99.9)), max: ms(histogram.max), stalls }));
  });
}
