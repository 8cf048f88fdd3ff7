import { UserError } from '../lib/errors.js';
import type { AccessReject } from '../vault/index.js';

// --max-rejects: an import counts its rejects by what they have in common (the field and the reason,
// values left out), so that when too many lines are rejected it stops with one short message saying
// which field, why, and where, instead of storing a log it cannot read.

/** An import stopped for too many rejects: nothing after its last committed batch was stored; `rejects`, the batch's that was not. */
export class TooManyRejects extends UserError {
  constructor(
    message: string,
    readonly rejects: readonly AccessReject[],
  ) {
    super(message);
  }
}

interface Group {
  field: string;
  /** The first reject's reason, as written. */
  example: string;
  count: number;
  /** The first lines with this problem. */
  lines: number[];
}

const FIRST_LINES = 5;

/** What rejects have in common: the field (before the reason's first colon) and the reason with quoted values taken out. */
export function rejectKind(reason: string): { field: string; kind: string } {
  const colon = reason.indexOf(':');
  const field = colon > 0 ? reason.slice(0, colon) : 'row';
  return { field, kind: `${field}:${reason.slice(colon + 1).replace(/"(?:[^"\\]|\\.)*"…?/g, '"…"')}` };
}

export class RejectTally {
  /** Lines read: events and rejects. */
  lines = 0;
  rejected = 0;
  private groups = new Map<string, Group>();

  add(events: number, rejects: readonly AccessReject[]): void {
    this.lines += events + rejects.length;
    this.rejected += rejects.length;
    for (const r of rejects) {
      const { field, kind } = rejectKind(r.reason);
      let g = this.groups.get(kind);
      if (!g) this.groups.set(kind, (g = { field, example: r.reason, count: 0, lines: [] }));
      g.count++;
      if (g.lines.length < FIRST_LINES) g.lines.push(r.line);
    }
  }

  /** More than `share` of the lines rejected, judged once `minLines` were read; or, at the end of a shorter log, every line rejected. */
  exceeds(share: number, minLines: number, atEnd: boolean): boolean {
    if (this.lines === 0 || this.rejected <= share * this.lines) return false;
    return this.lines >= minLines || (atEnd && this.rejected === this.lines);
  }

  /** One short message: how many, the commonest problem with its first lines, and what to do. */
  message(file: string, share: number, committedLine: number): string {
    const groups = [...this.groups.values()].sort((a, b) => b.count - a.count);
    const pct = (n: number) => `${Math.round((n / Math.max(this.lines, 1)) * 1000) / 10}%`;
    const [top, ...others] = groups;
    const where = (g: Group) => `line${g.lines.length > 1 ? 's' : ''} ${g.lines.join(', ')}${g.count > g.lines.length ? ', …' : ''}`;
    const example = top.example.length > 240 ? `${top.example.slice(0, 240)}…` : top.example;
    const other = others.length ? `; ${this.rejected - top.count} for ${others.length} other reason${others.length > 1 ? 's' : ''} (first: ${others[0].field}, ${where(others[0])})` : '';
    const fix = /^ts\b/.test(top.field) ? '--time-format' : /missing|columns/.test(top.example) ? '--map' : '--map, --time-format or --encoding';
    const kept = committedLine > 0 ? `lines up to ${committedLine} were committed before, nothing after` : 'nothing was committed';
    return (
      `${file}: ${this.rejected} of ${this.lines} lines rejected (${pct(this.rejected)}, over --max-rejects ${share}); ` +
      `${top.count} for ${top.field} (${where(top)}): ${example}${other}; ${kept}: fix the file or ${fix} and import again (or raise --max-rejects)`
    );
  }
}
