#!/usr/bin/env node
// Opens one page in headless Chromium (Debian's /usr/bin/chromium, never a
// downloaded browser, started as check_page.mjs starts it), presses the
// button with the given visible text, as a customer would, and waits for
// the page that the press leads to.
//
//   * The button is found by its accessible name, matched exactly: "Jag
//     godkänner" never matches "Jag godkänner inte". Exactly one button
//     must have that name.
//   * No request may leave for another origin than the page's own (and
//     those listed in PRESS_ALSO_ORIGINS): such requests are aborted before
//     they leave the browser, and listed.
//   * Every Content-Security-Policy violation the browser reports is a
//     problem (a form-action that blocks the redirect after the post).
//   * The resulting page is screenshotted (full page, 360 px wide).
//
// Usage: node press.mjs URL BUTTON_TEXT OUT.png
//
// stdout: JSON { "finalUrl", "status", "title", "heading", "blocked",
// "screenshot" }, where "status" is the HTTP status of the page landed on,
// "heading" the text of its first <h1>, "blocked" the aborted requests and
// "cspViolations" the browser's CSP messages.
// Exit 0: pressed and landed on a page that answered below 400; 1: the
// press failed (no such button, no navigation, an HTTP error, a blocked
// request the press needed); 2: the script itself could not run (bad
// arguments, no browser).
//
// Environment: CHROMIUM_PATH (default /usr/bin/chromium),
// PRESS_TIMEOUT_MS (default 60000, for the whole run), PRESS_ALSO_ORIGINS
// (comma-separated origins besides the page's that requests may go to: the
// collector's, when it is not on the pages' origin).

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { httpUrl, keepToOrigin, launch, newContext, runScript } from './chromium.mjs';

const TIMEOUT_MS = Number(process.env.PRESS_TIMEOUT_MS || 60000);
const STEP_TIMEOUT_MS = 20000;
const VIEWPORT = { width: 360, height: 740 };
const ALSO_ORIGINS = (process.env.PRESS_ALSO_ORIGINS || '')
  .split(',')
  .map((o) => o.trim())
  .filter((o) => o !== '');

function usage(message) {
  process.stderr.write(`press: ${message}\nusage: node press.mjs URL BUTTON_TEXT OUT.png\n`);
  process.exit(2);
}

function fail(message) {
  process.stderr.write(`press: ${message}\n`);
  process.exitCode = 1;
}

function parseArgs(argv) {
  if (argv.length !== 3) usage(`expected 3 arguments, got ${argv.length}`);
  const [href, button, out] = argv;
  const url = httpUrl(href, usage);
  if (button.trim() === '') usage('the button text is empty');
  if (!out.toLowerCase().endsWith('.png')) usage(`the screenshot must be a .png file: ${out}`);
  return { url, button, out };
}

async function press(browser, url, buttonText, out) {
  const blocked = [];
  const cspViolations = [];
  const context = await newContext(browser, VIEWPORT);
  try {
    await keepToOrigin(context, [url.origin, ...ALSO_ORIGINS], {
      onForeign: (line) => blocked.push(line),
    });
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    page.on('console', (message) => {
      process.stderr.write(`press: console ${message.type()}: ${message.text()}\n`);
      if (message.text().includes('Content Security Policy')) cspViolations.push(message.text());
    });

    const opened = await page.goto(url.href, { waitUntil: 'load' });
    if (!opened) throw new Error(`no response for ${url.href}`);
    if (opened.status() >= 400) throw new Error(`${url.href} answered HTTP ${opened.status()}`);

    const button = page.getByRole('button', { name: buttonText, exact: true });
    const count = await button.count();
    if (count !== 1) {
      const names = await page
        .getByRole('button')
        .evaluateAll((els) => els.map((el) => (el.innerText || el.value || '').trim()));
      throw new Error(
        `${count === 0 ? 'no' : count} button(s) named ${JSON.stringify(buttonText)} on ${url.href}; ` +
          `the buttons there: ${JSON.stringify(names)}`,
      );
    }

    const before = page.url();
    // A navigation the CSP blocks never loads: the violation is the answer.
    const [landed] = await Promise.all([
      page.waitForNavigation({ waitUntil: 'load' }).catch(async (err) => {
        // The browser reports the violation just after it aborts.
        await page.waitForTimeout(1000);
        if (cspViolations.length === 0) throw err;
        return null;
      }),
      button.click(),
    ]);
    const finalUrl = page.url();
    const facts = await page.evaluate(() => {
      const h1 = document.querySelector('h1');
      return {
        title: document.title,
        heading: h1 ? h1.textContent.replace(/\s+/g, ' ').trim() : null,
      };
    });
    await mkdir(path.dirname(path.resolve(out)), { recursive: true });
    await page.screenshot({ path: out, fullPage: true, animations: 'disabled' });

    const result = {
      finalUrl,
      status: landed ? landed.status() : null,
      title: facts.title,
      heading: facts.heading,
      blocked,
      cspViolations,
      screenshot: out,
    };
    const problems = [];
    if (!landed) problems.push(`pressing ${JSON.stringify(buttonText)} gave no response`);
    else if (landed.status() >= 400) problems.push(`the page landed on answered HTTP ${landed.status()}`);
    if (finalUrl === before) problems.push(`still on ${before} after pressing ${JSON.stringify(buttonText)}`);
    if (finalUrl.startsWith('chrome-error:')) {
      problems.push(`the browser could not load the next page${blocked.length ? ' (a request was blocked)' : ''}`);
    }
    for (const b of blocked) problems.push(`blocked a request to another origin: ${b}`);
    for (const v of cspViolations) problems.push(`Content-Security-Policy violation: ${v}`);
    return { result, problems };
  } finally {
    await context.close();
  }
}

async function main() {
  const { url, button, out } = parseArgs(process.argv.slice(2));
  const browser = await launch('press');
  try {
    const { result, problems } = await press(browser, url, button, out);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    if (problems.length > 0) {
      fail(`${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    } else {
      process.stderr.write(
        `press: pressed ${JSON.stringify(button)} on ${url.href}, landed on ${result.finalUrl} ` +
          `(HTTP ${result.status}, "${result.heading}"); screenshot ${out}\n`,
      );
    }
  } catch (err) {
    fail(`could not press ${JSON.stringify(button)} on ${url.href}: ${err.message}`);
  } finally {
    await browser.close();
  }
}

runScript('press', main, TIMEOUT_MS, 1);
