import { useEffect, useMemo, useState } from "preact/hooks";
import { api, setToken, token, whenSignedOut, type User } from "./api";
import { Banner } from "./components/Banner";
import { Lazy } from "./components/Lazy";
import { TopBar } from "./components/TopBar";
import { I18n, savedLang, saveLang, translator, type Key, type Lang } from "./i18n";
import { linksFor, screenFor } from "./screens";
import { useRoute } from "./router";
import { SignIn } from "./screens/signin/SignIn";
import { SessionContext } from "./session";

type Stage = { kind: "starting" } | { kind: "signedOut"; notice?: Key } | { kind: "signedIn"; user: User };

export function App() {
  const [lang, setLangState] = useState<Lang>(savedLang);
  const i18n = useMemo(
    () => ({
      lang,
      t: translator(lang),
      setLang: (l: Lang) => {
        saveLang(l);
        setLangState(l);
      },
    }),
    [lang],
  );
  const [stage, setStage] = useState<Stage>(token() ? { kind: "starting" } : { kind: "signedOut" });
  const route = useRoute();

  useEffect(() => {
    saveLang(lang);
    whenSignedOut(() => setStage({ kind: "signedOut", notice: "err.signedOut" }));
    if (stage.kind === "starting") signedIn();
  }, []);

  async function signedIn() {
    try {
      setStage({ kind: "signedIn", user: await api.auth.whoAmI({}) });
    } catch {
      setToken(null);
      setStage({ kind: "signedOut" });
    }
  }

  async function signOut() {
    try {
      await api.auth.signOut({});
    } catch {
      // The token is dropped here whatever the server answered.
    }
    setToken(null);
    location.hash = "";
    setStage({ kind: "signedOut" });
  }

  let body;
  if (stage.kind === "starting") {
    body = <p class="loading">{i18n.t("app.loading")}</p>;
  } else if (stage.kind === "signedOut") {
    body = (
      <>
        <TopBar />
        <SignIn notice={stage.notice} onSignedIn={signedIn} />
      </>
    );
  } else {
    const screen = screenFor(stage.user.role, route);
    // The top bar's links: the role's home ("") and the other screens it may open.
    const links = linksFor(stage.user.role);
    const here = links.includes(route[0] ?? "") ? route[0] : "";
    body = (
      <SessionContext.Provider value={{ user: stage.user, signOut }}>
        <TopBar user={stage.user} onSignOut={signOut}>
          {links.length > 0 && (
            <nav class="topbar-nav" data-testid="nav">
              {["", ...links].map((name) => (
                <a key={name} href={`#/${name}`} aria-current={name === here ? "page" : undefined}>
                  {i18n.t(`nav.${name || "home"}` as "nav.home")}
                </a>
              ))}
            </nav>
          )}
        </TopBar>
        {screen ? (
          <Lazy load={screen} />
        ) : (
          <main class="screen">
            <Banner tone="info">{i18n.t("app.noScreen")}</Banner>
          </main>
        )}
      </SessionContext.Provider>
    );
  }
  return <I18n.Provider value={i18n}>{body}</I18n.Provider>;
}
