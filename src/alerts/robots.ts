import crypto from 'node:crypto';
import type { RobotKind } from '../config/index.js';
import { renderAlerts, type AlertPayload } from './render.js';

// Group robots of the chat apps a hospital's security team reads: what each is sent (pure), how each
// is signed, and whether its answer says the message was delivered. These robots answer HTTP 200 even
// when they refuse a message: the verdict is the code in the body.
//
//  - DingTalk custom robot (钉钉自定义机器人), 加签: sign = base64(HMAC-SHA256(key = secret,
//    message = timestamp + "\n" + secret)), timestamp in milliseconds, both added to the webhook URL
//    as the query parameters `timestamp` and `sign` (URL-encoded). Answer {"errcode":0,"errmsg":"ok"}.
//  - WeCom group robot (企业微信群机器人): the `key` in the webhook URL is the credential; no signing.
//    Answer {"errcode":0,"errmsg":"ok"}.
//  - Feishu/Lark custom bot (飞书自定义机器人), 签名校验: sign = base64(HMAC-SHA256(key = timestamp +
//    "\n" + secret, message = empty)), timestamp in seconds, both in the JSON body. Answer {"code":0,…}
//    (older answers: {"StatusCode":0,…}).
//  - Microsoft Teams through Workflows (Power Automate, "When a Teams webhook request is received"):
//    a message with an Adaptive Card attachment; the URL carries its signature (`sig=`). The flow
//    answers 202 Accepted with no body; an HTTP error status is a refusal.

export interface RobotRequest {
  url: string;
  body: unknown;
}

/** What a message may hold, in UTF-8 bytes (WeCom: 4096 markdown, 2048 text; the others have room). */
function byteLimit(kind: RobotKind, msgtype: 'markdown' | 'text'): number {
  if (kind === 'wecom') return msgtype === 'markdown' ? 4096 : 2048;
  return 15_000;
}

/** Cut text to at most `bytes` UTF-8 bytes, on a character boundary, saying so at the end. */
export function truncateUtf8(text: string, bytes: number): string {
  if (Buffer.byteLength(text) <= bytes) return text;
  const marker = '\n…(cut: see cradle hits)';
  let out = '';
  let used = Buffer.byteLength(marker);
  for (const ch of text) {
    const n = Buffer.byteLength(ch);
    if (used + n > bytes) break;
    out += ch;
    used += n;
  }
  return out + marker;
}

/** DingTalk's 加签: HMAC-SHA256 keyed with the secret over `${timestampMs}\n${secret}`, base64. */
export function dingtalkSign(timestampMs: number, secret: string): string {
  return crypto.createHmac('sha256', secret).update(`${timestampMs}\n${secret}`, 'utf8').digest('base64');
}

/** Feishu's 签名校验: HMAC-SHA256 keyed with `${timestampS}\n${secret}` over an empty message, base64. */
export function feishuSign(timestampS: number, secret: string): string {
  return crypto.createHmac('sha256', `${timestampS}\n${secret}`).update(Buffer.alloc(0)).digest('base64');
}

/** The Adaptive Card (1.4) message a Teams workflow receives. */
export function teamsCard(alerts: readonly AlertPayload[]): unknown {
  const { subject, text } = renderAlerts(alerts);
  const paragraphs = text.trim().split(/\n{2,}/);
  return {
    type: 'message',
    attachments: [{
      contentType: 'application/vnd.microsoft.card.adaptive',
      contentUrl: null,
      content: {
        $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
        type: 'AdaptiveCard',
        version: '1.4',
        body: [
          { type: 'TextBlock', text: truncateUtf8(subject, 1000), weight: 'Bolder', size: 'Medium', wrap: true },
          ...paragraphs.map((p) => ({ type: 'TextBlock', text: truncateUtf8(p, 3000), wrap: true })),
        ],
        msteams: { width: 'Full' },
      },
    }],
  };
}

