// browser.mjs - drive greenlight's review page in a real headless Chromium.
//
//   node browser.mjs URL OUTDIR [options]
//
//     --viewports 1280x800,375x667   viewports, each opened in its own fresh
//                                    context; a width <= 480 is a phone
//                                    (mobile viewport, touch)
//     --action approve|reject|none   what to click, in the last viewport
//     --reason TEXT                  typed into the reason box first
//     --rule METRIC:VALUE:THRESHOLD  a fired rule the page must show
//                                    (repeatable)
//     --sha SHA                      the commit the page must show
//     --name PREFIX                  screenshot file prefix (default "review")
//
// For every viewport: load the page, check what a reviewer needs to see
// (rules, commit, both buttons, nothing wider than the viewport, on a phone
// buttons big enough to tap), save a full-page screenshot as
// OUTDIR/PREFIX-<width>.png, and check that no request goes anywhere but the review URL's own origin
// (the page must be self-contained).  Then click the real button and check
// the answer says the decision was recorded (OUTDIR/PREFIX-<width>-done.png).
//
// Chromium is Debian's (/usr/lib/chromium/chromium, or $CHROMIUM); Playwright
// gives it a fresh temporary --user-data-dir and deletes it on close.  Every
// failed check prints "browser.mjs: FAIL: ..."; the exit status is 1 if any
// check failed, 2 on bad usage.
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const USAGE = 'usage: node browser.mjs URL OUTDIR [--viewports WxH,...] ' +
	'[--action approve|reject|none] [--reason TEXT] ' +
	'[--rule METRIC:VALUE:THRESHOLD]... [--sha SHA] [--name PREFIX]';

function usage(msg) {
	console.error(`browser.mjs: ${msg}\n${USAGE}`);
	process.exit(2);
}

function parseArgs(argv) {
	const o = { viewports: '1280x800,375x667', action: 'none', reason: '',
		    rules: [], sha: '', name: 'review', pos: [] };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		const val = () => {
			if (i + 1 >= argv.length)
				usage(`${a} needs a value`);
			return argv[++i];
		};
		if (a === '--viewports') o.viewports = val();
		else if (a === '--action') o.action = val();
		else if (a === '--reason') o.reason = val();
		else if (a === '--rule') o.rules.push(val());
		else if (a === '--sha') o.sha = val();
		else if (a === '--name') o.name = val();
		else if (a.startsWith('--')) usage(`unknown option ${a}`);
		else o.pos.push(a);
	}
	if (o.pos.length !== 2)
		usage('need URL and OUTDIR');
	[o.url, o.out] = o.pos;
	if (!['approve', 'reject', 'none'].includes(o.action))
		usage(`bad --action ${o.action}`);
	o.vps = o.viewports.split(',').map((s) => {
		const m = /^(\d+)x(\d+)$/.exec(s.trim());
		if (!m)
			usage(`bad viewport ${s}`);
		return { width: +m[1], height: +m[2] };
	});
	o.rules = o.rules.map((r) => {
		const p = r.split(':');
		if (p.length !== 3)
			usage(`bad --rule ${r}`);
		return { metric: p[0], value: p[1], threshold: p[2] };
	});
	return o;
}

const started = Date.now();
const opt = parseArgs(process.argv.slice(2));
const origin = new URL(opt.url).origin;
const failures = [];

function fail(msg) {
	failures.push(msg);
	console.error(`browser.mjs: FAIL: ${msg}`);
}

function check(cond, msg) {
	if (!cond)
		fail(msg);
	return cond;
}

// "225" must appear as a whole number in "latencyMs is 225; rule: > 80".
function hasToken(text, tok) {
	const esc = tok.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
	return new RegExp(`(^|[^0-9A-Za-z.])${esc}($|[^0-9A-Za-z])`).test(text);
}

const executablePath = process.env.CHROMIUM ||
	['/usr/lib/chromium/chromium', '/usr/bin/chromium'].find(existsSync);
if (!executablePath) {
	console.error('browser.mjs: no Chromium (apt-get install chromium, or set CHROMIUM)');
	process.exit(2);
}

mkdirSync(opt.out, { recursive: true });

// Chromium is quiet on the network only with these: no update checks,
// no sync, no field trials, no QUIC probing.  The network here is closed,
// and the page must not need it anyway.
const browser = await chromium.launch({
	executablePath,
	headless: true,
	timeout: 30000,
	args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
	       '--disable-background-networking', '--disable-component-update',
	       '--disable-sync', '--disable-default-apps', '--disable-extensions',
	       '--no-default-browser-check', '--disable-features=Translate,MediaRouter'],
});

const version = browser.version();
let lastPage = null;
let lastVp = null;
const shots = [];

