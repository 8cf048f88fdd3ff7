import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { transportsFor } from '../../src/alerts/deliver.js';
import type { AlertPayload } from '../../src/alerts/render.js';
import { parseConfig, type AlertsConfig } from '../../src/config/index.js';
import { PACKAGE_ROOT } from '../../src/lib/paths.js';

// Syslog to real receivers on this machine: UDP (a datagram a message), TCP with RFC 6587 octet
// counting, and TLS (RFC 5425) with a self-signed certificate (fixtures/tls). The receivers parse the
// RFC 5424 frames and the CEF events with parsers written here from the RFCs and the CEF rules.

const TLS_DIR = path.join(PACKAGE_ROOT, 'fixtures', 'tls');

interface Syslog5424 {
  pri: number;
  version: number;
  timestamp: string;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  sd: Record<string, Record<string, string>>;
  msg: string;
}

/** RFC 5424 §6: HEADER SP STRUCTURED-DATA [SP MSG], with SD-PARAM values unescaped (\" \\ \]). */
function parse5424(frame: string): Syslog5424 {
  const head = /^<(\d{1,3})>(\d) (\S+) (\S+) (\S+) (\S+) (\S+) /.exec(frame);
  if (!head) throw new Error(`not RFC 5424: ${frame}`);
  let rest = frame.slice(head[0].length);
  const sd: Syslog5424['sd'] = {};
  if (rest.startsWith('-')) rest = rest.slice(1);
  else {
    while (rest.startsWith('[')) {
      const id = /^\[([^ \]=""]+)/.exec(rest)!;
      rest = rest.slice(id[0].length);
      const params: Record<string, string> = {};
      while (rest.startsWith(' ')) {
        const name = /^ ([^ =\]"]+)="/.exec(rest)!;
        rest = rest.slice(name[0].length);
        let value = '';
        while (rest[0] !== '"') {
          if (rest[0] === '\\' && ['"', '\\', ']'].includes(rest[1])) {
            value += rest[1];
            rest = rest.slice(2);
          } else {
            value += rest[0];
            rest = rest.slice(1);
          }
        }
        rest = rest.slice(1);
        params[name[1]] = value;
      }
      expect(rest[0]).toBe(']');
      rest = rest.slice(1);
      sd[id[1]] = params;
    }
  }
  const msg = rest.startsWith(' ') ? rest.slice(1) : rest;
  return { pri: Number(head[1]), version: Number(head[2]), timestamp: head[3], hostname: head[4], appName: head[5], procId: head[6], msgId: head[7], sd, msg };
}

/** CEF: seven header fields split on unescaped |, then key=value pairs (values unescape \= \\ \n \r). */
function parseCef(text: string): { header: string[]; ext: Record<string, string> } {
  const header: string[] = [];
  let field = '';
  let i = 0;
  for (; i < text.length && header.length < 7; i++) {
    const c = text[i];
    if (c === '\\' && (text[i + 1] === '|' || text[i + 1] === '\\')) field += text[++i];
    else if (c === '|') {
      header.push(field);
      field = '';
    } else field += c;
  }
  const ext: Record<string, string> = {};
  const body = text.slice(i);
  // A key starts after a space and runs to an unescaped '='.
  const starts = [...body.matchAll(/(?:^| )([A-Za-z0-9_]+)=/g)].filter((m) => body[m.index + m[0].length - 2] !== '\\');
  starts.forEach((m, n) => {
    const from = m.index + m[0].length;
    const to = n + 1 < starts.length ? starts[n + 1].index : body.length;
    ext[m[1]] = body.slice(from, to).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c));
  });
  return { header, ext };
}

/** RFC 6587 §3.4.1: MSG-LEN SP SYSLOG-MSG, repeated; lengths in bytes. */
function octetFrames(data: Buffer): string[] {
  const frames: string[] = [];
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const len = Number(data.subarray(at, space).toString('ascii'));
    expect(Number.isInteger(len) && len > 0).toBe(true);
    frames.push(data.subarray(space + 1, space + 1 + len).toString('utf8'));
    at = space + 1 + len;
  }
  expect(at).toBe(data.length);
  return frames;
}

