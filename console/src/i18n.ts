// The console's words, in zh-CN (the default) and English, and the formats of times,
// dates and amounts. One dictionary, no library: a key missing from `en` fails
// `npm run check`.
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import { seatStrings } from "./screens/seat/strings";
import { wallStrings } from "./screens/wall/strings";
import { adminEn, adminZh } from "./screens/admin/strings";

const zh = {
  ...seatStrings.zh,
  ...wallStrings.zh,
  "app.title": "12348 公共法律服务热线",
  "app.lang": "English",
  "app.signOut": "退出",
  "app.loading": "正在载入…",
  "app.noScreen": "此角色的工作台尚未开放。",
  "nav.home": "我的工作台",
  "nav.wall": "指挥大屏",
  "nav.admin": "系统管理",
  "app.back": "返回",
  "app.retry": "重试",
  "app.cancel": "取消",
  "app.confirm": "确定",
  "app.refresh": "刷新",
  "app.empty": "暂无",

  "signin.title": "登录",
  "signin.username": "用户名",
  "signin.password": "密码",
  "signin.submit": "登录",
  "signin.busy": "正在登录…",
  "signin.required": "请填写此项",
  "signin.wrong": "用户名或密码错误",
  "signin.locked": "登录失败次数过多，此用户名已暂时锁定，请稍后再试",

  "err.network": "网络中断，正在重试…",
  "err.networkGaveUp": "网络不通，请检查网络后重试",
  "err.wait": "请求过多，请等待 {s} 秒后重试",
  "err.aborted": "工单已被他人更新，已重新载入",
  "err.denied": "无权进行此操作",
  "err.notFound": "未找到，或不在您的辖区",
  "err.state": "工单状态已变，无法进行此操作",
  "err.internal": "服务器出错，请稍后再试",
  "err.unavailable": "服务暂不可用，请稍后再试",
  "err.signedOut": "登录已失效，请重新登录",

  "role.1": "话务员",
  "role.2": "派单员",
  "role.3": "回访员",
  "role.4": "村居法律顾问",
  "role.5": "工作站负责人",
  "role.6": "县区指挥中心",
  "role.7": "市局管理员",
  "role.8": "话务平台",
  "role.9": "系统",

  "state.1": "登记",
  "state.2": "待签收",
  "state.3": "退回待审",
  "state.4": "办理中",
  "state.5": "延期待审",
  "state.6": "回复待审",
  "state.7": "待回访",
  "state.8": "重办",
  "state.9": "办结",
  "state.10": "已撤销",
  "state.11": "归档",

  "category.1": "法律咨询",
  "category.2": "法律援助",
  "category.3": "人民调解",
  "category.4": "普法宣传",

  "subcategory.1": "婚姻家庭",
  "subcategory.2": "继承",
  "subcategory.3": "劳动工资",
  "subcategory.4": "土地承包",
  "subcategory.5": "邻里纠纷",
  "subcategory.6": "债务合同",
  "subcategory.7": "交通事故",
  "subcategory.8": "消费维权",
  "subcategory.9": "刑事案件",
  "subcategory.10": "行政事务",
  "subcategory.11": "其他",

  "channel.1": "电话",
  "channel.2": "网站",
  "channel.3": "微信",
  "channel.4": "来访",

  "returnReason.1": "不属本辖区",
  "returnReason.2": "不属受理范围",
  "returnReason.3": "重复工单",

  "satisfaction.1": "满意",
  "satisfaction.2": "基本满意",
  "satisfaction.3": "不满意",

  "method.1": "电话",
  "method.2": "短信",
  "method.3": "上门",

  "step.1": "村居法律顾问",
  "step.2": "工作站成员",
  "step.3": "工作站负责人",
  "step.4": "县区指挥中心",
  "step.5": "法律援助中心",

  "unavailable.1": "已停用",
  "unavailable.2": "休假中",
  "unavailable.3": "已满额",
  "unavailable.4": "状态未知",

  "event.created": "登记",
  "event.dispatched": "派发",
  "event.answered_and_closed": "当场答复办结",
  "event.signed_off": "签收",
  "event.returned": "退回",
  "event.return_accepted": "同意退回并改派",
  "event.return_refused": "不同意退回",
  "event.extension_requested": "申请延期",
  "event.extension_approved": "同意延期",
  "event.extension_rejected": "不同意延期",
  "event.replied": "回复办理结果",
  "event.reply_passed": "回复审核通过",
  "event.reply_rejected": "回复被驳回",
  "event.callback_satisfied": "回访：满意",
  "event.callback_dissatisfied": "回访：不满意",
  "event.redo_passed_on": "重办派发",
  "event.cancelled": "撤销",
  "event.archived": "归档",
  "event.yellow_card": "黄牌提醒",
  "event.red_card": "红牌（逾期）",
  "event.escalated": "超时上移",
  "event.supervised": "督办",

  "card.yellow": "黄牌",
  "card.red": "红牌",
  "card.supervised": "督办",
  "card.urgent": "紧急",
  "card.givenAt": "{at} 发出",

  "due.workingDaysLeft": "剩 {n} 个工作日",
  "due.workingDaysOver": "逾期 {n} 个工作日",
  "due.left": "剩 {d} 天 {h} 小时",
  "due.leftHours": "剩 {h} 小时",
  "due.leftMinutes": "剩 {m} 分钟",
  "due.over": "已逾期 {d} 天 {h} 小时",
  "due.overHours": "已逾期 {h} 小时",
  "due.at": "截止 {at}",
  "due.none": "当前环节不计时",

  "watch.live": "实时",
  "watch.reconnecting": "连接已断开，正在重连…",
  "watch.newOrder": "新工单 {number}：{village}",
  "watch.open": "查看",
  "watch.dismiss": "知道了",
  "watch.enableNotifications": "开启新工单通知",

  "inbox.title": "我的工单",
  "inbox.empty": "没有待办工单",
  "inbox.count": "{n} 件",

  "order.number": "工单号",
  "order.village": "村居",
  "order.category": "类别",
  "order.state": "状态",
  "order.caller": "来电人",
  "order.callerConfidential": "来电人要求保密",
  "order.callerAnonymous": "匿名",
  "order.words": "来电人诉求",
  "order.notes": "话务员记录",
  "order.answer": "话务员答复",
  "order.amountInDispute": "争议金额",
  "order.result": "办理结果",
  "order.callback": "回访",
  "order.history": "办理记录",
  "order.deadline": "时限",
  "order.assignee": "承办人",
  "order.created": "登记时间",
  "order.complex": "复杂工单",
  "order.redoCount": "重办 {n} 次",
  "order.pendingReturn": "退回理由",
  "order.pendingExtension": "申请延期 {n} 个工作日",
  "order.notAllowed": "此工单当前无需您操作。",
  "order.resolved": "已解决",
  "order.unresolved": "未解决",
  "order.contactedAt": "联系来电人时间",
  "order.amountRecovered": "挽回损失",
  "order.by": "{who}",

  "action.signOff": "签收",
  "action.return": "退回",
  "action.extension": "申请延期",
  "action.reply": "回复办理结果",
  "action.submit": "提交",
  "action.done": "已完成：{what}",

  "form.reason": "理由",
  "form.note": "说明",
  "form.days": "延期工作日数",
  "form.resolved": "是否解决",
  "form.unresolvedReason": "未解决原因",
  "form.notes": "办理情况",
  "form.contactedAt": "联系来电人时间",
  "form.amountRecovered": "挽回损失（元）",
  "form.amountHint": "如 3000 或 12000.50，无则不填",
  "form.amountBad": "金额须为不超过两位小数的数字",
  "form.required": "请填写此项",
  "form.yes": "是",
  "form.no": "否",
  "form.chars": "{n}/{max} 字",

  "desk.dispatch": "待派发",
  "desk.returns": "退回待审",
  "desk.extensions": "延期待审",
  "desk.replies": "回复待审",
  "desk.redo": "重办",
  "desk.callbacks": "待回访",
  "desk.empty": "此栏暂无工单",
  "desk.details": "详情",
  "desk.hideDetails": "收起",
  "desk.suggested": "推荐承办人",
  "desk.candidatesLoading": "正在计算推荐…",
  "desk.route": "系统建议",
  "desk.openOrders": "在办 {n}/{cap}",
  "desk.dispatchTo": "派发",
  "desk.acceptReturn": "同意退回，改派",
  "desk.refuseReturn": "不同意退回",
  "desk.approve": "同意延期",
  "desk.reject": "不同意",
  "desk.pass": "审核通过",
  "desk.rejectReply": "驳回重办",
  "desk.passOn": "重新派发",
  "desk.keepTarget": "原承办人",
  "desk.pick": "请选择承办人",
  "desk.noteRequired": "驳回时须填写说明",
  "desk.complex": "复杂工单（15 个工作日）",

  "callback.phone": "来电号码",
  "callback.call": "拨打",
  "callback.method": "回访方式",
  "callback.record": "记录回访结果",

  "weekday.0": "周日",
  "weekday.1": "周一",
  "weekday.2": "周二",
  "weekday.3": "周三",
  "weekday.4": "周四",
  "weekday.5": "周五",
  "weekday.6": "周六",
  "money.yuan": "{amount} 元",
  "sep.colon": "：",
  ...adminZh,
} as const;

