import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import {
  decodeGsm7Septets,
  decodeSmsText,
  decodeUcs2Hex,
  GAP,
  groupPlainFiles,
  joinParts,
  networkMessageOf,
  parseGammuStamp,
  parseInboxFileName,
  parseUdh,
  partsOfBackup,
  SmsDecodeError,
  textOfPlainFile,
  unpackGsm7,
  type InboxFileName,
  type SmsPart,
} from '../../src/ingest/gammu.js';
import { partOfRow } from '../../src/ingest/gammu-source.js';
import { FIXTURES_DIR } from '../../src/lib/paths.js';

// Gammu SMSD's inbox, pure parts: text decoding, UDH, joining parts, inbox file names and files.

const ucs2 = (text: string) => Buffer.from(text, 'utf16le').swap16().toString('hex').toUpperCase();

describe('SMS text decoding', () => {
  it('decodes GSM 7-bit septets with the extension table', () => {
    // "Cost: 5€ {ok} [a]~|^\" as septets: € is 1B 65, { 1B 28, } 1B 29, [ 1B 3C, ] 1B 3E, ~ 1B 3D, | 1B 40, ^ 1B 14, \ 1B 2F.
    const septets = Buffer.from('436F73743A20351B6520' + '1B286F6B1B2920' + '1B3C611B3E' + '1B3D1B401B141B2F', 'hex');
    expect(decodeGsm7Septets(septets)).toBe('Cost: 5€ {ok} [a]~|^\\');
    // Basic-table characters that are not ASCII: @ is 00, £ 01, è 04, Ä 5B, ñ 7D, à 7F; 02 is $.
    expect(decodeGsm7Septets(Buffer.from([0x00, 0x01, 0x02, 0x04, 0x5b, 0x7d, 0x7f]))).toBe('@£$èÄñà');
    // An escape before a septet the extension table lacks shows the basic character (03.38).
    expect(decodeGsm7Septets(Buffer.from([0x1b, 0x41]))).toBe('A');
    expect(() => decodeGsm7Septets(Buffer.from([0x80]))).toThrow(SmsDecodeError);
  });

  it('unpacks septets packed into octets, after UDH fill bits too', () => {
    // "hellohello", the 03.40 packing example.
    expect(decodeGsm7Septets(unpackGsm7(Buffer.from('E8329BFD4697D9EC37', 'hex'), 10))).toBe('hellohello');
    // One fill bit (after a 6-byte UDH): "Hi" shifted left by one bit.
    expect(decodeGsm7Septets(unpackGsm7(Buffer.from('9069', 'hex'), 2, 1))).toBe('Hi');
  });

  it('decodes UCS-2 Chinese, and Gammu UCS-2 hex of a GSM-coded part, and septet hex of one', () => {
    expect(decodeUcs2Hex('674E5A1C60A8597DFF0C5B9D5B9D')).toBe('李娜您好，宝宝');
    expect(decodeSmsText(ucs2('新生儿回访'), 'Unicode_No_Compression')).toBe('新生儿回访');
    // What gammu-smsd writes for a GSM-coded message: UCS-2 hex, € as 20AC.
    expect(decodeSmsText('00480069002000310030002020AC', 'Default_No_Compression')).toBe('Hi 10 €');
    // Hex that is not UCS-2 of GSM characters: septets, one a byte.
    expect(decodeSmsText('48656C6C6F1B65', 'Default_No_Compression')).toBe('Hello€');
    expect(decodeSmsText('48656C6C', 'Default_No_Compression')).toBe('Hell');
    expect(decodeSmsText('0102', '8bit')).toBeNull();
    expect(() => decodeSmsText('zz', 'Unicode_No_Compression')).toThrow(/not hex/);
    expect(() => decodeSmsText('00', 'Default_Compression')).toThrow(/compressed/);
  });

  it('reads the concatenation element of a UDH, 8- and 16-bit references', () => {
    expect(parseUdh('050003A70201')).toEqual({ ref: 0xa7, total: 2, seq: 1 });
    expect(parseUdh('06080412340302')).toEqual({ ref: 0x1234, total: 3, seq: 2 });
    // Another element first (a port address), then the concatenation.
    expect(parseUdh('0B05040B8423F00003110302')).toEqual({ ref: 0x11, total: 3, seq: 2 });
    expect(parseUdh('')).toBeNull();
    expect(parseUdh('050003A70203')).toBeNull(); // part 3 of 2: ignored, as 03.40 says
    expect(() => parseUdh('0900')).toThrow(SmsDecodeError);
  });
});

