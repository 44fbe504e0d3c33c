// How the test scripts drive Debian's Chromium: its path, the flags that
// keep it quiet on a closed network (without the background-networking
// ones it keeps trying to reach Google's services), a context as a
// customer's browser has it, the rule that no request leaves for another
// origin, and a time limit on the whole script.
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--disable-features=Translate,OptimizationHints,MediaRouter',
];

// The http(s) URL in `href`; anything else goes to `usage`, which exits.
export function httpUrl(href, usage) {
  let url;
  try {
    url = new URL(href);
  } catch {
    usage(`not a URL: ${href}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') usage(`not an http URL: ${href}`);
  return url;
}

// Starts headless Chromium; when it cannot start, `script` says why and
// exits 2 (the harness itself could not run).
export async function launch(script) {
  try {
    return await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: 30000,
    });
  } catch (err) {
    process.stderr.write(`${script}: cannot start Chromium at ${CHROMIUM}: ${err.message}\n`);
    process.exit(2);
  }
}

// A fresh context at `viewport`, as a Swedish customer's browser: no
// service workers, no device scaling.
export function newContext(browser, viewport) {
  return browser.newContext({
    viewport,
    deviceScaleFactor: 1,
    locale: 'sv-SE',
    serviceWorkers: 'block',
  });
}

// Lets requests to `origin` (one origin, or a list: the pages' and the
// collector's when they are two) through and aborts every other origin's
// before it leaves the browser. `onRequest` hears of every request,
// `onForeign` of each aborted one, as "METHOD URL".
export async function keepToOrigin(context, origin, { onRequest = () => {}, onForeign }) {
  const allowed = [].concat(origin);
  await context.route('**/*', (route) => {
    const request = route.request();
    const target = request.url();
    const line = `${request.method()} ${target}`;
    let targetOrigin = null;
    try {
      targetOrigin = new URL(target).origin;
    } catch {
      // data: and similar URLs have no origin of their own.
    }
    onRequest(line);
    if (targetOrigin !== null && targetOrigin !== 'null' && !allowed.includes(targetOrigin)) {
      onForeign(line);
      return route.abort('blockedbyclient');
    }
    return route.continue();
  });
}

// Runs `main`: past `timeoutMs` the script gives up and exits with
// `timeoutCode`; an error nobody caught exits 2.
export function runScript(script, main, timeoutMs, timeoutCode) {
  const timer = setTimeout(() => {
    process.stderr.write(`${script}: gave up after ${timeoutMs} ms\n`);
    process.exit(timeoutCode);
  }, timeoutMs);
  timer.unref();
  main().catch((err) => {
    process.stderr.write(`${script}: ${err.stack || err}\n`);
    process.exit(2);
  });
}