export type Key = keyof typeof zh;

const en: Record<Key, string> = {
  ...seatStrings.en,
  ...wallStrings.en,
  "app.title": "12348 Public Legal Service Hotline",
  "app.lang": "中文",
  "app.signOut": "Sign out",
  "app.loading": "Loading…",
  "app.noScreen": "The console for this role is not open yet.",
  "nav.home": "My desk",
  "nav.wall": "Command wall",
  "nav.admin": "Administration",
  "app.back": "Back",
  "app.retry": "Retry",
  "app.cancel": "Cancel",
  "app.confirm": "OK",
  "app.refresh": "Refresh",
  "app.empty": "None",

  "signin.title": "Sign in",
  "signin.username": "Username",
  "signin.password": "Password",
  "signin.submit": "Sign in",
  "signin.busy": "Signing in…",
  "signin.required": "Required",
  "signin.wrong": "Wrong username or password",
  "signin.locked": "Too many failed sign-ins; this username is locked for a while",

  "err.network": "Connection lost, retrying…",
  "err.networkGaveUp": "No connection; check the network and retry",
  "err.wait": "Too many requests; retry in {s} s",
  "err.aborted": "Someone else updated the order; it has been reloaded",
  "err.denied": "You may not do this",
  "err.notFound": "Not found, or not in your jurisdiction",
  "err.state": "The order has moved on; this action is no longer possible",
  "err.internal": "Server error; try again later",
  "err.unavailable": "The service is unavailable; try again later",
  "err.signedOut": "Your session has ended; sign in again",

  "role.1": "Seat agent",
  "role.2": "Dispatcher",
  "role.3": "Callback agent",
  "role.4": "Village counsel",
  "role.5": "Station lead",
  "role.6": "County manager",
  "role.7": "City admin",
  "role.8": "Telephony",
  "role.9": "System",

  "state.1": "Registered",
  "state.2": "Awaiting sign-off",
  "state.3": "Return under review",
  "state.4": "In progress",
  "state.5": "Extension under review",
  "state.6": "Reply under review",
  "state.7": "Awaiting callback",
  "state.8": "Redo",
  "state.9": "Closed",
  "state.10": "Cancelled",
  "state.11": "Archived",

  "category.1": "Consultation",
  "category.2": "Legal aid",
  "category.3": "Mediation",
  "category.4": "Legal education",

  "subcategory.1": "Marriage & family",
  "subcategory.2": "Inheritance",
  "subcategory.3": "Labour & wages",
  "subcategory.4": "Land contract",
  "subcategory.5": "Neighbour dispute",
  "subcategory.6": "Debt & contract",
  "subcategory.7": "Traffic accident",
  "subcategory.8": "Consumer",
  "subcategory.9": "Criminal matter",
  "subcategory.10": "Administrative matter",
  "subcategory.11": "Other",

  "channel.1": "Phone",
  "channel.2": "Web",
  "channel.3": "WeChat",
  "channel.4": "Walk-in",

  "returnReason.1": "Wrong locality",
  "returnReason.2": "Not our remit",
  "returnReason.3": "Duplicate",

  "satisfaction.1": "Satisfied",
  "satisfaction.2": "Basically satisfied",
  "satisfaction.3": "Dissatisfied",

  "method.1": "Phone",
  "method.2": "SMS",
  "method.3": "Visit",

  "step.1": "Village counsel",
  "step.2": "Team member",
  "step.3": "Station lead",
  "step.4": "County command centre",
  "step.5": "Legal aid centre",

  "unavailable.1": "Inactive",
  "unavailable.2": "On leave",
  "unavailable.3": "At capacity",
  "unavailable.4": "Unknown",

  "event.created": "Registered",
  "event.dispatched": "Dispatched",
  "event.answered_and_closed": "Answered at once, closed",
  "event.signed_off": "Signed off",
  "event.returned": "Returned",
  "event.return_accepted": "Return accepted, reassigned",
  "event.return_refused": "Return refused",
  "event.extension_requested": "Extension asked",
  "event.extension_approved": "Extension approved",
  "event.extension_rejected": "Extension rejected",
  "event.replied": "Replied",
  "event.reply_passed": "Reply passed",
  "event.reply_rejected": "Reply rejected",
  "event.callback_satisfied": "Callback: satisfied",
  "event.callback_dissatisfied": "Callback: dissatisfied",
  "event.redo_passed_on": "Redo passed on",
  "event.cancelled": "Cancelled",
  "event.archived": "Archived",
  "event.yellow_card": "Yellow card",
  "event.red_card": "Red card (overdue)",
  "event.escalated": "Escalated",
  "event.supervised": "Supervision",

  "card.yellow": "Yellow card",
  "card.red": "Red card",
  "card.supervised": "Supervision",
  "card.urgent": "Urgent",
  "card.givenAt": "Given {at}",

  "due.workingDaysLeft": "Working days left: {n}",
  "due.workingDaysOver": "Working days overdue: {n}",
  "due.left": "{d} d {h} h left",
  "due.leftHours": "{h} h left",
  "due.leftMinutes": "{m} min left",
  "due.over": "Overdue {d} d {h} h",
  "due.overHours": "Overdue {h} h",
  "due.at": "Due {at}",
  "due.none": "No time limit at this step",

  "watch.live": "Live",
  "watch.reconnecting": "Connection lost, reconnecting…",
  "watch.newOrder": "New order {number}: {village}",
  "watch.open": "Open",
  "watch.dismiss": "Dismiss",
  "watch.enableNotifications": "Turn on notifications of new orders",

  "inbox.title": "My orders",
  "inbox.empty": "Nothing to do",
  "inbox.count": "{n}",

  "order.number": "Number",
  "order.village": "Village",
  "order.category": "Category",
  "order.state": "State",
  "order.caller": "Caller",
  "order.callerConfidential": "The caller asked for confidentiality",
  "order.callerAnonymous": "Anonymous",
  "order.words": "What the caller asks",
  "order.notes": "Agent's notes",
  "order.answer": "Agent's answer",
  "order.amountInDispute": "Amount in dispute",
  "order.result": "Handling result",
  "order.callback": "Callback",
  "order.history": "History",
  "order.deadline": "Time limit",
  "order.assignee": "Assignee",
  "order.created": "Registered at",
  "order.complex": "Complex",
  "order.redoCount": "Redone {n}×",
  "order.pendingReturn": "Return reason",
  "order.pendingExtension": "Extension of {n} working days asked",
  "order.notAllowed": "Nothing for you to do on this order now.",
  "order.resolved": "Resolved",
  "order.unresolved": "Not resolved",
  "order.contactedAt": "Caller contacted",
  "order.amountRecovered": "Loss recovered",
  "order.by": "{who}",

  "action.signOff": "Sign off",
  "action.return": "Return",
  "action.extension": "Ask for extension",
  "action.reply": "Reply with the result",
  "action.submit": "Submit",
  "action.done": "Done: {what}",

  "form.reason": "Reason",
  "form.note": "Note",
  "form.days": "Extra working days",
  "form.resolved": "Resolved?",
  "form.unresolvedReason": "Why not resolved",
  "form.notes": "What was done",
  "form.contactedAt": "Caller contacted at",
  "form.amountRecovered": "Loss recovered (yuan)",
  "form.amountHint": "e.g. 3000 or 12000.50; leave empty if none",
  "form.amountBad": "An amount with at most two decimal places",
  "form.required": "Required",
  "form.yes": "Yes",
  "form.no": "No",
  "form.chars": "{n}/{max}",

  "desk.dispatch": "To dispatch",
  "desk.returns": "Returns",
  "desk.extensions": "Extensions",
  "desk.replies": "Replies",
  "desk.redo": "Redo",
  "desk.callbacks": "Awaiting callback",
  "desk.empty": "Nothing here",
  "desk.details": "Details",
  "desk.hideDetails": "Hide",
  "desk.suggested": "Suggested assignees",
  "desk.candidatesLoading": "Working out suggestions…",
  "desk.route": "Routing suggests",
  "desk.openOrders": "open {n}/{cap}",
  "desk.dispatchTo": "Dispatch",
  "desk.acceptReturn": "Accept, reassign",
  "desk.refuseReturn": "Refuse the return",
  "desk.approve": "Approve",
  "desk.reject": "Reject",
  "desk.pass": "Pass",
  "desk.rejectReply": "Reject, redo",
  "desk.passOn": "Pass on",
  "desk.keepTarget": "Previous assignee",
  "desk.pick": "Choose an assignee",
  "desk.noteRequired": "A note is required when rejecting",
  "desk.complex": "Complex (15 working days)",

  "callback.phone": "Caller's number",
  "callback.call": "Call",
  "callback.method": "Method",
  "callback.record": "Record the callback",

  "weekday.0": "Sun",
  "weekday.1": "Mon",
  "weekday.2": "Tue",
  "weekday.3": "Wed",
  "weekday.4": "Thu",
  "weekday.5": "Fri",
  "weekday.6": "Sat",
  "money.yuan": "¥{amount}",
  "sep.colon": ": ",
  ...adminEn,
};

