// Parsing and showing the API's times ("YYYY-MM-DD HH:MM:SS"), durations and schedules.

export function parseTime(text) {
  if (!text) return null;
  const m = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)/.exec(text);
  if (!m) return null;
  return new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
}

// Python timedelta text: "1 day, 2:03:04.5" or "0:00:04.219789".
export function parseDuration(text) {
  if (!text) return null;
  const m = /^(?:(-?\d+) days?, )?(\d+):(\d\d):(\d\d(?:\.\d+)?)$/.exec(text);
  if (!m) return null;
  return (+(m[1] || 0)) * 86400 + +m[2] * 3600 + +m[3] * 60 + +m[4];
}

export function formatSeconds(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "";
  if (seconds < 10) return `${seconds.toFixed(1)}s`;
  if (seconds < 60) return `${Math.round(seconds)}s`;
  const total = Math.round(seconds);
  const d = Math.floor(total / 86400);
  const hr = Math.floor((total % 86400) / 3600);
  const min = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  if (d) return `${d}d ${hr}h`;
  if (hr) return `${hr}h ${min}m`;
  return `${min}m ${sec}s`;
}

export function formatDuration(text) {
  return formatSeconds(parseDuration(text));
}

export function relative(text, now = new Date()) {
  const when = parseTime(text);
  if (!when) return "";
  const diff = (when - now) / 1000;
  const span = formatSeconds(Math.abs(diff));
  if (Math.abs(diff) < 1) return "now";
  return diff < 0 ? `${span} ago` : `in ${span}`;
}

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

function pad(n) {
  return String(n).padStart(2, "0");
}

function describeCron(value) {
  const f = value.trim().split(/\s+/);
  if (f.length !== 5) return null;
  const [min, hour, dom, mon, dow] = f;
  const anyDay = dom === "*" && mon === "*";
  if (anyDay && dow === "*" && hour === "*") {
    if (min === "*") return "every minute";
    const step = /^\*\/(\d+)$/.exec(min);
    if (step) return `every ${step[1]} minutes`;
    if (/^\d+$/.test(min)) return `hourly at :${pad(min)}`;
  }
  if (/^\d+$/.test(min) && /^\d+$/.test(hour) && anyDay) {
    const at = `${pad(hour)}:${pad(min)}`;
    if (dow === "*") return `daily at ${at}`;
    if (/^\d$/.test(dow)) return `${DAYS[+dow % 7]}s at ${at}`;
  }
  return null;
}

export function describeSchedule(scheduler) {
  if (!scheduler) return "";
  const { type, value } = scheduler;
  const jitter = scheduler.jitter || "";
  if (type === "cron") return (describeCron(value) || `cron ${value}`) + jitter;
  if (type === "daily") return `daily ${value}` + jitter;
  return value + jitter;
}

export function isoMinute(date) {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
