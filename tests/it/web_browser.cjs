// Drives Debian's chromium through the notice form and the claim page, for
// tests/it/web_browser.rs.
//
//   node web_browser.cjs form BASE_URL ARTICLE_URL SHOTS_DIR
//     files a notice through the form; prints "CLAIM <id>" once the receipt shows,
//     waits for a line on stdin (the test decides the claim over gRPC meanwhile),
//     checks the decision on the claim page and complains from it.
//   node web_browser.cjs parties CONTRIBUTOR_LINK NOTIFIER_LINK
//     on a deleted claim: the contributor counter-notifies from their claim page,
//     then the notifier reports legal action from theirs.
const { chromium } = require("playwright-core");
const readline = require("node:readline");

const [mode, ...args] = process.argv.slice(2);
const lines = readline.createInterface({ input: process.stdin });
const nextLine = () => new Promise((resolve) => lines.once("line", resolve));
const fail = (why) => { console.error(`FAIL ${why}`); process.exit(1); };

async function launch() {
  return chromium.launch({
    executablePath: process.env.TAKEDOWN_CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

async function parties(contributorLink, notifierLink) {
  const browser = await launch();
  const errors = [];
  const page = await browser.newPage({ locale: "en-GB" });
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(contributorLink);
  await page.getByLabel("Name", { exact: true }).fill("Li Wei");
  await page.getByLabel("E-mail", { exact: true }).fill("li.wei@example.org");
  await page.getByLabel("Postal address").fill("1 Forum Rd, Hangzhou");
  await page.getByLabel("Phone").fill("+86 571 0000 0000");
  await page.getByLabel("The material removed").fill("My post, forum thread 42");
  await page.getByLabel("Why it was removed").fill("The photograph is my own; I took it.");
  await page.getByLabel("I consent to the jurisdiction").check();
  await page.getByLabel("I state under penalty of perjury").check();
  await page.getByLabel("Signature (type your full name)").fill("Li Wei");
  await page.getByRole("button", { name: "File a counter-notice" }).click();
  await page.locator("#state").filter({ hasText: "counter noticed" }).waitFor({ timeout: 10000 });
  await page.goto("about:blank");
  await page.goto(notifierLink);
  await page.getByLabel("Court or authority").fill("Beijing Internet Court");
  await page.getByLabel("Case reference").fill("(2026) Jing 0491 Min Chu 1");
  await page.getByLabel("Filed on").fill("2026-11-30");
  await page.getByRole("button", { name: "Report legal action" }).click();
  await page.locator("#state").filter({ hasText: "legal action pending" }).waitFor({ timeout: 10000 });
  if (errors.length) fail(`script errors: ${errors.join("; ")}`);
  await browser.close();
}

async function form(base, articleUrl, shots) {
  const browser = await launch();
  const page = await browser.newPage({ locale: "en-GB", viewport: { width: 900, height: 1400 } });
  const errors = [];
  // Script errors only: the refused notice's 400 and the favicon's 404 are expected.
  page.on("pageerror", (e) => errors.push(e.message));
  // The form in Chinese, as a browser asking for zh-CN gets it.
  const zh = await browser.newPage({ locale: "zh-CN", viewport: { width: 900, height: 1400 } });
  await zh.goto(`${base}/`);
  if ((await zh.locator("html").getAttribute("lang")) !== "zh-CN") fail("no zh-CN form");
  await zh.getByRole("button", { name: "提交通知" }).waitFor();
  await zh.screenshot({ path: `${shots}/web-form-zh.png` });
  await zh.close();

  await page.goto(`${base}/`);
  // By label, as a person (or a screen reader) finds the fields.
  await page.getByLabel("Legal basis").selectOption("REGIME_DSA");
  await page.getByLabel("Address (URL) of the article").fill(articleUrl);
  await page.getByLabel("Name *").fill("Li Wei");
  await page.getByLabel("E-mail *", { exact: true }).fill("li.wei@photos.example.cn");
  await page.getByLabel("Rights owner *", { exact: true }).fill("Li Wei");
  await page.getByLabel("Description of the work").fill("Photograph of the conference hall");
  // A second work, added by keyboard: the new field takes the focus.
  await page.getByRole("button", { name: "Add another work" }).focus();
  await page.keyboard.press("Enter");
  await page.keyboard.type("Photograph of the speakers' table");
  if ((await page.getByLabel("Description of the work").nth(1).inputValue()) === "") fail("second work");
  await page.getByLabel("Where in the article").fill("figure 1");
  await page.getByLabel("Why the content infringes").fill("The photograph is mine, used without a licence.");
  await page.getByLabel("I believe in good faith").check();
  await page.getByLabel("The information in this notice").check();
  await page.getByLabel("I am the rights owner").check();
  // No signature: the server refuses, and the field is marked.
  await page.keyboard.press("Tab");
  await page.getByRole("button", { name: "Send the notice" }).click();
  const marked = page.locator('[data-field="claim.signature"].invalid .violation');
  await marked.waitFor({ timeout: 10000 });
  if (!(await page.getByLabel("Signature (type your full name) *", { exact: true }).getAttribute("aria-invalid"))) fail("signature not aria-invalid");
  await page.screenshot({ path: `${shots}/web-form-refused.png`, fullPage: true });
  // Signed and sent by keyboard: the receipt.
  await page.getByLabel("Signature (type your full name) *", { exact: true }).fill("Li Wei");
  await page.getByLabel("Signature (type your full name) *", { exact: true }).press("Enter");
  await page.locator("#receipt").waitFor({ state: "visible", timeout: 10000 });
  const id = (await page.locator("#receipt-id").textContent()).trim();
  const link = await page.locator("#receipt-link").getAttribute("href");
  if (!link.includes(`/claims/${id}#token=`)) fail(`receipt link ${link}`);
  await page.screenshot({ path: `${shots}/web-receipt.png`, fullPage: true });

  await page.goto(link);
  await page.locator("#state").filter({ hasText: "received" }).waitFor({ timeout: 10000 });
  console.log(`CLAIM ${id}`);
  await nextLine();
  await page.reload();
  await page.locator("#decision").waitFor({ state: "visible", timeout: 10000 });
  const facts = await page.locator("#facts").textContent();
  if (!facts.includes("reproduces the claimant")) fail(`facts: ${facts}`);
  await page.screenshot({ path: `${shots}/web-claim-page.png`, fullPage: true });
  // Complain from the page.
  await page.getByLabel("Your complaint").fill("The decision overlooks my licence records.");
  await page.getByRole("button", { name: "Complain about the decision" }).click();
  await page.locator("#action-done").waitFor({ state: "visible", timeout: 10000 });
  await page.locator("#state").filter({ hasText: "under review" }).waitFor({ timeout: 10000 });
  // Opened without the token (as from an e-mail link), the page asks for it.
  const token = new URL(link).hash.replace("#token=", "");
  const bare = await browser.newPage({ locale: "en-GB" });
  await bare.goto(`${base}/claims/${id}`);
  await bare.getByLabel("Claim token").fill(decodeURIComponent(token));
  await bare.getByLabel("Claim token").press("Enter");
  await bare.locator("#state").filter({ hasText: "under review" }).waitFor({ timeout: 10000 });
  if (errors.length) fail(`script errors: ${errors.join("; ")}`);
  await browser.close();
}

(mode === "form" ? form(...args) : parties(...args))
  .then(() => {
    console.log("OK");
    process.exit(0);
  })
  .catch((e) => fail(e.stack || e));
