// Drives Debian's chromium through the notice form and the claim page, for
// tests/it/web_browser.rs. Usage: node web_browser.cjs BASE_URL ARTICLE_URL SHOTS_DIR
// Prints "CLAIM <id>" once the receipt shows, then waits for a line on stdin (the
// test decides the claim over gRPC meanwhile) and checks the decision on the page.
const { chromium } = require("playwright-core");
const readline = require("node:readline");

const [base, articleUrl, shots] = process.argv.slice(2);
const lines = readline.createInterface({ input: process.stdin });
const nextLine = () => new Promise((resolve) => lines.once("line", resolve));
const fail = (why) => { console.error(`FAIL ${why}`); process.exit(1); };

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.TAKEDOWN_CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage({ locale: "en-GB", viewport: { width: 900, height: 1400 } });
  const errors = [];
  // Script errors only: the refused notice's 400 and the favicon's 404 are expected.
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${base}/`);
  // By label, as a person (or a screen reader) finds the fields.
  await page.getByLabel("Legal basis").selectOption("REGIME_DSA");
  await page.getByLabel("Address (URL) of the article").fill(articleUrl);
  await page.getByLabel("Name *").fill("Li Wei");
  await page.getByLabel("E-mail *", { exact: true }).fill("li.wei@photos.example.cn");
  await page.getByLabel("Rights owner *", { exact: true }).fill("Li Wei");
  await page.getByLabel("Description of the work").fill("Photograph of the conference hall");
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
  if (errors.length) fail(`console errors: ${errors.join("; ")}`);
  await browser.close();
  console.log("OK");
  process.exit(0);
})().catch((e) => fail(e.stack || e));
