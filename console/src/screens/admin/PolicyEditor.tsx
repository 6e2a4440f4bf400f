// A policy as the server holds it (TOML): read, edited as text, saved whole. A refusal
// names the key or the line at fault; it is shown beside the editor, that line marked.
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { useEffect, useRef, useState } from "preact/hooks";
import { useAction } from "../../action";
import { failure, readFailureKey } from "../../api";
import { ActionStatus, fieldError } from "../../components/ActionStatus";
import { Banner } from "../../components/Banner";
import { Button } from "../../components/Button";
import { Icon } from "../../components/Icon";
import { useT, type Key } from "../../i18n";
import { SetBy } from "./names";
import { errorLine } from "./toml";
import { selectLine, TomlEditor } from "./TomlEditor";

export type Policy = { toml: string; updatedBy: string; updatedAt?: Timestamp };

export function PolicyEditor({
  id,
  intro,
  load,
  save,
}: {
  id: string;
  intro: Key;
  load: () => Promise<Policy>;
  save: (toml: string) => Promise<Policy>;
}) {
  const t = useT();
  const [policy, setPolicy] = useState<Policy>();
  const [text, setText] = useState("");
  const [loadError, setLoadError] = useState<Key>();
  const [saved, setSaved] = useState(false);
  const action = useAction();
  const area = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    let live = true;
    load().then(
      (p) => {
        if (!live) return;
        setPolicy(p);
        setText(p.toml);
      },
      (err) => live && setLoadError(readFailureKey(failure(err))),
    );
    return () => {
      live = false;
    };
  }, [load]);

  async function submit() {
    setSaved(false);
    const { answer } = await action.run({ toml: text }, () => save(text));
    if (answer) {
      setPolicy(answer);
      setText(answer.toml);
      setSaved(true);
    }
  }

  function revert() {
    if (policy) setText(policy.toml);
    action.reset();
    setSaved(false);
  }

  if (loadError) return <Banner tone="error">{t(loadError)}</Banner>;
  if (!policy) return <p class="loading">{t("app.loading")}</p>;
  const refusal = fieldError(action.state, "toml");
  const line = refusal ? errorLine(refusal, text) : undefined;
  const changed = text !== policy.toml;
  const errorId = `${id}-error`;
  return (
    <section class="policy" data-testid={`policy-${id}`}>
      <p class="admin-intro">{t(intro)}</p>
      <div class="policy-head">
        <SetBy by={policy.updatedBy} at={policy.updatedAt} />
        {changed && <span class="badge policy-changed">{t("policy.changed")}</span>}
      </div>
      <div class={`policy-body${refusal ? " has-refusal" : ""}`}>
        <TomlEditor
          id={`policy-${id}`}
          value={text}
          onInput={(v) => {
            setText(v);
            setSaved(false);
          }}
          invalid={!!refusal}
          badLine={line}
          areaRef={area}
          describedBy={refusal ? errorId : undefined}
        />
        {refusal && (
          <div class="policy-refusal field-error" role="alert" id={errorId} data-field-error={`policy-${id}`}>
            <Icon name="alert" />
            <div>
              <strong class="policy-refusal-head">
                {t("policy.refused")}
                {line !== undefined && <> · {t("policy.line", { n: line })}</>}
              </strong>
              <pre>{refusal}</pre>
              {line !== undefined && (
                <Button kind="quiet" onClick={() => area.current && selectLine(area.current, line)}>
                  {t("policy.goToLine", { n: line })}
                </Button>
              )}
            </div>
          </div>
        )}
      </div>
      <ActionStatus state={action.state} shown={["toml"]} onRetry={submit} />
      {saved && (
        <Banner tone="success" testid="policy-saved">
          {t("admin.saved")}
        </Banner>
      )}
      <div class="admin-buttons">
        <Button onClick={submit} busy={action.busy} data-testid={`save-${id}`}>
          {t("policy.save")}
        </Button>
        <Button kind="secondary" onClick={revert} disabled={!changed || action.busy} data-testid={`revert-${id}`}>
          {t("policy.revert")}
        </Button>
      </div>
    </section>
  );
}
