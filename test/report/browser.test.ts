import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect } from '@jest/globals';
import { chromium, type Browser } from 'playwright-core';
import type { ReportLang } from '../../src/report/data.js';
import { CHROMIUM_ARGS, chromiumPath, htmlToPdf } from '../../src/report/pdf.js';
import { renderHtml } from '../../src/report/render.js';
import { PACKAGE_ROOT } from '../../src/lib/paths.js';
import { scratchDir } from '../helpers/db.js';
import { CHROMIUM, itWith } from '../helpers/needs.js';
import { sampleReport } from './fixture.js';
import { renderAuditHtml } from '../../src/report/audit-render.js';
import { sampleAudit } from './audit-fixture.js';

// The HTML report in a real browser (headless Chromium through playwright-core): no console errors,
// nothing fetched, the chart drawn. CRADLE_UPDATE_SCREENSHOT=1 rewrites docs/report-screenshot.png.

const maybe = itWith(CHROMIUM);

describe('the HTML report in Chromium', () => {
  let browser: Browser;
  let dir: string;

  beforeAll(async () => {
    dir = scratchDir('report-browser');
    if (CHROMIUM.present) browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS });
  });
  afterAll(async () => browser?.close());

  async function open(lang: ReportLang) {
    const file = path.join(dir, `report-${lang}.html`);
    fs.writeFileSync(file, renderHtml(sampleReport(), lang));
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) problems.push(`request: ${r.url()}`);
    });
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    return { page, problems };
  }

  for (const lang of ['en', 'zh-CN'] as const) {
    maybe(`renders the ${lang} report without errors, with the chart drawn`, async () => {
      const { page, problems } = await open(lang);
      try {
        expect(await page.evaluate(() => document.documentElement.lang)).toBe(lang);
        const chart = page.locator('svg.timeline');
        await expect(chart.count()).resolves.toBe(1);
        const box = await chart.boundingBox();
        expect(box!.width).toBeGreaterThan(500);
        expect(box!.height).toBeGreaterThan(150);
        const marks = page.locator('svg.timeline .mark');
        expect(await marks.count()).toBe(6);
        for (const b of await Promise.all((await marks.all()).map((m) => m.boundingBox()))) {
          expect(b!.width).toBeGreaterThan(0);
          expect(b!.height).toBeGreaterThan(0);
        }
        const windowBox = await page.locator('svg.timeline .window rect').boundingBox();
        expect(windowBox!.width).toBeGreaterThan(10);
        // The chart stands alone too: an XML parser takes it as it is.
        const parsed = await page.evaluate(() => {
          const svg = document.querySelector('svg.timeline')!.outerHTML;
          const doc = new DOMParser().parseFromString(svg, 'image/svg+xml');
          return { error: doc.querySelector('parsererror')?.textContent ?? null, root: doc.documentElement.nodeName, titles: doc.querySelectorAll('title').length };
        });
        expect(parsed).toEqual({ error: null, root: 'svg', titles: expect.any(Number) });
        expect(parsed.titles).toBeGreaterThan(6);
        // Nothing wider than the page: no horizontal scrolling on a 1100-pixel screen.
        expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
        if (lang === 'en' && process.env.CRADLE_UPDATE_SCREENSHOT === '1') {
          await page.screenshot({ path: path.join(PACKAGE_ROOT, 'docs', 'report-screenshot.png'), fullPage: true });
        }
        expect(problems).toEqual([]);
      } finally {
        await page.close();
      }
    });
  }

  maybe('prints the report to an A4 PDF', async () => {
    const pdf = await htmlToPdf(renderHtml(sampleReport(), 'en'));
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    // A4 is 595 × 842 points.
    expect(pdf.toString('latin1')).toMatch(/\/MediaBox \[0 0 59[45](\.\d+)? 84[12](\.\d+)?\]/);
  });

  for (const lang of ['en', 'zh-CN'] as const) {
    maybe(`renders the ${lang} audit report without errors`, async () => {
      const file = path.join(dir, `audit-${lang}.html`);
      fs.writeFileSync(file, renderAuditHtml(sampleAudit(), lang));
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('request', (r) => {
        if (!r.url().startsWith('file:')) problems.push(`request: ${r.url()}`);
      });
      try {
        await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
        expect(await page.evaluate(() => document.documentElement.lang)).toBe(lang);
        // Seven sections and the realism audit's ("not measured" without --realism).
        expect(await page.locator('section').count()).toBe(8);
        expect(await page.locator('p.warning').count()).toBe(1);
        expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
        expect(problems).toEqual([]);
      } finally {
        await page.close();
      }
    });
  }
});