describe('joining parts', () => {
  const now = new Date('2026-12-07T10:20:00Z');
  const part = (item: string, seq: number, total: number, text: string, opts: Partial<SmsPart> = {}): SmsPart => ({
    item,
    sender: '+8613700002222',
    sentAt: new Date('2026-12-07T10:15:00Z'),
    concat: { ref: 0xa7, total, seq },
    text,
    coding: 'Unicode_No_Compression',
    udh: '',
    smsc: null,
    fields: {},
    ...opts,
  });

  it('joins parts in part order whatever order they came in, once each', () => {
    const single = { ...part('9', 1, 1, 'hello'), concat: null };
    const j = joinParts([part('3', 3, 3, '请回电。'), single, part('1', 1, 3, '李娜您好，'), part('2', 2, 3, '宝宝出生于十一月二十日，'), part('2b', 2, 3, '宝宝出生于十一月二十日，')], now, 600_000);
    expect(j.pending).toEqual([]);
    expect(j.warnings).toEqual([]);
    expect(j.messages.map((m) => m.text)).toEqual(['李娜您好，宝宝出生于十一月二十日，请回电。', 'hello']);
    expect(j.messages[0].parts.map((p) => p.item)).toEqual(['1', '2', '3']);
  });

  it('keeps messages apart by sender and reference', () => {
    const j = joinParts([part('1', 1, 2, 'A1'), part('2', 1, 2, 'B1', { sender: '+8613700003333' }), part('3', 2, 2, 'A2'), part('4', 2, 2, 'B2', { sender: '+8613700003333' })], now, 600_000);
    expect(j.messages.map((m) => m.text)).toEqual(['A1A2', 'B1B2']);
  });

  it('leaves a message with a missing part waiting, with a warning, then stores it with the gap', () => {
    const parts = [part('1', 1, 3, '李娜您好，'), part('3', 3, 3, '请回电。')];
    const waiting = joinParts(parts, now, 600_000);
    expect(waiting.messages).toEqual([]);
    expect(waiting.pending.map((p) => p.item)).toEqual(['1', '3']);
    expect(waiting.warnings).toEqual(['message from +8613700002222 (reference 167, 2 of 3 parts: 1, 3) waits for part 2']);
    const late = joinParts(parts, new Date('2026-12-07T10:30:00Z'), 600_000);
    expect(late.pending).toEqual([]);
    expect(late.messages[0]).toMatchObject({ missing: [2], total: 3, text: `李娜您好，${GAP}请回电。` });
    expect(late.warnings[0]).toMatch(/stored without part 2, which never came/);
  });
});

