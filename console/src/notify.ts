// The browser's notifications, beside the in-page banner: asked for only on a tap, used
// only when granted.

export function canAsk(): boolean {
  return typeof Notification !== "undefined" && Notification.permission === "default";
}

export async function ask(): Promise<boolean> {
  if (typeof Notification === "undefined") return false;
  return (await Notification.requestPermission()) === "granted";
}

export function notify(title: string, body: string, onClick: () => void) {
  if (typeof Notification === "undefined" || Notification.permission !== "granted") return;
  try {
    const n = new Notification(title, { body, tag: body, lang: document.documentElement.lang });
    n.onclick = () => {
      window.focus();
      onClick();
      n.close();
    };
  } catch {
    // Some mobile browsers allow notifications only from a service worker; the banner stays.
  }
}
