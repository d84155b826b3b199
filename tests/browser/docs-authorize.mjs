// Loads Rivet's /docs page in Debian's headless Chromium, authorizes with the
// OAuth2 password flow through the page's Authorize button, executes
// GET /api/v1/users/me from the page, then uploads a file to a todo with
// "Try it out" and downloads it again. Exits non-zero, saying why, on any
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

  // A todo to attach to, made outside the page.
  const login = await (await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  })).json();
  const todo = await (await fetch(`${base}/api/v1/todos`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${login.access_token}` },
    body: JSON.stringify({ title: 'from the docs page' }),
  })).json();
  if (!todo.id) fail(`creating a todo failed: ${JSON.stringify(todo)}`);

  const upload = page.locator('#operations-todos-uploadTodoAttachment');
  await upload.locator('.opblock-summary').click();
  await upload.locator('.try-out__btn').click();
  await upload.locator('tr[data-param-name="id"] input').fill(todo.id);
  await upload.locator('input[type="file"]').setInputFiles({
    name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('uploaded from Swagger UI\n'),
  });
  await upload.locator('button.execute').click();
  const uploaded = upload.locator('.live-responses-table tbody .response-col_status').first();
  await uploaded.waitFor({ timeout: 10000 });
  const uploadCode = (await uploaded.textContent()).trim();
  const uploadBody = await upload.locator('.live-responses-table tbody .response-col_description').first().textContent();
  if (uploadCode !== '201') fail(`uploading from the page answered ${uploadCode}: ${uploadBody}`);
  const attachmentId = JSON.parse(uploadBody.slice(uploadBody.indexOf('{'), uploadBody.lastIndexOf('}') + 1)).id;

  const download = page.locator('#operations-todos-downloadTodoAttachment');
  await download.locator('.opblock-summary').click();
  await download.locator('.try-out__btn').click();
  await download.locator('tr[data-param-name="id"] input').fill(todo.id);
  await download.locator('tr[data-param-name="attachment_id"] input').fill(attachmentId);
  await download.locator('button.execute').click();
  const downloaded = download.locator('.live-responses-table tbody .response-col_status').first();
  await downloaded.waitFor({ timeout: 10000 });
  const downloadCode = (await downloaded.textContent()).trim();
  if (downloadCode !== '200') fail(`downloading from the page answered ${downloadCode}`);
  const link = download.locator('.live-responses-table a[download]');
  if ((await link.count()) === 0) fail('the page offers no download link for the file');
  if (foreign.length) fail(`the page requested other origins: ${foreign.join(', ')}`);
  if (problems.length) fail(`the page raised errors: ${problems.join('; ')}`);
  console.log(`docs-authorize: ok — authorized via OAuth2 password flow, GET /api/v1/users/me answered 200 for ${email}, and a file went up (201) and came back down (200) through "Try it out"`);
} finally {
  await browser.close();
}
