import { detectEncoding } from '../../src/lib/encoding.js';

describe('detectEncoding', () => {
  test('a UTF-8 sample cut inside a character anywhere near its end is UTF-8', () => {
    const text = Buffer.from('序号,母亲姓名,陈丽华,13812345678\n'.repeat(50));
    // Every cut point: a three-byte character may end the sample whole, or lose one or two bytes.
    for (let cut = text.length - 12; cut <= text.length; cut++) expect(detectEncoding(text.subarray(0, cut)).encoding).toBe('utf-8');
  });

  test('GBK bytes are GB18030, and a complete sample must decode whole', () => {
    expect(detectEncoding(Buffer.from([0xb3, 0xc2, 0xc0, 0xf6, 0xbb, 0xaa, 0x2c, 0x31])).encoding).toBe('gb18030'); // 陈丽华,1
    expect(detectEncoding(Buffer.from('陈丽华').subarray(0, 8), true).encoding).toBe('gb18030');
    expect(detectEncoding(Buffer.from([0xef, 0xbb, 0xbf, 0x41])).bom).toBe(3);
  });
});
