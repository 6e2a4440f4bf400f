import { useEffect, useState } from "preact/hooks";
import { ConnectError } from "@connectrpc/connect";
import { api, failure, setToken } from "../../api";
import { Banner } from "../../components/Banner";
import { Button } from "../../components/Button";
import { Field } from "../../components/Field";
import { useT, type Key } from "../../i18n";

type Errors = { username?: string; password?: string; form?: string };

/** Username and password; the token goes to sessionStorage, then the role's screen opens. */
export function SignIn({ notice, onSignedIn }: { notice?: Key; onSignedIn: () => void }) {
  const t = useT();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);
  const [waitUntil, setWaitUntil] = useState(0);
  const [now, setNow] = useState(Date.now());

  useEffect(() => {
    if (waitUntil <= now) return;
    const id = setTimeout(() => setNow(Date.now()), 250);
    return () => clearTimeout(id);
  }, [waitUntil, now]);
  const waiting = waitUntil > now;

  async function submit(e: Event) {
    e.preventDefault();
    const missing: Errors = {};
    if (!username.trim()) missing.username = t("signin.required");
    if (!password) missing.password = t("signin.required");
    setErrors(missing);
    if (missing.username || missing.password || waiting) return;
    setBusy(true);
    try {
      const answer = await api.auth.signIn({ username, password });
      setToken(answer.token);
      onSignedIn();
    } catch (err) {
      const f = failure(err);
      if (f.kind === "field") {
        setErrors(f.field === "password" ? { password: f.message } : { username: f.message });
      } else if (f.kind === "signedOut") {
        // One answer for a wrong username or password; a locked username says so.
        const locked = /too many failed/.test(ConnectError.from(err).rawMessage);
        setErrors({ password: t(locked ? "signin.locked" : "signin.wrong") });
      } else if (f.kind === "wait") {
        setWaitUntil(Date.now() + f.ms);
        setNow(Date.now());
      } else if (f.kind === "network") {
        setErrors({ form: t("err.networkGaveUp") });
      } else if (f.kind === "other") {
        setErrors({ form: t(f.key) });
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="screen signin">
      <form class="card signin-card" onSubmit={submit} noValidate>
        <h1>{t("signin.title")}</h1>
        {notice && <Banner tone="warn">{t(notice)}</Banner>}
        <Field label={t("signin.username")} for="username" error={errors.username}>
          <input
            id="username"
            name="username"
            autocomplete="username"
            autocapitalize="none"
            value={username}
            aria-invalid={errors.username ? "true" : undefined}
            onInput={(e) => setUsername(e.currentTarget.value)}
          />
        </Field>
        <Field label={t("signin.password")} for="password" error={errors.password}>
          <input
            id="password"
            name="password"
            type="password"
            autocomplete="current-password"
            value={password}
            aria-invalid={errors.password ? "true" : undefined}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </Field>
        {waiting && <Banner tone="warn">{t("err.wait", { s: Math.ceil((waitUntil - now) / 1000) })}</Banner>}
        {errors.form && <Banner tone="error">{errors.form}</Banner>}
        <Button type="submit" busy={busy} disabled={waiting} class="btn-block" data-testid="sign-in">
          {busy ? t("signin.busy") : t("signin.submit")}
        </Button>
      </form>
    </main>
  );
}