/** The request for one robot: its URL (with DingTalk's signature) and JSON body (with Feishu's). */
export function robotRequest(
  robot: { kind: RobotKind; msgtype?: 'markdown' | 'text' },
  url: string,
  alerts: readonly AlertPayload[],
  secret: string | undefined,
  now: Date = new Date(),
): RobotRequest {
  const { subject, text } = renderAlerts(alerts);
  const msgtype = robot.msgtype ?? 'markdown';
  const limit = byteLimit(robot.kind, msgtype);
  switch (robot.kind) {
    case 'dingtalk': {
      const target = new URL(url);
      if (secret) {
        const timestamp = now.getTime();
        target.searchParams.set('timestamp', String(timestamp));
        target.searchParams.set('sign', dingtalkSign(timestamp, secret));
      }
      // DingTalk's markdown needs a blank line for a line break.
      const body = msgtype === 'markdown'
        ? { msgtype, markdown: { title: truncateUtf8(subject, 200), text: truncateUtf8(`### ${subject}\n\n${text.trim().split('\n').join('\n\n')}`, limit) } }
        : { msgtype, text: { content: truncateUtf8(`${subject}\n${text}`, limit) } };
      return { url: target.toString(), body };
    }
    case 'wecom': {
      const body = msgtype === 'markdown'
        ? { msgtype, markdown: { content: truncateUtf8(`**${subject}**\n${text}`, limit) } }
        : { msgtype, text: { content: truncateUtf8(`${subject}\n${text}`, limit) } };
      return { url, body };
    }
    case 'feishu': {
      const content = { text: truncateUtf8(`${subject}\n${text}`, limit) };
      if (!secret) return { url, body: { msg_type: 'text', content } };
      const timestamp = Math.floor(now.getTime() / 1000);
      return { url, body: { timestamp: String(timestamp), sign: feishuSign(timestamp, secret), msg_type: 'text', content } };
    }
    case 'teams':
      return { url, body: teamsCard(alerts) };
  }
}

const VENDOR: Record<RobotKind, string> = { dingtalk: 'DingTalk', wecom: 'WeCom', feishu: 'Feishu', teams: 'Teams workflow' };

/** Null when the robot's answer says the message was delivered; otherwise what it said (not yet redacted). */
export function robotRefusal(kind: RobotKind, status: number, body: string): string | null {
  const vendor = VENDOR[kind];
  let answer: unknown = undefined;
  try {
    answer = body.trim() ? JSON.parse(body) : undefined;
  } catch {
    answer = undefined;
  }
  const field = (name: string): unknown => (answer !== null && typeof answer === 'object' ? (answer as Record<string, unknown>)[name] : undefined);
  if (kind === 'teams') {
    if (status >= 200 && status < 300) return null;
    const error = field('error');
    const message = error !== null && typeof error === 'object' ? (error as Record<string, unknown>).message : undefined;
    return `${vendor} answered HTTP ${status}${typeof message === 'string' ? `: ${message}` : ''}`;
  }
  if (status < 200 || status >= 300) return `${vendor} answered HTTP ${status}${body.trim() ? `: ${body.trim().slice(0, 200)}` : ''}`;
  if (answer === undefined) return `${vendor} answered HTTP ${status} without the JSON code that confirms delivery${body.trim() ? `: ${body.trim().slice(0, 200)}` : ''}`;
  if (kind === 'feishu') {
    const code = field('code') ?? field('StatusCode');
    if (code === 0) return null;
    return `${vendor} code ${String(code)}: ${String(field('msg') ?? field('StatusMessage') ?? '')}`;
  }
  const errcode = field('errcode');
  if (errcode === 0) return null;
  return `${vendor} errcode ${String(errcode)}: ${String(field('errmsg') ?? '')}`;
}

/**
 * A message fit for a log: the webhook URL's token, key and signature, and the signing secret, hidden.
 * Robots' URLs are credentials (DingTalk access_token, WeCom key, Teams sig), so only the host is kept.
 */
export function redact(message: string, secrets: readonly (string | undefined)[]): string {
  let out = message;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('…');
  out = out.replace(/(https?:\/\/[^/\s"'?#]+)[^\s"']*/gi, '$1/…');
  return out.replace(/\b(access_token|key|sig|sign|token|secret)=[^&\s"']+/gi, '$1=…');
}
