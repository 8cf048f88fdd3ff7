import fs from 'node:fs';
import { UserError } from '../lib/errors.js';

// The PDF is the HTML report printed by a headless Chromium (Debian's, or $CRADLE_CHROMIUM) through
// playwright-core: the same page a browser shows, on A4 with the print styles. Nothing is fetched.

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export function chromiumPath(): string {
  return process.env.CRADLE_CHROMIUM || DEFAULT_CHROMIUM;
}

/** Print `html` as an A4 PDF; the caller writes the bytes (src/lib/out-file.ts), Chromium opens no output file. */
export async function htmlToPdf(html: string): Promise<Buffer> {
  const executablePath = chromiumPath();
  if (!fs.existsSync(executablePath)) {
    throw new UserError(`no Chromium at ${executablePath} to print the PDF: install Debian's chromium (apt-get install chromium) or set CRADLE_CHROMIUM to a Chromium binary; --format html needs none`);
  }
  const { chromium } = await import('playwright-core');
  let browser;
  try {
    browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  } catch (err) {
    throw new UserError(`could not start Chromium (${executablePath}): ${(err as Error).message.split('\n')[0]}; install Debian's chromium or set CRADLE_CHROMIUM`);
  }
  try {
    const page = await browser.newPage();
    // The report is self-contained: refuse any request rather than let a page reach the network.
    await page.route('**/*', (route) => (route.request().url().startsWith('data:') ? route.continue() : route.abort()));
    await page.setContent(html, { waitUntil: 'load' });
    await page.emulateMedia({ media: 'print' });
    return await page.pdf({ format: 'A4', printBackground: true, preferCSSPageSize: true });
  } finally {
    await browser.close();
  }
}
