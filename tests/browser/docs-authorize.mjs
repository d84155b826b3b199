// Loads Rivet's /docs page in Debian's headless Chromium, authorizes with the
// OAuth2 password flow through the page's Authorize button, and executes
// GET /api/v1/users/me from the page. Exits non-zero, saying why, on any
// failure; also fails if the page requests anything from another origin.
//
// Usage: node docs-authorize.mjs [base URL]   (default http://127.0.0.1:8080)
// CHROMIUM may name the browser binary (default /usr/bin/chromium).
import { chromium } from 'playwright-core';

const base = process.argv[2] ?? 'http://127.0.0.1:8080';
const email = `docs-${Date.now()}@example.com`;
const password = 'correct horse battery staple';

function fail(message) {
  console.error(`docs-authorize: FAILED: ${message}`);
  process.exit(1);
}

const registered = await fetch(`${base}/api/v1/auth/register`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ email, password }),
});
if (registered.status !== 201) fail(`registering a user answered ${registered.status}`);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage();
  const foreign = [];
  page.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('data:')) foreign.push(r.url()); });
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));

  await page.goto(`${base}/docs`);
  await page.waitForSelector('button.authorize', { timeout: 15000 });
  await page.click('button.authorize');
  const oauth = page.locator('.auth-container', { has: page.locator('#oauth_username') });
  await oauth.locator('#oauth_username').fill(email);
  await oauth.locator('#oauth_password').fill(password);
  await oauth.locator('button.authorize').click();
  // Once authorized, Swagger UI replaces the form with a Logout button.
  await page.locator('button[aria-label="Remove authorization"]').first().waitFor({ timeout: 10000 }).catch(() => fail('the OAuth2 password flow did not authorize'));
  await page.locator('button.btn-done').first().click();

  const op = page.locator('#operations-users-getCurrentUser');
  await op.locator('.opblock-summary').click();
  await op.locator('.try-out__btn').click();
  await op.locator('button.execute').click();
  const status = op.locator('.live-responses-table tbody .response-col_status').first();
  await status.waitFor({ timeout: 10000 });
  const code = (await status.textContent()).trim();
  const body = await op.locator('.live-responses-table tbody .response-col_description').first().textContent();
  await page.screenshot({ path: process.env.SCREENSHOT ?? '/tmp/rivet-docs.png', fullPage: false });
  if (code !== '200') fail(`GET /api/v1/users/me from the page answered ${code}: ${body}`);
  if (!body.includes(email)) fail(`the response does not name the signed-in user: ${body}`);
  if (foreign.length) fail(`the page requested other origins: ${foreign.join(', ')}`);
  if (problems.length) fail(`the page raised errors: ${problems.join('; ')}`);
  console.log(`docs-authorize: ok — authorized via OAuth2 password flow and GET /api/v1/users/me answered 200 for ${email}`);
} finally {
  await browser.close();
}
