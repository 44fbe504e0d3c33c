#!/usr/bin/env node
// Opens rendered pages in headless Chromium (Debian's /usr/bin/chromium,
// never a downloaded browser) and checks what a customer's phone would get:
//
//   * a full-page PNG screenshot at 360 px and at 1280 px wide,
//   * axe-core at WCAG 2.1 A and AA (wcag2a, wcag2aa, wcag21a, wcag21aa):
//     zero violations, at both widths,
//   * no request to any origin but the page's own (foreign requests are
//     aborted before they leave the browser, and reported),
//   * no horizontal scrolling (scrollWidth <= viewport width),
//   * no console errors, page errors or Content-Security-Policy violations,
//   * no JavaScript in the page and a Content-Security-Policy <meta>.
//
// Forms are never submitted.
//
// Usage: node check_page.mjs --out DIR URL [URL...]
//
// Screenshots are DIR/<name>-<width>.png, where <name> is the URL's path
// without its leading "/" and ".html", "/" replaced by "_" ("c/abc.html"
// -> "c_abc-360.png"). A JSON summary goes to stdout, a readable list of
// problems to stderr. Exit 0: every check passed; 1: some check failed;
// 2: the harness itself could not run (bad arguments, no browser).
//
// Environment: CHROMIUM_PATH (default /usr/bin/chromium),
// CHECK_PAGE_TIMEOUT_MS (default 90000, for the whole run).

import { createRequire } from 'node:module';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { httpUrl, keepToOrigin, launch, newContext, runScript } from './chromium.mjs';

const require = createRequire(import.meta.url);

const TIMEOUT_MS = Number(process.env.CHECK_PAGE_TIMEOUT_MS || 90000);
const WIDTHS = [
  { width: 360, height: 740 },
  { width: 1280, height: 800 },
];
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

function usage(message) {
  process.stderr.write(`check_page: ${message}\nusage: node check_page.mjs --out DIR URL [URL...]\n`);
  process.exit(2);
}

function parseArgs(argv) {
  let out = null;
  const urls = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--out') {
      out = argv[++i];
      if (!out) usage('--out needs a folder');
    } else if (arg.startsWith('--out=')) {
      out = arg.slice('--out='.length);
    } else if (arg.startsWith('-')) {
      usage(`unknown option ${arg}`);
    } else {
      urls.push(httpUrl(arg, usage));
    }
  }
  if (!out) usage('missing --out DIR');
  if (urls.length === 0) usage('no URL given');
  return { out, urls };
}

function screenshotName(url, width) {
  let name = decodeURIComponent(url.pathname).replace(/^\/+/, '').replace(/\.html?$/, '');
  name = name.replace(/\//g, '_').replace(/[^A-Za-z0-9._-]/g, '-');
  return `${name || 'index'}-${width}.png`;
}

// Runs in the page before any of its own content: records CSP violations
// even where the console would not show them.
function recordCspViolations() {
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__cspViolations.push(
      `${e.effectiveDirective} blocked ${e.blockedURI || 'inline'} (${e.disposition})`,
    );
  });
}

