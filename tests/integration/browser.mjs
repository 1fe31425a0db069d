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
//     --status N                     the HTTP status the page must have
//                                    (default 200; 410 for a closed page)
//     --state NAME                   the page must open with the banner
//                                    #state[data-state=NAME] (decided,
//                                    quorum-met, author, approved, rejected,
//                                    expired): the first visible element,
//                                    its top above y 200
//     --state-text TEXT              ... and that banner must contain TEXT
//     --headline TEXT                the <h1> must contain TEXT
//     --buttons both|reject|none     which buttons the page offers enabled
//                                    (default both; reject: Approve shown
//                                    disabled; none: no buttons at all)
//     --fold                         the offered buttons must lie wholly
//                                    inside the first screen, unscrolled
//     --after TEXT                   after the click, the answer must say TEXT
//                                    (repeatable)
//     --no-js                        every context with JavaScript disabled
//
// For every viewport: load the page, check what a reviewer needs to see
// (state banner on top, headline, rules, commit, the buttons, nothing wider
// than the viewport, on a phone buttons big enough to tap; the buttons'
// positions are printed), save a full-page screenshot as
// OUTDIR/PREFIX-<width>.png and the first screen as
// OUTDIR/PREFIX-<width>-screen.png, and check that no request goes anywhere but the review URL's own origin
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
	'[--rule METRIC:VALUE:THRESHOLD]... [--sha SHA] [--name PREFIX] ' +
	'[--status N] [--state NAME] [--state-text TEXT] [--headline TEXT] ' +
	'[--buttons both|reject|none] [--fold] [--after TEXT]... [--no-js]';

function usage(msg) {
	console.error(`browser.mjs: ${msg}\n${USAGE}`);
	process.exit(2);
}

function parseArgs(argv) {
	const o = { viewports: '1280x800,375x667', action: 'none', reason: '',
		    rules: [], sha: '', name: 'review', pos: [], status: 200,
		    state: '', stateText: '', headline: '', buttons: 'both',
		    fold: false, after: [], js: true };
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
		else if (a === '--status') o.status = +val();
		else if (a === '--state') o.state = val();
		else if (a === '--state-text') o.stateText = val();
		else if (a === '--headline') o.headline = val();
		else if (a === '--buttons') o.buttons = val();
		else if (a === '--fold') o.fold = true;
		else if (a === '--after') o.after.push(val());
		else if (a === '--no-js') o.js = false;
		else if (a.startsWith('--')) usage(`unknown option ${a}`);
		else o.pos.push(a);
	}
	if (o.pos.length !== 2)
		usage('need URL and OUTDIR');
	[o.url, o.out] = o.pos;
	if (!['approve', 'reject', 'none'].includes(o.action))
		usage(`bad --action ${o.action}`);
	if (!['both', 'reject', 'none'].includes(o.buttons))
		usage(`bad --buttons ${o.buttons}`);
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
		javaScriptEnabled: opt.js,
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
	if (!check(resp && resp.status() === opt.status,
		   `${tag}: GET ${opt.url} gave ${resp ? resp.status() : 'no response'}, want ${opt.status}`))
		return { ctx, page };

	// The state comes first: the banner is the first visible element of
	// the page, near its top, before the headline.
	const banner = page.locator('#state');
	const nbanner = await banner.count();
	if (opt.state) {
		if (check(nbanner === 1, `${tag}: no state banner (want "${opt.state}")`)) {
			const st = await banner.getAttribute('data-state');
			check(st === opt.state, `${tag}: state banner says "${st}", want "${opt.state}"`);
			const bb = await banner.boundingBox();
			check(bb && bb.y < 200, `${tag}: state banner at y ${bb ? Math.round(bb.y) : '?'}, want < 200`);
			const first = await page.locator('main > *:visible').first().getAttribute('id');
			check(first === 'state', `${tag}: the first visible element is not the state banner`);
			const h1 = await page.locator('h1').first().boundingBox();
			check(bb && h1 && bb.y < h1.y, `${tag}: the state banner is not above the headline`);
			const bt = await banner.innerText();
			if (opt.stateText)
				check(bt.includes(opt.stateText), `${tag}: state banner "${bt}" lacks "${opt.stateText}"`);
			console.log(`browser.mjs: ${tag}: state "${st}" at y ${bb ? Math.round(bb.y) : '?'}: ${bt}`);
		}
	} else {
		check(nbanner === 0, `${tag}: unexpected state banner "${nbanner ? await banner.innerText() : ''}"`);
	}
	if (opt.headline) {
		const h1 = await page.locator('h1').first().innerText();
		check(h1.includes(opt.headline), `${tag}: headline "${h1}" lacks "${opt.headline}"`);
	}

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

	// The buttons offered, enabled, inside the viewport, big enough for a
	// thumb; with --fold wholly on the first screen, before any scrolling.
	const nbuttons = await page.getByRole('button').count();
	if (opt.buttons === 'none')
		check(nbuttons === 0, `${tag}: want no buttons, found ${nbuttons}`);
	for (const name of opt.buttons === 'none' ? [] : ['Approve', 'Reject']) {
		const b = page.getByRole('button', { name, exact: true });
		if (!check(await b.count() === 1, `${tag}: want one "${name}" button, found ${await b.count()}`))
			continue;
		check(await b.isVisible(), `${tag}: "${name}" button not visible`);
		const offered = name === 'Reject' || opt.buttons === 'both';
		check(await b.isEnabled() === offered,
		      `${tag}: "${name}" button ${offered ? 'disabled' : 'enabled'}`);
		const box = await b.boundingBox();
		const scrolled = await page.evaluate(() => window.scrollY);
		if (box) {
			console.log(`browser.mjs: ${tag}: "${name}" button at x ${Math.round(box.x)} y ${Math.round(box.y)}` +
				    ` (${Math.round(box.width)}x${Math.round(box.height)}), viewport ${vp.width}x${vp.height}`);
			check(box.x >= 0 && box.x + box.width <= vp.width + 0.5,
			      `${tag}: "${name}" button sticks out of the viewport (x ${Math.round(box.x)}..${Math.round(box.x + box.width)})`);
			if (opt.fold && offered)
				check(scrolled === 0 && box.y >= 0 && box.y + box.height <= vp.height,
				      `${tag}: "${name}" button below the first screen (y ${Math.round(box.y)}..${Math.round(box.y + box.height)}, viewport height ${vp.height})`);
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

	const screen = resolve(join(opt.out, `${opt.name}-${vp.width}-screen.png`));
	await page.screenshot({ path: screen });
	shots.push(screen);
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
	for (const t of opt.after)
		check(body.includes(t), `${tag}: answer page does not say "${t}"`);
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
