// The city admin's Administration screen: the warning for the first year the holiday
// calendar does not cover (2027 on the demo's built-in calendar of 2020-2026); its New
// Year holiday entered by pasting lines, a day the server refuses shown beside its row,
// then saved, and the warning goes away. A user added with a password the server
// refuses (beside the field), then correctly; the new counsel signs in; the name taken
// again is refused beside the username; the user is deactivated and can no longer sign
// in. A time-limit policy with a bad value is refused naming its line, which is marked;
// a good one is saved and in force.
import { Code, ConnectError } from "@connectrpc/connect";
import { Role } from "../../src/gen/hotline/v1/common_pb.js";
import { DayKind } from "../../src/gen/hotline/v1/time_limits_pb.js";
import { PASSWORD, signIn } from "../api.mjs";

const iso = (d) => d.toISOString().slice(0, 10);

/** New Year's Day of `year` and the weekend days right after it; the first Monday to Friday after them. */
function newYear(year) {
  const days = [];
  const d = new Date(Date.UTC(year, 0, 1));
  do {
    days.push(iso(d));
    d.setUTCDate(d.getUTCDate() + 1);
  } while (d.getUTCDay() === 6 || d.getUTCDay() === 0);
  return { days, weekday: iso(d) };
}

export default async function admin(t) {
  const api = await signIn(t.url, "admin");
  const before = await api.timeLimits.getHolidayCalendar({});
  t.check(before.gaps.length > 0, "the demo's holiday calendar covers every year at risk: nothing to warn about");
  const year = before.gaps[0].year;
  t.check(!before.years.some((y) => y.year === year), `${year} is a gap and covered at once`);

  const page = await t.signedIn("admin", { width: 1366, height: 768 });
  // The city admin starts on the wall, which warns too; administration is a link away.
  await page.waitForSelector(`[data-testid=wall] [data-testid=calendar-warning] [data-year="${year}"]`);
  await page.click('[data-testid=nav] a[href="#/admin"]');

  // The warning, on the administration screen.
  const warning = `[data-testid=calendar-warning] [data-year="${year}"]`;
  await page.waitForSelector(warning);
  t.check(
    (await page.textContent(warning))?.includes(`节假日日历未覆盖 ${year} 年`),
    `the warning does not name ${year}: ${await page.textContent(warning)}`,
  );

  // The year's New Year holiday, pasted, with an adjusted working day on a weekday.
  const { days, weekday } = newYear(year);
  await page.click(`[data-testid=enter-year-${year}]`);
  await page.waitForSelector("[data-testid=year-editor]");
  const lines = ["date,kind,name", ...days.map((d) => `${d},holiday,元旦`), `${weekday},workday,元旦`];
  await page.fill("#holiday-paste", lines.join("\n"));
  await page.click("[data-testid=paste-add]");
  await page.waitForSelector(`tr[data-date="${weekday}"]`);
  await page.click("[data-testid=save-year]");
  const rowError = `[data-row-error="${weekday}"]`;
  await page.waitForSelector(rowError);
  t.check(
    (await page.textContent(rowError))?.includes("workday"),
    `the refusal beside ${weekday} is not the server's: ${await page.textContent(rowError)}`,
  );
  t.check(await page.isVisible(warning), "the warning went away though nothing was saved");
  await page.evaluate(() => window.scrollTo(0, 0));
  await t.shot(page, "admin.png");
  let calendar = await api.timeLimits.getHolidayCalendar({});
  t.check(!calendar.years.some((y) => y.year === year), `${year} was stored though it was refused`);

  await page.click(`tr[data-date="${weekday}"] [data-testid=remove-day]`);
  await page.click("[data-testid=save-year]");
  await page.waitForSelector("[data-testid=holidays-notice]");
  await page.waitForSelector("[data-testid=calendar-warning]", { state: "detached" });
  await page.waitForSelector(`[data-testid=days] tr[data-date="${days[0]}"]`);
  calendar = await api.timeLimits.getHolidayCalendar({});
  const stored = calendar.years.find((y) => y.year === year);
  t.check(stored, `${year} is not covered after saving`);
  t.check(
    stored.days.length === days.length &&
      stored.days.every((d, i) => d.date === days[i] && d.kind === DayKind.HOLIDAY && d.name === "元旦"),
    `${year} holds ${stored.days.map((d) => `${d.date} ${d.kind} ${d.name}`).join("; ")}`,
  );
  t.check(stored.updatedBy === api.user.id, `${year} was set by ${stored.updatedBy}, not the admin`);
  t.check(!calendar.gaps.some((g) => g.year === year), `${year} is still a gap`);
  t.check(
    (await page.textContent(`[data-year="${year}"] [data-testid=set-by]`))?.includes("市局管理员"),
    "the year does not say who set it",
  );

  // A user: the password containing the username is refused beside the field.
  await page.click("[data-tab=users]");
  await page.waitForSelector("[data-testid=users] tbody[data-user=agent]");
  await page.click("[data-testid=add-user]");
  await page.fill("#new-username", "counsel.sun");
  await page.fill("#new-display-name", "孙丽（村居法律顾问）");
  await page.selectOption("#new-role", String(Role.COUNSEL));
  for (const [i, unit] of ["371521", "371521101", "371521101001"].entries()) {
    await page.waitForSelector(`#new-unit-${i + 1} option[value="${unit}"]`, { state: "attached" });
    await page.selectOption(`#new-unit-${i + 1}`, unit);
  }
  await page.waitForSelector('#new-person option[value="P0005"]', { state: "attached" });
  await page.selectOption("#new-person", "P0005");
  await page.fill("#new-password", "Counsel.Sun-2027");
  await page.click("[data-testid=create-user]");
  const passwordError = '[data-field-error="new-password"]';
  await page.waitForSelector(passwordError);
  t.check(
    (await page.textContent(passwordError))?.includes("username"),
    `the password's refusal is not the server's: ${await page.textContent(passwordError)}`,
  );
  await t.shot(page, "admin-users.png");
  const counsel = async () =>
    (await api.auth.listUsers({ role: Role.COUNSEL })).users.find((u) => u.username === "counsel.sun");
  t.check(!(await counsel()), "the refused user was created");

  await page.fill("#new-password", PASSWORD);
  await page.click("[data-testid=create-user]");
  await page.waitForSelector("[data-testid=users-notice]");
  await page.waitForSelector("tbody[data-user='counsel.sun']");
  const sun = await counsel();
  t.check(
    sun &&
      sun.active &&
      sun.unitId === "371521101001" &&
      sun.personId === "P0005" &&
      sun.displayName === "孙丽（村居法律顾问）",
    `the user was stored as ${sun && [sun.active, sun.unitId, sun.personId, sun.displayName].join(", ")}`,
  );

  // The new counsel signs in, to the counsel inbox.
  const sunPage = await t.signedIn("counsel.sun", { width: 360, height: 780 });
  t.check((await sunPage.textContent("[data-testid=user]"))?.includes("孙丽"), "the new counsel is not signed in");
  await sunPage.waitForSelector(".inbox");

  // The name again, in another case: refused beside the username.
  await page.click("[data-testid=add-user]");
  await page.fill("#new-username", "Counsel.SUN");
  await page.selectOption("#new-role", String(Role.SEAT_AGENT));
  await page.fill("#new-password", PASSWORD);
  await page.click("[data-testid=create-user]");
  const usernameError = '[data-field-error="new-username"]';
  await page.waitForSelector(usernameError);
  t.check(
    (await page.textContent(usernameError))?.includes("is taken"),
    `the taken name is not refused beside the username: ${await page.textContent(usernameError)}`,
  );
  await page.click("[data-testid=add-user-form] .btn-secondary");

  // Only counsel when filtered so; then counsel.sun deactivated.
  await page.selectOption("#filter-role", String(Role.COUNSEL));
  await page.waitForSelector("tbody[data-user=agent]", { state: "detached" });
  await page.waitForSelector("tbody[data-user='counsel.sun']");
  await page.click("tbody[data-user='counsel.sun'] [data-testid=deactivate]");
  await page.click("tbody[data-user='counsel.sun'] [data-testid=confirm-deactivate]");
  await page.waitForSelector("tbody[data-user='counsel.sun'] [data-testid=inactive]");
  try {
    await signIn(t.url, "counsel.sun");
    t.fail("the deactivated user can still sign in");
  } catch (err) {
    t.check(ConnectError.from(err).code === Code.Unauthenticated, `signing in as the deactivated user: ${err}`);
  }

  // The routing policy: a parse error names a line, which is marked; discarded.
  await page.click("[data-tab=routing]");
  await page.waitForSelector("#policy-routing");
  const routing = (await page.inputValue("#policy-routing")).split("\n");
  const mediation = routing.indexOf("[category.mediation]");
  const amount = routing.findIndex((l, i) => i > mediation && /^escalate_above\s*=/.test(l));
  t.check(mediation >= 0 && amount > mediation, `the routing policy has no [category.mediation] escalate_above`);
  routing[amount] = 'escalate_above = "abc"';
  await page.fill("#policy-routing", routing.join("\n"));
  await page.click("[data-testid=save-routing]");
  await page.waitForSelector('[data-field-error="policy-routing"]');
  const marked = Number(await page.getAttribute(".toml-band", "data-error-line"));
  t.check(
    marked === mediation + 1 || marked === amount + 1,
    `line ${marked} is marked, not the table (${mediation + 1}) or the amount (${amount + 1})`,
  );
  await page.click("[data-testid=revert-routing]");
  t.check(!(await page.inputValue("#policy-routing")).includes('"abc"'), "discarding kept the change");

  // The time-limit policy: a bad value is refused naming its line, then a good one saved.
  await page.click("[data-tab=time-limits]");
  await page.waitForSelector("#policy-time-limits");
  const text = await page.inputValue("#policy-time-limits");
  const policy = text.split("\n");
  const table = policy.indexOf("[category.legal_aid]");
  const reply = policy.findIndex((l, i) => i > table && /^reply\s*=/.test(l));
  t.check(table >= 0 && reply > table, `the policy has no [category.legal_aid] reply:\n${text}`);
  policy[reply] = 'reply = "7x"';
  await page.fill("#policy-time-limits", policy.join("\n"));
  await page.click("[data-testid=save-time-limits]");
  const refusal = '[data-field-error="policy-time-limits"]';
  await page.waitForSelector(refusal);
  t.check((await page.textContent(refusal))?.includes('"7x"'), `the refusal: ${await page.textContent(refusal)}`);
  await page.waitForSelector(`.toml-band[data-error-line="${reply + 1}"]`);
  await t.shot(page, "admin-time-limits.png");
  t.check(!(await api.timeLimits.getTimeLimitPolicy({})).toml.includes('"7x"'), "the refused policy was stored");

  policy[reply] = 'reply = "6d"';
  await page.fill("#policy-time-limits", policy.join("\n"));
  await page.click("[data-testid=save-time-limits]");
  await page.waitForSelector("[data-testid=policy-saved]");
  t.check(!(await page.isVisible(refusal)), "the refusal is still shown after saving");
  const saved = await api.timeLimits.getTimeLimitPolicy({});
  const savedLines = saved.toml.split("\n");
  const savedTable = savedLines.indexOf("[category.legal_aid]");
  t.check(
    savedTable >= 0 && savedLines.slice(savedTable).find((l) => /^reply\s*=/.test(l)) === 'reply = "6d"',
    `the saved policy:\n${saved.toml}`,
  );
  t.check(saved.updatedBy === api.user.id, `the policy was set by ${saved.updatedBy}, not the admin`);
}