export type Lang = "zh" | "en";
const dictionaries: Record<Lang, Record<Key, string>> = { zh, en };
const LANG_KEY = "hotline.lang";

export function savedLang(): Lang {
  try {
    return localStorage.getItem(LANG_KEY) === "en" ? "en" : "zh";
  } catch {
    return "zh";
  }
}

export function saveLang(lang: Lang) {
  try {
    localStorage.setItem(LANG_KEY, lang);
  } catch {
    // Private mode: the choice lasts for this page only.
  }
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
}

export type T = (key: Key, vars?: Record<string, string | number>) => string;

export function translator(lang: Lang): T {
  const dict = dictionaries[lang];
  return (key, vars) => {
    const text = dict[key] ?? key;
    return vars ? text.replace(/\{(\w+)\}/g, (_, name: string) => String(vars[name] ?? "")) : text;
  };
}

/** The label of an enum value (`state.4`), or the number itself when unknown. */
export function enumLabel(t: T, prefix: string, value: number): string {
  const key = `${prefix}.${value}` as Key;
  return key in zh ? t(key) : String(value);
}

export const I18n = createContext<{ lang: Lang; t: T; setLang: (l: Lang) => void }>({
  lang: "zh",
  t: translator("zh"),
  setLang: () => {},
});

export function useI18n() {
  return useContext(I18n);
}