const hit: AlertPayload = {
  hit: 11, incident: 'INC-9', canary: 'c-7', kind: 'sms', at: '2026-12-07T08:00:00.000Z', from: '+86133****5678', confidence: 0.95,
  reasons: ['names the mother 王芳 = "A|B" \\ ] [x]'], exposedTo: ['export:insurer', 'ward:产科一病区'],
};
const tripwire: AlertPayload = {
  type: 'tripwire', tripwire: 3, canary: 'c-8', account: 'dr|li=x', action: 'view record', at: '2026-12-07T08:01:00.000Z', system: 'HIS', ip: '10.1.2.3', exposedTo: [],
};

describe('syslog alerts to real receivers', () => {
  let udp: dgram.Socket;
  let tcp: net.Server;
  let tlsServer: tls.Server;
  const got: Record<'udp' | 'tcp' | 'tls', string[]> = { udp: [], tcp: [], tls: [] };
  let udpWaiters: (() => void)[] = [];

  beforeAll(async () => {
    udp = dgram.createSocket('udp4');
    udp.on('message', (m) => {
      got.udp.push(m.toString('utf8'));
      udpWaiters.forEach((w) => w());
      udpWaiters = [];
    });
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
    const collect = (into: string[]) => (socket: net.Socket) => {
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('end', () => into.push(...octetFrames(Buffer.concat(chunks))));
    };
    tcp = net.createServer(collect(got.tcp));
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    tlsServer = tls.createServer({ cert: fs.readFileSync(path.join(TLS_DIR, 'localhost.crt')), key: fs.readFileSync(path.join(TLS_DIR, 'localhost.key')) }, collect(got.tls));
    await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    udp?.close();
    await new Promise<void>((r) => tcp?.close(() => r()));
    await new Promise<void>((r) => tlsServer?.close(() => r()));
  });

  const port = (s: net.Server | dgram.Socket) => (s.address() as net.AddressInfo).port;

  it('sends RFC 5424 over TCP with octet counting: one frame per alert, structured data escaped', async () => {
    const config: AlertsConfig = { digestAbove: 5, syslog: [{ name: 'soc', host: '127.0.0.1', port: port(tcp), transport: 'tcp', format: 'rfc5424', facility: 'auth', appName: 'cradle', hostname: 'cradle-host', enterpriseId: 32473 }] };
    const [t] = transportsFor(config, {});
    expect(t.channel).toBe('syslog:soc');
    await t.send([hit, tripwire], '17-18');
    await new Promise((r) => setImmediate(r));
    expect(got.tcp).toHaveLength(2);
    const [a, b] = got.tcp.map(parse5424);
    expect(a).toMatchObject({ pri: 4 * 8 + 1, version: 1, hostname: 'cradle-host', appName: 'cradle', procId: String(process.pid), msgId: 'hit' });
    expect(Number.isNaN(Date.parse(a.timestamp))).toBe(false);
    expect(a.sd['cradle@32473']).toMatchObject({ type: 'hit', hit: '11', canary: 'c-7', incident: 'INC-9', kind: 'sms', confidence: '0.95', exposedTo: 'export:insurer,ward:产科一病区', key: '17-18.1' });
    expect(a.msg.startsWith('\uFEFF')).toBe(true);
    expect(a.msg).toContain('names the mother 王芳 = "A|B" \\ ] [x]');
    expect(a.msg).not.toContain('\n');
    expect(b).toMatchObject({ pri: 4 * 8 + 1, msgId: 'tripwire' });
    expect(b.sd['cradle@32473']).toMatchObject({ type: 'tripwire', account: 'dr|li=x', action: 'view record', ip: '10.1.2.3', key: '17-18.2' });
  });

  it('sends CEF over TLS to a receiver whose certificate the config names as CA', async () => {
    const config = parseConfig({
      hospitals: { h: { target: 't', mapping: 'm.json', wards: ['w'], districts: ['d'] } },
      alerts: { syslog: [{ name: 'siem', host: '127.0.0.1', port: port(tlsServer), transport: 'tls', format: 'cef', facility: 'local4', ca: 'localhost.crt' }] },
    }, path.join(TLS_DIR, 'cradle.config.json'));
    expect(config.alerts!.syslog![0].ca).toBe(path.join(TLS_DIR, 'localhost.crt'));
    const [t] = transportsFor(config.alerts, {});
    await t.send([hit, tripwire], '5');
    await new Promise((r) => setImmediate(r));
    expect(got.tls).toHaveLength(2);
    const [a, b] = got.tls.map(parse5424);
    expect(a).toMatchObject({ pri: 20 * 8 + 1, sd: {}, msgId: 'hit' });
    const cef = parseCef(a.msg);
    expect(cef.header.slice(0, 5)).toEqual(['CEF:0', 'Cradle', 'Cradle', expect.stringMatching(/^\d+\.\d+\.\d+/), 'canary-hit']);
    expect(cef.header[6]).toBe('10');
    expect(cef.ext).toMatchObject({ cs1Label: 'canary', cs1: 'c-7', cs3: 'INC-9', cfp1: '0.95', externalId: '11', rt: String(Date.parse(hit.at)), cs6: '5.1' });
    expect(cef.ext.msg).toContain('names the mother 王芳 = "A|B" \\ ] [x]');
    const trip = parseCef(parse5424(got.tls[1]).msg);
    expect(b.msgId).toBe('tripwire');
    expect(trip.header[5]).toBe('[Cradle] tripwire: account dr|li=x opened canary record c-8 (view record)');
    expect(trip.header[6]).toBe('9');
    expect(trip.ext).toMatchObject({ suser: 'dr|li=x', act: 'view record', src: '10.1.2.3', cs3: 'HIS' });
  });

  it('refuses a TLS receiver whose certificate it cannot verify (no CA given)', async () => {
    const [t] = transportsFor({ digestAbove: 5, syslog: [{ name: 'siem', host: '127.0.0.1', port: port(tlsServer), transport: 'tls', format: 'cef', facility: 'auth', appName: 'cradle', enterpriseId: 32473 }] }, {});
    await expect(t.send([hit], '1')).rejects.toThrow(/^siem: syslog tls 127\.0\.0\.1: .*self[- ]signed certificate/);
  });

  it('sends one datagram per alert over UDP, and fails over TCP when nobody listens', async () => {
    const arrived = new Promise<void>((r) => udpWaiters.push(r));
    const [u] = transportsFor({ digestAbove: 5, syslog: [{ name: 'udp', host: '127.0.0.1', port: port(udp), transport: 'udp', format: 'rfc5424', facility: 'local0', appName: 'cradle', enterpriseId: 32473 }] }, {});
    await u.send([hit], '9');
    await arrived;
    const m = parse5424(got.udp[0]);
    expect(m).toMatchObject({ pri: 16 * 8 + 1, msgId: 'hit' });
    expect(m.sd['cradle@32473'].key).toBe('9');
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const free = port(closed);
    await new Promise<void>((r) => closed.close(() => r()));
    const [down] = transportsFor({ digestAbove: 5, syslog: [{ name: 'down', host: '127.0.0.1', port: free, transport: 'tcp', format: 'rfc5424', facility: 'auth', appName: 'cradle', enterpriseId: 32473 }] }, {});
    await expect(down.send([hit], '1')).rejects.toThrow(/^down: syslog tcp 127\.0\.0\.1: .*connect ECONNREFUSED/);
  });

  it('checks syslog settings in the config', () => {
    const at = (syslog: unknown) => () => parseConfig({ hospitals: { h: { target: 't', mapping: 'm.json', wards: ['w'], districts: ['d'] } }, alerts: { syslog } }, 'c.json');
    expect(at([{ name: 'a', host: 'h', transport: 'udp', ca: 'x.crt' }])).toThrow(/alerts\.syslog\.0\.ca: ca is for transport "tls" only/);
    expect(at([{ name: 'a', host: 'h' }, { name: 'a', host: 'h2' }])).toThrow(/alerts\.syslog\.1\.name: the name "a" is used twice/);
    expect(at([{ name: 'a', host: 'h', facility: 'local9' }])).toThrow(/alerts\.syslog\.0\.facility/);
    expect(at([{ name: 'a', host: 'h', transport: 'tls', cert: 'c.crt' }])).toThrow(/alerts\.syslog\.0\.key: give both cert and key/);
  });
});
