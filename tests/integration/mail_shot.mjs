// mail_shot.mjs - render the HTML part of a received review email the way
// a mail client would show it (no scripts, no network) in Debian's headless
// Chromium, and save a screenshot.
//
//   node mail_shot.mjs MESSAGE.html OUT.png [WIDTH]
//
// The HTML is loaded from a file:// URL with JavaScript disabled; any
// request other than that file fails the run (the message must be
// self-contained: no images, stylesheets or fonts from anywhere).  Exits 0
// on success, 1 when a check fails, 2 on bad usage.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const [file, out, width = '390'] = process.argv.slice(2);
if (!file || !out) {
	console.error('usage: node mail_shot.mjs MESSAGE.html OUT.png [WIDTH]');
	process.exit(2);
}
const url = pathToFileURL(resolve(file)).href;
const browser = await chromium.launch({
	executablePath: process.env.CHROMIUM || '/usr/lib/chromium/chromium',
	args: ['--no-sandbox'],
});
let failed = false;
try {
	const ctx = await browser.newContext({
		viewport: { width: Number(width), height: 844 },
		javaScriptEnabled: false,
	});
	const page = await ctx.newPage();
	page.on('request', (r) => {
		if (r.url() !== url) {
			console.error(`mail_shot.mjs: FAIL: the message loads ${r.url()}`);
			failed = true;
		}
	});
	await page.goto(url);
	const wide = await page.evaluate(() => document.documentElement.scrollWidth);
	if (wide > Number(width)) {
		console.error(`mail_shot.mjs: FAIL: the message is ${wide} px wide at ${width} px`);
		failed = true;
	}
	await page.screenshot({ path: out, fullPage: true });
} finally {
	await browser.close();
}
process.exit(failed ? 1 : 0);