async function checkAtWidth(browser, url, viewport, out, axeSource) {
  const problems = [];
  const requests = [];
  const foreign = [];
  const consoleErrors = [];
  const context = await newContext(browser, viewport);
  try {
    await context.addInitScript(recordCspViolations);
    // Everything the page asks for is recorded; nothing may leave for
    // another origin, so such requests are aborted here and reported.
    await keepToOrigin(context, url.origin, {
      onRequest: (line) => requests.push(line),
      onForeign: (line) => foreign.push(line),
    });
    const page = await context.newPage();
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    page.on('pageerror', (err) => consoleErrors.push(`page error: ${err.message}`));

    const response = await page.goto(url.href, { waitUntil: 'load' });
    if (!response) {
      problems.push('no response for the page');
    } else if (response.status() !== 200) {
      problems.push(`page answered HTTP ${response.status()}`);
    }

    const facts = await page.evaluate(() => {
      const csp = document.querySelector('meta[http-equiv="Content-Security-Policy" i]');
      const handlers = [...document.querySelectorAll('*')].filter((el) =>
        [...el.attributes].some((a) => a.name.toLowerCase().startsWith('on')),
      ).length;
      const jsUrls = [...document.querySelectorAll('[href],[action],[src],[formaction]')].filter((el) =>
        ['href', 'action', 'src', 'formaction'].some((a) =>
          (el.getAttribute(a) || '').trim().toLowerCase().startsWith('javascript:'),
        ),
      ).length;
      return {
        title: document.title,
        lang: document.documentElement.lang,
        scrollWidth: document.scrollingElement.scrollWidth,
        clientWidth: document.scrollingElement.clientWidth,
        scripts: document.scripts.length,
        handlers,
        jsUrls,
        csp: csp ? csp.getAttribute('content') : null,
        cspViolations: window.__cspViolations || [],
      };
    });

    if (facts.scrollWidth > viewport.width) {
      problems.push(
        `scrolls sideways: content is ${facts.scrollWidth} px wide in a ${viewport.width} px viewport`,
      );
    }
    if (facts.scripts > 0) problems.push(`has ${facts.scripts} <script> element(s); pages must work without JavaScript`);
    if (facts.handlers > 0) problems.push(`has ${facts.handlers} element(s) with on* event handler attributes`);
    if (facts.jsUrls > 0) problems.push(`has ${facts.jsUrls} javascript: URL(s)`);
    if (!facts.csp) problems.push('has no <meta http-equiv="Content-Security-Policy">');

    const screenshot = path.join(out, screenshotName(url, viewport.width));
    await page.screenshot({ path: screenshot, fullPage: true, animations: 'disabled' });

    // Errors are taken before axe runs, so that the harness's own script
    // cannot be blamed on the page.
    const errorsSeen = [...new Set([...consoleErrors, ...facts.cspViolations.map((v) => `CSP: ${v}`)])];
    for (const e of errorsSeen) problems.push(`console error: ${e}`);
    for (const f of foreign) problems.push(`request to another origin: ${f}`);

    // DevTools evaluation is not subject to the page's CSP, so axe runs on
    // the page exactly as the customer gets it.
    await page.evaluate(axeSource);
    const axe = await page.evaluate(
      (tags) =>
        window.axe.run(document, {
          runOnly: { type: 'tag', values: tags },
          resultTypes: ['violations', 'incomplete'],
        }),
      AXE_TAGS,
    );
    const violations = axe.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({
        target: n.target.join(' '),
        summary: n.failureSummary,
      })),
    }));
    for (const v of violations) {
      const where = v.nodes.map((n) => n.target).join(', ');
      problems.push(`axe ${v.id} (${v.impact}): ${v.help} [${where}]`);
    }

    return {
      width: viewport.width,
      screenshot,
      title: facts.title,
      lang: facts.lang,
      scrollWidth: facts.scrollWidth,
      csp: facts.csp,
      requests,
      foreignRequests: foreign,
      consoleErrors: errorsSeen,
      axe: {
        version: axe.testEngine.version,
        violations,
        incomplete: axe.incomplete.map((v) => v.id),
      },
      problems,
    };
  } finally {
    await context.close();
  }
}

async function main() {
  const { out, urls } = parseArgs(process.argv.slice(2));
  await mkdir(out, { recursive: true });
  const axeSource = await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');

  const browser = await launch('check_page');

  const summary = {
    chromium: browser.version(),
    axeTags: AXE_TAGS,
    pages: [],
    problems: 0,
    ok: false,
  };
  try {
    for (const url of urls) {
      const results = [];
      for (const viewport of WIDTHS) {
        try {
          results.push(await checkAtWidth(browser, url, viewport, out, axeSource));
        } catch (err) {
          results.push({ width: viewport.width, problems: [`could not check: ${err.message}`] });
        }
      }
      summary.pages.push({ url: url.href, widths: results });
    }
  } finally {
    await browser.close();
  }

  const lines = [];
  for (const page of summary.pages) {
    for (const r of page.widths) {
      for (const p of r.problems) lines.push(`${page.url} @${r.width}px: ${p}`);
    }
  }
  summary.problems = lines.length;
  summary.ok = lines.length === 0;
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  if (lines.length > 0) {
    process.stderr.write(`check_page: ${lines.length} problem(s):\n`);
    for (const l of lines) process.stderr.write(`  - ${l}\n`);
    process.exitCode = 1;
  } else {
    const n = summary.pages.length;
    process.stderr.write(
      `check_page: ${n} page(s) passed at ${WIDTHS.map((w) => w.width).join(' and ')} px ` +
        `(Chromium ${summary.chromium}, axe-core ${summary.pages[0].widths[0].axe.version}, ${AXE_TAGS.join(', ')})\n`,
    );
  }
}

runScript('check_page', main, TIMEOUT_MS, 2);