async function openAndCheck(vp, isLast) {
	const phone = vp.width <= 480;
	const ctx = await browser.newContext({
		viewport: vp,
		deviceScaleFactor: 1,
		isMobile: phone,
		hasTouch: phone,
	});
	ctx.setDefaultTimeout(15000);
	const tag = `${vp.width}px`;
	// Every request the page makes, in any frame or popup.
	ctx.on('request', (req) => {
		const u = req.url();
		let o = null;
		try { o = new URL(u).origin; } catch { /* data:, about: */ }
		if (o !== origin)
			fail(`${tag}: request to ${u} leaves ${origin} (the page must be self-contained)`);
	});
	const page = await ctx.newPage();
	page.on('pageerror', (e) => fail(`${tag}: script error on the page: ${e.message}`));

	const resp = await page.goto(opt.url, { waitUntil: 'load' });
	if (!check(resp && resp.status() === 200,
		   `${tag}: GET ${opt.url} gave ${resp ? resp.status() : 'no response'}, want 200`))
		return { ctx, page };

	const body = await page.locator('body').innerText();

	// The fired rules: metric, value and threshold in the same list item.
	for (const r of opt.rules) {
		const li = page.locator('li').filter({ hasText: r.metric });
		const n = await li.count();
		if (!check(n > 0, `${tag}: rule for ${r.metric} not shown`))
			continue;
		const t = await li.first().innerText();
		check(hasToken(t, r.value), `${tag}: rule ${r.metric}: value ${r.value} not shown (got "${t}")`);
		check(hasToken(t, r.threshold), `${tag}: rule ${r.metric}: threshold ${r.threshold} not shown (got "${t}")`);
	}
	if (opt.sha)
		check(body.includes(opt.sha), `${tag}: commit ${opt.sha} not shown`);

	// Both buttons, enabled, inside the viewport, big enough for a thumb.
	for (const name of ['Approve', 'Reject']) {
		const b = page.getByRole('button', { name, exact: true });
		if (!check(await b.count() === 1, `${tag}: want one "${name}" button, found ${await b.count()}`))
			continue;
		check(await b.isVisible(), `${tag}: "${name}" button not visible`);
		check(await b.isEnabled(), `${tag}: "${name}" button disabled`);
		const box = await b.boundingBox();
		if (box) {
			check(box.x >= 0 && box.x + box.width <= vp.width + 0.5,
			      `${tag}: "${name}" button sticks out of the viewport (x ${Math.round(box.x)}..${Math.round(box.x + box.width)})`);
			if (phone)
				check(box.height >= 44,
				      `${tag}: "${name}" button only ${Math.round(box.height)} px high (want >= 44 to tap)`);
		}
	}

	// Nothing wider than the screen: no sideways scrolling.
	const sw = await page.evaluate(() => document.documentElement.scrollWidth);
	check(sw <= vp.width, `${tag}: page is ${sw} px wide, wider than the ${vp.width} px viewport`);
	if (phone) {
		const wide = await page.evaluate((w) =>
			[...document.querySelectorAll('body *')]
				.filter((e) => e.getBoundingClientRect().right > w + 0.5)
				.slice(0, 5)
				.map((e) => `<${e.tagName.toLowerCase()}> right=${Math.round(e.getBoundingClientRect().right)}`),
			vp.width);
		check(wide.length === 0, `${tag}: elements past the right edge: ${wide.join(', ')}`);
	}

	const file = resolve(join(opt.out, `${opt.name}-${vp.width}.png`));
	await page.screenshot({ path: file, fullPage: true });
	shots.push(file);
	console.log(`browser.mjs: ${tag}: scrollWidth ${sw}, screenshot ${file}`);

	if (!isLast)
		await ctx.close();
	return { ctx, page };
}

async function act(page, vp) {
	const tag = `${vp.width}px`;
	const want = opt.action === 'approve' ? 'approved' : 'rejected';
	if (opt.reason)
		await page.getByLabel('Reason').fill(opt.reason);
	const posted = page.waitForResponse((r) => r.request().method() === 'POST');
	await page.getByRole('button', { name: opt.action === 'approve' ? 'Approve' : 'Reject', exact: true })
		.click();
	const resp = await posted;
	await page.waitForLoadState('load');
	if (resp.status() !== 200) {
		const h = await resp.request().allHeaders();
		fail(`${tag}: POST answered ${resp.status()}, want 200 (the browser sent ` +
		     `Origin: ${h.origin ?? '(none)'}, Referer: ${h.referer ?? '(none)'})`);
	}
	const h1 = (await page.locator('h1').first().innerText()).trim();
	check(h1 === `Recorded: ${want}`, `${tag}: answer page says "${h1}", want "Recorded: ${want}"`);
	const body = await page.locator('body').innerText();
	check(/is stored|already been recorded/.test(body),
	      `${tag}: answer page does not say the decision is stored`);
	if (opt.reason)
		check(body.includes(opt.reason), `${tag}: answer page does not show the reason`);
	const sw = await page.evaluate(() => document.documentElement.scrollWidth);
	check(sw <= vp.width, `${tag}: answer page is ${sw} px wide, wider than the viewport`);
	const file = resolve(join(opt.out, `${opt.name}-${vp.width}-done.png`));
	await page.screenshot({ path: file, fullPage: true });
	shots.push(file);
	console.log(`browser.mjs: ${tag}: clicked ${opt.action === 'approve' ? 'Approve' : 'Reject'}: "${h1}", screenshot ${file}`);
}

try {
	for (let i = 0; i < opt.vps.length; i++) {
		const isLast = i === opt.vps.length - 1;
		const { page } = await openAndCheck(opt.vps[i], isLast);
		if (isLast) {
			lastPage = page;
			lastVp = opt.vps[i];
		}
	}
	if (opt.action !== 'none')
		await act(lastPage, lastVp);
} catch (e) {
	fail(`${e.message.split('\n')[0]}`);
} finally {
	await browser.close();
}

console.log(`browser.mjs: Chromium ${version}, ${shots.length} screenshot(s), ` +
	    `${failures.length} failure(s), ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(failures.length ? 1 : 0);
