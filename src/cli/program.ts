import type { Command } from 'commander';
import { registerInit } from './init.js';
import { registerTarget } from './target.js';
import { registerPool } from './pool.js';
import { registerSeed } from './seed.js';
import { registerCanaries } from './canaries.js';
import { registerExports } from './exports.js';
import { registerWatermark } from './watermark.js';
import { registerScan } from './scan.js';
import { registerWatch } from './watch.js';
import { registerIngest } from './ingest.js';
import { registerHits } from './hits.js';
import { registerLogs } from './logs.js';
import { registerTrace } from './trace.js';
import { registerReport } from './report.js';
import { registerVerify } from './verify.js';
import { registerAudit } from './audit.js';
import { registerRealism } from './realism.js';
import { registerEvidence } from './evidence.js';
import { registerAlerts } from './alerts.js';
import { registerDemo } from './demo.js';
import { registerCompletion } from './completion.js';
import { baseProgram, finishProgram } from './program-base.js';

// The whole program, every command group registered in the order help lists them: for --help, a
// command line main.ts cannot place in one group, and the tests and docs that walk all commands.

export function buildProgram(): Command {
  const program = baseProgram();
  registerInit(program);
  registerTarget(program);
  registerPool(program);
  registerSeed(program);
  registerCanaries(program);
  registerExports(program);
  registerWatermark(program);
  registerScan(program);
  registerWatch(program);
  registerIngest(program);
  registerHits(program);
  registerLogs(program);
  registerTrace(program);
  registerReport(program);
  registerVerify(program);
  registerAudit(program);
  registerRealism(program);
  registerEvidence(program);
  registerAlerts(program);
  registerDemo(program);
  registerCompletion(program);
  return finishProgram(program);
}