export function useT(): T {
  return useContext(I18n).t;
}

// Times are shown in Asia/Shanghai whatever the device's zone.
const ZONE = "Asia/Shanghai";
const parts = new Intl.DateTimeFormat("en-GB", {
  timeZone: ZONE,
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  weekday: "short",
  hourCycle: "h23",
});
const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

function shanghai(at: Date) {
  const p: Record<string, string> = {};
  for (const { type, value } of parts.formatToParts(at)) p[type] = value;
  return {
    date: `${p.year}-${p.month}-${p.day}`,
    time: `${p.hour}:${p.minute}`,
    weekday: WEEKDAYS.indexOf(p.weekday ?? ""),
  };
}

/** 2026-12-04 周五 */
export function formatDate(t: T, at: Date): string {
  const s = shanghai(at);
  return `${s.date} ${t(`weekday.${s.weekday}` as Key)}`;
}

/** 2026-12-04 周五 14:05 */
export function formatDateTime(t: T, at: Date): string {
  const s = shanghai(at);
  return `${s.date} ${t(`weekday.${s.weekday}` as Key)} ${s.time}`;
}

/** The value of an <input type="datetime-local"> for this instant in Asia/Shanghai. */
export function toShanghaiInput(at: Date): string {
  const s = shanghai(at);
  return `${s.date}T${s.time}`;
}

/** The instant of an <input type="datetime-local"> value read as Asia/Shanghai (UTC+8, no DST). */
export function fromShanghaiInput(value: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(value)) return undefined;
  const at = new Date(`${value}:00+08:00`);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

/** Yuan as the API gives it (decimal text, two places): "12000.50" -> "12,000.50 元". */
export function formatYuan(t: T, amount: string): string {
  const [whole, fraction = "00"] = amount.split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return t("money.yuan", { amount: `${grouped}.${fraction.padEnd(2, "0")}` });
}

/** Decimal yuan as the API accepts it: not negative, at most two places. */
export function isYuan(text: string): boolean {
  return /^\d{1,12}(\.\d{1,2})?$/.test(text.trim());
}