describe('Gammu SMSD inbox files', () => {
  it('reads the file name SMSD writes', () => {
    expect(parseInboxFileName('IN20261207_101559_00_+8613700002222_01.txt')).toEqual({ name: 'IN20261207_101559_00_+8613700002222_01.txt', stamp: '20261207_101559', serial: 0, sender: '+8613700002222', part: 1, ext: 'txt' });
    expect(parseInboxFileName('IN20261207_101559_03_China_Mobile_00.bin')).toMatchObject({ sender: 'China_Mobile', serial: 3, ext: 'bin' });
    expect(parseInboxFileName('OUT+8613700002222.txt')).toBeNull();
    expect(parseGammuStamp('20261207_101559', 'Asia/Shanghai')?.toISOString()).toBe('2026-12-07T02:15:59.000Z');
    expect(parseGammuStamp('20261207T101559Z', 'Asia/Shanghai')?.toISOString()).toBe('2026-12-07T10:15:59.000Z');
    expect(parseGammuStamp('20260231_101559', 'UTC')).toBeNull();
  });

  it('groups unicode/standard files into messages by part number, each part after the one before', () => {
    const names = [
      'IN20261207_101600_00_+8613700002222_01.txt', // part 2 of the first message, a second later
      'IN20261207_101559_00_+8613700002222_00.txt',
      'IN20261207_101700_00_+8613700002222_00.txt', // a later message of one part
      'IN20261207_101800_00_+8613700009999_02.txt', // part 3 whose earlier parts are not there
    ].map((n) => parseInboxFileName(n)!);
    const groups = groupPlainFiles(names);
    expect(groups.map((g) => [g.files.map((f) => `${f.stamp}_${String(f.part).padStart(2, '0')}`), g.orphan])).toEqual([
      [['20261207_101559_00', '20261207_101600_01'], false],
      [['20261207_101700_00'], false],
      [['20261207_101800_02'], true],
    ]);
  });

  it('reads a unicode file up to the NULs SMSD pads Chinese text with', () => {
    const name = parseInboxFileName('IN20261207_101559_00_+8613700002222_00.txt') as InboxFileName;
    const data = Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(ucs2('李娜您好'), 'hex'), Buffer.alloc(16)]);
    expect(textOfPlainFile(name, data)).toEqual({ text: '李娜您好', coding: 'Unicode_No_Compression', format: 'unicode' });
    expect(textOfPlainFile(name, Buffer.from('Hi {x}'))).toMatchObject({ text: 'Hi {x}', format: 'standard' });
  });

  it('reads the parts of a detail file written by gammu-smsd, with their UDH', () => {
    const text = fs.readFileSync(path.join(FIXTURES_DIR, 'gammu', 'detail-multipart.txt'), 'utf8');
    const parts = partsOfBackup('IN20261207_101559_00_+8613700002222_00.txt', text, 'Asia/Shanghai');
    expect(parts.map((p) => [p.concat, p.text, p.sentAt?.toISOString(), p.smsc])).toEqual([
      [{ ref: 0xa7, total: 2, seq: 1 }, '李娜您好，我们是医院回访中心', '2026-12-07T10:15:59.000Z', '+8613800100500'],
      [{ ref: 0xa7, total: 2, seq: 2 }, '，宝宝出生于十一月二十日，请回电。', '2026-12-07T10:16:00.000Z', '+8613800100500'],
    ]);
    expect(() => partsOfBackup('x', '[SMSBackup000]\nNumber = "1"\nCoding = Klingon\n', 'UTC')).toThrow(/Coding "Klingon"/);
    expect(() => partsOfBackup('x', 'hello', 'UTC')).toThrow(/no \[SMSBackup/);
  });

  it('reads an SQL inbox row as SMSD writes it, the trap number by RecipientID', () => {
    const to = new Map([['modem1', '+8613912345678']]);
    const row = { ID: 7, ReceivingDateTime: '2026-12-07 18:15:59', Text: ucs2('李娜您好'), SenderNumber: '+8613700002222', Coding: 'Unicode_No_Compression', UDH: '050003A70201', SMSCNumber: '+8613800100500', Class: -1, TextDecoded: '李娜您好，宝宝', RecipientID: 'modem1', Processed: false };
    expect(partOfRow(row, to, 'Asia/Shanghai')).toMatchObject({ item: '7', text: '李娜您好', concat: { ref: 0xa7, total: 2, seq: 1 }, to: '+8613912345678', sentAt: new Date('2026-12-07T10:15:59Z') });
    expect(() => partOfRow({ ...row, RecipientID: 'modem2' }, to, 'UTC')).toThrow(/RecipientID "modem2": no trap number given/);
    expect(() => partOfRow({ ...row, Text: 'not hex' }, to, 'UTC')).toThrow(/not hex/);
    // A row without hex (written by another program): TextDecoded.
    expect(partOfRow({ ...row, Text: '', UDH: '' }, to, 'UTC').text).toBe('李娜您好，宝宝');
  });

  it('marks what the network sent, not a person: USSD replies (class 127, no sender) and delivery reports', () => {
    const section = (extra: string[]) => ['[SMSBackup000]', 'SMSC = "+8613800100500"', 'DateTime = 20261207T101800', 'Coding = Unicode', `Text00 = ${ucs2('您的余额为12.50元')}`, ...extra, ''].join('\n');
    expect(partsOfBackup('a', section(['PDU = Deliver', 'Number = ""', 'Class = 127']), 'UTC')[0].network).toBe('ussd');
    expect(partsOfBackup('b', section(['PDU = Status_Report', 'Number = "+8613700002222"', 'Class = -1']), 'UTC')[0].network).toBe('status-report');
    expect(partsOfBackup('c', section(['PDU = Deliver', 'Number = "+8613700002222"', 'Class = -1']), 'UTC')[0]).not.toHaveProperty('network');
    // A plain inbox file has only its name: SMSD names a USSD reply's file with an empty sender.
    expect(parseInboxFileName('IN20261207_101800_00__00.txt')).toMatchObject({ sender: '' });
    expect(networkMessageOf({ sender: '' })).toBe('ussd');
    expect(networkMessageOf({ sender: '10086' })).toBeUndefined();
    // SQL: the Class column; 0 (a flash SMS) and -1 are people's messages.
    const to = new Map([['', '+8613912345678']]);
    const row = { ID: 8, ReceivingDateTime: '2026-12-07 18:18:00', Text: ucs2('余额'), SenderNumber: '', Coding: 'Unicode_No_Compression', UDH: '', Class: 127, RecipientID: '' };
    expect(partOfRow(row, to, 'UTC').network).toBe('ussd');
    expect(partOfRow({ ...row, SenderNumber: '+8613700002222', Class: 0 }, to, 'UTC')).not.toHaveProperty('network');
    expect(partOfRow({ ...row, SenderNumber: '+8613700002222', Class: '127' }, to, 'UTC').network).toBe('ussd');
  });
});
