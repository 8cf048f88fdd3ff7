import { simulate } from '../test/trace/simulate.js';

// `npm run bench:trace`: the trace model on simulated hospitals (test/trace/simulate.ts): accuracy on
// single-source, unknown and merged leaks, and calibration, the figures docs/trace.md quotes. Prints;
// test/trace/simulation.test.ts asserts the targets on the same runs.
//
//   node dist/bench/trace.js [--merged N]

const at = process.argv.indexOf('--merged');
const merged = at > 0 ? Number(process.argv[at + 1]) : undefined;
console.log(simulate({ merged }).lines.join('\n'));
